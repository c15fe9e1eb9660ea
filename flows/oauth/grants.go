package oauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/token"
)

// Grant type and token type URIs.
const (
	grantDeviceCode    = "urn:ietf:params:oauth:grant-type:device_code"
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

func sortStrings(s []string) { slices.Sort(s) }

// assertionAudience is where a client assertion goes: the endpoint itself,
// from which assertionAudClaim picks the aud claim. m is unused since the
// choice moved there; the callers keep their shape.
func (e *Engine) assertionAudience(_ *Metadata, endpoint string) string { return endpoint }

// postToken sends a token request with client authentication, parses the
// answer and inspects the tokens.
func (e *Engine) postToken(ctx context.Context, r *run, ep flows.Endpoints, m *Metadata, form url.Values, nonce string) (*flows.TokenResponse, error) {
	if ep.Token == "" {
		return nil, missingEndpoint("token", flows.FieldTokenURL)
	}
	var tr *flows.TokenResponse
	var resp *flows.Response
	err := r.step("token request", func() (string, error) {
		var err error
		resp, err = e.tokenPost(ctx, r, "token request", ep.Token, e.assertionAudience(m, ep.Token), form)
		if err != nil {
			return "", err
		}
		var checks []flows.Check
		tr, checks, err = parseTokenResponse("token request", ep.Token, resp)
		if err != nil {
			return "", err
		}
		r.res.Token = tr
		r.res.AddCheck(checks...)
		detail := fmt.Sprintf("HTTP %d, %s", resp.Status, orNone(tr.TokenType))
		if tr.HasExpiresIn {
			detail += fmt.Sprintf(", expires in %d s", tr.ExpiresIn)
		}
		return detail, nil
	})
	if err != nil {
		if resp != nil {
			e.setSkewOnly(r)
		}
		return nil, e.explainAssertionAud(err, ep.Token)
	}
	e.inspectTokens(ctx, r, ep, m, tr, resp, nonce)
	e.dpopTokenChecks(r, tr)
	return tr, nil
}

// tokenPost is the one place token-endpoint requests are sent, for every
// grant: client authentication and, with a DPoP key, a fresh proof per
// attempt and the nonce retry. form is not modified.
func (e *Engine) tokenPost(ctx context.Context, r *run, step, endpoint, aud string, form url.Values) (*flows.Response, error) {
	return e.sendProofed(ctx, r, step, http.MethodPost, endpoint, "", func() (url.Values, http.Header, error) {
		f := make(url.Values, len(form)+2)
		for k, v := range form {
			f[k] = append([]string(nil), v...)
		}
		header := http.Header{}
		if err := e.authenticate(f, header, aud); err != nil {
			return nil, nil, err
		}
		return f, header, nil
	})
}

// setSkewOnly records a Date-header skew estimate when no token came back.
func (e *Engine) setSkewOnly(r *run) {
	if e.opts.SkipInspect {
		return
	}
	e.setSkew(r, nil, token.Skew{})
}

func addScopeParams(form url.Values, req *flows.Request) {
	if len(req.Scopes) > 0 {
		form.Set("scope", strings.Join(req.Scopes, " "))
	}
	for _, a := range req.Audience {
		form.Add("audience", a)
	}
	for _, res := range req.Resource {
		form.Add("resource", res)
	}
}

// ClientCredentials runs the client_credentials grant (RFC 6749 4.4).
func (e *Engine) ClientCredentials(ctx context.Context, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowClientCredentials, obs)
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	addScopeParams(form, &e.req)
	tr, err := e.postToken(ctx, r, ep, m, form, "")
	if err != nil {
		return r.finish(err)
	}
	r.res.AddCheck(scopeCheck(e.req.Scopes, tr))
	return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
}

