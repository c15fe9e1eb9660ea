package mockidp

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	tokenTypeAccess = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT    = "urn:ietf:params:oauth:token-type:jwt"
)

// parseForm reads an application/x-www-form-urlencoded POST body.
func parseForm(r *http.Request) *oauthErr {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return errInvalidRequest("Content-Type must be application/x-www-form-urlencoded, got " + quoteOrNone(ct))
	}
	if err := readPostForm(r); err != nil {
		if tooLarge(err) {
			return &oauthErr{http.StatusRequestEntityTooLarge, "invalid_request", "request body larger than 64 KiB", false}
		}
		return errInvalidRequest("cannot parse the form body: " + err.Error())
	}
	for k, v := range r.PostForm {
		if len(v) > 1 && k != "resource" && k != "audience" {
			return errInvalidRequest("parameter " + k + " appears more than once")
		}
	}
	return nil
}

// readPostForm is r.ParseForm for a POST body of known, capped length with
// fewer allocations: one string for the whole body, fields sliced from it.
// Anything else (and bodies that need unescaping) takes the usual path.
func readPostForm(r *http.Request) error {
	if r.Method != http.MethodPost || r.PostForm != nil || r.Body == nil || r.ContentLength < 0 || r.ContentLength > maxBody {
		return r.ParseForm()
	}
	buf := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		return err
	}
	body := string(buf)
	if strings.ContainsAny(body, "%+;") {
		// Escapes and the semicolon error: exactly url.ParseQuery's rules.
		vs, err := url.ParseQuery(body)
		r.PostForm = vs
		return err
	}
	n := strings.Count(body, "&") + 1
	vs := make(url.Values, n)
	backing := make([]string, 0, n)
	for rest := body; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		if old, dup := vs[k]; dup {
			vs[k] = append(old, v)
			continue
		}
		backing = append(backing, v)
		// Capacity 1: a repeated key appends to its own copy.
		vs[k] = backing[len(backing)-1 : len(backing) : len(backing)]
	}
	r.PostForm = vs
	return nil
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return `"` + s + `"`
}

// endpointURL is the URL this request was sent to, for assertion audiences.
func (s *Server) endpointURL(r *http.Request) string { return s.issuerFor(r) + r.URL.Path }

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(r); e != nil {
		e.write(w)
		return
	}
	grant := r.PostForm.Get("grant_type")
	note(w, r.PostForm.Get("client_id"), grant)
	if grant == "" {
		errInvalidRequest("grant_type is missing").write(w)
		return
	}
	c, ok := s.clientOf(w, r)
	if !ok {
		return
	}
	switch grant {
	case GrantClientCreds, GrantAuthCode, GrantRefresh, GrantDeviceCode, GrantTokenExchange, GrantJWTBearer:
	case GrantPassword:
		if !c.grants[GrantPassword] {
			// RFC 9700 2.4 forbids it: it exists only for clients registered for it.
			(&oauthErr{http.StatusBadRequest, "unsupported_grant_type", "grant_type password is not supported for client " + c.ID + " (RFC 9700 2.4 forbids it; register the client for it)", false}).write(w)
			return
		}
	default:
		(&oauthErr{http.StatusBadRequest, "unsupported_grant_type", "grant_type " + grant + " is not supported", false}).write(w)
		return
	}
	if !c.grants[grant] {
		(&oauthErr{http.StatusBadRequest, "unauthorized_client", "client " + c.ID + " may not use grant_type " + grant, false}).write(w)
		return
	}
	fs := s.faults.Load()
	if !s.tokenDPoP(w, r, c, fs) {
		return
	}
	if e := s.fapiSenderConstrained(c); e != nil {
		e.write(w)
		return
	}
	switch grant {
	case GrantClientCreds:
		s.grantClientCredentials(w, r, c, fs)
	case GrantAuthCode:
		s.grantAuthCode(w, r, c, fs)
	case GrantRefresh:
		s.grantRefresh(w, r, c, fs)
	case GrantDeviceCode:
		s.grantDevice(w, r, c, fs)
	case GrantTokenExchange:
		s.grantTokenExchange(w, r, c, fs)
	case GrantPassword:
		s.grantPassword(w, r, c, fs)
	case GrantJWTBearer:
		s.grantJWTBearer(w, r, c, fs)
	}
}

