package audit

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"authlab/flows/dpop"
)

// wrongHTUHost is where dpop-wrong-htu's proof says the request went.
const wrongHTUHost = "wrong-htu.authlab.invalid"

// dpopSpecs are the cases of a DPoP-bound valid token (RFC 9449): each
// sends the valid token, unchanged, with one rule of its presentation
// broken.
func dpopSpecs() []caseSpec {
	return []caseSpec{
		{"dpop-as-bearer", Must, "RFC 9449 §7.1", "the DPoP-bound valid token as Authorization: Bearer (without and with a proof)",
			func(_ context.Context, f *forger) ([]variant, string) {
				if why := f.dpopReady(); why != "" {
					return nil, why
				}
				r := f.r
				return []variant{
					{name: "Bearer, no proof", token: f.valid, dpop: &proofForm{scheme: "Bearer"}},
					{name: "Bearer with a proof", token: f.valid, dpop: &proofForm{scheme: "Bearer", proof: r.proofFor(r.key, r.cfg.URL, f.valid)}},
				}, ""
			}},
		{"dpop-missing-ath", Must, "RFC 9449 §4.3 (step 12), §7.1", "the valid token with a DPoP proof that has no ath",
			func(_ context.Context, f *forger) ([]variant, string) {
				if why := f.dpopReady(); why != "" {
					return nil, why
				}
				r := f.r
				return []variant{{token: f.valid, dpop: &proofForm{scheme: dpop.Scheme, proof: r.proofFor(r.key, r.cfg.URL, "")}}}, ""
			}},
		{"dpop-wrong-htu", Must, "RFC 9449 §4.3 (step 9)", "the valid token with a DPoP proof for another URL (host, path)",
			func(_ context.Context, f *forger) ([]variant, string) {
				if why := f.dpopReady(); why != "" {
					return nil, why
				}
				r := f.r
				host, path := otherHTUs(r.target)
				return []variant{
					{name: "other host", token: f.valid, dpop: &proofForm{scheme: dpop.Scheme, proof: r.proofFor(r.key, host, f.valid)}},
					{name: "other path", token: f.valid, dpop: &proofForm{scheme: dpop.Scheme, proof: r.proofFor(r.key, path, f.valid)}},
				}, ""
			}},
		{"dpop-replayed-jti", Must, "RFC 9449 §11.1; §4.3 (step 11)", "the proof the valid call was accepted with, sent again (same jti)",
			func(_ context.Context, f *forger) ([]variant, string) {
				if why := f.dpopReady(); why != "" {
					return nil, why
				}
				proof := f.r.baseProof
				if proof == "" {
					return nil, "the valid call sent no proof to replay"
				}
				return []variant{{token: f.valid, dpop: &proofForm{scheme: dpop.Scheme, fixed: true,
					proof: func(string) (string, error) { return proof, nil }}}}, ""
			}},
		{"dpop-other-key", Must, "RFC 9449 §6.1, §7.1", "the valid token with a DPoP proof signed by another key (not cnf.jkt)",
			func(_ context.Context, f *forger) ([]variant, string) {
				if why := f.dpopReady(); why != "" {
					return nil, why
				}
				r := f.r
				// the same algorithm, so only the key differs
				other, err := dpop.Generate(r.key.Alg())
				if err != nil {
					return nil, "could not forge it: " + err.Error()
				}
				return []variant{{token: f.valid, dpop: &proofForm{scheme: dpop.Scheme, proof: r.proofFor(other, r.cfg.URL, f.valid)}}}, ""
			}},
	}
}

// dpopReady says why the DPoP cases cannot run: they need the key the
// valid token is bound to.
func (f *forger) dpopReady() string {
	if f.r.key != nil {
		return ""
	}
	return fmt.Sprintf("needs the DPoP key the valid token is bound to (cnf.jkt %s): get the token by a flow with DPoP, or give that key with the token", dpop.CnfJKT(f.claims))
}

// otherHTUs are the target on another host and on another path, without
// query (RFC 9449 4.2).
func otherHTUs(target *url.URL) (host, path string) {
	u := *target
	u.RawQuery, u.Fragment = "", ""
	h := u
	h.Host = wrongHTUHost
	p := u
	p.Path = strings.TrimRight(u.Path, "/") + "/authlab-audit-wrong-htu"
	p.RawPath = ""
	return h.String(), p.String()
}
