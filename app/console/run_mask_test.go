package console

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/views/render"
)

// The tokens of the masked-screen fixture: none may show in full on a
// screen unless the user revealed it.
const (
	maskAT     = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImF1ZCI6ImFwaSJ9.c2lnbmF0dXJlLW9mLXRoZS1hY2Nlc3MtdG9rZW4"
	maskRT     = "rt-7f3c9e1a2b4d6f8091a2b3c4d5e6f708"
	maskIDT    = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm5vbmNlIjoibjEifQ.aWQtdG9rZW4tc2lnbmF0dXJlLWJ5dGVz"
	maskReqObj = "eyJhbGciOiJQUzI1NiIsInR5cCI6Im9hdXRoLWF1dGh6LXJlcStqd3QifQ.eyJjbGllbnRfaWQiOiJkZW1vLXdlYiJ9.cmVxdWVzdC1vYmplY3Qtc2ln"
)

var maskTokens = []string{maskAT, maskRT, maskIDT, maskReqObj}

// maskFixture is an auth-code run with PAR, a request object and a JARM
// response that got an access, ID and refresh token; its userinfo call
// carries the bearer token unmasked (a hand-built record: the recorder
// would have masked it, the screen must too).
func maskFixture() *flows.Result {
	r := fixtureResult()
	iat := fixedNow.Add(-10 * time.Minute)
	r.Flow = "auth-code"
	r.Token = flows.NewTokenResponse(map[string]any{"access_token": maskAT, "refresh_token": maskRT, "id_token": maskIDT,
		"token_type": "Bearer", "expires_in": 3600.0}, iat)
	id := *r.AccessToken
	id.Header = map[string]any{"alg": "RS256", "kid": "k1"}
	id.Checks = nil
	r.IDToken = &id
	form := http.Header{"Authorization": {"Basic " + flows.Masked}, "Content-Type": {"application/x-www-form-urlencoded"}}
	js := http.Header{"Content-Type": {"application/json"}}
	r.Exchanges = []flows.Exchange{r.Exchanges[0],
		{Step: "pushed authorization request", Method: "POST", URL: "http://127.0.0.1:9090/par", Status: 201, RequestHeaders: form,
			RequestBody:     "client_id=demo-web&request=" + maskReqObj,
			ResponseHeaders: js, ResponseBody: `{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc","expires_in":60}`, Duration: 3 * time.Millisecond},
		{Step: "token request", Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 200, RequestHeaders: form,
			RequestBody:     "grant_type=authorization_code&code=" + flows.Masked + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A41234%2Fcallback",
			ResponseHeaders: js, ResponseBody: `{"access_token":"` + maskAT + `","refresh_token":"` + maskRT + `","id_token":"` + maskIDT + `","token_type":"Bearer","expires_in":3600}`,
			Duration: 6 * time.Millisecond},
		{Step: "userinfo", Method: "GET", URL: "http://127.0.0.1:9090/userinfo", Status: 200,
			RequestHeaders: http.Header{"Authorization": {"Bearer " + maskAT}}, ResponseHeaders: js, ResponseBody: `{"sub":"alice"}`, Duration: time.Millisecond},
	}
	r.Steps = []flows.StepEvent{
		r.Steps[0],
		{Name: "request object", Done: true, OK: true, Detail: `header {"alg":"PS256","kid":"rk1","typ":"oauth-authz-req+jwt"} claims {"aud":"http://127.0.0.1:9090","client_id":"demo-web","exp":1795781100,"iss":"demo-web","jti":"q8R2","response_mode":"jwt","response_type":"code","scope":"openid"}`},
		{Name: "pushed authorization request", Done: true, OK: true, Duration: 3 * time.Millisecond, Detail: "HTTP 201, request_uri urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc, expires_in 60 s"},
		{Name: "authorization", Done: true, OK: true, Duration: 2 * time.Second, Detail: "callback received, state matches, JARM response verified, iss matches"},
		{Name: "token request", Done: true, OK: true, Duration: 6 * time.Millisecond, Detail: "HTTP 200, Bearer, expires in 3600 s"},
	}
	r.Checks = append(r.Checks,
		flows.Check{Name: "par expires_in", Status: flows.Pass, Detail: "the request_uri lives 60 s"},
		flows.Check{Name: "jarm signature", Status: flows.Pass, Detail: `RS256, kid "k1", verified with the issuer's JWKS`},
		flows.Check{Name: "jarm iss", Status: flows.Pass, Detail: "iss is the issuer"},
		flows.Check{Name: "jarm aud", Status: flows.Pass, Detail: "aud is this client"},
		flows.Check{Name: "jarm exp", Status: flows.Pass, Detail: "valid for 4m58s more"},
		flows.Check{Name: "response_mode", Status: flows.Pass, Detail: "the response came by query, as response_mode jwt asks"},
	)
	r.AuthURL = "http://127.0.0.1:9090/authorize?client_id=demo-web&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc"
	return r
}

