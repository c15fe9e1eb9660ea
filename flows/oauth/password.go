package oauth

import (
	"context"
	"net/url"
	"slices"

	"authlab/flows"
)

// PasswordForbidden is the warning every password grant run carries: the
// grant hands the user's password to the client, which RFC 9700 2.4
// forbids. authlab still runs it, for the legacy servers that need it.
const PasswordForbidden = "the resource owner password credentials grant MUST NOT be used (RFC 9700 2.4): it exposes the user's password to the client and cannot do multi-factor or federated login; use the authorization code grant"

// Password runs the resource owner password credentials grant (RFC 6749
// 4.3) with Request.Username and Request.Password.
func (e *Engine) Password(ctx context.Context, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowPassword, obs)
	r.res.AddCheck(flows.Check{Name: "password grant", Status: flows.Warn, Detail: PasswordForbidden})
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	if m != nil && len(m.GrantTypes) > 0 && !slices.Contains(m.GrantTypes, "password") {
		r.note("grant types", "the metadata does not list password in grant_types_supported; trying anyway", true)
	}
	form := url.Values{"grant_type": {"password"}, "username": {e.req.Username}, "password": {e.req.Password.Reveal()}}
	addScopeParams(form, &e.req)
	tr, err := e.postToken(ctx, r, ep, m, form, "")
	if err != nil {
		return r.finish(err)
	}
	r.res.AddCheck(scopeCheck(e.req.Scopes, tr))
	return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
}

// validatePassword: the grant needs both halves of the credential.
func validatePassword(r *flows.Request) error {
	if r.Flow != flows.FlowPassword {
		return nil
	}
	if r.Username == "" || !r.Password.IsSet() {
		return flows.Errorf(flows.ErrConfig, "password needs %s and %s", flows.FieldUsername, flows.FieldPassword)
	}
	return nil
}
