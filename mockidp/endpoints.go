package mockidp

import (
	hmacsig "authlab/flows/hmac"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// userCodeAlphabet avoids vowels and look-alikes (RFC 8628 6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return string(out)
}

func normUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) == 8 {
		return s[:4] + "-" + s[4:]
	}
	return s
}

func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(r); e != nil {
		e.write(w)
		return
	}
	note(w, r.PostForm.Get("client_id"), GrantDeviceCode)
	c, e := s.authenticateClient(r, s.endpointURL)
	if e != nil {
		e.write(w)
		return
	}
	if !c.grants[GrantDeviceCode] {
		(&oauthErr{http.StatusBadRequest, "unauthorized_client", "client " + c.ID + " may not use the device grant", false}).write(w)
		return
	}
	scope, e := s.checkScope(c.clientInfo, r.PostForm.Get("scope"), "")
	if e != nil {
		e.write(w)
		return
	}
	now := s.Now()
	dc, uc := randomToken(32), newUserCode()
	interval := s.cfg.Lifetimes.DevicePollInterval.D()
	if interval <= 0 {
		interval = 5 * time.Second
	}
	life := s.cfg.Lifetimes.DeviceCode.D()
	st := s.st
	st.mu.Lock()
	if !st.room(now, func() int { return len(st.devices) }) {
		st.mu.Unlock()
		(&oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "device code table full", false}).write(w)
		return
	}
	for st.userCodes[uc] != "" {
		uc = newUserCode()
	}
	st.devices[dc] = &deviceGrant{ClientID: c.ID, Scope: scope, UserCode: uc, Expires: now.Add(life), Interval: interval}
	st.userCodes[uc] = dc
	st.mu.Unlock()
	iss := s.issuerFor(r)
	writeJSON(w, 200, jsonBytes(map[string]any{
		"device_code": dc, "user_code": uc,
		"verification_uri":          iss + "/device",
		"verification_uri_complete": iss + "/device?user_code=" + url.QueryEscape(uc),
		"expires_in":                int(life / time.Second), "interval": int(interval / time.Second),
	}))
}

// ApproveDevice approves (or denies) a pending device authorization as
// username, as the /device page does; for tests and the TUI.
func (s *Server) ApproveDevice(userCode, username string, approve bool) error {
	if s.users[username] == nil && approve {
		return fmt.Errorf("unknown user %q", username)
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.devices[st.userCodes[normUserCode(userCode)]]
	if d == nil || !s.Now().Before(d.Expires) {
		return errors.New("unknown or expired user code")
	}
	if d.User != "" || d.Denied {
		return errors.New("this code was already answered")
	}
	if approve {
		d.User = username
		d.ApprovedAt = s.Now()
	} else {
		d.Denied = true
	}
	return nil
}

func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	page := func(status int, d pageData) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.WriteHeader(status)
		pageTmpl.Execute(w, d)
	}
	form := func(uc, msg string) {
		id, csrf := randomToken(16), randomToken(24)
		st := s.st
		now := s.Now()
		st.mu.Lock()
		st.putPending(now, &st.devForms, id, &pendingLogin{CSRF: csrf, Expires: now.Add(10 * time.Minute)})
		st.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		page(200, pageData{Title: "Device sign-in", Device: true, ID: id, CSRF: csrf, UserCode: uc, Error: msg})
	}
	if r.Method == http.MethodGet {
		form(r.URL.Query().Get("user_code"), "")
		return
	}
	if err := r.ParseForm(); err != nil {
		page(400, pageData{Title: "Device sign-in", Error: "cannot parse the form"})
		return
	}
	id, csrf := r.PostForm.Get("login_id"), r.PostForm.Get("csrf_token")
	st := s.st
	st.mu.Lock()
	pl := st.devForms.take(id)
	st.mu.Unlock()
	ck, _ := r.Cookie(csrfCookie)
	if pl == nil || csrf == "" || ck == nil || !secretEqual(csrf, pl.CSRF) || !secretEqual(ck.Value, pl.CSRF) {
		page(403, pageData{Title: "Device sign-in", Error: "CSRF token missing or wrong; reload the page"})
		return
	}
	uc := r.PostForm.Get("user_code")
	approve := r.PostForm.Get("action") != "deny"
	username := r.PostForm.Get("username")
	if approve {
		u := s.users[username]
		if u == nil || u.Password == "" || !secretEqual(r.PostForm.Get("password"), u.Password) {
			form(uc, "Wrong username or password.")
			return
		}
	}
	if err := s.ApproveDevice(uc, username, approve); err != nil {
		form(uc, err.Error())
		return
	}
	msg := "Device approved. You can return to your device."
	if !approve {
		msg = "Request denied."
	}
	page(200, pageData{Title: "Device sign-in", Message: msg})
}

