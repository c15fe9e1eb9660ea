package mockidp

import (
	"net/http"
)

// grantPassword is the resource owner password credentials grant (RFC 6749
// 4.3) against the configured users. RFC 9700 2.4 forbids it; the IdP has
// it so legacy clients can be tested, and says so in a response header.
func (s *Server) grantPassword(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	if s.cfg.FAPI2 {
		(&oauthErr{http.StatusBadRequest, "unsupported_grant_type", "the password grant is not allowed (FAPI 2.0 Security Profile 5.3.2.2, RFC 9700 2.4)", false}).write(w)
		return
	}
	name, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	if name == "" || pass == "" {
		errInvalidRequest("username and password are required (RFC 6749 4.3.2)").write(w)
		return
	}
	u := s.users[name]
	if u == nil || u.Password == "" || !secretEqual(pass, u.Password) {
		secretEqual(pass, "x") // unknown users take as long as wrong passwords
		errInvalidGrant("wrong username or password").write(w)
		return
	}
	scope, e := s.checkScope(c.clientInfo, r.PostForm.Get("scope"), "")
	if e != nil {
		e.write(w)
		return
	}
	now := s.Now()
	st := s.st
	st.mu.Lock()
	res, e := s.reserveLocked(now, c.clientInfo, u.Username, scope, "", now, "")
	st.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	iss := s.issuerFor(r)
	g := grantCtx{iss: iss, client: c.clientInfo, sub: u.Sub, scope: scope, aud: s.audience(r, c.clientInfo, iss), authTime: now,
		cnf: boundThumb(c), jkt: c.jkt, user: u, jti: res.jti, acr: s.pickACR("", u)}
	tok, _, id, exp, err := s.issueUserTokens(fs, &g)
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	if c.Public {
		s.bindRefresh(res.refresh, c.jkt)
	}
	w.Header().Set("Warning", `299 authlab-mockidp "the password grant is forbidden by RFC 9700 2.4"`)
	tokenResponse(w, tokenTypeFor(c), tok, exp, now, scope, res.refresh, id, "")
}
