package oauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(cs *callbackServer, host, origin, ct, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "http://"+host+CallbackPath, strings.NewReader(body))
	req.Host = host
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("Content-Type", ct)
	w := httptest.NewRecorder()
	cs.ServeHTTP(w, req)
	return w
}

func TestCallbackFragmentMode(t *testing.T) {
	const host = "127.0.0.1:5555"
	var reasons []string
	cs := newCallbackServer("the-state", "https://idp.example", false, 5555, func(r string) { reasons = append(reasons, r) })
	cs.mode = "fragment"
	// The redirect itself carries nothing the listener can see: the relay page answers.
	w := serve(cs, "GET", host, "/callback")
	csp := w.Header().Get("Content-Security-Policy")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="relay"`) || !strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("relay page: %d %q %.200s", w.Code, csp, w.Body.String())
	}
	form := "application/x-www-form-urlencoded"
	for _, c := range []struct{ name, origin, ct, want string }{
		{"another site's page", "https://evil.example", form, "origin"},
		{"no origin", "", form, "origin"},
		{"not a form", "http://" + host, "application/json", "form-encoded"},
	} {
		if w := post(cs, host, c.origin, c.ct, "code=c&state=the-state"); w.Code != 403 || !strings.Contains(reasons[len(reasons)-1], c.want) {
			t.Errorf("%s: %d %v", c.name, w.Code, reasons)
		}
	}
	if w := post(cs, host, "http://"+host, form, "code=c&state=the-state&iss=https%3A%2F%2Fidp.example"); w.Code != 200 {
		t.Fatalf("relay post: %d %s", w.Code, w.Body.String())
	}
	out := outcome(t, cs)
	if out.err != nil || out.params.Code != "c" || out.delivered != "fragment" || len(out.checks) != 1 || out.checks[0].Status != "pass" {
		t.Fatalf("outcome %+v", out)
	}
}

func TestCallbackFormPostAndJARMModes(t *testing.T) {
	const host = "127.0.0.1:5555"
	cs := newCallbackServer("the-state", "https://idp.example", false, 5555, nil)
	cs.mode = "form_post"
	if w := post(cs, host, "https://idp.example", "application/x-www-form-urlencoded", "code=c&state=the-state"); w.Code != 200 {
		t.Fatalf("form_post: %d", w.Code)
	}
	if out := outcome(t, cs); out.err != nil || out.delivered != "form_post" {
		t.Fatalf("outcome %+v", out)
	}
	// A JARM mode refuses a plain answer to this login, and a body over 16 KiB.
	cs = newCallbackServer("the-state", "https://idp.example", false, 5555, nil)
	cs.mode = "form_post.jwt"
	cs.jarm = func(string) (jarmOutcome, string) { return jarmOutcome{}, "a JARM response that does not verify" }
	if w := post(cs, host, "", "application/x-www-form-urlencoded", "response="+strings.Repeat("a", 17<<10)); w.Code != 400 {
		t.Fatalf("oversized body: %d", w.Code)
	}
	if w := post(cs, host, "", "application/x-www-form-urlencoded", "response=x.y.z"); w.Code != 400 || !strings.Contains(w.Body.String(), "does not verify") {
		t.Fatalf("unverified JARM: %d %s", w.Code, w.Body.String())
	}
	if w := post(cs, host, "", "application/x-www-form-urlencoded", "code=c&state=the-state"); w.Code != http.StatusBadRequest {
		t.Fatalf("plain answer in JARM mode: %d", w.Code)
	}
	if out := outcome(t, cs); out.err == nil || !strings.Contains(out.err.Message, "plain parameters") {
		t.Fatalf("outcome %+v", out)
	}
}

// outcome is what the callback server handed the flow. ServeHTTP has
// returned, so it is there already; none is a failure, not a hang.
func outcome(t *testing.T, cs *callbackServer) callbackOutcome {
	t.Helper()
	select {
	case o := <-cs.out:
		return o
	default:
		t.Fatal("the callback server handed the flow no outcome")
		return callbackOutcome{}
	}
}