// bearerToken extracts an RFC 6750 bearer token (header, or form body).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", true // present but malformed
		}
		return strings.TrimSpace(tok), true
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			if t := r.PostForm.Get("access_token"); t != "" {
				return t, true
			}
		}
	}
	return "", false
}

// bearerError answers per RFC 6750 3.
func bearerError(w http.ResponseWriter, status int, code, desc, scope string) {
	v := `Bearer realm="authlab-mockidp"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + strings.ReplaceAll(desc, `"`, `'`) + `"`
	}
	if scope != "" {
		v += `, scope="` + scope + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	w.Header().Add("WWW-Authenticate", `DPoP algs="`+dpopAlgsString()+`"`) // DPoP is accepted too
	if code == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"error":"unauthorized","error_description":"` + strings.ReplaceAll(desc, `"`, `'`) + `"}`))
		return
	}
	writeOAuthError(w, status, code, desc)
}

// BearerClaims authenticates a resource request: a valid access token from
// this IdP, holding scope (when not ""), presented with the certificate it
// is bound to (RFC 8705 3) when bound, or with a bound certificate when
// requireBound. On failure it has already answered per RFC 6750.
func (s *Server) BearerClaims(w http.ResponseWriter, r *http.Request, scope string, requireBound bool) (*AccessClaims, bool) {
	tok, present := bearerToken(r)
	dtok, isDPoP := dpopAuthorization(r) // RFC 9449 7.1: Authorization: DPoP + proof
	if isDPoP {
		tok, present = dtok, true
	}
	if !present {
		bearerError(w, http.StatusUnauthorized, "", "a bearer access token is required", scope)
		return nil, false
	}
	if tok == "" {
		bearerError(w, http.StatusUnauthorized, "invalid_request", "Authorization header is not 'Bearer TOKEN'", "")
		return nil, false
	}
	c, err := s.VerifyAccessToken(r, tok)
	if err == nil {
		err = s.resourceToken(r, tok) // aud, nbf, iat, lifetime: what a resource checks
	}
	if err != nil {
		bearerError(w, http.StatusUnauthorized, "invalid_token", err.Error(), "")
		return nil, false
	}
	note(w, c.ClientID, "")
	if !s.dpopBinding(w, r, c, tok, isDPoP) {
		return nil, false
	}
	if th := c.CertThumb(); th != "" || requireBound {
		if th == "" {
			bearerError(w, http.StatusUnauthorized, "invalid_token", "token is not certificate-bound (no cnf.x5t#S256)", "")
			return nil, false
		}
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			bearerError(w, http.StatusUnauthorized, "invalid_token", "token is bound to a client certificate; present it over TLS", "")
			return nil, false
		}
		if !secretEqual(th, thumbOf(r)) {
			bearerError(w, http.StatusUnauthorized, "invalid_token", "client certificate does not match the token's cnf.x5t#S256", "")
			return nil, false
		}
	}
	if scope != "" && !c.HasScope(scope) {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "token lacks scope "+scope, scope)
		return nil, false
	}
	return c, true
}

func thumbOf(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return ""
	}
	return (&authedClient{cert: r.TLS.PeerCertificates[0]}).certThumb()
}

func (s *Server) handleHello(w http.ResponseWriter, r *http.Request) {
	c, ok := s.BearerClaims(w, r, "api:read", false)
	if !ok {
		return
	}
	writeJSON(w, 200, jsonBytes(map[string]any{"message": "hello, " + c.Sub, "sub": c.Sub, "client_id": c.ClientID, "scope": c.Scope}))
}

// handleHMACResource runs after the HMAC middleware accepted the signature.
func (s *Server) handleHMACResource(w http.ResponseWriter, r *http.Request) {
	keyID := ""
	if res, ok := hmacsig.ResultFromContext(r.Context()); ok {
		keyID = res.KeyID
	}
	writeJSON(w, 200, jsonBytes(map[string]any{"message": "hello, signed request", "verified": true, "keyid": keyID}))
}

