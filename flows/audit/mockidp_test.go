package audit_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/audit"
	"authlab/flows/oauth"
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
