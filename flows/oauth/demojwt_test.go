package oauth_test

import (
	"context"
	"crypto"
	"os"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// demo-jwt with its published PEM key and no --kid: authlab names the key
// by its RFC 7638 thumbprint, and the mock IdP resolves that as well as
// the registered kid demo-jwt-1, for client assertions, request objects and
// jwt-bearer assertions. PAR, JAR and JARM end to end, in the default and
// the FAPI 2.0 configuration (with --fapi2 on the client side there).
func TestDemoJWTWithoutKid(t *testing.T) {
	for _, fapi := range []bool{false, true} {
		cfg := mockidp.DefaultConfig()
		cfg.FAPI2 = fapi
		idp := mockidptest.New(t, mockidp.WithConfig(cfg))
		name := map[bool]string{false: "default", true: "fapi2"}[fapi]

		t.Run(name+"/auth-code par jar jarm", func(t *testing.T) {
			req := jwtReq(idp)
			req.KeyID = ""
			req.PAR, req.RequestObject, req.ResponseMode, req.FAPI2 = true, true, "jwt", fapi
			res := runAuthCode(t, req)
			mustOK(t, "demo-jwt without kid", res)
			for _, c := range []string{"jarm signature", "jarm iss", "par expires_in"} {
				if st := checkStatus(res, c); st != flows.Pass {
					t.Errorf("check %s = %q", c, st)
				}
			}
			thumb, err := flows.JWKThumbprint(mustSigner(t).Public())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range res.Steps {
				found = found || s.Name == "request object" && strings.Contains(s.Detail, `"kid":"`+thumb+`"`)
			}
			if !found {
				t.Errorf("the request object does not carry the thumbprint kid %s: %+v", thumb, res.Steps)
			}
		})
		t.Run(name+"/client-credentials", func(t *testing.T) {
			req := jwtReq(idp)
			req.Flow, req.KeyID, req.Scopes, req.FAPI2 = flows.FlowClientCredentials, "", []string{"api:read"}, fapi
			mustOK(t, "cc without kid", oauth.Run(context.Background(), req, nil))
		})
		if !fapi {
			t.Run(name+"/jwt-bearer", func(t *testing.T) {
				req := jwtReq(idp)
				req.Flow, req.KeyID, req.AssertionKey, req.Scopes = flows.FlowJWTBearer, "", demoJWTKey, []string{"api:read"}
				mustOK(t, "jwt-bearer without kid", oauth.Run(context.Background(), req, nil))
			})
		}
		t.Run(name+"/a kid that names no key", func(t *testing.T) {
			req := jwtReq(idp)
			req.Flow, req.KeyID, req.Scopes, req.FAPI2 = flows.FlowClientCredentials, "demo-jwt-2", []string{"api:read"}, fapi
			res := oauth.Run(context.Background(), req, nil)
			if res.Err == nil || res.Err.OAuthError != "invalid_client" {
				t.Fatalf("want invalid_client, got %+v", res.Err)
			}
		})
	}
}

func mustSigner(t *testing.T) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(demoJWTKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := flows.ParsePrivateKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
