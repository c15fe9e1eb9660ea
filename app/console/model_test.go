package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/views/profiles"
)

func TestDeleteNeedsConfirmation(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "staging-gateway")
	press(tm, "d")
	waitText(t, tm, "Delete profile demo-auth-code-pkce?")
	press(tm, "n")
	waitText(t, tm, "delete cancelled")
	if got := b.snapshot().deleted; len(got) != 0 {
		t.Fatalf("n must keep the profile, but deleted %v", got)
	}
	press(tm, "j", "d", "y")
	waitText(t, tm, "deleted demo-broken-wrong-secret")
	fm := finalModel(t, tm)
	if got := b.snapshot().deleted; len(got) != 1 || got[0] != "demo-broken-wrong-secret" {
		t.Fatalf("deleted = %v, want [demo-broken-wrong-secret]", got)
	}
	if strings.Contains(fm.View(), "demo-broken-wrong-secret (demo)") || fm.prof.Len() != 6 {
		t.Errorf("the deleted profile is still listed:\n%s", fm.View())
	}
}

func TestNavigationAndFilter(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "staging-gateway")
	press(tm, "G", "k", "/")
	tm.Type("dev")
	press(tm, "enter", "enter")
	waitText(t, tm, "device")
	fm := finalModel(t, tm)
	if got := fm.prof.Selected(); got != "demo-device" {
		t.Errorf("selected %q after filtering 'dev', want demo-device", got)
	}
	runs := b.snapshot().runs
	if len(runs) != 1 || runs[0].Profile != "demo-device" {
		t.Errorf("enter on the filtered list ran %v, want demo-device", runs)
	}
	if fm.screen != scrRun {
		t.Errorf("screen = %v, want Run", fm.screen)
	}
}

func TestPaletteFuzzyRunsAction(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "staging-gateway")
	press(tm, "ctrl+p")
	tm.Type("dupsel") // fuzzy: "profile: duplicate selected"
	waitText(t, tm, "duplicate selected")
	press(tm, "enter")
	waitText(t, tm, "demo-auth-code-pkce-copy")
	fm := finalModel(t, tm)
	if got := b.snapshot().duplicated; len(got) != 1 || got[0] != "demo-auth-code-pkce" {
		t.Fatalf("duplicated = %v", got)
	}
	if got := fm.prof.Selected(); got != "demo-auth-code-pkce-copy" {
		t.Errorf("the copy should be selected, got %q", got)
	}
}

func TestFuzzyScore(t *testing.T) {
	if _, ok := fuzzyScore("profile: duplicate selected", "xyz"); ok {
		t.Error("xyz must not match")
	}
	a, ok1 := fuzzyScore("run: refresh token", "ref")
	b, ok2 := fuzzyScore("profile: run selected", "ref")
	if !ok1 || ok2 && b <= a {
		t.Errorf("'ref' should rank 'run: refresh token' first (scores %d/%v, %d/%v)", a, ok1, b, ok2)
	}
}

func TestEditorValidatesMasksAndSaves(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "staging-gateway")
	press(tm, "n")
	waitText(t, tm, "New profile")
	press(tm, "ctrl+s")
	waitText(t, tm, "fix the fields")
	if n := len(b.snapshot().saved); n != 0 {
		t.Fatalf("an invalid form was saved %d times", n)
	}
	tm.Type("my-api")
	press(tm, "tab", "right", "tab") // kind: client-credentials → auth-code; to issuer
	tm.Type("not a url")
	waitText(t, tm, "must be an http(s) URL")
	for range "not a url" {
		tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	tm.Type("https://idp.example")
	press(tm, "tab", "tab") // token URL, client id
	tm.Type("web-app")
	press(tm, "tab") // client secret
	tm.Type("s3cr3t-value")
	waitText(t, tm, "••••")
	press(tm, "ctrl+s")
	waitText(t, tm, "saved my-api")
	fm := finalModel(t, tm)
	saved := b.snapshot().saved
	if len(saved) != 1 {
		t.Fatalf("saved %d forms, want 1", len(saved))
	}
	f := saved[0]
	if f.Name != "my-api" || f.Kind != "auth-code" || f.Fields["issuer"] != "https://idp.example" || f.Fields["client_id"] != "web-app" || f.Fields["client_secret"] != "s3cr3t-value" {
		t.Errorf("saved form = %+v", f)
	}
	if strings.Contains(fm.View(), "s3cr3t-value") {
		t.Error("the secret was shown on screen without reveal")
	}
}

