package mockidp

import (
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// authzParams are the authorization request parameters the IdP keeps.
var authzParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "login_hint", "max_age", "dpop_jkt",
	"response_mode", "request", "request_uri", "authorization_details", "acr_values"}

// Authorization request caps: every parameter the IdP keeps is copied into
// a pending login or a code, so their size is bounded before anything is
// stored.
const (
	maxAuthzRequest = 8 << 10 // the request URI, or a POST body
	maxAuthzParam   = 2 << 10 // any one parameter
)

// redirectAllowed matches a redirect URI exactly against the registered
// ones, after parsing it (see parseRedirect); only the port of a loopback
// http redirect may differ (RFC 8252 7.3).
func redirectAllowed(registered []string, got string) bool {
	gu, ok := parseRedirect(got)
	if !ok {
		return false
	}
	for _, reg := range registered {
		if reg == got {
			return true
		}
		ru, ok := parseRedirect(reg)
		if !ok || ru.Scheme != "http" || gu.Scheme != "http" || !isLoopbackHost(ru.Hostname()) {
			continue
		}
		if (ru.Port() == "" || ru.Port() == gu.Port()) && withoutPort(ru) == withoutPort(gu) {
			return true
		}
	}
	return false
}

// parseRedirect accepts an absolute URI without a fragment (not even an
// empty one, RFC 6749 3.1.2) or userinfo, with a port in 1..65535 written
// plainly, and only in the form it parses back to, so an escaped spelling
// (/%63allback) or an upper-case scheme never passes for the registered one.
func parseRedirect(raw string) (*url.URL, bool) {
	if strings.ContainsAny(raw, "#\\") {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.User != nil || u.Host == "" || u.String() != raw {
		return nil, false
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return nil, false
		}
	}
	return u, true
}

// withoutPort is u as a string with the port dropped from its authority.
func withoutPort(u *url.URL) string {
	c := *u
	c.Host = u.Hostname()
	if strings.Contains(c.Host, ":") {
		c.Host = "[" + c.Host + "]"
	}
	return c.String()
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// authzError sends an error to the client per RFC 6749 4.1.2.1 (with iss,
// RFC 9207), in the request's response mode.
func (s *Server) authzError(w http.ResponseWriter, r *http.Request, p map[string]string, code, desc string) {
	if rw, ok := w.(*recWriter); ok {
		rw.oerr = code
	}
	q := url.Values{"error": {code}, "error_description": {desc}, "iss": {s.issuerFor(r)}}
	if p["state"] != "" {
		q.Set("state", p["state"])
	}
	s.respond(w, r, p, q)
}

func appendQuery(u string, q url.Values) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + q.Encode()
}