// checkScope validates a requested scope against the configuration and the
// client; empty request → def.
func (s *Server) checkScope(c *clientInfo, requested, def string) (string, *oauthErr) {
	if requested == "" {
		return def, nil
	}
	fields := strings.Fields(requested)
	for _, sc := range fields {
		known := false
		for _, k := range s.cfg.Scopes {
			if k == sc {
				known = true
				break
			}
		}
		if !known || (c.scopes != nil && !c.scopes[sc]) {
			return "", &oauthErr{http.StatusBadRequest, "invalid_scope", "scope " + sc + " is not allowed for client " + c.ID, false}
		}
	}
	return strings.Join(fields, " "), nil
}

// defaultAPIScope is what client_credentials gets when it asks for nothing.
func (s *Server) defaultAPIScope(c *clientInfo) string { return c.defaultScope }

func computeDefaultScope(cfg Config, c *clientInfo) string {
	var out []string
	for _, sc := range cfg.Scopes {
		if strings.HasPrefix(sc, "api:") && (c.scopes == nil || c.scopes[sc]) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, " ")
}

// audience picks aud: the request's audience/resource, the client's, or the
// IdP's demo API.
func (s *Server) audience(r *http.Request, c *clientInfo, iss string) string {
	if a := r.PostForm.Get("audience"); a != "" {
		return a
	}
	if a := r.PostForm.Get("resource"); a != "" {
		return a
	}
	if c.Audience != "" {
		return c.Audience
	}
	return iss + "/api"
}

// boundThumb is the cnf to put in tokens: set when the client presented a
// certificate and its tokens are bound (RFC 8705 3).
func boundThumb(c *authedClient) string {
	if c.cert != nil && (c.BoundTokens || c.method == AuthTLS || c.method == AuthSelfSignedTLS) {
		return c.certThumb()
	}
	return ""
}

func (s *Server) grantClientCredentials(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	scope, e := s.checkScope(c.clientInfo, r.PostForm.Get("scope"), s.defaultAPIScope(c.clientInfo))
	if e != nil {
		e.write(w)
		return
	}
	iss := s.issuerFor(r)
	g := grantCtx{iss: iss, client: c.clientInfo, sub: c.ID, scope: scope, aud: s.audience(r, c.clientInfo, iss), cnf: boundThumb(c), jkt: c.jkt}
	// The load-test grant: sign straight into the pooled response buffer (a
	// JWS is base64url and dots, so it needs no JSON escaping).
	bp := s.getBuf()
	defer s.putBuf(bp)
	b := append((*bp)[:0], `{"access_token":"`...)
	b, _, exp, err := s.appendAccess(b, fs, &g)
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	b = append(b, '"')
	b = appendTokenFields(b, tokenTypeFor(c), exp, s.Now(), scope, "", "", "")
	*bp = b
	writeTokenJSON(w, b)
}

