package oauth

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/token"
)

// addOIDCParams adds the user-facing authorization parameters of OIDC
// Core 3.1.2.1 and 5.5 that the request sets.
func addOIDCParams(q url.Values, req *flows.Request) {
	for _, p := range []struct{ name, v string }{
		{"prompt", req.Prompt}, {"login_hint", req.LoginHint}, {"acr_values", req.ACRValues},
		{"ui_locales", req.UILocales}, {"claims", string(req.Claims)}, {"id_token_hint", req.IDTokenHint.Reveal()},
	} {
		if p.v != "" {
			q.Set(p.name, p.v)
		}
	}
	if req.MaxAge != nil {
		q.Set("max_age", strconv.Itoa(*req.MaxAge))
	}
}

// authzClaimChecks compares the ID token of an authorization with what the
// request asked for: acr among acr_values (a warning: acr_values is a
// voluntary request, OIDC Core 3.1.2.1) and auth_time within max_age (a
// failure: the server must re-authenticate, OIDC Core 3.1.2.1 / 3.1.3.7).
func (e *Engine) authzClaimChecks(claims map[string]any) []flows.Check {
	var out []flows.Check
	if want := strings.Fields(e.req.ACRValues); len(want) > 0 {
		acr, _ := claims["acr"].(string)
		switch {
		case acr == "":
			out = append(out, flows.Check{Name: "id_token acr", Status: flows.Warn,
				Detail: fmt.Sprintf("acr_values %q was requested but the ID token has no acr (OIDC Core 3.1.2.1)", e.req.ACRValues)})
		case !slices.Contains(want, acr):
			out = append(out, flows.Check{Name: "id_token acr", Status: flows.Warn,
				Detail: fmt.Sprintf("acr %q is not one of the requested acr_values %q (OIDC Core 3.1.2.1)", acr, e.req.ACRValues)})
		default:
			out = append(out, flows.Check{Name: "id_token acr", Status: flows.Pass, Detail: fmt.Sprintf("acr %q was requested", acr)})
		}
	}
	if e.req.MaxAge != nil {
		maxAge := time.Duration(*e.req.MaxAge) * time.Second
		at, ok := token.ClaimTime(claims["auth_time"])
		lw := e.leeway()
		switch age := e.now().Sub(at); {
		case !ok:
			out = append(out, flows.Check{Name: "id_token auth_time", Status: flows.Fail,
				Detail: "max_age was requested but the ID token has no auth_time (OIDC Core 3.1.2.1 makes it required)"})
		case age > maxAge+lw:
			out = append(out, flows.Check{Name: "id_token auth_time", Status: flows.Fail,
				Detail: fmt.Sprintf("the user authenticated %s ago, more than max_age %d s: the server should have asked for a new login (OIDC Core 3.1.2.1)", age.Round(time.Second), *e.req.MaxAge)})
		default:
			out = append(out, flows.Check{Name: "id_token auth_time", Status: flows.Pass,
				Detail: fmt.Sprintf("authenticated %s ago, within max_age %d s", max(age, 0).Round(time.Second), *e.req.MaxAge)})
		}
	}
	return out
}

// validateExtra checks the OIDC parameters, the assertion audience, the
// password and jwt-bearer inputs, and applies the FAPI2 preset.
func validateExtra(r *flows.Request) error {
	if err := validAssertionAud(r.AssertionAud); err != nil {
		return err
	}
	if r.MaxAge != nil && *r.MaxAge < 0 {
		return flows.Errorf(flows.ErrConfig, "%s %d: a number of seconds, 0 or more", flows.FieldMaxAge, *r.MaxAge)
	}
	if len(r.Claims) > 0 {
		var m map[string]any
		if err := json.Unmarshal(r.Claims, &m); err != nil {
			return flows.Errorf(flows.ErrConfig, "%s: want a JSON object (OIDC Core 5.5): %v", flows.FieldClaims, err)
		}
	}
	if err := validatePassword(r); err != nil {
		return err
	}
	if err := validateJWTBearer(r); err != nil {
		return err
	}
	if r.FAPI2 {
		return applyFAPI2(r)
	}
	return nil
}

// applyFAPI2 makes the request FAPI 2.0 Security Profile shaped: PAR for
// the authorization code flow (5.3.2.2), sender-constrained tokens by DPoP
// unless a certificate gives mTLS (5.3.2.1), and only private_key_jwt or
// mTLS client authentication (5.3.2.1). PKCE S256 is always sent.
func applyFAPI2(r *flows.Request) error {
	switch r.AuthMethod {
	case flows.AuthPrivateKeyJWT, flows.AuthTLSClient, flows.AuthSelfSignedTLS:
	default:
		return flows.Errorf(flows.ErrConfig, "%s: client authentication %s is not allowed (FAPI 2.0 Security Profile 5.3.2.1: private_key_jwt or mTLS); pass %s or %s", flows.FieldFAPI2, r.AuthMethod, flows.FieldPrivateKey, flows.FieldCertFile)
	}
	switch r.AssertionAlg {
	case "", "PS256", "ES256", "EdDSA":
	default:
		return flows.Errorf(flows.ErrConfig, "%s: assertion algorithm %s is not allowed (FAPI 2.0 Security Profile 5.4: PS256, ES256 or EdDSA)", flows.FieldFAPI2, r.AssertionAlg)
	}
	if r.Flow == flows.FlowAuthCode {
		r.PAR = true
	}
	if r.CertFile == "" {
		r.DPoP = true
	}
	return nil
}

// fapi2Signer moves an RSA client assertion key from RS256 to PS256, the
// RSA algorithm FAPI 2.0 5.4 allows.
func fapi2Signer(req *flows.Request, k *assertionKey) {
	if req.FAPI2 && k != nil && req.AssertionAlg == "" && k.alg == "RS256" {
		k.alg = "PS256"
	}
}
