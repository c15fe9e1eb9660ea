package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

// RFC 7636 Appendix B.
func TestS256AppendixB(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	if got := S256Challenge(verifier); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("challenge %s", got)
	}
	v1, c1, err := NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	v2, _, _ := NewPKCE()
	if len(v1) != 43 || v1 == v2 || S256Challenge(v1) != c1 {
		t.Fatalf("verifier %q (%d chars), second %q", v1, len(v1), v2)
	}
}

func serve(cs *callbackServer, method, host, target string) *httptest.ResponseRecorder {
	// Built by hand: httptest.NewRequest panics on the odd targets fuzzing finds.
	path, query, _ := strings.Cut(target, "?")
	req := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Host: host, Header: http.Header{}}
	w := httptest.NewRecorder()
	cs.ServeHTTP(w, req)
	return w
}

func TestCallbackHardening(t *testing.T) {
	const host = "127.0.0.1:5555"
	var reasons []string
	cs := newCallbackServer("the-state", "https://idp.example", false, 5555, func(r string) { reasons = append(reasons, r) })
	cases := []struct {
		name, method, host, target string
		status                     int
		reason                     string
	}{
		{"other path", "GET", host, "/favicon.ico", 404, ""},
		{"non-loopback Host", "GET", "evil.example:5555", "/callback?code=c&state=the-state", 403, `Host "evil.example:5555"`},
		{"loopback name, wrong port", "GET", "localhost:80", "/callback?code=c&state=the-state", 403, "own loopback address"},
		{"POST", "POST", host, "/callback?code=c&state=the-state", 405, "only GET"},
		{"no state", "GET", host, "/callback?code=c", 400, "without state"},
		{"wrong state", "GET", host, "/callback?code=c&state=other", 400, "state does not match"},
		{"duplicate code", "GET", host, "/callback?code=a&code=b&state=the-state", 400, "code appears 2 times"},
		{"bad escape", "GET", host, "/callback?code=%zz&state=the-state", 400, "malformed query"},
	}
	for _, c := range cases {
		w := serve(cs, c.method, c.host, c.target)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.status)
		}
		if c.reason != "" && !strings.Contains(w.Body.String(), htmlEscaped(c.reason)) {
			t.Errorf("%s: page %q lacks %q", c.name, w.Body.String(), c.reason)
		}
		if c.reason != "" && (len(reasons) == 0 || !strings.Contains(reasons[len(reasons)-1], c.reason)) {
			t.Errorf("%s: observer told %v", c.name, reasons)
		}
	}
	select {
	case o := <-cs.out:
		t.Fatalf("a rejected request ended the flow: %+v", o)
	default:
	}
	// The valid callback ends it, and the page says so.
	w := serve(cs, "GET", host, "/callback?code=the-code&state=the-state&iss=https%3A%2F%2Fidp.example")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "return to your terminal") || w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("valid callback: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	o := <-cs.out
	if o.err != nil || o.params.Code != "the-code" {
		t.Fatalf("outcome %+v", o)
	}
	// A second callback, even a valid one, is refused.
	w = serve(cs, "GET", host, "/callback?code=the-code&state=the-state")
	if w.Code != 409 || !strings.Contains(w.Body.String(), "already completed") {
		t.Fatalf("second callback: %d %q", w.Code, w.Body.String())
	}
}

func htmlEscaped(s string) string { return strings.ReplaceAll(s, `"`, "&#34;") }

func TestCallbackFinalAnswers(t *testing.T) {
	for _, c := range []struct {
		name, query string
		issNeeded   bool
		want        string
		kind        flows.ErrorKind
	}{
		{"error", "error=access_denied&error_description=User+said+no&state=s", false, "access_denied: User said no", flows.ErrOAuth},
		{"missing code", "state=s", false, "neither code nor error", flows.ErrProtocol},
		{"iss mismatch", "code=c&state=s&iss=https%3A%2F%2Fevil.example", false, `iss is "https://evil.example", expected "https://idp.example"`, flows.ErrProtocol},
		{"iss missing though advertised", "code=c&state=s", true, "no iss parameter", flows.ErrProtocol},
	} {
		cs := newCallbackServer("s", "https://idp.example", c.issNeeded, 0, nil)
		w := serve(cs, "GET", "127.0.0.1:1234", "/callback?"+c.query)
		if w.Code != 400 {
			t.Errorf("%s: status %d", c.name, w.Code)
		}
		o := <-cs.out
		if o.err == nil || !strings.Contains(o.err.Message, c.want) || o.err.Kind != c.kind {
			t.Errorf("%s: %+v", c.name, o.err)
		}
	}
}

