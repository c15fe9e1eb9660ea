package audit

import (
	"context"
	"slices"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/token"
)

var dpopCases = []string{"dpop-as-bearer", "dpop-missing-ath", "dpop-wrong-htu", "dpop-replayed-jti", "dpop-other-key"}

func dpopConfig(t *testing.T, flaw string, key *dpop.Key) Config {
	t.Helper()
	k := testKeys(t)
	s := &dpopResource{flaw: flaw, inner: &resource{keys: k}}
	api, jwks := startDPoPResource(t, s)
	return Config{URL: api, Token: dpopToken(t, k, key.JKT()), JWKSURL: jwks, Pace: -1, DPoPKey: key,
		Signer: KeySigner{Key: token.MintKey{Key: k.rsa}, Kid: "k1"}}
}

// TestAuditDPoPFlaws: against a correct DPoP resource every case, the DPoP
// ones included, is rejected; each one-flaw server is caught by its case
// alone. Every request carries a proof, so the other cases are refused for
// their own flaw and the claims cases and the leeway still work.
func TestAuditDPoPFlaws(t *testing.T) {
	key, err := dpop.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	for _, flaw := range append([]string{""}, dpopCases...) {
		name := flaw
		if name == "" {
			name = "correct"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep := Run(context.Background(), dpopConfig(t, flaw, key), nil)
			if rep.Err != nil {
				t.Fatalf("audit: %v", rep.Err)
			}
			var want []string
			if flaw != "" {
				want = []string{flaw}
			}
			if got := accepted(rep); !slices.Equal(got, want) {
				t.Errorf("accepted %v, want %v\n%s", got, want, dump(rep))
			}
			for _, c := range rep.Cases {
				if c.Verdict == Inconclusive || c.Verdict == Skipped {
					t.Errorf("case %s: %s (%s)", c.Name, c.Verdict, c.Detail)
				}
			}
			for _, n := range dpopCases {
				if c := caseNamed(rep, n); c.Level != Must || c.Name == "" {
					t.Errorf("case %s missing or not must-level: %+v", n, c)
				}
			}
			if rep.Leeway == nil || rep.Leeway.ExpSeconds > 1 {
				t.Errorf("leeway %+v, want 0", rep.Leeway)
			}
			if flaw != "" && !rep.Vulnerable() {
				t.Error("not vulnerable")
			}
		})
	}
}

// TestAuditDPoPProofs: the baseline goes as Authorization: DPoP with a
// proof carrying ath, and the valid token never as Bearer except in
// dpop-as-bearer.
func TestAuditDPoPProofs(t *testing.T) {
	key, _ := dpop.Generate("ES256")
	cfg := dpopConfig(t, "", key)
	var xs []flows.Exchange
	obs := flows.ObserverFuncs{OnExchange: func(x flows.Exchange) { xs = append(xs, x) }}
	if rep := Run(context.Background(), cfg, obs); rep.Err != nil {
		t.Fatal(rep.Err)
	}
	var base *flows.Exchange
	for i := range xs {
		if xs[i].Step == "baseline: valid token" {
			base = &xs[i]
		}
	}
	if base == nil || base.DPoP == nil || !strings.HasPrefix(base.RequestHeaders.Get("Authorization"), "DPoP ") {
		t.Fatalf("baseline exchange %+v", base)
	}
	if ath, _ := base.DPoP.Claims["ath"].(string); ath != dpop.ATH(cfg.Token) {
		t.Errorf("baseline proof ath %q, want the token's", ath)
	}
	for _, x := range xs {
		if strings.HasPrefix(x.RequestHeaders.Get("Authorization"), "Bearer ") && !strings.HasPrefix(x.Step, "case dpop-as-bearer") {
			t.Errorf("%s sent as Bearer", x.Step)
		}
	}
}

// TestAuditDPoPWithoutKey: without the bound key the DPoP cases are
// skipped with the reason; a wrong key is a configuration error.
func TestAuditDPoPWithoutKey(t *testing.T) {
	key, _ := dpop.Generate("ES256")
	cfg := dpopConfig(t, "dpop-as-bearer", key) // takes it as Bearer, so the baseline passes
	cfg.DPoPKey = nil
	rep := Run(context.Background(), cfg, nil)
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	for _, n := range dpopCases {
		if c := caseNamed(rep, n); c.Verdict != Skipped || !strings.Contains(c.Detail, "needs the DPoP key") || !strings.Contains(c.Detail, key.JKT()) {
			t.Errorf("%s without the key: %+v", n, c)
		}
	}
	other, _ := dpop.Generate("ES256")
	cfg.DPoPKey = other
	rep = Run(context.Background(), cfg, nil)
	if rep.Err == nil || !strings.Contains(rep.Err.Error(), "not the key the valid token is bound to") || rep.Requests != 0 {
		t.Errorf("wrong key: %v, %d requests", rep.Err, rep.Requests)
	}
}
