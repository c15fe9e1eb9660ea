package oauth_test

import (
	"path/filepath"
	"testing"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/mockidp/mockidptest"
)

// With a DPoP key, introspection and revocation of the DPoP-bound token
// carry a proof for their endpoint (htm POST, htu the endpoint, no ath:
// the token travels in the form), and the server still answers them.
func TestDPoPIntrospectAndRevokeSendProofs(t *testing.T) {
	s := mockidptest.New(t)
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	writeECKey(t, keyFile)
	req := ccDPoP(s.Issuer())
	req.DPoP, req.DPoPKey, req.CallURL = false, keyFile, ""
	res := oauth.Run(dpopCtx(t), req, nil)
	mustOK(t, "client credentials with DPoP", res)
	tok := res.Token.AccessToken
	for _, flow := range []string{flows.FlowIntrospect, flows.FlowRevoke} {
		r := req
		r.Flow, r.Token = flow, flows.Secret(tok)
		eng, err := oauth.New(r, oauth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var out *flows.Result
		if flow == flows.FlowIntrospect {
			out = eng.Introspect(dpopCtx(t), tok, nil)
		} else {
			out = eng.Revoke(dpopCtx(t), tok, nil)
		}
		eng.Close()
		mustOK(t, flow+" with DPoP", out)
		proofs := 0
		for _, ex := range out.Exchanges {
			if ex.Method != "POST" {
				continue
			}
			if ex.DPoP == nil {
				t.Fatalf("%s: %s %s sent no proof", flow, ex.Method, ex.URL)
			}
			if ex.DPoP.Claims["htm"] != "POST" || ex.DPoP.Claims["htu"] != ex.URL || ex.DPoP.Claims["ath"] != nil {
				t.Fatalf("%s: proof claims %v for %s", flow, ex.DPoP.Claims, ex.URL)
			}
			proofs++
		}
		if proofs == 0 {
			t.Fatalf("%s: no POST exchange", flow)
		}
		if out.DPoP == nil || out.DPoP.JKT != res.DPoP.JKT {
			t.Fatalf("%s: DPoP info %+v, want the same key %s", flow, out.DPoP, res.DPoP.JKT)
		}
	}
}