// Refresh runs the refresh_token grant (RFC 6749 6) and reports whether the
// refresh token rotated.
func (e *Engine) Refresh(ctx context.Context, refreshToken string, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowRefresh, obs)
	if refreshToken == "" {
		return r.finish(flows.Errorf(flows.ErrConfig, "refresh needs a refresh token (%s)", flows.FieldToken))
	}
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if len(e.req.Scopes) > 0 {
		form.Set("scope", strings.Join(e.req.Scopes, " "))
	}
	for _, res := range e.req.Resource {
		form.Add("resource", res)
	}
	tr, err := e.postToken(ctx, r, ep, m, form, "")
	if err != nil {
		return r.finish(err)
	}
	rotated := tr.RefreshToken != "" && subtle.ConstantTimeCompare([]byte(tr.RefreshToken), []byte(refreshToken)) == 0
	r.res.RefreshRotated = &rotated
	switch {
	case rotated:
		r.note("refresh token", "rotated: a new refresh token was issued; the old one should now be refused", true)
		r.res.AddCheck(flows.Check{Name: "refresh rotation", Status: flows.Pass, Detail: "the refresh token rotated (new one issued)"})
	case tr.RefreshToken == "":
		r.note("refresh token", "not rotated: no new refresh token; keep using the old one", true)
		r.res.AddCheck(flows.Check{Name: "refresh rotation", Status: flows.Pass, Detail: "no new refresh token in the response: the old one stays valid (no rotation)"})
	default:
		r.note("refresh token", "not rotated: the same refresh token came back", true)
		r.res.AddCheck(flows.Check{Name: "refresh rotation", Status: flows.Pass, Detail: "the same refresh token came back (no rotation)"})
	}
	return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
}

// TokenExchange runs RFC 8693 token exchange with Request.Token as subject.
func (e *Engine) TokenExchange(ctx context.Context, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowTokenExchange, obs)
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	st := e.req.SubjectTokenType
	if st == "" {
		st = tokenTypeAccess
	}
	form := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {e.req.Token.Reveal()}, "subject_token_type": {expandTokenType(st)}}
	if e.req.ActorToken.IsSet() {
		at := e.req.ActorTokenType
		if at == "" {
			at = tokenTypeAccess
		}
		form.Set("actor_token", e.req.ActorToken.Reveal())
		form.Set("actor_token_type", expandTokenType(at))
	}
	if e.req.RequestedTokenType != "" {
		form.Set("requested_token_type", expandTokenType(e.req.RequestedTokenType))
	}
	addScopeParams(form, &e.req)
	tr, err := e.postToken(ctx, r, ep, m, form, "")
	if err != nil {
		return r.finish(err)
	}
	if tr.IssuedTokenType == "" {
		r.res.AddCheck(flows.Check{Name: "issued_token_type", Status: flows.Warn, Detail: "missing from the response (required by RFC 8693 2.2.1)"})
	} else {
		r.res.AddCheck(flows.Check{Name: "issued_token_type", Status: flows.Pass, Detail: tr.IssuedTokenType})
	}
	return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
}

// expandTokenType accepts the short names access_token, refresh_token,
// id_token, jwt, saml1, saml2 for the RFC 8693 3 URIs.
func expandTokenType(t string) string {
	switch t {
	case "access_token", "refresh_token", "id_token", "saml1", "saml2":
		return "urn:ietf:params:oauth:token-type:" + t
	case "jwt":
		return "urn:ietf:params:oauth:token-type:jwt"
	}
	return t
}

// Introspect asks the introspection endpoint about a token (RFC 7662).
// An inactive token fails the flow: that is the answer scripts test for.
func (e *Engine) Introspect(ctx context.Context, tok string, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowIntrospect, obs)
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	active, _, err := e.introspect(ctx, r, ep, m, tok, "introspection")
	if err != nil {
		return r.finish(err)
	}
	if active {
		r.res.AddCheck(flows.Check{Name: "active", Status: flows.Pass, Detail: "the server says the token is active" + introspectSummary(r.res.Introspection)})
	} else {
		r.res.AddCheck(flows.Check{Name: "active", Status: flows.Fail, Detail: "the server says the token is not active (expired, revoked, or not issued by it)"})
	}
	return r.finish(nil)
}