func (s *Server) grantAuthCode(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	code := r.PostForm.Get("code")
	if code == "" {
		errInvalidRequest("code is missing").write(w)
		return
	}
	now := s.Now()
	ac, details, res, e := s.redeemCode(now, code, c.clientInfo, r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier"), c.jkt, r.PostForm.Get("authorization_details"))
	if e != nil {
		e.write(w)
		return
	}
	if c.Public {
		s.bindRefresh(res.refresh, c.jkt)
	}

	iss := s.issuerFor(r)
	u := s.users[ac.User]
	g := grantCtx{iss: iss, client: c.clientInfo, sub: u.Sub, scope: ac.Scope, aud: s.audience(r, c.clientInfo, iss), authTime: ac.AuthTime, cnf: boundThumb(c), jkt: c.jkt, nonce: ac.Nonce, user: u, jti: res.jti}
	g.details = details // RFC 9396 (rar.go)
	g.acr = ac.ACR
	tok, _, id, exp, err := s.issueUserTokens(fs, &g)
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	if s.familyRevoked(res.family) {
		errInvalidGrant("authorization code was replayed while it was being redeemed; the tokens it issued are revoked").write(w)
		return
	}
	tokenResponseWithDetails(w, tokenTypeFor(c), tok, exp, now, ac.Scope, res.refresh, id, details)
}

// redeemCode checks the code against the token request, reserves what it
// issues in a new family and marks it used, all under one lock: a replayed
// code, at any instant after, revokes everything the code issued. It
// returns the authorization_details the access token carries: reqDetails
// narrowed from the granted ones (rar.go), or the granted ones.
func (s *Server) redeemCode(now time.Time, code string, c *clientInfo, redirectURI, verifier, jkt, reqDetails string) (*authCode, string, reservation, *oauthErr) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	ac := st.codes[code]
	switch {
	case ac == nil:
		return nil, "", reservation{}, errInvalidGrant("unknown or expired authorization code")
	case ac.Used:
		// RFC 6749 4.1.2: a replayed code revokes what it issued.
		s.metrics.replay(replayCode)
		s.revokeFamilyLocked(now, ac.Family)
		return nil, "", reservation{}, errInvalidGrant("authorization code already used; the tokens it issued are revoked")
	case ac.ClientID != c.ID:
		return nil, "", reservation{}, errInvalidGrant("authorization code was issued to another client")
	case !now.Before(ac.Expires):
		return nil, "", reservation{}, errInvalidGrant("authorization code expired")
	case ac.RedirectURI != redirectURI:
		return nil, "", reservation{}, errInvalidGrant("redirect_uri does not match the one in the authorization request")
	case s.users[ac.User] == nil:
		return nil, "", reservation{}, errInvalidGrant("the code's user no longer exists")
	}
	if e := checkPKCE(ac, verifier); e != nil {
		return nil, "", reservation{}, e
	}
	if ac.DPoPJKT != "" && !secretEqual(ac.DPoPJKT, jkt) {
		// RFC 9449 10: the code is bound to the key named by dpop_jkt.
		return nil, "", reservation{}, &oauthErr{http.StatusBadRequest, "invalid_dpop_proof", "the authorization request named dpop_jkt " + ac.DPoPJKT + ", but the token request's DPoP key is " + quoteOrNone(jkt), false}
	}
	// Checked before the code is spent: a bad request does not burn it.
	details, e := s.narrowDetails(ac.Details, reqDetails)
	if e != nil {
		return nil, "", reservation{}, e
	}
	res, e := s.reserveLocked(now, c, ac.User, ac.Scope, ac.Details, ac.AuthTime, "")
	if e != nil {
		return nil, "", reservation{}, e
	}
	ac.Used = true
	ac.Family = res.family
	return ac, details, res, nil
}

// reservation is what a redemption sets aside before any signing: the
// access token's jti and the next refresh token, both already members of
// the grant's family.
type reservation struct {
	family  string
	jti     string
	refresh string // "" when the client may not refresh
}

// reserveLocked adds an access token and, when the client may refresh, a
// refresh token to family fam ("" starts a new family). It checks for room
// before changing anything. Called with st.mu held.
func (s *Server) reserveLocked(now time.Time, c *clientInfo, user, scope, details string, authTime time.Time, fam string) (reservation, *oauthErr) {
	st := s.st
	canRefresh := c.grants[GrantRefresh]
	if (fam == "" && !st.room(now, func() int { return len(st.families) })) || (canRefresh && !st.room(now, func() int { return len(st.refresh) })) {
		return reservation{}, &oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "refresh token table full", false}
	}
	exp := now.Add(s.maxLifetime())
	rtExp := now.Add(s.cfg.Lifetimes.RefreshToken.D())
	if canRefresh && rtExp.After(exp) {
		exp = rtExp
	}
	f := st.families[fam]
	if f == nil {
		fam = randomToken(12)
		f = &family{}
		st.families[fam] = f
	}
	if exp.After(f.Expires) {
		f.Expires = exp
	}
	res := reservation{family: fam, jti: randomToken(16)}
	f.JTIs = append(f.JTIs, res.jti)
	if canRefresh {
		res.refresh = "rt_" + randomToken(32)
		st.refresh[res.refresh] = &refreshToken{Family: fam, ClientID: c.ID, User: user, Scope: scope, Details: details, AuthTime: authTime, Expires: rtExp}
		f.RTs = append(f.RTs, res.refresh)
	}
	return res, nil
}

// revokeFamilyLocked revokes a grant: its access tokens and its refresh
// tokens, including any reserved but not yet sent. Called with st.mu held.
func (s *Server) revokeFamilyLocked(now time.Time, fam string) {
	f := s.st.families[fam]
	if f == nil {
		return
	}
	f.Revoked = true
	s.revokeJTIsLocked(now, f.JTIs)
	for _, rt := range f.RTs {
		delete(s.st.refresh, rt)
	}
	f.RTs = nil
}

// familyRevoked reports whether a replay revoked the family while its
// tokens were being signed; they are dead then, so none are sent.
func (s *Server) familyRevoked(fam string) bool {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	f := s.st.families[fam]
	return f == nil || f.Revoked
}

