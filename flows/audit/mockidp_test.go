package audit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/audit"
	"authlab/flows/oauth"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func mockToken(t *testing.T, iss string) string {
	t.Helper()
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: iss,
		ClientID: "demo-cc", ClientSecret: "demo-cc-secret", Scopes: []string{"api:read"}}, nil)
	if res.Failed() {
		t.Fatalf("client credentials: %s", res.Reason())
	}
	return res.Token.AccessToken
}

func mockSigner(t *testing.T, iss string) audit.Signer {
	t.Helper()
	s, why := audit.ProbeIdPSigner(context.Background(), iss, 0)
	if s == nil {
		t.Fatalf("the mock IdP does not mint: %s", why)
	}
	return s
}

// TestMockIdPResourcesPassTheAudit: the mock IdP's demo resources reject
// every case, with the IdP's own mint call as the trusted signer.
func TestMockIdPResourcesPassTheAudit(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	for _, path := range []string{"/api/hello", "/api/flawed"} {
		t.Run(path, func(t *testing.T) {
			scope, tok := "api:read", mockToken(t, iss)
			rep := audit.Run(context.Background(), audit.Config{URL: iss + path, Token: tok, Signer: mockSigner(t, iss), RequireScope: scope, Pace: -1}, nil)
			if rep.Err != nil {
				t.Fatal(rep.Err)
			}
			for _, c := range rep.Cases {
				if c.Verdict != audit.Rejected {
					t.Errorf("%s: %s %s (%s)", c.Name, c.Verdict, c.Detail, c.Sent)
				}
			}
			if rep.Leeway == nil || rep.Leeway.ExpSeconds > 1 {
				t.Errorf("leeway %+v, want 0", rep.Leeway)
			}
			if must, should, _, _, _ := rep.Counts(); must+should != 0 || rep.Vulnerable() {
				t.Errorf("findings: %s", rep.Summary())
			}
		})
	}
}

// TestMockIdPFlawedResource: /api/flawed accepts exactly the named flaws.
func TestMockIdPFlawedResource(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	flaws := []string{"alg-none", "expired", "hs256-public-key", "jku-injection", "wrong-audience", "token-in-query", "psychic-signature"}
	rep := audit.Run(context.Background(), audit.Config{URL: iss + "/api/flawed?allow=" + strings.Join(flaws, ","),
		Token: mockToken(t, iss), Signer: mockSigner(t, iss), RequireScope: "api:read", Pace: -1}, nil)
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	var got []string
	for _, c := range rep.Cases {
		if c.Verdict == audit.Accepted {
			got = append(got, c.Name)
		} else if c.Verdict != audit.Rejected {
			t.Errorf("%s: %s %s", c.Name, c.Verdict, c.Detail)
		}
	}
	slices.Sort(got)
	slices.Sort(flaws)
	if !slices.Equal(got, flaws) {
		t.Errorf("accepted %v, want %v", got, flaws)
	}
	if rep.Leeway == nil || !rep.Leeway.AtLeast {
		t.Errorf("leeway %+v, want the bound (expired is allowed)", rep.Leeway)
	}
	if !rep.Vulnerable() {
		t.Error("not vulnerable")
	}
}

// TestMockIdPDPoPResourcePassesTheAudit: a demo-dpop token (cnf.jkt) got
// through RunFlow keeps the flow's key; /api/hello rejects the five DPoP
// cases and every other one, also when it demands DPoP nonces (each
// proof then rides the one nonce retry).
func TestMockIdPDPoPResourcePassesTheAudit(t *testing.T) {
	for _, nonce := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "nonce"}[nonce], func(t *testing.T) {
			cfg := mockidp.DefaultConfig()
			cfg.DPoPNonce = nonce
			idp := mockidptest.New(t, mockidp.WithConfig(cfg))
			iss := idp.Issuer()
			src := audit.Source{Request: flows.Request{Flow: flows.FlowClientCredentials, Issuer: iss,
				ClientID: "demo-dpop", ClientSecret: "demo-dpop-secret", Scopes: []string{"api:read"}, DPoP: true}}
			rep := audit.RunFlow(context.Background(), audit.Config{URL: iss + "/api/hello", RequireScope: "api:read", Pace: -1}, src, nil)
			if rep.Err != nil {
				t.Fatal(rep.Err)
			}
			seen := 0
			for _, c := range rep.Cases {
				if strings.HasPrefix(c.Name, "dpop-") {
					seen++
				}
				if c.Verdict != audit.Rejected {
					t.Errorf("%s: %s %s (%s)", c.Name, c.Verdict, c.Detail, c.Sent)
				}
			}
			if seen != 5 {
				t.Errorf("%d DPoP cases, want 5", seen)
			}
			if rep.Signer == "" || rep.Leeway == nil || rep.Leeway.ExpSeconds > 1 {
				t.Errorf("signer %q, leeway %+v", rep.Signer, rep.Leeway)
			}
			if rep.Vulnerable() {
				t.Errorf("findings: %s", rep.Summary())
			}
		})
	}
}

// TestRunFlowFailure: a flow that issues no token is a *FlowError.
func TestRunFlowFailure(t *testing.T) {
	idp := mockidptest.New(t)
	src := audit.Source{Request: flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "wrong"}}
	rep := audit.RunFlow(context.Background(), audit.Config{URL: idp.Issuer() + "/api/hello", Pace: -1}, src, nil)
	var fe *audit.FlowError
	if !errors.As(rep.Err, &fe) || !strings.Contains(fe.Error(), "client-credentials flow") || rep.Requests != 0 {
		t.Fatalf("err %v, %d requests", rep.Err, rep.Requests)
	}
}
