package mockidp

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func newMintTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Issuer: "http://127.0.0.1:9090", AdminToken: "admin-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mintCall(s *Server, body, remote, host string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/_authlab/mint", strings.NewReader(body))
	req.RemoteAddr, req.Host = remote, host
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

// TestMintAdminRules: the mint call follows the other admin calls' rules.
func TestMintAdminRules(t *testing.T) {
	s := newMintTestServer(t)
	body := `{"claims":{"sub":"alice"}}`
	for _, tc := range []struct {
		name         string
		remote, host string
		hdr          map[string]string
		want         int
	}{
		{"loopback", "127.0.0.1:5000", "127.0.0.1:9090", nil, 200},
		{"remote without the admin token", "203.0.113.5:5000", "127.0.0.1:9090", nil, 401},
		{"remote with the admin token", "203.0.113.5:5000", "idp.example", map[string]string{"Authorization": "Bearer admin-secret"}, 200},
		{"remote with a wrong token", "203.0.113.5:5000", "idp.example", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"rebinding Host", "127.0.0.1:5000", "evil.example", nil, 403},
		{"other origin", "127.0.0.1:5000", "127.0.0.1:9090", map[string]string{"Origin": "https://evil.example"}, 403},
		{"form body", "127.0.0.1:5000", "127.0.0.1:9090", map[string]string{"Content-Type": "text/plain"}, 415},
		{"untyped body", "127.0.0.1:5000", "127.0.0.1:9090", map[string]string{"Content-Type": ""}, 415},
	} {
		if w := mintCall(s, body, tc.remote, tc.host, tc.hdr); w.Code != tc.want {
			t.Errorf("%s: HTTP %d, want %d (%s)", tc.name, w.Code, tc.want, w.Body)
		}
	}
}

func TestMintSignsWhatItIsGiven(t *testing.T) {
	s := newMintTestServer(t)
	r := httptest.NewRequest("POST", "/", nil)
	// As given: no defaults, exact digits, typ as asked.
	none := ""
	resp, err := s.Mint(r, MintRequest{Claims: json.RawMessage(`{"sub":"a","n":12345678901234567890,"iss":"` + s.Issuer() + `"}`), Typ: &none, Header: map[string]any{"kid": "ignored", "x": 1}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := parseJWS(resp.Token)
	if err != nil {
		t.Fatal(err)
	}
	if string(j.Payload) != `{"iss":"http://127.0.0.1:9090","n":12345678901234567890,"sub":"a"}` {
		t.Errorf("payload %s", j.Payload)
	}
	if j.Header.Typ != "" || j.Header.Kid != resp.Kid || j.Header.Alg != "RS256" {
		t.Errorf("header %+v (response %+v)", j.Header, resp)
	}
	k := s.keySet().byKid[resp.Kid]
	if k == nil || verifyJWS(k.Alg, k.Priv.Public(), j.Input, j.Sig) != nil {
		t.Fatal("the minted token does not verify with the IdP's key")
	}
	// Defaults: iss, iat, exp +5m on the IdP's clock, jti; typ at+jwt.
	resp, err = s.Mint(r, MintRequest{Claims: json.RawMessage(`{"sub":"a","aud":"` + s.Issuer() + `/api","scope":"api:read"}`), Defaults: true, Alg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	j, _ = parseJWS(resp.Token)
	var c AccessClaims
	json.Unmarshal(j.Payload, &c)
	if c.Iss != s.Issuer() || c.Jti == "" || c.Exp-c.Iat != 300 || time.Since(time.Unix(c.Iat, 0)) > time.Minute || j.Header.Typ != "at+jwt" || j.Header.Alg != "ES256" {
		t.Errorf("claims %+v header %+v", c, j.Header)
	}
	// The IdP's resources accept it like an issued token.
	req := httptest.NewRequest("GET", "/api/hello", nil)
	req.Header.Set("Authorization", "Bearer "+resp.Token)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("/api/hello with a minted token: %d %s", w.Code, w.Body)
	}
	if _, err := s.Mint(r, MintRequest{Alg: "HS256"}); err == nil {
		t.Error("minted with an alg the IdP has no key for")
	}
	if _, err := s.Mint(r, MintRequest{Claims: json.RawMessage(`[1]`)}); err == nil {
		t.Error("minted non-object claims")
	}
}
