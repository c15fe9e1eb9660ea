package console

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"authlab/flows"
	"authlab/views/history"
	"authlab/views/inspect"
	"authlab/views/profiles"
	"authlab/views/ui"
)

// updating reports -update, the flag teatest's golden package registers;
// it rewrites the golden frames in testdata/tui.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixedNow is the clock of every golden frame.
var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func testTheme() *ui.Theme { return ui.NewTheme(lipgloss.NewRenderer(io.Discard), false) }

// fakeBackend serves fixtures and records what the console asked for.
type fakeBackend struct {
	mu         sync.Mutex
	rows       []profiles.Row
	deleted    []string
	duplicated []string
	exported   []string
	saved      []Form
	runs       []RunRequest
	runFn      func(ctx context.Context, req RunRequest, ev Events) *flows.Result
	hist       map[string][]history.Entry
	form       Form
	details    map[string]profiles.Detail // Describe's answers (fake_profiles_test.go)
}

func (f *fakeBackend) Profiles() ([]profiles.Row, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]profiles.Row(nil), f.rows...), nil
}

func (f *fakeBackend) LastRuns() (map[string]profiles.LastRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]profiles.LastRun{}
	for _, r := range f.rows {
		if !r.LastRun.IsZero() {
			out[r.Name] = profiles.LastRun{At: r.LastRun, OK: r.LastOK, Reason: r.LastErr}
		}
	}
	return out, nil
}

func (f *fakeBackend) Delete(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, name)
	for i, r := range f.rows {
		if r.Name == name {
			f.rows = append(f.rows[:i:i], f.rows[i+1:]...)
			break
		}
	}
	return nil
}

func (f *fakeBackend) Duplicate(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.duplicated = append(f.duplicated, name)
	for _, r := range f.rows {
		if r.Name == name {
			r.Name += "-copy"
			r.LastRun = time.Time{}
			f.rows = append(f.rows, r)
			return r.Name, nil
		}
	}
	return "", errors.New("not found")
}

func (f *fakeBackend) Export(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exported = append(f.exported, name)
	return "/tmp/" + name + ".json", nil
}

func (f *fakeBackend) Import(path string) (int, error) {
	if path != "/tmp/good.json" {
		return 0, errors.New("open " + path + ": no such file or directory")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, profiles.Row{Name: "imported-one", Kind: "client-credentials"})
	return 1, nil
}

func (f *fakeBackend) History(name string) ([]history.Entry, error) { return f.hist[name], nil }

func (f *fakeBackend) Run(ctx context.Context, req RunRequest, ev Events) *flows.Result {
	f.mu.Lock()
	f.runs = append(f.runs, req)
	fn := f.runFn
	f.mu.Unlock()
	if fn == nil {
		return fixtureResult()
	}
	return fn(ctx, req, ev)
}

func (f *fakeBackend) Inspect(ctx context.Context, raw string) (inspect.Data, error) {
	if !strings.Contains(raw, ".") {
		return inspect.Data{}, errors.New("token: not a JWT (fixture)")
	}
	r := fixtureResult()
	return inspect.Data{Tokens: []inspect.Token{{Label: "pasted", Tok: r.AccessToken, Received: fixedNow}}}, nil
}

func (f *fakeBackend) Form(name string) (Form, error) { return f.form, nil }

func (f *fakeBackend) SaveForm(fm Form, original string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saved = append(f.saved, fm)
	return nil
}

func (f *fakeBackend) Discover(ctx context.Context, fm Form) (Form, error) {
	fm.Fields["token_url"] = fm.Fields["issuer"] + "/token"
	return fm, nil
}

func (f *fakeBackend) snapshot() fakeBackend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeBackend{deleted: f.deleted, duplicated: f.duplicated, exported: f.exported, saved: f.saved, runs: f.runs}
}

func fixtureRows() []profiles.Row {
	return []profiles.Row{
		{Name: "demo-auth-code-pkce", Kind: "auth-code", Demo: true, LastRun: fixedNow.Add(-3 * time.Hour), LastOK: true},
		{Name: "demo-broken-wrong-secret", Kind: "client-credentials", Demo: true, LastRun: fixedNow.Add(-2 * time.Minute), LastErr: "token endpoint answered invalid_client: client authentication failed"},
		{Name: "demo-client-credentials", Kind: "client-credentials", Demo: true, LastRun: fixedNow.Add(-40 * time.Second), LastOK: true},
		{Name: "demo-device", Kind: "device", Demo: true},
		{Name: "demo-hmac", Kind: "hmac", Demo: true},
		{Name: "demo-mtls", Kind: "mtls", Demo: true, LastRun: fixedNow.Add(-50 * time.Hour), LastOK: true},
		{Name: "staging-gateway", Kind: "token-exchange"},
	}
}

func num(v int64) json.Number { return json.Number(fmt.Sprint(v)) }