func introspectSummary(m map[string]any) string {
	var parts []string
	for _, k := range []string{"sub", "client_id", "scope"} {
		if v := str(m[k]); v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	if exp, ok := token.ClaimTime(m["exp"]); ok {
		parts = append(parts, "exp "+exp.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// introspect sends one introspection request and records the answer.
func (e *Engine) introspect(ctx context.Context, r *run, ep flows.Endpoints, m *Metadata, tok, step string) (bool, map[string]any, error) {
	if ep.Introspect == "" {
		return false, nil, missingEndpoint("introspection", flows.FieldIntrospectURL)
	}
	var active bool
	var body map[string]any
	err := r.step(step, func() (string, error) {
		// With a DPoP key the tokens are DPoP-bound, so the call carries a
		// proof for the endpoint too (and answers its nonce challenge).
		resp, err := e.sendProofed(ctx, r, step, http.MethodPost, ep.Introspect, "", func() (url.Values, http.Header, error) {
			form := url.Values{"token": {tok}}
			if e.req.TokenTypeHint != "" {
				form.Set("token_type_hint", e.req.TokenTypeHint)
			}
			header := http.Header{}
			err := e.authenticate(form, header, e.assertionAudience(m, ep.Introspect))
			return form, header, err
		})
		if err != nil {
			return "", err
		}
		if resp.Status != 200 {
			return "", oauthError(step, ep.Introspect, resp)
		}
		body, _, err = decodeObject(resp)
		if err != nil {
			return "", flows.Errorf(flows.ErrProtocol, "%s: %s answered HTTP 200 with %v", step, ep.Introspect, err)
		}
		switch v := body["active"].(type) {
		case bool:
			active = v
		case string: // tolerated: "true"
			active = strings.EqualFold(v, "true")
		default:
			return "", flows.Errorf(flows.ErrProtocol, "%s: %s answered without a boolean \"active\" (RFC 7662 2.2): %s", step, ep.Introspect, resp.Snippet())
		}
		r.res.Introspection = body
		r.res.Active = &active
		return fmt.Sprintf("active: %v", active), nil
	})
	return active, body, err
}

// Revoke revokes a token (RFC 7009), then, when an introspection endpoint is
// known, introspects until the server says inactive and reports how long
// that took.
func (e *Engine) Revoke(ctx context.Context, tok string, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowRevoke, obs)
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	if ep.Revoke == "" {
		return r.finish(missingEndpoint("revocation", flows.FieldRevokeURL))
	}
	var revokedAt time.Time
	err = r.step("revocation", func() (string, error) {
		resp, err := e.sendProofed(ctx, r, "revocation", http.MethodPost, ep.Revoke, "", func() (url.Values, http.Header, error) {
			form := url.Values{"token": {tok}}
			if e.req.TokenTypeHint != "" {
				form.Set("token_type_hint", e.req.TokenTypeHint)
			}
			header := http.Header{}
			err := e.authenticate(form, header, e.assertionAudience(m, ep.Revoke))
			return form, header, err
		})
		if err != nil {
			return "", err
		}
		if resp.Status != 200 {
			return "", oauthError("revocation", ep.Revoke, resp)
		}
		revokedAt = resp.Received
		return "HTTP 200: revoked (or unknown to the server, which RFC 7009 answers the same way)", nil
	})
	if err != nil {
		return r.finish(err)
	}
	r.res.Revoked = true
	if ep.Introspect == "" {
		r.note("confirm revocation", "skipped: no introspection endpoint to ask", true)
		return r.finish(nil)
	}
	// Bounded: at most confirmAttempts introspections within confirmWindow.
	const confirmAttempts = 8
	confirmWindow := 5 * time.Second
	if e.req.Wait > 0 && e.req.Wait < confirmWindow {
		confirmWindow = e.req.Wait
	}
	deadline := time.Now().Add(confirmWindow)
	delay := 50 * time.Millisecond
	confirmed := false
	for i := 0; i < confirmAttempts; i++ {
		active, _, err := e.introspect(ctx, r, ep, m, tok, "confirm revocation")
		if err != nil {
			r.res.AddCheck(flows.Check{Name: "revocation confirmed", Status: flows.Warn, Detail: "could not introspect after revoking: " + err.Error()})
			return r.finish(nil)
		}
		if !active {
			confirmed = true
			break
		}
		if time.Now().Add(delay).After(deadline) {
			break
		}
		if err := e.sleep(ctx, delay); err != nil {
			return r.finish(flows.Wrap(flows.ErrCancelled, err, "revocation: %v", err))
		}
		delay *= 2
	}
	r.res.RevocationConfirmed = &confirmed
	if confirmed {
		r.res.RevocationConfirmedAfter = time.Since(revokedAt)
		r.res.AddCheck(flows.Check{Name: "revocation confirmed", Status: flows.Pass,
			Detail: fmt.Sprintf("introspection says inactive %s after the revocation answered", r.res.RevocationConfirmedAfter.Round(time.Millisecond))})
	} else {
		r.res.AddCheck(flows.Check{Name: "revocation confirmed", Status: flows.Fail,
			Detail: fmt.Sprintf("introspection still says active %s after revocation: the server did not revoke it (or caches introspection)", time.Since(revokedAt).Round(time.Millisecond))})
	}
	return r.finish(nil)
}

// Userinfo calls the userinfo endpoint with an access token.
func (e *Engine) Userinfo(ctx context.Context, tok string, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowUserinfo, obs)
	ep, _, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	if ep.Userinfo == "" {
		return r.finish(missingEndpoint("userinfo", flows.FieldUserinfoURL))
	}
	err = r.step("userinfo", func() (string, error) {
		resp, err := e.resourceGet(ctx, r, "userinfo", ep.Userinfo, tok)
		if err != nil {
			return "", err
		}
		if resp.Status != 200 {
			return "", oauthError("userinfo", ep.Userinfo, resp)
		}
		if resp.ContentType() == "application/jwt" {
			r.res.Userinfo = map[string]any{"jwt": strings.TrimSpace(string(resp.Body))}
			return "signed userinfo (application/jwt)", nil
		}
		body, _, err := decodeObject(resp)
		if err != nil {
			return "", flows.Errorf(flows.ErrProtocol, "userinfo: %s answered HTTP 200 with %v", ep.Userinfo, err)
		}
		r.res.Userinfo = body
		sub := str(body["sub"])
		if sub == "" {
			r.res.AddCheck(flows.Check{Name: "userinfo sub", Status: flows.Fail, Detail: "the userinfo response has no sub (required by OIDC Core 5.3.2)"})
			return "no sub", nil
		}
		r.res.AddCheck(flows.Check{Name: "userinfo sub", Status: flows.Pass, Detail: sub})
		return "sub " + sub, nil
	})
	if err != nil {
		return r.finish(err)
	}
	return r.finish(e.maybeCall(ctx, r, tok))
}

// Call calls a protected resource with a bearer token.
func (e *Engine) Call(ctx context.Context, target, tok string, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowCall, obs)
	return r.finish(e.call(ctx, r, target, tok))
}

func (e *Engine) maybeCall(ctx context.Context, r *run, tok string) error {
	if e.req.CallURL == "" {
		return nil
	}
	return e.call(ctx, r, e.req.CallURL, tok)
}

// call records the resource's answer; a refusal is a failed check (with the
// WWW-Authenticate challenge in words), not a transport error.
func (e *Engine) call(ctx context.Context, r *run, target, tok string) error {
	return r.step("call resource", func() (string, error) {
		resp, err := e.resourceGet(ctx, r, "call resource", target, tok)
		if err != nil {
			return "", err
		}
		cr := &flows.CallResult{URL: resp.Exchange.URL, Status: resp.Status, ContentType: resp.ContentType(),
			Body: string(resp.Body[:min(len(resp.Body), 4096)]), WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
		if cr.WWWAuthenticate != "" {
			cr.Challenge = ParseChallenge(cr.WWWAuthenticate).Explain()
		}
		r.res.Call = cr
		if resp.Status >= 200 && resp.Status < 300 {
			r.res.AddCheck(flows.Check{Name: "resource call", Status: flows.Pass, Detail: fmt.Sprintf("%s answered HTTP %d", target, resp.Status)})
			return fmt.Sprintf("HTTP %d", resp.Status), nil
		}
		detail := fmt.Sprintf("%s answered HTTP %d", target, resp.Status)
		if cr.Challenge != "" {
			detail += ": " + cr.Challenge
		} else {
			detail += " " + resp.Snippet()
		}
		r.res.AddCheck(flows.Check{Name: "resource call", Status: flows.Fail, Detail: detail})
		return detail, &flows.Error{Kind: flows.ErrCheck, Status: resp.Status, Message: "call resource: " + detail}
	})
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	if e.opts.Sleep != nil {
		return e.opts.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
