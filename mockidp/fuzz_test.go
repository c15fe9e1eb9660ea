package mockidp

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenEndpoint throws arbitrary form bodies at the token endpoint: it
// must answer (never panic) with JSON, and 200 only for a real grant.
func FuzzTokenEndpoint(f *testing.F) {
	s, err := New(Options{Issuer: "http://127.0.0.1:9090", Alg: "ES256"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("grant_type=client_credentials&client_id=demo-cc&client_secret=demo-cc-secret")
	f.Add("grant_type=refresh_token&refresh_token=rt_x&client_id=demo-native")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=a.b.c&subject_token_type=x&client_id=demo-cc&client_secret=demo-cc-secret")
	f.Add("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=e30.e30.&grant_type=client_credentials")
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content type %q for %q", ct, body)
		}
		if w.Code == 200 && !strings.Contains(body, "demo-cc-secret") {
			t.Fatalf("200 without the secret: %q", body)
		}
	})
}

func FuzzParseJWS(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		if j, err := parseJWS(tok); err == nil && j == nil {
			t.Fatal("nil JWS without error")
		}
	})
}
