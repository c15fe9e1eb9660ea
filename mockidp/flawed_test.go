package mockidp

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

// TestFlawedResource: each allowed flaw opens exactly its door; unknown
// names are refused; without allow it is as strict as /api/hello.
func TestFlawedResource(t *testing.T) {
	s := newMintTestServer(t)
	r := httptest.NewRequest("POST", "/", nil)
	now := s.Now()
	mint := func(claims string) string {
		resp, err := s.Mint(r, MintRequest{Claims: json.RawMessage(claims)})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Token
	}
	aud := `"aud":"` + s.Issuer() + `/api","scope":"api:read","iss":"` + s.Issuer() + `"`
	expired := mint(`{` + aud + `,"exp":` + itoa(now.Add(-time.Hour).Unix()) + `}`)
	noAud := mint(`{"scope":"api:read","iss":"` + s.Issuer() + `","exp":` + itoa(now.Add(time.Minute).Unix()) + `}`)
	good := mint(`{` + aud + `,"exp":` + itoa(now.Add(time.Minute).Unix()) + `}`)
	call := func(allow, tok string) int {
		req := httptest.NewRequest("GET", "/api/flawed?allow="+allow, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		return w.Code
	}
	for _, tc := range []struct {
		allow, tok string
		want       int
	}{
		{"", good, 200},
		{"", expired, 401},
		{"expired", expired, 200},
		{"wrong-audience", expired, 401},
		{"", noAud, 401},
		{"no-audience", noAud, 200},
		{"expired,no-audience", noAud, 200},
		{"bogus", good, 400},
	} {
		if got := call(tc.allow, tc.tok); got != tc.want {
			t.Errorf("allow=%q: HTTP %d, want %d", tc.allow, got, tc.want)
		}
	}
	if call("", noAud) != callHello(s, noAud) || callHello(s, expired) != 401 {
		t.Error("/api/hello and /api/flawed differ without flaws")
	}
}

func callHello(s *Server, tok string) int {
	req := httptest.NewRequest("GET", "/api/hello", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w.Code
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
