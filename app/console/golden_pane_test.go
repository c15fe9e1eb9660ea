package console

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/history"
	"authlab/views/profiles"
)

// compareHistory is two runs whose access tokens differ in aud and exp
// (and kid), plus a run without a JWT.
func compareHistory() []history.Entry {
	claims := func(aud string, exp time.Time, jti string) map[string]any {
		return map[string]any{"iss": "http://127.0.0.1:9090", "sub": "demo-cc", "aud": aud, "scope": "api:read",
			"iat": float64(fixedNow.Add(-10 * time.Minute).Unix()), "exp": float64(exp.Unix()), "jti": jti}
	}
	return []history.Entry{
		{Time: fixedNow.Add(-time.Hour), Flow: "client-credentials", OK: true, Tokens: []string{"access_token jwt sha256:ab12cd34ef56 sub=demo-cc"},
			Decoded: []history.Token{{Kind: "access_token", Format: "jwt", Fingerprint: "ab12cd34ef56ab12cd34ef56",
				Header: map[string]any{"alg": "RS256", "kid": "k1", "typ": "at+jwt"}, Claims: claims("http://127.0.0.1:9090/api", fixedNow.Add(time.Hour), "j-1")}}},
		{Time: fixedNow.Add(-2 * time.Hour), Flow: "client-credentials", OK: true, Tokens: []string{"access_token jwt sha256:99ff88ee77dd sub=demo-cc"},
			Decoded: []history.Token{{Kind: "access_token", Format: "jwt", Fingerprint: "99ff88ee77dd99ff88ee77dd",
				Header: map[string]any{"alg": "RS256", "kid": "k2", "typ": "at+jwt"}, Claims: claims("http://127.0.0.1:9090/billing", fixedNow.Add(5*time.Minute), "j-2")}}},
		{Time: fixedNow.Add(-3 * time.Hour), Flow: "client-credentials", OK: false, Error: "token request: invalid_client"},
	}
}

// TestGoldenHistoryDiff: space marks the newest run as A, j selects the
// one before, d compares their access tokens.
func TestGoldenHistoryDiff(t *testing.T) {
	for _, sz := range sizes {
		b := &fakeBackend{rows: fixtureRows(), details: fixtureDetails(), hist: map[string][]history.Entry{"demo-client-credentials": compareHistory()}}
		tm := startTea(t, newTestModel(b), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		press(tm, "j", "j", "h")
		waitText(t, tm, "read-only")
		press(tm, "space", "j", "d")
		waitText(t, tm, "What it means")
		golden(t, sizeName("history_diff", sz.w, sz.h), finalModel(t, tm).View())
	}
}

// TestHistoryCompareShowsMeaning: the diff of two picked runs names the
// changed aud and exp with what they mean, and says which keys to use.
func TestHistoryCompareShowsMeaning(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows(), hist: map[string][]history.Entry{"demo-client-credentials": compareHistory()}}
	m := newTestModel(b)
	m.Update(profilesMsg{rows: fixtureRows()})
	m.prof.SelectName("demo-client-credentials")
	m.Update(historyMsg{name: "demo-client-credentials", entries: compareHistory()})
	for _, k := range []string{"d"} {
		m.Update(keyMsg(k))
	}
	if v := m.View(); !strings.Contains(v, "mark a run with space first") {
		t.Fatalf("d without a mark should say what to do:\n%s", v)
	}
	m.Update(keyMsg("space"))
	if v := m.View(); !strings.Contains(v, "A = run of 2026-11-27 11:00:00Z") || !strings.Contains(v, "space mark •") || !strings.Contains(v, "d diff •") {
		t.Fatalf("the mark and its keys should show:\n%s", v)
	}
	m.Update(keyMsg("d"))
	if v := m.View(); !strings.Contains(v, "select another run than A") {
		t.Fatalf("comparing a run with itself should be refused:\n%s", v)
	}
	m.Update(keyMsg("j"))
	m.Update(keyMsg("d"))
	v := m.View()
	flat := strings.Join(strings.Fields(v), " ") // meanings wrap at 80 columns
	for _, want := range []string{
		"Compare access_token of two runs of demo-client-credentials",
		"~ aud", "~ exp", "~ kid",
		"aud differs: an API that accepts A (audience http://127.0.0.1:9090/api) rejects B; B is also accepted by http://127.0.0.1:9090/billing",
		"B expires 55 min earlier",
		"a same fields too", "esc back",
	} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the diff lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "~ sub") || strings.Contains(v, "~ iss") {
		t.Errorf("claims that are the same are listed:\n%s", v)
	}
	m.Update(keyMsg("a"))
	if v := m.View(); !strings.Contains(v, "  sub") {
		t.Errorf("a should list the same claims too:\n%s", v)
	}
	m.Update(keyMsg("esc"))
	if v := m.View(); !strings.Contains(v, "read-only") || m.screen != scrHistory {
		t.Errorf("esc should close the diff and stay in history:\n%s", v)
	}
	// the failed run has no JWT: nothing to compare, and it says so
	m.Update(keyMsg("j"))
	m.Update(keyMsg("d"))
	if v := m.View(); !strings.Contains(v, "nothing to compare") {
		t.Errorf("a run without a JWT cannot be compared:\n%s", v)
	}
}