func (s *Server) handleMTLSResource(w http.ResponseWriter, r *http.Request) {
	c, ok := s.BearerClaims(w, r, "", true)
	if !ok {
		return
	}
	writeJSON(w, 200, jsonBytes(map[string]any{"message": "hello over mTLS, " + c.Sub, "sub": c.Sub, "client_id": c.ClientID, "x5t#S256": c.CertThumb()}))
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	c, ok := s.BearerClaims(w, r, "openid", false)
	if !ok {
		return
	}
	var u *User
	for i := range s.cfg.Users {
		if s.cfg.Users[i].Sub == c.Sub {
			u = &s.cfg.Users[i]
		}
	}
	if u == nil {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "token subject is not a user (client credentials tokens have no userinfo)", "")
		return
	}
	m := map[string]any{"sub": u.Sub}
	addProfileClaims(m, u, c.Scope)
	writeJSON(w, 200, jsonBytes(m))
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	c, tok, ok := s.tokenForm(w, r)
	if !ok {
		return
	}
	if c.Public {
		errInvalidClient("public clients may not introspect (RFC 7662 2.1)").write(w)
		return
	}
	now := s.Now()
	if strings.HasPrefix(tok, "rt_") {
		st := s.st
		st.mu.Lock()
		rt := st.refresh[tok]
		var out []byte
		if rt != nil && !rt.Used && now.Before(rt.Expires) && st.families[rt.Family] != nil && !st.families[rt.Family].Revoked {
			m := map[string]any{"active": true, "token_type": "refresh_token", "client_id": rt.ClientID, "scope": rt.Scope, "exp": rt.Expires.Unix(), "iss": s.issuerFor(r)}
			if u := s.users[rt.User]; u != nil {
				m["sub"] = u.Sub
				m["username"] = u.Username
			}
			out = jsonBytes(m)
		}
		st.mu.Unlock()
		if out == nil {
			out = []byte(`{"active":false}`)
		}
		writeJSON(w, 200, out)
		return
	}
	ac, err := s.VerifyAccessToken(r, tok)
	if err != nil {
		writeJSON(w, 200, []byte(`{"active":false}`))
		return
	}
	m := map[string]any{"active": true, "token_type": "Bearer", "iss": ac.Iss, "sub": ac.Sub, "client_id": ac.ClientID, "scope": ac.Scope,
		"jti": ac.Jti, "iat": ac.Iat, "exp": ac.Exp, "aud": json.RawMessage(ac.Aud)}
	if th := ac.CertThumb(); th != "" {
		m["cnf"] = map[string]string{"x5t#S256": th}
	}
	if jkt := ac.DPoPThumb(); jkt != "" {
		cnf, _ := m["cnf"].(map[string]string)
		if cnf == nil {
			cnf = map[string]string{}
		}
		cnf["jkt"] = jkt
		m["cnf"], m["token_type"] = cnf, "DPoP"
	}
	if len(ac.Act) > 0 {
		m["act"] = ac.Act
	}
	if len(ac.AuthorizationDetails) > 0 {
		m["authorization_details"] = ac.AuthorizationDetails // RFC 9396 9.2
	}
	writeJSON(w, 200, jsonBytes(m))
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	c, tok, ok := s.tokenForm(w, r)
	if !ok {
		return
	}
	now := s.Now()
	st := s.st
	st.mu.Lock()
	if rt := st.refresh[tok]; rt != nil {
		if rt.ClientID == c.ID {
			// RFC 7009 2.1: revoking a refresh token revokes its grant.
			s.revokeFamilyLocked(now, rt.Family)
			delete(st.refresh, tok)
		}
		st.mu.Unlock()
		w.WriteHeader(200)
		return
	}
	st.mu.Unlock()
	if ac, err := s.parseAccessToken(r, tok); err == nil && ac.ClientID == c.ID {
		st.mu.Lock()
		ok := st.room(now, func() int { return len(st.revoked) })
		if ok {
			st.revoked[ac.Jti] = time.Unix(ac.Exp, 0).Add(time.Minute)
		}
		st.mu.Unlock()
		if !ok {
			// RFC 7009 2.2.1: the client may retry later.
			(&oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "revocation list full", false}).write(w)
			return
		}
	}
	// RFC 7009 2.2: unknown or foreign tokens still get 200.
	w.WriteHeader(200)
}

func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	post := q.Get("post_logout_redirect_uri")
	if post == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		pageTmpl.Execute(w, pageData{Title: "Signed out", Message: "You are signed out of the authlab mock IdP."})
		return
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		if j, err := parseJWS(q.Get("id_token_hint")); err == nil {
			var cl struct {
				Aud json.RawMessage `json:"aud"`
			}
			if json.Unmarshal(j.Payload, &cl) == nil {
				if a := audList(cl.Aud); len(a) > 0 {
					clientID = a[0]
				}
			}
		}
	}
	c := s.clients[clientID]
	if c == nil || !redirectAllowed(c.RedirectURIs, post) {
		authzPage(w, http.StatusBadRequest, "invalid_request", "post_logout_redirect_uri is not registered for client "+quoteOrNone(clientID))
		return
	}
	v := url.Values{}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	target := post
	if len(v) > 0 {
		target = appendQuery(post, v)
	}
	http.Redirect(w, r, target, http.StatusFound)
}