// flat is a frame without its line breaks: a wrapped token reads whole.
func flat(frame string) string { return strings.ReplaceAll(frame, "\n", "") }

// assertMasked fails when a token (or its last 16 characters) is on the
// frame, except the one revealed.
func assertMasked(t *testing.T, name, frame, revealed string) {
	t.Helper()
	f := flat(frame)
	for _, tok := range maskTokens {
		if tok == revealed {
			continue
		}
		if strings.Contains(f, tok) || strings.Contains(f, tok[len(tok)-16:]) {
			t.Errorf("%s: a token is on the screen unmasked: %s…", name, tok[:12])
		}
	}
}

// clock is a fake clock the test moves (read on the program's goroutine).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func maskBackend() *fakeBackend {
	return &fakeBackend{rows: fixtureRows(), runFn: func(context.Context, RunRequest, Events) *flows.Result { return maskFixture() }}
}

func TestGoldenMaskedRun(t *testing.T) {
	for _, sz := range sizes {
		for _, c := range []struct {
			name, wait, revealed string
			keys                 []string
		}{
			{"run_masked_token", "", "", nil},
			{"run_masked_id_token", "(masked)", "", []string{"]"}},
			{"run_masked_raw", `"flow"`, "", []string{"4"}},
			{"run_masked_exchange_detail", "RESPONSE", "", []string{"2", "j", "j", "enter"}},
			{"run_masked_userinfo", "RESPONSE", "", []string{"2", "j", "j", "j", "enter"}},
			{"run_masked_timeline", "oauth-authz-req+jwt", "", []string{"5"}},
			{"run_revealed_token", "in clear for 10 s", maskAT, []string{"R"}},
		} {
			tm := startTea(t, newTestModel(maskBackend()), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, "j", "j", "enter")
			waitText(t, tm, "Raw JSON")
			press(tm, c.keys...)
			if c.wait != "" {
				waitText(t, tm, c.wait)
			}
			frame := finalModel(t, tm).View()
			name := sizeName(c.name, sz.w, sz.h)
			assertMasked(t, name, frame, c.revealed)
			if c.revealed != "" && !strings.Contains(flat(frame), c.revealed) {
				t.Errorf("%s: R must show the focused token whole:\n%s", name, frame)
			}
			golden(t, name, frame)
		}
	}
}

// Every tab (and the timeline's request object) masks, also where no
// golden frame looks, at a size that shows each tab whole.
func TestMaskedOnEveryTab(t *testing.T) {
	m := newTestModel(maskBackend())
	m.setSize(200, 200)
	res := maskFixture()
	m.run.Begin(1, "demo-web", "auth-code", fixedNow)
	for _, x := range res.Exchanges {
		m.run.Exchange(x)
	}
	m.run.Finish(res, inspectData(res, fixedNow))
	for tab := '1'; tab <= '5'; tab++ {
		m.run.Update(keyMsg(string(tab)))
		assertMasked(t, "tab "+string(tab), m.run.View(), "")
	}
	// each exchange's detail
	m.run.Update(keyMsg("2"))
	for i := range res.Exchanges {
		m.run.Update(keyMsg("enter"))
		assertMasked(t, "exchange "+res.Exchanges[i].Step, m.run.View(), "")
		m.run.Back()
		m.run.Update(keyMsg("j"))
	}
	// the timeline shows the request object masked, and whole when revealed
	m.run.Update(keyMsg("5"))
	v := m.run.View()
	if !strings.Contains(v, render.MaskToken(maskReqObj)) || !strings.Contains(v, "request_uri = urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc") ||
		!strings.Contains(v, "jarm signature") || !strings.Contains(v, "oauth-authz-req+jwt") {
		t.Errorf("the timeline must decode the request object and show the PAR push and JARM checks:\n%s", v)
	}
	m.run.Update(keyMsg("R"))
	if !strings.Contains(flat(m.run.View()), maskReqObj) {
		t.Errorf("R on the timeline must show the request object whole")
	}
}

