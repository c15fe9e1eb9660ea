package oauth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// issDroppingBrowser follows the authorization URL to the IdP's redirect
// and delivers it to the loopback listener without its iss parameter: an
// authorization server that does not do RFC 9207.
func issDroppingBrowser(t *testing.T) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		go func() {
			if err := dropIss(u); err != nil {
				t.Errorf("browser: %v", err)
			}
		}()
		return nil
	}
}

func dropIss(u string) error {
	hc := noFollow()
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		return fmt.Errorf("authorize: HTTP %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	if q.Get("iss") == "" {
		return fmt.Errorf("the mock IdP sent no iss to drop: %s", loc)
	}
	q.Del("iss")
	loc.RawQuery = q.Encode()
	resp, err = hc.Get(loc.String())
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// explicitJWTReq is demo-jwt's auth-code request with explicit endpoints:
// no metadata, so nothing advertises authorization_response_iss_parameter_supported.
func explicitJWTReq(idp *mockidp.Server) flows.Request {
	req := jwtReq(idp)
	req.Issuer = ""
	req.Scopes = []string{"api:read"}
	iss := idp.Issuer()
	req.Endpoints = flows.Endpoints{Auth: iss + "/authorize", Token: iss + "/token", PAR: iss + "/par", JWKS: iss + "/jwks"}
	return req
}

func TestFAPI2RequiresIssInTheAuthorizationResponse(t *testing.T) {
	idp := mockidptest.New(t)

	t.Run("fapi2 without iss fails naming the rule", func(t *testing.T) {
		req := explicitJWTReq(idp)
		req.FAPI2 = true
		res := runAuthCodeWith(t, req, issDroppingBrowser(t))
		if res.Err == nil || res.Err.Kind != flows.ErrProtocol {
			t.Fatalf("want a protocol error, got %+v", res.Err)
		}
		for _, part := range []string{"no iss parameter", "FAPI 2.0 Security Profile 5.3.2.2", "RFC 9207"} {
			if !strings.Contains(res.Err.Message, part) {
				t.Errorf("error %q lacks %q", res.Err.Message, part)
			}
		}
		for _, ex := range res.Exchanges {
			if strings.HasSuffix(ex.URL, "/token") {
				t.Errorf("the code was redeemed after a response without iss: %s %s", ex.Method, ex.URL)
			}
		}
		if len(res.Exchanges) == 0 {
			t.Error("no exchanges: the run stopped before the pushed request")
		}
	})
	t.Run("the same response without fapi2 is accepted", func(t *testing.T) {
		req := explicitJWTReq(idp)
		req.PAR, req.DPoP = true, true // what fapi2 turns on, so only the iss rule differs
		mustOK(t, "no fapi2, no iss", runAuthCodeWith(t, req, issDroppingBrowser(t)))
	})
	t.Run("fapi2 with the mock IdP's iss passes", func(t *testing.T) {
		req := jwtReq(idp)
		req.FAPI2 = true
		res := runAuthCode(t, req)
		mustOK(t, "fapi2 with iss", res)
		found := false
		for _, s := range res.Steps {
			found = found || s.Name == "authorization" && strings.Contains(s.Detail, "iss matches")
		}
		if !found {
			t.Fatalf("no authorization step saying iss matches: %+v", res.Steps)
		}
	})
}
