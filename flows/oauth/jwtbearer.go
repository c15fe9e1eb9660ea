package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/token"
)

// grantJWTBearer is the grant type of RFC 7523 2.1.
const grantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// jwtBearerLifetime is the default exp of a grant assertion: RFC 7523 3
// wants a limited lifetime; five minutes covers clock skew.
const jwtBearerLifetime = 5 * time.Minute

// JWTBearer runs the JWT bearer grant (RFC 7523 2.1): Request.Assertion
// as given, else one signed with the assertion key carrying
// Request.AssertionClaims over the defaults (iss = sub = client_id, aud =
// the token endpoint, iat, exp = now + 5 min, a fresh jti).
func (e *Engine) JWTBearer(ctx context.Context, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowJWTBearer, obs)
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	if ep.Token == "" {
		return r.finish(missingEndpoint("token", flows.FieldTokenURL))
	}
	if m != nil && len(m.GrantTypes) > 0 && !slices.Contains(m.GrantTypes, grantJWTBearer) {
		r.note("grant types", "the metadata does not list "+grantJWTBearer+" in grant_types_supported; trying anyway", true)
	}
	assertion := e.req.Assertion.Reveal()
	if assertion == "" {
		if assertion, err = e.grantAssertion(ep.Token); err != nil {
			return r.finish(err)
		}
	}
	r.rec.Secrets().Add(assertion) // a bearer credential: never shown
	r.note("assertion", describeAssertion(assertion), true)
	form := url.Values{"grant_type": {grantJWTBearer}, "assertion": {assertion}}
	addScopeParams(form, &e.req)
	tr, err := e.postToken(ctx, r, ep, m, form, "")
	if err != nil {
		return r.finish(err)
	}
	r.res.AddCheck(scopeCheck(e.req.Scopes, tr))
	return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
}

// grantAssertion signs the grant's assertion for tokenURL.
func (e *Engine) grantAssertion(tokenURL string) (string, error) {
	if e.grantKey == nil {
		return "", flows.Errorf(flows.ErrConfig, "jwt-bearer needs %s or %s", flows.FieldAssertion, flows.FieldAssertionKey)
	}
	jti, err := randomString(24)
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "assertion: %v", err)
	}
	now := e.now()
	claims := map[string]any{
		"iss": e.req.ClientID, "sub": e.req.ClientID, "aud": tokenURL, "jti": jti,
		"iat": now.Unix(), "exp": now.Add(jwtBearerLifetime).Unix(),
	}
	if len(e.req.AssertionClaims) > 0 {
		var extra map[string]any
		if err := json.Unmarshal(e.req.AssertionClaims, &extra); err != nil {
			return "", flows.Errorf(flows.ErrConfig, "%s: want a JSON object: %v", flows.FieldAssertionClaims, err)
		}
		for k, v := range extra {
			if v == nil {
				delete(claims, k) // null drops a default
				continue
			}
			claims[k] = v
		}
	}
	return signJWT(e.grantKey.alg, e.grantKey.kid, claims, e.grantKey.signer, nil)
}

// describeAssertion is a one-line summary of an assertion's claims (no
// signature, no token).
func describeAssertion(raw string) string {
	d, err := token.Decode(raw)
	if err != nil || d.Format != token.FormatJWS {
		return fmt.Sprintf("given assertion, %d bytes (not a decodable JWS)", len(raw))
	}
	var parts []string
	for _, k := range []string{"iss", "sub", "aud"} {
		if v, ok := d.Claims[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	if exp, ok := d.Time("exp"); ok {
		parts = append(parts, "exp "+exp.UTC().Format(time.RFC3339))
	}
	alg, _ := d.Header["alg"].(string)
	return "signed " + alg + ": " + strings.Join(parts, ", ")
}

// validateJWTBearer: an assertion, or a key to sign one, and claims that
// parse.
func validateJWTBearer(r *flows.Request) error {
	if r.Flow != flows.FlowJWTBearer {
		return nil
	}
	if !r.Assertion.IsSet() && r.AssertionKey == "" && !r.AssertionKeyData.IsSet() {
		return flows.Errorf(flows.ErrConfig, "jwt-bearer needs %s (a JWT) or %s (a PEM or JWK key to sign one)", flows.FieldAssertion, flows.FieldAssertionKey)
	}
	if len(r.AssertionClaims) > 0 {
		var m map[string]any
		if err := json.Unmarshal(r.AssertionClaims, &m); err != nil {
			return flows.Errorf(flows.ErrConfig, "%s: want a JSON object: %v", flows.FieldAssertionClaims, err)
		}
	}
	return nil
}