// authzPage is an error the IdP must show itself, not redirect: the client
// or redirect_uri cannot be trusted (RFC 6749 4.1.2.1).
func authzPage(w http.ResponseWriter, status int, code, desc string) {
	if rw, ok := w.(*recWriter); ok {
		rw.oerr = code
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pageTmpl.Execute(w, pageData{Title: "Authorization error", Error: code + ": " + desc})
}

// authzFail is a refused authorization request: shown on a page when the
// client or its redirect_uri cannot be trusted, else sent to the client.
type authzFail struct {
	page       bool
	status     int
	code, desc string
}

func pageFail(status int, code, desc string) *authzFail {
	return &authzFail{page: true, status: status, code: code, desc: desc}
}

func redirectFail(code, desc string) *authzFail { return &authzFail{code: code, desc: desc} }

// readAuthzParams takes the parameters the IdP keeps, once each and each
// capped, from a parsed request.
func readAuthzParams(form url.Values) (map[string]string, *authzFail) {
	p := map[string]string{}
	for _, k := range authzParams {
		if len(form[k]) > 1 {
			return nil, pageFail(http.StatusBadRequest, "invalid_request", "parameter "+k+" appears more than once")
		}
		if v := form.Get(k); v != "" {
			if len(v) > maxAuthzParam && k != "request" {
				return nil, pageFail(http.StatusBadRequest, "invalid_request", "parameter "+k+" is longer than 2 KiB")
			}
			p[k] = v
		}
	}
	return p, nil
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if len(uri) > maxAuthzRequest {
		authzPage(w, http.StatusRequestURITooLong, "invalid_request", "authorization request URL longer than 8 KiB")
		return
	}
	if r.Method == http.MethodPost {
		if r.ContentLength > maxAuthzRequest {
			authzPage(w, http.StatusBadRequest, "invalid_request", "authorization request body larger than 8 KiB")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAuthzRequest)
	}
	if err := r.ParseForm(); err != nil {
		if tooLarge(err) {
			authzPage(w, http.StatusBadRequest, "invalid_request", "authorization request body larger than 8 KiB")
			return
		}
		authzPage(w, http.StatusBadRequest, "invalid_request", "cannot parse the request: "+err.Error())
		return
	}
	p, f := readAuthzParams(r.Form)
	if f != nil {
		authzPage(w, f.status, f.code, f.desc)
		return
	}
	note(w, p["client_id"], GrantAuthCode)
	c := s.clients[p["client_id"]]
	if c == nil {
		authzPage(w, http.StatusBadRequest, "invalid_request", "unknown client_id "+quoteOrNone(p["client_id"]))
		return
	}
	pushed := false
	switch {
	case p["request_uri"] != "":
		// RFC 9126 4: the pushed parameters replace the request's own.
		if p["request"] != "" {
			authzPage(w, http.StatusBadRequest, "invalid_request", "request and request_uri in one authorization request")
			return
		}
		inner, e := s.takePushed(p["request_uri"], c.ID)
		if e != nil {
			authzPage(w, e.status, e.code, e.desc)
			return
		}
		p, pushed = inner, true
	case p["request"] != "":
		// RFC 9101 5: only the request object's parameters count.
		inner, e := s.requestObjectParams(r, c, p)
		if e != nil {
			authzPage(w, e.status, e.code, e.desc)
			return
		}
		p = inner
	}
	if f := s.checkAuthzParams(c, p); f != nil {
		if f.page {
			authzPage(w, f.status, f.code, f.desc)
		} else {
			s.authzError(w, r, p, f.code, f.desc)
		}
		return
	}
	switch {
	case !pushed && s.requiresPAR(c):
		s.authzError(w, r, p, "invalid_request", "client "+c.ID+" must push its authorization request to the PAR endpoint first (require_pushed_authorization_requests)")
		return
	case !pushed && c.RequireSignedRequestObject && r.Form.Get("request") == "":
		s.authzError(w, r, p, "invalid_request", "client "+c.ID+" must send a signed request object (require_signed_request_object)")
		return
	}
	// Without --login the mock user is always signed in and always
	// consents, whatever prompt asks: headless runs never meet a page.
	if s.opts.Login {
		for _, pr := range strings.Fields(p["prompt"]) {
			if pr == "none" {
				s.authzError(w, r, p, "login_required", "prompt=none but this IdP asks for a login")
				return
			}
		}
		s.showLogin(w, r, p, "")
		return
	}
	user := s.cfg.DefaultUser
	if u := s.userByHint(p["login_hint"]); u != nil {
		user = u.Username // login_hint picks the user: username, sub or email
	}
	if user == "" || s.users[user] == nil {
		s.authzError(w, r, p, "login_required", "no default user configured")
		return
	}
	s.issueCode(w, r, c, p, user)
}

// checkAuthzParams checks an authorization request's parameters, for the
// authorization and the PAR endpoint alike. It may normalise
// code_challenge_method.
func (s *Server) checkAuthzParams(c *clientInfo, p map[string]string) *authzFail {
	redirect := p["redirect_uri"]
	if redirect == "" || !redirectAllowed(c.RedirectURIs, redirect) {
		return pageFail(http.StatusBadRequest, "invalid_request", "redirect_uri "+quoteOrNone(redirect)+" is not registered for client "+c.ID)
	}
	if m := p["response_mode"]; m != "" && !validResponseMode(m) {
		delete(p, "response_mode") // the error goes back by the default mode
		return redirectFail("invalid_request", "response_mode "+m+" is not supported (one of "+strings.Join(responseModes(), ", ")+")")
	}
	if p["response_type"] != "code" {
		return redirectFail("unsupported_response_type", "response_type must be code")
	}
	if !c.grants[GrantAuthCode] {
		return redirectFail("unauthorized_client", "client "+c.ID+" may not use the authorization code grant")
	}
	if _, e := s.checkScope(c, p["scope"], ""); e != nil {
		return redirectFail("invalid_scope", e.desc)
	}
	if f := s.fapiAuthzParams(p); f != nil {
		return f
	}
	if ch := p["code_challenge"]; ch != "" {
		m := p["code_challenge_method"]
		if m == "" {
			m = "plain" // RFC 7636 4.3 default
		}
		switch {
		case m == "S256":
		case m == "plain" && (s.cfg.AllowPlainPKCE || c.AllowPlainPKCE):
		case m == "plain":
			return redirectFail("invalid_request", "code_challenge_method plain is not allowed; use S256")
		default:
			return redirectFail("invalid_request", "code_challenge_method "+m+" is not supported")
		}
		if len(ch) < 43 || len(ch) > 128 {
			return redirectFail("invalid_request", "code_challenge must be 43 to 128 characters")
		}
		p["code_challenge_method"] = m
	} else if c.Public {
		return redirectFail("invalid_request", "PKCE is required for public clients: send code_challenge (S256)")
	}
	if j := p["dpop_jkt"]; j != "" && !validJKT(j) {
		return redirectFail("invalid_request", "dpop_jkt must be a base64url SHA-256 JWK thumbprint (43 characters, RFC 9449 10)")
	}
	if d := p["authorization_details"]; d != "" {
		norm, desc := s.checkDetails(d)
		if desc != "" {
			return redirectFail("invalid_authorization_details", desc)
		}
		p["authorization_details"] = norm
	}
	return nil
}

func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, c *clientInfo, p map[string]string, user string) {
	now := s.Now()
	code := randomToken(32)
	st := s.st
	ac := &authCode{ClientID: c.ID, RedirectURI: p["redirect_uri"], Scope: strings.Join(strings.Fields(p["scope"]), " "), Nonce: p["nonce"],
		Challenge: p["code_challenge"], Method: p["code_challenge_method"], User: user, AuthTime: now, Expires: now.Add(s.cfg.Lifetimes.Code.D()), DPoPJKT: p["dpop_jkt"],
		Details: p["authorization_details"], ACR: s.pickACR(p["acr_values"], s.users[user])}
	st.mu.Lock()
	ok := st.putCode(now, code, ac)
	st.mu.Unlock()
	if !ok {
		s.authzError(w, r, p, "temporarily_unavailable", "authorization code table full")
		return
	}
	q := url.Values{"code": {code}, "iss": {s.issuerFor(r)}}
	if p["state"] != "" {
		q.Set("state", p["state"])
	}
	s.respond(w, r, p, q)
}

