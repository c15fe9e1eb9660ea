package har_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/har"
	"authlab/mockidp/mockidptest"
)

// sentParams records the request object, client assertion and every other
// listed parameter the client sent in a form body or a query.
type sentParams struct {
	mu    sync.Mutex
	names map[string]bool
	got   map[string][]string
	next  http.RoundTripper
}

func (s *sentParams) RoundTrip(r *http.Request) (*http.Response, error) {
	vals := r.URL.Query()
	if r.Body != nil && r.GetBody != nil {
		if b, err := r.GetBody(); err == nil {
			var sb strings.Builder
			buf := make([]byte, 4096)
			for range 1 << 10 { // bounded: a PAR body is a few KiB
				n, err := b.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			b.Close()
			if form, err := url.ParseQuery(sb.String()); err == nil {
				for k, vs := range form {
					vals[k] = append(vals[k], vs...)
				}
			}
		}
	}
	s.mu.Lock()
	for k, vs := range vals {
		if s.names[k] {
			s.got[k] = append(s.got[k], vs...)
		}
	}
	s.mu.Unlock()
	return s.next.RoundTrip(r)
}

// jarmBrowser follows the mock IdP's redirect to the loopback listener
// and records the JARM response it carried.
func jarmBrowser(responses *[]string, mu *sync.Mutex) func(context.Context, string) error {
	return func(ctx context.Context, u string) error {
		c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if v := r.URL.Query().Get("response"); v != "" {
				mu.Lock()
				*responses = append(*responses, v)
				mu.Unlock()
			}
			if len(via) > 8 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		go func() {
			if resp, err := c.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

// TestHARMasksRequestObjectAndJARM runs auth code with PAR, a signed
// request object, private_key_jwt and a JARM response against the mock
// IdP: the request object, the client assertion, the request_uri and the
// JARM response are absent from the archive, the first two even with
// Tokens.
func TestHARMasksRequestObjectAndJARM(t *testing.T) {
	idp := mockidptest.New(t)
	w := &sentParams{names: map[string]bool{"request": true, "client_assertion": true, "request_uri": true}, got: map[string][]string{}, next: http.DefaultTransport}
	var mu sync.Mutex
	var responses []string
	req := flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-jwt", PrivateKey: "../../testdata/mockidp/demo-jwt.key",
		KeyID: "demo-jwt-1", Scopes: []string{"openid", "api:read"}, Shape: flows.Shape{PAR: true, RequestObject: true, ResponseMode: "jwt"}}
	res := run(t, req, w, jarmBrowser(&responses, &mu))

	au, err := url.Parse(res.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	handle := au.Query().Get("request_uri")
	mu.Lock()
	jarm := append([]string(nil), responses...)
	mu.Unlock()
	w.mu.Lock()
	objects, assertions := w.got["request"], w.got["client_assertion"]
	w.mu.Unlock()
	if len(objects) != 1 || len(assertions) == 0 || len(jarm) != 1 || handle == "" {
		t.Fatalf("sent %d request objects, %d assertions; %d JARM responses; request_uri %q", len(objects), len(assertions), len(jarm), handle)
	}
	// The recorded PAR push holds the request object: the HAR must not.
	pushed := false
	for _, ex := range res.Exchanges {
		pushed = pushed || strings.Contains(ex.RequestBody, objects[0])
	}
	if !pushed {
		t.Fatal("the recorded exchanges do not hold the request object: the test checks nothing")
	}

	h, doc := parseHAR(t, res, har.Options{})
	absent(t, doc, "request object", objects...)
	absent(t, doc, "client assertion", assertions...)
	absent(t, doc, "JARM response", jarm...)
	absent(t, doc, "request_uri", handle)
	var maskedObject bool
	for _, e := range h.Log.Entries {
		if e.Request.PostData != nil {
			form, _ := url.ParseQuery(e.Request.PostData.Text)
			maskedObject = maskedObject || form.Get("request") == flows.Masked
		}
	}
	if !maskedObject {
		t.Error("no PAR body with a masked request parameter")
	}

	_, doc = parseHAR(t, res, har.Options{Tokens: true})
	absent(t, doc, "with tokens: request object", objects...)
	absent(t, doc, "with tokens: client assertion", assertions...)
	if !strings.Contains(doc, res.Token.AccessToken) {
		t.Error("with tokens: the access token is not in the HAR")
	}
}

// TestHARMasksSignedParams: in a hand-built exchange, request, assertion
// and client_assertion are masked in the URL, the form body and a
// redirect whatever Tokens says; response and request_uri unless Tokens.
func TestHARMasksSignedParams(t *testing.T) {
	const obj, asn, capsule, handle = "eyJhbGciOiJQUzI1NiJ9.eyJyZXEiOjF9.c2lnbmF0dXJl", "eyJhbGciOiJFUzI1NiJ9.eyJncmFudCI6MX0.c2ln", "eyJraWQiOiJqYXJtIn0.eyJjb2RlIjoxfQ.c2ln", "urn:ietf:params:oauth:request_uri:abcdef123456"
	q := url.Values{"client_id": {"c"}, "request": {obj}, "response": {capsule}, "request_uri": {handle}}
	res := &flows.Result{Flow: flows.FlowAuthCode, Exchanges: []flows.Exchange{{
		Method: "POST", URL: "https://idp.example/authorize?" + q.Encode(), Status: 302,
		RequestHeaders:  http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		RequestBody:     url.Values{"assertion": {asn}, "client_assertion": {asn + "x"}, "request": {obj}}.Encode(),
		ResponseHeaders: http.Header{"Location": {"http://127.0.0.1:1/callback?" + url.Values{"response": {capsule}}.Encode()}, "Content-Type": {"text/plain"}},
		ResponseBody:    "echo: " + obj + " " + asn,
	}}}
	for _, tokens := range []bool{false, true} {
		_, doc := parseHAR(t, res, har.Options{Tokens: tokens})
		absent(t, doc, "request object", obj)
		absent(t, doc, "assertion", asn, asn+"x")
		if tokens {
			if !strings.Contains(doc, url.QueryEscape(capsule)) || !strings.Contains(doc, url.QueryEscape(handle)) {
				t.Error("with tokens: the JARM response or the request_uri was masked")
			}
		} else {
			absent(t, doc, "JARM response", capsule)
			absent(t, doc, "request_uri", handle)
		}
	}
}