// TestHistoryCompareWithoutHeader: an entry that kept no header is compared
// by its claims, and the diff says so.
func TestHistoryCompareWithoutHeader(t *testing.T) {
	es := compareHistory()
	es[1].Decoded[0].Header = nil
	m := newTestModel(&fakeBackend{rows: fixtureRows()})
	m.Update(historyMsg{name: "demo-client-credentials", entries: es})
	for _, k := range []string{"space", "j", "d"} {
		m.Update(keyMsg(k))
	}
	v := m.View()
	if !strings.Contains(v, "history kept no header for B: claims compared only") || strings.Contains(v, "~ kid") || !strings.Contains(v, "~ exp") {
		t.Fatalf("claims-only diff:\n%s", v)
	}
}

// TestProfilePaneEachKind: the pane of an OAuth, an hmac and an api-key
// profile shows what that kind is configured with, at both sizes.
func TestProfilePaneEachKind(t *testing.T) {
	rows := append(fixtureRows(), profiles.Row{Name: "demo-api-key", Kind: "api-key"})
	for _, c := range []struct {
		name string
		want []string
	}{
		{"demo-client-credentials", []string{"issuer    http://127.0.0.1:9090", "client    demo-cc", "auth      client_secret_basic",
			"last run  ✓ ok 40s ago · client-credentials", "checks    4 pass · 1 warn · 0 fail", "expires   in 50m00s · 12:50:00Z", "sha256:ab12cd34ef56"}},
		{"demo-hmac", []string{"request   http://127.0.0.1:9090/api/hmac", "scheme    rfc9421", "key id    demo-key", "hmac_key env:DEMO_HMAC_KEY", "never run"}},
		{"demo-api-key", []string{"request   http://127.0.0.1:9090/api/hello", "header    X-API-Key", "api_key stored",
			"✗ fail 5m ago · api-key", "1 pass · 0 warn · 1 fail", "reason    HTTP 401 from the API"}},
	} {
		for _, sz := range sizes {
			b := &fakeBackend{rows: rows, details: fixtureDetails()}
			m := newTestModel(b)
			m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			m.Update(profilesMsg{rows: rows})
			m.prof.SelectName(c.name)
			// what the pane's read (a tea.Cmd) answers, delivered here
			d, err := b.Describe(c.name)
			m.Update(detailMsg{name: c.name, d: d, err: err})
			v := m.View()
			for _, w := range c.want {
				if !strings.Contains(v, w) {
					t.Errorf("%s at %dx%d: the pane lacks %q:\n%s", c.name, sz.w, sz.h, w, v)
				}
			}
			if c.name != "demo-client-credentials" && strings.Contains(v, "expires ") {
				t.Errorf("%s has no token, yet the pane shows an expiry:\n%s", c.name, v)
			}
			checkFrame(t, c.name, v, sz.w, sz.h)
		}
	}
}

// TestProfilePaneCountsDown: with no key pressed, the pane's countdown
// follows the console's clock through its tick.
func TestProfilePaneCountsDown(t *testing.T) {
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := &fakeBackend{rows: fixtureRows(), details: fixtureDetails()}
	m := newTestModel(b, func(o *Options) { o.Now = clock; o.Tick = 5 * time.Millisecond })
	tm := startTea(t, m, 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j")
	waitText(t, tm, "in 50m00s")
	mu.Lock()
	now = now.Add(7 * time.Second)
	mu.Unlock()
	waitText(t, tm, "in 49m53s")
	mu.Lock()
	now = fixedNow.Add(51 * time.Minute) // past expiry (obtained 10 min before fixedNow)
	mu.Unlock()
	waitText(t, tm, "expired 1m00s ago")
}