const csrfCookie = "authlab_csrf"

// showLogin renders the login + consent page; the pending request waits
// under a random id, and the form carries a CSRF token that must match the
// cookie set here (double submit) and the pending request.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, p map[string]string, msg string) {
	now := s.Now()
	id, csrf := randomToken(16), randomToken(24)
	st := s.st
	st.mu.Lock()
	ok := st.putPending(now, &st.logins, id, &pendingLogin{Params: p, CSRF: csrf, Expires: now.Add(10 * time.Minute)})
	st.mu.Unlock()
	if !ok {
		s.authzError(w, r, p, "temporarily_unavailable", "authorization request too large to keep")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:")
	pageTmpl.Execute(w, pageData{Title: "Sign in to authlab mock IdP", Login: true, ID: id, CSRF: csrf, Client: p["client_id"], Scopes: strings.Fields(p["scope"]), Error: msg, Hint: p["login_hint"]})
}

func (s *Server) handleLoginPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		authzPage(w, http.StatusBadRequest, "invalid_request", "cannot parse the form")
		return
	}
	id, csrf := r.PostForm.Get("login_id"), r.PostForm.Get("csrf_token")
	if strings.HasPrefix(id, pendingPrefix) { // a pushed request shares the table; it is no form
		authzPage(w, http.StatusBadRequest, "invalid_request", "this login form expired or was already used; start the sign-in again")
		return
	}
	st := s.st
	st.mu.Lock()
	pl := st.logins.take(id) // single use, whatever the outcome
	st.mu.Unlock()
	ck, _ := r.Cookie(csrfCookie)
	if pl == nil || !s.Now().Before(pl.Expires) {
		authzPage(w, http.StatusBadRequest, "invalid_request", "this login form expired or was already used; start the sign-in again")
		return
	}
	if csrf == "" || ck == nil || !secretEqual(csrf, pl.CSRF) || !secretEqual(ck.Value, pl.CSRF) {
		authzPage(w, http.StatusForbidden, "access_denied", "CSRF token missing or wrong; start the sign-in again")
		return
	}
	p := pl.Params
	c := s.clients[p["client_id"]]
	if r.PostForm.Get("action") == "deny" {
		s.authzError(w, r, p, "access_denied", "the user denied the request")
		return
	}
	u := s.users[r.PostForm.Get("username")]
	if u == nil || u.Password == "" || !secretEqual(r.PostForm.Get("password"), u.Password) {
		s.showLogin(w, r, p, "Wrong username or password.")
		return
	}
	s.issueCode(w, r, c, p, u.Username)
}

type pageData struct {
	Title, Error, ID, CSRF, Client, Hint, UserCode, Message string
	Scopes                                                  []string
	Login, Device                                           bool
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width">
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem}
.err{color:#b00020}button{margin:.8rem .4rem 0 0;padding:.4rem 1rem}</style></head><body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Login}}<form method="post" action="/login" id="login">
<p><b>{{.Client}}</b> asks for: {{range .Scopes}}<code>{{.}}</code> {{end}}</p>
<input type="hidden" name="login_id" value="{{.ID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label for="username">Username</label><input type="text" id="username" name="username" value="{{.Hint}}" autocomplete="username">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
<button type="submit" name="action" value="approve" id="approve">Sign in and allow</button>
<button type="submit" name="action" value="deny" id="deny">Deny</button>
</form>{{end}}
{{if .Device}}<form method="post" action="/device" id="device">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="login_id" value="{{.ID}}">
<label for="user_code">Code shown on your device</label><input type="text" id="user_code" name="user_code" value="{{.UserCode}}">
<label for="username">Username</label><input type="text" id="username" name="username">
<label for="password">Password</label><input type="password" id="password" name="password">
<button type="submit" name="action" value="approve" id="approve">Allow</button>
<button type="submit" name="action" value="deny" id="deny">Deny</button>
</form>{{end}}
</body></html>`))
