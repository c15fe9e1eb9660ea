package audit

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// variant is one token a case sends.
type variant struct {
	name  string // "" when the case has one form
	token string
	query bool          // in ?access_token= instead of the Authorization header
	note  func() string // extra detail once answered (jku: was it fetched?)
	dpop  *proofForm    // how a DPoP case presents it; nil: the run's way
}

func (v variant) label() string {
	if v.name == "" {
		return ""
	}
	return " (" + v.name + ")"
}

// caseSpec is one fixed case: its name, level and reference are the JSON
// contract; build forges its variants or says why it is skipped.
type caseSpec struct {
	name  string
	level Level
	ref   string
	sent  string
	build func(context.Context, *forger) ([]variant, string)
}

func one(tok string, err error) ([]variant, string) {
	if err != nil {
		return nil, "could not forge it: " + err.Error()
	}
	return []variant{{token: tok}}, ""
}

// caseSpecs are the cases in the order they run.
func caseSpecs(scope, dpop bool) []caseSpec {
	specs := []caseSpec{
		{"signature-stripped", Must, "RFC 7515 §5.2", "the valid token without its signature (header.payload.)",
			func(_ context.Context, f *forger) ([]variant, string) { return one(f.stripped(), nil) }},
		{"signature-tampered", Must, "RFC 7515 §5.2", "the valid token with one bit of its signature flipped",
			func(_ context.Context, f *forger) ([]variant, string) { return one(f.tampered()) }},
		{"alg-none", Must, "RFC 8725 §3.1; CVE-2015-9235", "the claims unsigned, alg none / None / NONE / nOnE",
			func(_ context.Context, f *forger) ([]variant, string) { return f.algNone(), "" }},
		{"hs256-public-key", Must, "RFC 8725 §3.1; CVE-2016-10555", "HS256 keyed with the issuer's public key (SPKI/PKCS#1 PEM, JWK)",
			func(ctx context.Context, f *forger) ([]variant, string) { return f.hsPublicKey(ctx) }},
		{"jwk-header-injection", Must, "RFC 8725 §3.10; CVE-2018-0114", "signed by a fresh key embedded in the header as jwk",
			func(_ context.Context, f *forger) ([]variant, string) { return one(f.jwkInjection()) }},
		{"jku-injection", Must, "RFC 8725 §3.10", "signed by a fresh key at a jku URL on loopback",
			func(_ context.Context, f *forger) ([]variant, string) { return f.jkuInjection() }},
		{"kid-path-traversal", Must, "RFC 8725 §3.10; RFC 7515 §4.1.4", "kid ../../../../../../dev/null, HS256 with an empty key",
			func(_ context.Context, f *forger) ([]variant, string) {
				return one(f.hmacEmpty("../../../../../../dev/null"))
			}},
		{"blank-hmac-secret", Must, "RFC 7518 §3.2", "HS256 with an empty secret, the valid kid",
			func(_ context.Context, f *forger) ([]variant, string) { return one(f.hmacEmpty(f.kid())) }},
		{"psychic-signature", Must, "CVE-2022-21449", "ES256 with r = s = 0",
			func(_ context.Context, f *forger) ([]variant, string) { return one(f.psychic(), nil) }},
		{"unknown-kid", Must, "RFC 7515 §4.1.4", "signed by a fresh key whose kid is not in the JWKS",
			func(_ context.Context, f *forger) ([]variant, string) { return one(f.unknownKid()) }},
		{"token-in-query", Should, "RFC 6750 §2.3, §5.3", "the valid token as ?access_token=, no Authorization header",
			func(_ context.Context, f *forger) ([]variant, string) {
				return []variant{{token: f.valid, query: true}}, ""
			}},
		{"expired", Must, "RFC 7519 §4.1.4", "exp 10 minutes ago, signed by a trusted key",
			claims(func(f *forger, c map[string]any) { f.setExpired(c, 10*time.Minute) })},
		{"not-yet-valid", Must, "RFC 7519 §4.1.5", "nbf 10 minutes from now, signed by a trusted key",
			claims(func(f *forger, c map[string]any) { c["nbf"] = f.now().Add(10 * time.Minute).Unix() })},
		{"issued-in-future", Should, "RFC 7519 §4.1.6", "iat 10 minutes from now, signed by a trusted key",
			claims(func(f *forger, c map[string]any) { c["iat"] = f.now().Add(10 * time.Minute).Unix() })},
		{"wrong-audience", Must, "RFC 9068 §4; RFC 7519 §4.1.3", "aud " + wrongAudience + ", signed by a trusted key",
			claims(func(_ *forger, c map[string]any) { c["aud"] = wrongAudience })},
		{"no-audience", Must, "RFC 9068 §2.2, §4", "no aud claim, signed by a trusted key",
			claims(func(_ *forger, c map[string]any) { delete(c, "aud") })},
		{"wrong-issuer", Must, "RFC 9068 §4; RFC 7519 §4.1.1", "iss " + wrongIssuer + ", signed by a trusted key",
			claims(func(_ *forger, c map[string]any) { c["iss"] = wrongIssuer })},
		{"missing-exp", Must, "RFC 9068 §2.2", "no exp claim, signed by a trusted key",
			claims(func(_ *forger, c map[string]any) { delete(c, "exp") })},
		{"wrong-typ", Should, "RFC 9068 §2.1, §4", "typ JWT instead of at+jwt, signed by a trusted key",
			func(ctx context.Context, f *forger) ([]variant, string) {
				if strings.EqualFold(f.typ(), "JWT") {
					return nil, "the valid token's typ is already JWT, so this API does not require at+jwt"
				}
				return f.signedCase(ctx, "JWT", func(*forger, map[string]any) {})
			}},
		{"long-lived", Should, "RFC 6819 §5.1.5.3", "exp ten years from now, signed by a trusted key",
			claims(func(f *forger, c map[string]any) { c["exp"] = f.now().AddDate(10, 0, 0).Unix() })},
	}
	if scope {
		specs = append(specs, caseSpec{"scope-missing", Should, "RFC 6750 §3.1", "the valid claims without the required scope, signed by a trusted key",
			claims(func(f *forger, c map[string]any) { f.dropScope(c) })})
	}
	if dpop {
		specs = append(specs, dpopSpecs()...)
	}
	return specs
}

