package mockidp_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// Every demo client registered with loopback redirects takes /callback on
// any loopback host spelling and any port, in the default and the FAPI 2.0
// configuration; another path or a non-loopback host is refused. An
// accepted redirect is where the IdP sends its answer (a code, or under
// FAPI 2.0 the error for a request that was not pushed); a refused one gets
// an error page and no redirect (RFC 6749 4.1.2.1).
func TestDemoLoopbackRedirectsAnyPort(t *testing.T) {
	for _, fapi := range []bool{false, true} {
		cfg := mockidp.DefaultConfig()
		cfg.FAPI2 = fapi
		s := mockidptest.New(t, mockidp.WithConfig(cfg))
		var clients []string
		for _, c := range cfg.Clients {
			for _, r := range c.RedirectURIs {
				if strings.HasPrefix(r, "http://127.0.0.1/") {
					clients = append(clients, c.ID)
					break
				}
			}
		}
		if len(clients) < 4 {
			t.Fatalf("fapi2=%v: only %v have loopback redirects", fapi, clients)
		}
		for _, client := range clients {
			for i, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
				port := 1024 + (i+1)*7919%60000 // a few ports far apart
				for _, c := range []struct {
					redirect string
					ok       bool
				}{
					{fmt.Sprintf("http://%s:%d/callback", host, port), true},
					{fmt.Sprintf("http://%s:65535/callback", host), true},
					{fmt.Sprintf("http://%s/callback", host), true},
					{fmt.Sprintf("http://%s:%d/other", host, port), false},
					{fmt.Sprintf("https://%s:%d/callback", host, port), false},
				} {
					name := fmt.Sprintf("fapi2=%v/%s/%s", fapi, client, c.redirect)
					q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {c.redirect}, "scope": {"openid"},
						"state": {"st"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
					st, loc, body := authzReq(t, s, q)
					accepted := st == 302 && loc != nil && strings.HasPrefix(loc.String(), c.redirect+"?")
					if accepted != c.ok {
						t.Errorf("%s: status %d, Location %v (%.120s), want accepted=%v", name, st, loc, body, c.ok)
						continue
					}
					if !c.ok {
						continue
					}
					// Default mode: a code. FAPI 2.0: the refusal of an unpushed request, at the redirect.
					if got := loc.Query(); (!fapi && got.Get("code") == "") || (fapi && got.Get("error") != "invalid_request") {
						t.Errorf("%s: redirected with %v", name, got)
					}
				}
			}
		}
	}
}