// The whole flow over a real listener: a wrong-state request first (an old
// tab), then the right one; the flow ends with the error the server sent.
func TestAuthCodeCallbackErrorEndsFlow(t *testing.T) {
	eng, err := New(flows.Request{Flow: flows.FlowAuthCode, ClientID: "c", Wait: 10 * time.Second,
		Endpoints: flows.Endpoints{Auth: "http://127.0.0.1:1/authorize", Token: "http://127.0.0.1:1/token"}},
		Options{OpenURL: func(ctx context.Context, u string) error {
			go func() {
				redirect, state := queryOf(u, "redirect_uri"), queryOf(u, "state")
				if resp, err := http.Get(redirect + "?code=x&state=stale"); err == nil {
					resp.Body.Close()
				}
				if resp, err := http.Get(redirect + "?error=access_denied&error_description=nope&state=" + state); err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var rejected []string
	res := eng.AuthCode(context.Background(), flows.ObserverFuncs{OnStep: func(e flows.StepEvent) {
		if e.Name == "callback rejected" {
			rejected = append(rejected, e.Detail)
		}
	}})
	if res.OK || res.Err.OAuthError != "access_denied" || len(rejected) != 1 || !strings.Contains(rejected[0], "state does not match") {
		t.Fatalf("res %+v rejected %v", res.Err, rejected)
	}
}

func TestAuthCodeWaitTimesOut(t *testing.T) {
	eng, _ := New(flows.Request{Flow: flows.FlowAuthCode, ClientID: "c", Wait: 50 * time.Millisecond, NoBrowser: true,
		Endpoints: flows.Endpoints{Auth: "http://127.0.0.1:1/authorize", Token: "http://127.0.0.1:1/token"}}, Options{})
	var url string
	res := eng.AuthCode(context.Background(), flows.ObserverFuncs{OnStep: func(e flows.StepEvent) {
		if e.Name == "open this URL in a browser" {
			url = e.Detail
		}
	}})
	if res.OK || res.Err.Kind != flows.ErrCancelled || !strings.Contains(res.Err.Message, "no valid callback") {
		t.Fatalf("%+v", res.Err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:1/authorize?") {
		t.Fatalf("URL shown: %q", url)
	}
}

func queryOf(u, k string) string {
	p, _ := url.Parse(u)
	return p.Query().Get(k)
}

func FuzzCallbackQuery(f *testing.F) {
	for _, s := range []string{"code=a&state=b", "error=x&error_description=y%20z", "code=a&code=b", "%zz", "state=&iss=https%3A%2F%2Fx", ";;&&==", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := ParseCallbackQuery(q)
		if err != nil {
			return
		}
		// Whatever parses must also be what the handler would act on.
		cs := newCallbackServer("fixed-state", "", false, 0, nil)
		w := serve(cs, "GET", "127.0.0.1:9", "/callback?"+q)
		if p.State != "fixed-state" && w.Code == 200 {
			t.Fatalf("accepted a callback with state %q", p.State)
		}
	})
}

func FuzzDiscovery(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://x","token_endpoint":"https://x/t","mtls_endpoint_aliases":{"token_endpoint":"https://m/t"}}`))
	f.Add([]byte(`{"issuer":1}`))
	f.Add([]byte(`<html>`))
	f.Add([]byte(`{"issuer":"https://x","token_endpoint":"javascript:alert(1)"}`))
	f.Add([]byte(`{"issuer":"https://x","scopes_supported":"openid"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if m.Issuer == "" {
			t.Fatal("accepted a document without issuer")
		}
		for _, u := range []string{m.TokenEndpoint, m.AuthorizationEndpoint, m.JWKSURI} {
			if u != "" && httpURL(u) != nil {
				t.Fatalf("accepted endpoint %q", u)
			}
		}
	})
}