func TestEditorRevealToggle(t *testing.T) {
	m := newTestModel(&fakeBackend{})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.profileAction(profiles.ActionMsg{Action: profiles.ActNew})
	for _, k := range []string{"tab", "tab", "tab", "tab", "tab"} { // to client secret
		m.Update(keyMsg(k))
	}
	for _, r := range "hunter2" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if v := m.View(); strings.Contains(v, "hunter2") || !strings.Contains(v, "•••••••") {
		t.Fatalf("secret not masked:\n%s", v)
	}
	m.Update(keyMsg("ctrl+r"))
	if v := m.View(); !strings.Contains(v, "hunter2") {
		t.Fatalf("ctrl+r should reveal the secret:\n%s", v)
	}
}

func TestPanicInFlowIsAFailedRun(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows(), runFn: func(context.Context, RunRequest, Events) *flows.Result {
		var m map[string]int
		//lint:ignore SA5000 the nil map write is the panic under test
		m["boom"]++ // a nil map write: a real bug in a flow
		return nil
	}}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "staging-gateway")
	press(tm, "enter")
	waitText(t, tm, "panicked")
	// the console is still alive: keys still work
	press(tm, "esc")
	waitText(t, tm, "Profiles")
	fm := finalModel(t, tm)
	res := fm.run.Result()
	if res == nil || res.Err == nil || !strings.Contains(res.Err.Message, "assignment to entry in nil map") {
		t.Fatalf("want a failed result naming the panic, got %+v", res)
	}
	if !res.Failed() {
		t.Error("a panicked run must count as failed")
	}
}

func TestStaleRunMessagesAreIgnored(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	m := newTestModel(b)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(profilesMsg{rows: fixtureRows()})
	m.begin(RunRequest{Profile: "demo-client-credentials"}) // run 1
	old := m.run.ID()
	m.begin(RunRequest{Profile: "demo-client-credentials"}) // run 2 supersedes it
	if m.run.ID() == old {
		t.Fatal("a new run must get a new id")
	}
	ch := make(chan tea.Msg)
	m.Update(runMsg{ch: ch, inner: runStepMsg{id: old, ev: flows.StepEvent{Name: "late step of the old run", Done: true, OK: true}}})
	m.Update(runMsg{ch: ch, inner: runDoneMsg{id: old, res: &flows.Result{Flow: "x", Err: flows.Errorf(flows.ErrProtocol, "old run result")}}})
	if v := m.View(); strings.Contains(v, "late step") || strings.Contains(v, "old run result") || !m.run.Running() {
		t.Fatalf("a message of the old run reached the new run's screen:\n%s", v)
	}
	m.Update(runMsg{ch: ch, inner: runDoneMsg{id: m.run.ID(), res: fixtureResult()}})
	if v := m.View(); !strings.Contains(v, "Raw JSON") || m.run.Running() {
		t.Fatalf("the current run's result should show:\n%s", v)
	}
}

func TestExpiryBarCountsDown(t *testing.T) {
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := &fakeBackend{rows: fixtureRows()}
	m := newTestModel(b, func(o *Options) { o.Now = clock; o.Tick = 5 * time.Millisecond })
	tm := startTea(t, m, 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "enter")
	waitText(t, tm, "expires in 50m00s")
	mu.Lock()
	now = now.Add(7 * time.Second)
	mu.Unlock()
	// no key pressed: only the tick can repaint the bar
	waitText(t, tm, "expires in 49m53s")
}