const (
	wrongAudience = "https://wrong-audience.authlab.invalid"
	wrongIssuer   = "https://wrong-issuer.authlab.invalid"
)

// claims is a case that re-signs the valid claims, edited, with the signer.
func claims(edit func(*forger, map[string]any)) func(context.Context, *forger) ([]variant, string) {
	return func(ctx context.Context, f *forger) ([]variant, string) {
		return f.signedCase(ctx, f.typ(), edit)
	}
}

func (f *forger) signedCase(ctx context.Context, typ string, edit func(*forger, map[string]any)) ([]variant, string) {
	if why := f.signerReady(ctx); why != "" {
		return nil, why
	}
	c := f.claimsCopy()
	edit(f, c)
	tok, err := f.cfg.Signer.Sign(ctx, f.alg(), typ, c)
	if err != nil {
		return nil, "signing failed: " + oneLine(err.Error())
	}
	return []variant{{token: tok}}, ""
}

// signerReady checks once, with one request, that the API accepts the
// signer's tokens: otherwise every claims case would look rejected.
func (f *forger) signerReady(ctx context.Context) string {
	if f.checked {
		return f.signerWhy
	}
	f.checked = true
	switch {
	case f.cfg.Signer == nil:
		f.signerWhy = "needs a signing key the API trusts (a private key and the kid the API knows it by, or an authlab mock IdP as issuer)"
		if f.cfg.SignerNote != "" {
			f.signerWhy += ": " + f.cfg.SignerNote
		}
	default:
		tok, err := f.cfg.Signer.Sign(ctx, f.alg(), f.typ(), f.claimsCopy())
		if err != nil {
			f.signerWhy = "needs a signing key the API trusts; signing with " + f.cfg.Signer.Describe() + " failed: " + oneLine(err.Error())
			break
		}
		o := f.r.send(ctx, "signer check: the valid claims re-signed", tok, inHeader)
		switch v, detail := f.r.verdictOf(o); v {
		case Accepted:
			f.trusted = true
			f.r.report.Signer = f.cfg.Signer.Describe()
		case Skipped:
			f.signerWhy = detail
		default:
			f.signerWhy = fmt.Sprintf("needs a signing key the API trusts: the valid claims signed by %s were not accepted (%s)", f.cfg.Signer.Describe(), detail)
		}
	}
	if f.signerWhy != "" {
		f.r.report.SignerNote = f.signerWhy
	}
	return f.signerWhy
}
