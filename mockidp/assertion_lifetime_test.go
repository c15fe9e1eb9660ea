package mockidp_test

import (
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// Client assertions (RFC 7523 3) and jwt-bearer grant assertions (RFC
// 7523 2.1) share their lifetime rules, each answered with its own error.
func TestAssertionLifetimes(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.Clients = append(cfg.Clients, mockidp.Client{ID: "jwt-public", Public: true, AuthMethods: []string{mockidp.AuthNone}, GrantTypes: []string{mockidp.GrantJWTBearer}})
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	k := demoJWTKey(t)
	now := time.Now()
	cases := []struct {
		name string
		set  func(map[string]any)
		desc string // after the "client_assertion: " / "assertion: " prefix
	}{
		{"expired", func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }, "expired at "},
		{"too far ahead", func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() }, "exp more than an hour ahead"},
		{"not valid yet", func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }, "not valid yet (nbf)"},
	}
	for _, c := range cases {
		t.Run("client assertion "+c.name, func(t *testing.T) {
			cl := map[string]any{"iss": "demo-jwt", "sub": "demo-jwt", "aud": s.URL() + "/token", "exp": now.Add(time.Minute).Unix(), "jti": rand.Text()}
			c.set(cl)
			st, m := postToken(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-jwt"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion(t, k, cl)}}, "", "")
			desc, _ := m["error_description"].(string)
			if st != 401 || m["error"] != "invalid_client" || !strings.HasPrefix(desc, "client_assertion: "+c.desc) {
				t.Fatalf("got %d %v, want 401 invalid_client %q", st, m, "client_assertion: "+c.desc)
			}
		})
		t.Run("grant assertion "+c.name, func(t *testing.T) {
			cl := map[string]any{"iss": "demo-jwt", "sub": "alice", "aud": s.URL() + "/token", "exp": now.Add(time.Minute).Unix(), "jti": rand.Text()}
			c.set(cl)
			st, m := postToken(t, s, url.Values{"grant_type": {mockidp.GrantJWTBearer}, "client_id": {"jwt-public"}, "assertion": {assertion(t, k, cl)}}, "", "")
			desc, _ := m["error_description"].(string)
			if st != 400 || m["error"] != "invalid_grant" || !strings.HasPrefix(desc, "assertion: "+c.desc) {
				t.Fatalf("got %d %v, want 400 invalid_grant %q", st, m, "assertion: "+c.desc)
			}
		})
	}
	// Within the rules, both are accepted: the cases above fail for their
	// one claim alone.
	cl := map[string]any{"iss": "demo-jwt", "sub": "alice", "aud": s.URL() + "/token", "exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(), "jti": rand.Text()}
	if st, m := postToken(t, s, url.Values{"grant_type": {mockidp.GrantJWTBearer}, "client_id": {"jwt-public"}, "assertion": {assertion(t, k, cl)}}, "", ""); st != 200 {
		t.Fatalf("valid grant assertion: %d %v", st, m)
	}
	cl = map[string]any{"iss": "demo-jwt", "sub": "demo-jwt", "aud": s.URL() + "/token", "exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(), "jti": rand.Text()}
	if st, m := postToken(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-jwt"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion(t, k, cl)}}, "", ""); st != 200 {
		t.Fatalf("valid client assertion: %d %v", st, m)
	}
}