func TestTenThousandProfilesWindow(t *testing.T) {
	rows := manyRows(10000)
	m := newTestModel(&fakeBackend{rows: rows})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(profilesMsg{rows: rows})
	m.Update(keyMsg("G"))
	v := m.View()
	if !strings.Contains(v, "profile-09999") || !strings.Contains(v, "10000/10000") {
		t.Fatalf("G should show the last profile:\n%s", v)
	}
	if n := strings.Count(v, "\n") + 1; n != 40 {
		t.Errorf("frame has %d lines, want exactly 40", n)
	}
}

func manyRows(n int) []profiles.Row {
	rows := make([]profiles.Row, n)
	for i := range rows {
		rows[i] = profiles.Row{Name: fmt.Sprintf("profile-%05d", i), Kind: "client-credentials", LastRun: fixedNow.Add(-time.Duration(i) * time.Minute), LastOK: i%3 != 0, LastErr: "invalid_client"}
	}
	return rows
}

func TestPastingATokenOpensTheInspector(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("eyJhbGciOiJSUzI1NiJ9.e30.sig"), Paste: true})
	waitText(t, tm, "CLAIMS")
	fm := finalModel(t, tm)
	if fm.screen != scrInspect || !fm.insp.Pasted() {
		t.Fatalf("screen %v pasted %v, want the inspector showing the token", fm.screen, fm.insp.Pasted())
	}
}

func TestPastedGarbageSaysWhy(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "t")
	waitText(t, tm, "Inspect a token")
	tm.Type("garbage")
	press(tm, "enter")
	waitText(t, tm, "not a JWT")
}

func TestImportPrompt(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "staging-gateway")
	press(tm, "i")
	waitText(t, tm, "import from file:")
	tm.Type("/tmp/missing.json")
	press(tm, "enter")
	waitText(t, tm, "no such file")
	press(tm, "i")
	waitText(t, tm, "import from file:")
	tm.Type("/tmp/good.json")
	press(tm, "enter")
	waitText(t, tm, "imported 1 profiles")
	fm := finalModel(t, tm)
	if fm.prof.Len() != 8 {
		t.Errorf("list has %d profiles after the import, want 8", fm.prof.Len())
	}
}

// panicBackend fails inside a command the console runs (not a flow).
type panicBackend struct{ *fakeBackend }

func (panicBackend) Profiles() ([]profiles.Row, error) { panic("store exploded") }

func TestPanicInACommandRestoresTheTerminal(t *testing.T) {
	var out bytes.Buffer
	m := newTestModel(panicBackend{&fakeBackend{}})
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithInput(nil), tea.WithOutput(&out))
	_, err := p.Run()
	if !errors.Is(err, tea.ErrProgramPanic) {
		t.Fatalf("Run returned %v, want ErrProgramPanic", err)
	}
	s := out.String()
	enter := strings.Index(s, "\x1b[?1049h")
	leave := strings.LastIndex(s, "\x1b[?1049l")
	show := strings.LastIndex(s, "\x1b[?25h")
	if enter < 0 || leave < enter || show < enter {
		t.Fatalf("the alternate screen was not left or the cursor not shown again: %q", s)
	}
}

// TestEveryScreenShowsItsKeys: each screen is a component of the root's
// index, and the footer shows keys on every one of them.
func TestEveryScreenShowsItsKeys(t *testing.T) {
	m := newTestModel(&fakeBackend{rows: fixtureRows()})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	m.Update(profilesMsg{rows: fixtureRows()})
	for s := range numScreens {
		if m.screens[s] == nil {
			t.Fatalf("screen %v has no component", s)
		}
		m.show(s)
		v := m.View()
		lines := strings.Split(v, "\n")
		if n := len(lines); n != 30 {
			t.Errorf("%v: frame has %d lines, want 30", s, n)
		}
		if foot := lines[len(lines)-1]; strings.TrimSpace(foot) == "" {
			t.Errorf("%v: no keys in the footer:\n%s", s, v)
		}
	}
}