// issueUserTokens signs the access token and, when the grant's scope holds
// openid, an ID token bound to it.
func (s *Server) issueUserTokens(fs *faultState, g *grantCtx) (tok, jti, id string, exp time.Time, err error) {
	if tok, jti, exp, err = s.issueAccess(fs, g); err != nil {
		return "", "", "", exp, err
	}
	if hasScope(g.scope, "openid") {
		id, err = s.issueID(fs, g, tok)
	}
	return tok, jti, id, exp, err
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

func checkPKCE(ac *authCode, verifier string) *oauthErr {
	if ac.Challenge == "" {
		if verifier != "" {
			return errInvalidGrant("code_verifier sent but the authorization request had no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return errInvalidGrant("code_verifier is missing (the authorization request used PKCE)")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return errInvalidGrant("code_verifier must be 43 to 128 characters (RFC 7636 4.1)")
	}
	want := verifier
	if ac.Method == "S256" {
		h := sha256.Sum256([]byte(verifier))
		want = b64.EncodeToString(h[:])
	}
	if !secretEqual(want, ac.Challenge) {
		return errInvalidGrant("code_verifier does not match the code_challenge (" + ac.Method + ")")
	}
	return nil
}

func (s *Server) grantRefresh(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	rtok := r.PostForm.Get("refresh_token")
	if rtok == "" {
		errInvalidRequest("refresh_token is missing").write(w)
		return
	}
	now := s.Now()
	if bound := s.refreshKey(rtok); bound != "" && !secretEqual(bound, c.jkt) {
		// RFC 9449 5: a public client's refresh token is bound to its proof key.
		(&oauthErr{http.StatusBadRequest, "invalid_dpop_proof", "the refresh token is bound to DPoP key " + bound + "; the request's proof key is " + quoteOrNone(c.jkt), false}).write(w)
		return
	}
	rt, scope, details, res, e := s.useRefresh(now, rtok, c.clientInfo, r.PostForm.Get("scope"), r.PostForm.Get("authorization_details"))
	if e != nil {
		e.write(w)
		return
	}
	if rt.JKT != "" {
		s.bindRefresh(res.refresh, rt.JKT)
	} else if c.Public {
		s.bindRefresh(res.refresh, c.jkt)
	}
	iss := s.issuerFor(r)
	u := s.users[rt.User]
	g := grantCtx{iss: iss, client: c.clientInfo, sub: u.Sub, scope: scope, aud: s.audience(r, c.clientInfo, iss), authTime: rt.AuthTime, cnf: boundThumb(c), jkt: c.jkt, user: u, jti: res.jti, details: details}
	tok, _, id, exp, err := s.issueUserTokens(fs, &g)
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	if s.familyRevoked(res.family) {
		errInvalidGrant("refresh token was reused while it was being redeemed; the token family is revoked").write(w)
		return
	}
	tokenResponseWithDetails(w, tokenTypeFor(c), tok, exp, now, scope, res.refresh, id, details)
}

// useRefresh checks a presented refresh token (and a narrower scope or
// authorization_details, if asked), reserves the next tokens in its family
// and marks it used (rotation), under one lock. Reuse of a rotated-out token revokes the
// whole family, tokens being issued at that instant included.
func (s *Server) useRefresh(now time.Time, rtok string, c *clientInfo, reqScope, reqDetails string) (*refreshToken, string, string, reservation, *oauthErr) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	rt := st.refresh[rtok]
	if rt == nil {
		return nil, "", "", reservation{}, errInvalidGrant("unknown or expired refresh token")
	}
	if rt.ClientID != c.ID {
		return nil, "", "", reservation{}, errInvalidGrant("refresh token was issued to another client")
	}
	f := st.families[rt.Family]
	if f == nil || f.Revoked {
		return nil, "", "", reservation{}, errInvalidGrant("refresh token revoked")
	}
	if rt.Used {
		// Reuse of a rotated-out token: revoke the whole family (RFC 9700 4.14.2).
		s.metrics.replay(replayRefresh)
		s.revokeFamilyLocked(now, rt.Family)
		return nil, "", "", reservation{}, errInvalidGrant("refresh token already used; the token family is revoked")
	}
	if !now.Before(rt.Expires) {
		return nil, "", "", reservation{}, errInvalidGrant("refresh token expired")
	}
	if s.users[rt.User] == nil {
		return nil, "", "", reservation{}, errInvalidGrant("the token's user no longer exists")
	}
	scope := rt.Scope
	if reqScope != "" {
		// Checked before the token is spent: a bad request does not burn it.
		for _, sc := range strings.Fields(reqScope) {
			if !hasScope(rt.Scope, sc) {
				return nil, "", "", reservation{}, &oauthErr{http.StatusBadRequest, "invalid_scope", "scope " + sc + " exceeds the original grant", false}
			}
		}
		scope = strings.Join(strings.Fields(reqScope), " ")
	}
	details, e := s.narrowDetails(rt.Details, reqDetails)
	if e != nil {
		return nil, "", "", reservation{}, e
	}
	// The next refresh token carries the whole grant forward, as its scope.
	res, e := s.reserveLocked(now, c, rt.User, rt.Scope, rt.Details, rt.AuthTime, rt.Family)
	if e != nil {
		return nil, "", "", reservation{}, e
	}
	rt.Used = true
	return rt, scope, details, res, nil
}

func (s *Server) grantDevice(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	dc := r.PostForm.Get("device_code")
	if dc == "" {
		errInvalidRequest("device_code is missing").write(w)
		return
	}
	now := s.Now()
	st := s.st
	st.mu.Lock()
	d := st.devices[dc]
	if d == nil || d.ClientID != c.ID {
		st.mu.Unlock()
		errInvalidGrant("unknown device_code").write(w)
		return
	}
	if !now.Before(d.Expires) {
		st.mu.Unlock()
		(&oauthErr{http.StatusBadRequest, "expired_token", "the device_code expired; start again", false}).write(w)
		return
	}
	if d.Redeemed {
		// Like a replayed code: the grant it started is revoked.
		s.metrics.replay(replayDevice)
		s.revokeFamilyLocked(now, d.Family)
		st.mu.Unlock()
		errInvalidGrant("device_code already redeemed; the tokens it issued are revoked").write(w)
		return
	}
	if d.Denied {
		st.mu.Unlock()
		(&oauthErr{http.StatusBadRequest, "access_denied", "the user denied the request", false}).write(w)
		return
	}
	if d.User == "" {
		// RFC 8628 3.5: polling faster than the interval earns slow_down (+5 s).
		early := !d.LastPoll.IsZero() && now.Sub(d.LastPoll) < d.Interval
		d.LastPoll = now
		if early {
			d.Interval += 5 * time.Second
			st.mu.Unlock()
			(&oauthErr{http.StatusBadRequest, "slow_down", "polling too fast; interval is now " + d.Interval.String(), false}).write(w)
			return
		}
		st.mu.Unlock()
		(&oauthErr{http.StatusBadRequest, "authorization_pending", "the user has not approved yet", false}).write(w)
		return
	}
	user := d.User
	scope := d.Scope
	authTime := d.ApprovedAt
	u := s.users[user]
	if u == nil {
		st.mu.Unlock()
		errInvalidGrant("the approving user no longer exists").write(w)
		return
	}
	res, e := s.reserveLocked(now, c.clientInfo, user, scope, "", authTime, "")
	if e != nil {
		st.mu.Unlock()
		e.write(w)
		return
	}
	d.Redeemed = true
	d.Family = res.family
	st.mu.Unlock()

	iss := s.issuerFor(r)
	g := grantCtx{iss: iss, client: c.clientInfo, sub: u.Sub, scope: scope, aud: s.audience(r, c.clientInfo, iss), authTime: authTime, cnf: boundThumb(c), jkt: c.jkt, user: u, jti: res.jti}
	tok, _, id, exp, err := s.issueUserTokens(fs, &g)
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	if s.familyRevoked(res.family) {
		errInvalidGrant("device_code was replayed while it was being redeemed; the tokens it issued are revoked").write(w)
		return
	}
	if c.Public {
		s.bindRefresh(res.refresh, c.jkt)
	}
	tokenResponse(w, tokenTypeFor(c), tok, exp, now, scope, res.refresh, id, "")
}

// holdsBinding refuses a certificate-bound token (RFC 8705 3) presented
// without the TLS client certificate it is bound to.
func holdsBinding(r *http.Request, param string, c *AccessClaims) *oauthErr {
	th := c.CertThumb()
	if th == "" {
		return nil
	}
	if got := thumbOf(r); got == "" || !secretEqual(got, th) {
		return errInvalidGrant(param + " is bound to a client certificate (cnf x5t#S256); present that certificate over TLS (the mtls endpoint aliases)")
	}
	return nil
}

// grantTokenExchange implements RFC 8693 for access tokens this IdP issued;
// the new token carries an act claim naming the actor (or calling client).
func (s *Server) grantTokenExchange(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	f := r.PostForm
	subj, subjType := f.Get("subject_token"), f.Get("subject_token_type")
	if subj == "" || subjType == "" {
		errInvalidRequest("subject_token and subject_token_type are required (RFC 8693 2.1)").write(w)
		return
	}
	if subjType != tokenTypeAccess && subjType != tokenTypeJWT {
		errInvalidRequest("subject_token_type " + subjType + " is not supported (want " + tokenTypeAccess + ")").write(w)
		return
	}
	if rt := f.Get("requested_token_type"); rt != "" && rt != tokenTypeAccess && rt != tokenTypeJWT {
		errInvalidRequest("requested_token_type " + rt + " is not supported").write(w)
		return
	}
	sc, err := s.VerifyAccessToken(r, subj)
	if err != nil {
		errInvalidGrant("subject_token: " + err.Error()).write(w)
		return
	}
	if e := holdsBinding(r, "subject_token", sc); e != nil {
		e.write(w)
		return
	}
	if th := sc.DPoPThumb(); th != "" && !secretEqual(th, c.jkt) {
		errInvalidGrant("subject_token is DPoP-bound (cnf.jkt " + th + "); send the token exchange request with a proof signed by that key").write(w)
		return
	}
	act := map[string]any{"sub": c.ID}
	if at := f.Get("actor_token"); at != "" {
		if f.Get("actor_token_type") == "" {
			errInvalidRequest("actor_token_type is required with actor_token").write(w)
			return
		}
		ac, err := s.VerifyAccessToken(r, at)
		if err != nil {
			errInvalidGrant("actor_token: " + err.Error()).write(w)
			return
		}
		if e := holdsBinding(r, "actor_token", ac); e != nil {
			e.write(w)
			return
		}
		act["sub"] = ac.Sub
	}
	if len(sc.Act) > 0 {
		var prior any
		if json.Unmarshal(sc.Act, &prior) == nil {
			act["act"] = prior // RFC 8693 4.1: nested prior actors
		}
	}
	scope := sc.Scope
	if req := f.Get("scope"); req != "" {
		for _, s := range strings.Fields(req) {
			if !hasScope(sc.Scope, s) {
				(&oauthErr{http.StatusBadRequest, "invalid_scope", "scope " + s + " exceeds the subject token's scope", false}).write(w)
				return
			}
		}
		scope = strings.Join(strings.Fields(req), " ")
	}
	iss := s.issuerFor(r)
	aud := f.Get("audience")
	if aud == "" {
		aud = f.Get("resource")
	}
	if aud == "" {
		if a := sc.Audience(); len(a) > 0 {
			aud = a[0]
		} else {
			aud = iss + "/api"
		}
	}
	// A bound subject token stays bound: its holder proved the key above.
	cnf := sc.CertThumb()
	if cnf == "" {
		cnf = boundThumb(c)
	}
	g := grantCtx{iss: iss, client: c.clientInfo, sub: sc.Sub, scope: scope, aud: aud, cnf: cnf, jkt: c.jkt, act: jsonBytes(act)}
	tok, _, exp, err := s.issueAccess(fs, &g)
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	tokenResponse(w, tokenTypeFor(c), tok, exp, s.Now(), scope, "", "", tokenTypeAccess)
}

// clientOf authenticates the client of a parsed token-endpoint-style request
// and notes it for the event record; false when it has answered already.
func (s *Server) clientOf(w http.ResponseWriter, r *http.Request) (*authedClient, bool) {
	c, e := s.authenticateClient(r, s.endpointURL)
	if e != nil {
		e.write(w)
		return nil, false
	}
	note(w, c.ID, "")
	return c, true
}

// tokenForm parses an introspection or revocation request, authenticates its
// client and reads the token it names; false when it has answered already.
func (s *Server) tokenForm(w http.ResponseWriter, r *http.Request) (*authedClient, string, bool) {
	if e := parseForm(r); e != nil {
		e.write(w)
		return nil, "", false
	}
	c, ok := s.clientOf(w, r)
	if !ok {
		return nil, "", false
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		errInvalidRequest("token is missing").write(w)
		return nil, "", false
	}
	return c, tok, true
}