// fixtureResult is a finished client-credentials run with one JWT.
func fixtureResult() *flows.Result {
	iat := fixedNow.Add(-10 * time.Minute)
	exp := iat.Add(time.Hour)
	checks := []flows.Check{
		{Name: "signature", Status: flows.Pass, Detail: `RS256, verified with kid "k1" from JWKS http://127.0.0.1:9090/jwks`},
		{Name: "exp", Status: flows.Pass, Detail: "expires in 50m00s"},
		{Name: "iat", Status: flows.Pass, Detail: "issued 10m00s ago"},
		{Name: "iss", Status: flows.Pass, Detail: "http://127.0.0.1:9090"},
	}
	tok := &flows.DecodedToken{Format: "jws",
		Header: map[string]any{"alg": "RS256", "kid": "k1", "typ": "at+jwt"},
		Claims: map[string]any{"iss": "http://127.0.0.1:9090", "sub": "demo-cc", "aud": "http://127.0.0.1:9090/api",
			"client_id": "demo-cc", "scope": "api:read", "iat": num(iat.Unix()), "exp": num(exp.Unix()), "jti": "j-1"},
		Length: 712, Fingerprint: "ab12cd34ef56ab12cd34ef56", Verified: true, ExpiresAt: &exp, Checks: checks}
	xs := []flows.Exchange{
		{Step: "discovery", Method: "GET", URL: "http://127.0.0.1:9090/.well-known/openid-configuration", Status: 200,
			ResponseHeaders: http.Header{"Content-Type": {"application/json"}}, ResponseBody: `{"issuer":"http://127.0.0.1:9090","token_endpoint":"http://127.0.0.1:9090/token"}`,
			Duration: 2 * time.Millisecond},
		{Step: "token request", Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 200,
			RequestHeaders:  http.Header{"Authorization": {"Basic " + flows.Masked}, "Content-Type": {"application/x-www-form-urlencoded"}},
			RequestBody:     "grant_type=client_credentials&scope=api%3Aread",
			ResponseHeaders: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			ResponseBody:    `{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.sig","token_type":"Bearer","expires_in":3600,"scope":"api:read"}`,
			Duration:        5 * time.Millisecond},
	}
	r := &flows.Result{Flow: "client-credentials", OK: true,
		Token:       flows.NewTokenResponse(map[string]any{"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig", "token_type": "Bearer", "expires_in": 3600.0}, iat),
		AccessToken: tok, Checks: checks,
		Skew:      &flows.SkewEstimate{Offset: 2 * time.Second, Uncertainty: 500 * time.Millisecond, Source: "Date header of GET http://127.0.0.1:9090/jwks", Verdict: "within leeway", Status: flows.Pass},
		Exchanges: xs, Started: fixedNow, Duration: 9 * time.Millisecond,
		Steps: []flows.StepEvent{
			{Name: "discovery", Done: true, OK: true, Duration: 2 * time.Millisecond, Detail: "metadata from http://127.0.0.1:9090/.well-known/openid-configuration"},
			{Name: "token request", Done: true, OK: true, Duration: 5 * time.Millisecond, Detail: "HTTP 200, Bearer, expires in 3600 s"},
		}}
	return r
}

// ---- harness ----

func newTestModel(b Backend, mod ...func(*Options)) *Model {
	o := Options{Backend: b, Theme: testTheme(), Now: fixedClock, Tick: time.Hour}
	for _, f := range mod {
		f(&o)
	}
	return New(o)
}

// demoStore is a new store in a temporary directory, seeded with the demo
// profiles of d.
func demoStore(t *testing.T, d DemoSetup) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authlab.db")
	if _, err := SeedDemo(path, d); err != nil {
		t.Fatal(err)
	}
	return path
}

func startTea(t *testing.T, m *Model, w, h int) *teatest.TestModel {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm
}

func waitText(t *testing.T, tm *teatest.TestModel, s ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, x := range s {
			if !strings.Contains(string(b), x) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

func finalModel(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(*Model)
}

// golden compares a frame with testdata/tui/NAME.golden (-update rewrites).
func golden(t *testing.T, name, got string) {
	t.Helper()
	var w, h int
	if i := strings.LastIndex(name, "_"); i > 0 {
		fmt.Sscanf(name[i+1:], "%dx%d", &w, &h)
	}
	checkFrame(t, name, got, w, h)
	path := filepath.Join("..", "..", "testdata", "tui", name+".golden")
	// trailing spaces carry no meaning and editors strip them
	lines := strings.Split(got, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	got = strings.Join(lines, "\n") + "\n"
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./app -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("frame %s differs from the golden file\n--- want\n%s\n--- got\n%s", name, want, got)
	}
}

// checkFrame asserts the layout contract: exactly h lines, none wider than w.
func checkFrame(t *testing.T, name, frame string, w, h int) {
	t.Helper()
	if w == 0 {
		return
	}
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Errorf("%s: frame has %d lines, want %d", name, len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%s: line %d is %d cells wide (> %d): %q", name, i+1, lw, w, l)
		}
	}
}

// sizes are the two terminal sizes every screen is checked at.
var sizes = []struct{ w, h int }{{120, 40}, {80, 24}}

func sizeName(name string, w, h int) string { return fmt.Sprintf("%s_%dx%d", name, w, h) }

// key builds a key message as a terminal would send it.
func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+p":
		return tea.KeyMsg{Type: tea.KeyCtrlP}
	case "ctrl+s":
		return tea.KeyMsg{Type: tea.KeyCtrlS}
	case "ctrl+r":
		return tea.KeyMsg{Type: tea.KeyCtrlR}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		tm.Send(keyMsg(k))
	}
}