func TestRevealEndsWithTheClock(t *testing.T) {
	clk := &clock{t: fixedNow}
	c := &clip{}
	m := newTestModel(maskBackend(), func(o *Options) { o.Now = clk.Now; o.Clipboard = c.copy })
	tm := startTea(t, m, 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "enter")
	waitText(t, tm, "Raw JSON")
	press(tm, "R")
	waitText(t, tm, "in clear for 10 s", "shown in clear for 10 s")
	clk.Add(9 * time.Second)
	tm.Send(tea.WindowSizeMsg{Width: 120, Height: 40}) // any message redraws; a tick would too
	waitText(t, tm, "in clear for 1 s")
	clk.Add(time.Second)
	tm.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	waitText(t, tm, "(masked)")
	press(tm, "]", "y") // the ID token tab, copied
	waitText(t, tm, "real id token copied to the clipboard (shown masked)")
	fm := finalModel(t, tm)
	frame := fm.View()
	assertMasked(t, "after the reveal", frame, "")
	if fm.run.Revealed() {
		t.Error("the reveal must end RevealFor after R")
	}
	if got := c.all(); len(got) != 1 || got[0] != maskIDT {
		t.Errorf("y on the id tab copied %q, want the real ID token", got)
	}
}

// harBackend writes HAR files as the store backend does, into dir.
type harBackend struct {
	*fakeBackend
	sb *StoreBackend
}

func (h harBackend) ExportHAR(name string, res *flows.Result) (string, error) {
	return h.sb.ExportHAR(name, res)
}

func TestHARKeyWritesMaskedArchive(t *testing.T) {
	dir := t.TempDir()
	b := harBackend{maskBackend(), &StoreBackend{Path: filepath.Join(dir, "authlab.db"), Now: fixedClock}}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "enter")
	waitText(t, tm, "Raw JSON")
	press(tm, "H")
	want := filepath.Join(dir, "run-demo-client-credentials-20261127-120000.har")
	waitText(t, tm, "HAR written to")
	fm := finalModel(t, tm)
	if !strings.Contains(fm.status, want) {
		t.Errorf("status %q must name %s", fm.status, want)
	}
	st, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("HAR mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(want)
	var doc struct {
		Log struct {
			Version string `json:"version"`
			Creator struct {
				Name string `json:"name"`
			} `json:"creator"`
			Entries []struct {
				Request struct {
					Method string `json:"method"`
					URL    string `json:"url"`
				} `json:"request"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	res := maskFixture()
	if doc.Log.Version != "1.2" || len(doc.Log.Entries) != len(res.Exchanges) || doc.Log.Creator.Name != "authlab console" {
		t.Fatalf("HAR log: version %q, %d entries (want 1.2, %d)", doc.Log.Version, len(doc.Log.Entries), len(res.Exchanges))
	}
	for i, e := range doc.Log.Entries {
		if e.Request.Method != res.Exchanges[i].Method || e.Request.URL != res.Exchanges[i].URL {
			t.Errorf("entry %d is %s %s, want %s %s", i, e.Request.Method, e.Request.URL, res.Exchanges[i].Method, res.Exchanges[i].URL)
		}
	}
	for _, tok := range []string{maskAT, maskRT, maskIDT} {
		if strings.Contains(string(data), tok) {
			t.Errorf("the console's HAR holds a token: %s…", tok[:12])
		}
	}
}

func TestHARKeyWithoutStore(t *testing.T) {
	tm := startTea(t, newTestModel(maskBackend()), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "enter")
	waitText(t, tm, "Raw JSON")
	press(tm, "H")
	waitText(t, tm, "cannot write files")
	finalModel(t, tm)
}

func TestInspectorMasksPastedToken(t *testing.T) {
	const pasted = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwYXN0ZWQifQ.cGFzdGVkLXNpZ25hdHVyZQ"
	tm := startTea(t, newTestModel(maskBackend()), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "t")
	waitText(t, tm, "Inspect a token")
	tm.Type(pasted)
	press(tm, "enter")
	waitText(t, tm, "CLAIMS", render.MaskToken(pasted))
	press(tm, "R")
	waitText(t, tm, "in clear for 10 s", "R masks it again")
	if v := finalModel(t, tm).View(); !strings.Contains(flat(v), pasted) {
		t.Errorf("R must show the pasted token whole:\n%s", v)
	}
}

// TestInspectorCopiesTheRealToken: y on the inspector copies the pasted
// token whole while the screen keeps it masked, and says so.
func TestInspectorCopiesTheRealToken(t *testing.T) {
	const pasted = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3B5In0.Y29weS1zaWduYXR1cmU"
	c := &clip{}
	tm := startTea(t, newTestModel(maskBackend(), func(o *Options) { o.Clipboard = c.copy }), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "t")
	waitText(t, tm, "Inspect a token")
	tm.Type(pasted)
	press(tm, "enter")
	waitText(t, tm, "CLAIMS", "y copy token")
	press(tm, "y")
	waitText(t, tm, "token copied to the clipboard (shown masked)")
	if got := c.all(); len(got) != 1 || got[0] != pasted {
		t.Fatalf("clipboard %q, want the pasted token", got)
	}
	if v := finalModel(t, tm).View(); strings.Contains(flat(v), pasted) {
		t.Errorf("copying revealed the token:\n%s", v)
	}
}
