package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
)

// CallbackPath is the only path the loopback listener serves.
const CallbackPath = "/callback"

// isProtectedParam: these may not be overridden with --param, they carry
// the flow's security (state, PKCE, nonce) or its wiring.
func isProtectedParam(k string) bool {
	switch k {
	case "state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri", "response_type", "client_id", "dpop_jkt":
		return true
	case "response_mode", "request", "request_uri", "authorization_details":
		return true // the listener and the PAR/JAR wiring depend on these: use their own settings
	}
	return false
}

// NewPKCE returns a fresh code verifier (32 bytes from crypto/rand, 43
// characters) and its S256 challenge (RFC 7636 4.1, 4.2).
func NewPKCE() (verifier, challenge string, err error) {
	verifier, err = randomString(32)
	if err != nil {
		return "", "", err
	}
	return verifier, S256Challenge(verifier), nil
}

// S256Challenge is BASE64URL(SHA256(ASCII(verifier))).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CallbackParams are the parameters of an authorization response.
type CallbackParams struct {
	Code             string
	State            string
	Iss              string
	Error            string
	ErrorDescription string
	ErrorURI         string
	// Response is a JARM response (response=<JWT>), before verification.
	Response string
}

// ParseCallbackQuery parses an authorization response query strictly:
// malformed escapes, and any parameter sent twice (RFC 6749 3.1), are
// errors rather than guesses.
func ParseCallbackQuery(raw string) (CallbackParams, error) {
	if len(raw) > 16<<10 {
		return CallbackParams{}, fmt.Errorf("the query is %d bytes; refusing more than 16 KiB", len(raw))
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return CallbackParams{}, fmt.Errorf("malformed query: %v", err)
	}
	var p CallbackParams
	for name, dst := range map[string]*string{"code": &p.Code, "state": &p.State, "iss": &p.Iss,
		"error": &p.Error, "error_description": &p.ErrorDescription, "error_uri": &p.ErrorURI, "response": &p.Response} {
		v := vals[name]
		if len(v) > 1 {
			return CallbackParams{}, fmt.Errorf("parameter %s appears %d times", name, len(v))
		}
		if len(v) == 1 {
			*dst = v[0]
		}
	}
	return p, nil
}

// callbackOutcome is what the listener hands back to the flow.
type callbackOutcome struct {
	params    CallbackParams
	err       *flows.Error // a final failure (OAuth error, iss mismatch, no code)
	delivered string       // query, fragment or form_post
	checks    []flows.Check
	jarm      string // a verified JARM response decoded (jarmOutcome.detail)
}

// callbackServer serves the redirect URI: it accepts exactly one valid
// authorization response and rejects everything else with a reason.
type callbackServer struct {
	state     string
	issuer    string // expected iss, when known
	issNeeded bool   // the server advertises RFC 9207: iss is mandatory
	fapi2     bool   // FAPI 2.0 requires iss whatever the metadata says
	port      int
	report    func(reason string) // a rejected request, for the observer
	// mode is the requested response_mode ("" = query). POSTs are taken
	// for form_post, and for fragment from the listener's own relay page.
	mode string
	// jarm verifies a JARM response; nil unless mode is a *.jwt one.
	jarm func(raw string) (jarmOutcome, string)

	mu         sync.Mutex
	done       bool
	lastReject string
	out        chan callbackOutcome // buffered 1
}

func newCallbackServer(state, issuer string, issNeeded bool, port int, report func(string)) *callbackServer {
	if report == nil {
		report = func(string) {}
	}
	return &callbackServer{state: state, issuer: issuer, issNeeded: issNeeded, port: port, report: report, out: make(chan callbackOutcome, 1)}
}

func isLoopbackHost(host string) bool {
	h := strings.Trim(host, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (cs *callbackServer) reject(w http.ResponseWriter, status int, reason string) {
	cs.mu.Lock()
	cs.lastReject = reason
	cs.mu.Unlock()
	cs.report(reason)
	page(w, status, "Request rejected", reason)
}

func (cs *callbackServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// The Host check stops DNS rebinding: a web page that points a name at
	// 127.0.0.1 must not be able to talk to this listener.
	host, port, err := net.SplitHostPort(req.Host)
	if err != nil {
		host, port = req.Host, ""
	}
	if !isLoopbackHost(host) || (cs.port != 0 && port != strconv.Itoa(cs.port)) {
		cs.reject(w, http.StatusForbidden, fmt.Sprintf("rejected a request for Host %q: this listener only answers its own loopback address", req.Host))
		return
	}
	if req.URL.Path != CallbackPath {
		page(w, http.StatusNotFound, "Not found", "This listener only serves the OAuth callback.")
		return
	}
	want := delivery(cs.mode)
	raw, delivered := req.URL.RawQuery, "query"
	switch {
	case req.Method == http.MethodPost && want != "query":
		if reason := cs.postProblem(req, want); reason != "" {
			cs.reject(w, http.StatusForbidden, reason)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 16<<10+1))
		if err != nil {
			cs.reject(w, http.StatusBadRequest, "rejected a form_post callback: the body is larger than 16 KiB or unreadable")
			return
		}
		raw, delivered = string(body), want
	case req.Method == http.MethodGet && want == "fragment" && req.URL.RawQuery == "":
		fragmentRelay(w) // the response is in the fragment, which only the page can read
		return
	case req.Method != http.MethodGet:
		only := "only GET is accepted"
		if want != "query" {
			only = "only GET and POST are accepted"
		}
		cs.reject(w, http.StatusMethodNotAllowed, fmt.Sprintf("rejected a %s callback: %s", req.Method, only))
		return
	}
	cs.mu.Lock()
	done := cs.done
	cs.mu.Unlock()
	if done {
		cs.reject(w, http.StatusConflict, "rejected a second callback: this login already completed")
		return
	}
	p, err := ParseCallbackQuery(raw)
	if err != nil {
		cs.reject(w, http.StatusBadRequest, "rejected a callback: "+err.Error())
		return
	}
	var jo *jarmOutcome
	if p.Response != "" && cs.jarm != nil {
		if p.Code != "" || p.State != "" || p.Error != "" {
			cs.reject(w, http.StatusBadRequest, "rejected a callback that carries both a JARM response and plain parameters")
			return
		}
		out, reason := cs.jarm(p.Response)
		if reason != "" {
			cs.reject(w, http.StatusBadRequest, "rejected "+reason)
			return
		}
		p, jo = out.params, &out
	}
	if p.State == "" {
		cs.reject(w, http.StatusBadRequest, "rejected a callback without state (not the answer to this login)")
		return
	}
	if subtle.ConstantTimeCompare([]byte(p.State), []byte(cs.state)) != 1 {
		cs.reject(w, http.StatusBadRequest, "rejected a callback whose state does not match this login (an old browser tab, or a forged request)")
		return
	}
	// From here the response answers our request: it ends the flow.
	var fe *flows.Error
	var checks []flows.Check
	var decoded string
	if jo != nil {
		checks, fe, decoded = jo.checks, jo.fail, jo.detail
	}
	switch {
	case fe != nil:
	case cs.jarm != nil && jo == nil:
		fe = flows.Errorf(flows.ErrProtocol, "authorization response: response_mode %s asks for a signed JARM response, but the server answered with plain parameters", cs.mode)
	case p.Iss != "" && cs.issuer != "" && p.Iss != cs.issuer:
		fe = flows.Errorf(flows.ErrProtocol, "authorization response: iss is %q, expected %q (RFC 9207: a mix-up attack, or the wrong issuer configured)", p.Iss, cs.issuer)
	case p.Iss == "" && cs.fapi2:
		fe = flows.Errorf(flows.ErrProtocol, "authorization response: no iss parameter, which %s requires (FAPI 2.0 Security Profile 5.3.2.2, RFC 9207 2)", flows.FieldFAPI2)
	case p.Iss == "" && cs.issNeeded:
		fe = flows.Errorf(flows.ErrProtocol, "authorization response: no iss parameter, though the server advertises authorization_response_iss_parameter_supported (RFC 9207 2.4)")
	case p.Error != "":
		fe = &flows.Error{Kind: flows.ErrOAuth, OAuthError: p.Error, OAuthDescription: p.ErrorDescription, OAuthURI: p.ErrorURI}
		fe.Message = "authorization: the server answered " + p.Error
		if p.ErrorDescription != "" {
			fe.Message += ": " + p.ErrorDescription
		}
		if p.ErrorURI != "" {
			fe.Message += " [see " + p.ErrorURI + "]"
		}
	case p.Code == "":
		fe = flows.Errorf(flows.ErrProtocol, "authorization response has neither code nor error")
	}
	cs.mu.Lock()
	if cs.done { // lost a race with a concurrent callback
		cs.mu.Unlock()
		cs.reject(w, http.StatusConflict, "rejected a second callback: this login already completed")
		return
	}
	cs.done = true
	cs.mu.Unlock()
	if delivered != want {
		checks = append(checks, flows.Check{Name: "response_mode", Status: flows.Warn,
			Detail: fmt.Sprintf("asked for response_mode %s, but the response came by %s", cs.mode, delivered)})
	} else if cs.mode != "" {
		checks = append(checks, flows.Check{Name: "response_mode", Status: flows.Pass, Detail: fmt.Sprintf("the response came by %s, as response_mode %s asks", delivered, cs.mode)})
	}
	cs.out <- callbackOutcome{params: p, err: fe, delivered: delivered, checks: checks, jarm: decoded}
	if fe != nil {
		page(w, http.StatusBadRequest, "Login failed", fe.Message+" — return to your terminal.")
		return
	}
	page(w, http.StatusOK, "Login complete", "authlab received the authorization response. You can close this tab and return to your terminal.")
}

// postProblem refuses a POST the mode does not explain: a form-encoded
// body always, and for fragment mode one from the relay page only (its
// own origin), so no other web page can post a response here.
func (cs *callbackServer) postProblem(req *http.Request, want string) string {
	ct, _, _ := strings.Cut(req.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return fmt.Sprintf("rejected a POST callback with content type %q: a form_post response is form-encoded", ct)
	}
	if want == "fragment" {
		// Sec-Fetch-Site is set by the browser alone; Origin by older ones.
		o := req.Header.Get("Origin")
		if o != "http://"+req.Host && req.Header.Get("Sec-Fetch-Site") != "same-origin" {
			return fmt.Sprintf("rejected a POST callback from origin %q: in fragment mode only the listener's own page posts here", o)
		}
	}
	return ""
}

// page answers the browser with a short, uncacheable page that leaks
// nothing through the Referer.
func page(w http.ResponseWriter, status int, title, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>authlab: %s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}

// listen opens the loopback listener(s): 127.0.0.1 (RFC 8252 7.3), plus
// [::1] on the same port for the localhost variant, because browsers may
// resolve localhost to either.
func (e *Engine) listen() ([]net.Listener, error) {
	if e.opts.Listener != nil {
		return []net.Listener{e.opts.Listener}, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(e.req.RedirectPort)))
	if err != nil {
		return nil, flows.Wrap(flows.ErrConfig, err, "callback listener on 127.0.0.1:%d: %v (is the port in use? try another %s)", e.req.RedirectPort, err, flows.FieldRedirectPort)
	}
	lns := []net.Listener{ln}
	if e.req.UseLocalhost {
		if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))); err == nil {
			lns = append(lns, ln6)
		}
	}
	return lns, nil
}

// AuthCode runs the authorization code grant with PKCE S256 through a
// loopback redirect and the user's browser.
func (e *Engine) AuthCode(ctx context.Context, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowAuthCode, obs)
	for k := range e.req.ExtraParams {
		if isProtectedParam(k) {
			return r.finish(flows.Errorf(flows.ErrConfig, "%s %s: authlab sets this parameter itself and will not override it", flows.FieldExtraParams, k))
		}
	}
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	if ep.Auth == "" {
		return r.finish(missingEndpoint("authorization", flows.FieldAuthURL))
	}
	authURL, err := url.Parse(ep.Auth)
	if err != nil {
		return r.finish(flows.Errorf(flows.ErrConfig, "authorization endpoint %q: %v", ep.Auth, err))
	}
	if err := e.responseModeChecks(r, m, ep); err != nil {
		return r.finish(err)
	}
	var details string
	if len(e.req.AuthorizationDetails) > 0 {
		if details, err = normaliseAuthorizationDetails(e.req.AuthorizationDetails); err != nil {
			return r.finish(err)
		}
	}
	if m != nil && len(m.CodeChallengeMethods) > 0 && !slices.Contains(m.CodeChallengeMethods, "S256") {
		r.res.AddCheck(flows.Check{Name: "pkce", Status: flows.Warn, Detail: fmt.Sprintf("the server advertises code_challenge_methods_supported %v without S256; sending S256 anyway", m.CodeChallengeMethods)})
	}

	state, err1 := randomString(24)
	nonce, err2 := randomString(24)
	verifier, challenge, err3 := NewPKCE()
	if err := errors.Join(err1, err2, err3); err != nil {
		return r.finish(flows.Errorf(flows.ErrConfig, "randomness: %v", err))
	}
	lns, err := e.listen()
	if err != nil {
		return r.finish(err)
	}
	port := lns[0].Addr().(*net.TCPAddr).Port
	host := "127.0.0.1"
	if e.req.UseLocalhost {
		host = "localhost"
	}
	redirectURI := fmt.Sprintf("http://%s:%d%s", host, port, CallbackPath)

	scopes := e.req.Scopes
	if len(scopes) == 0 && (m == nil || m.OIDC) {
		scopes = []string{"openid"}
	}
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", e.req.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", "S256")
	if e.dpop != nil {
		q.Set(dpop.ParamJKT, e.dpop.JKT()) // RFC 9449 10: bind the code to our key
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	openid := slices.Contains(scopes, "openid")
	if openid {
		q.Set("nonce", nonce)
	} else {
		nonce = ""
	}
	for _, res := range e.req.Resource {
		q.Add("resource", res)
	}
	for _, a := range e.req.Audience {
		q.Add("audience", a)
	}
	if e.req.ResponseMode != "" {
		q.Set("response_mode", e.req.ResponseMode)
	}
	if details != "" {
		q.Set("authorization_details", details)
	}
	addOIDCParams(q, &e.req) // prompt, login_hint, acr_values, max_age, claims, ...
	for k, vs := range e.req.ExtraParams {
		q[k] = append([]string(nil), vs...)
	}
	browserURL, err := e.authorizationRequest(ctx, r, ep, m, authURL, q)
	if err != nil {
		return r.finish(err)
	}
	r.res.AuthURL = browserURL

	issuer := e.expectedIssuer(m)
	issNeeded := m != nil && m.AuthorizationResponseISSParameter
	cs := newCallbackServer(state, issuer, issNeeded, port, func(reason string) { r.note("callback rejected", reason, false) })
	if e.opts.Listener != nil {
		cs.port = 0 // a test listener may sit behind another address
	}
	cs.mode = e.req.ResponseMode
	cs.fapi2 = e.req.FAPI2
	if isJARM(cs.mode) {
		ks := e.keySource(r, ep)
		cs.jarm = func(raw string) (jarmOutcome, string) { return e.verifyJARM(ctx, ks, issuer, raw) }
	}
	srv := &http.Server{Handler: cs, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: nil}
	for _, ln := range lns {
		go func(ln net.Listener) { _ = srv.Serve(ln) }(ln)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	wait := e.req.WaitOrDefault()
	var outcome callbackOutcome
	err = r.step("authorization", func() (string, error) {
		e.openBrowser(ctx, r, browserURL)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case outcome = <-cs.out:
		case <-ctx.Done():
			return "", flows.Wrap(flows.ErrCancelled, ctx.Err(), "authorization: cancelled while waiting for the browser (%v)", ctx.Err())
		case <-timer.C:
			cs.mu.Lock()
			last := cs.lastReject
			cs.mu.Unlock()
			msg := fmt.Sprintf("authorization: no valid callback on %s within %s", redirectURI, wait)
			if last != "" {
				return "", flows.Errorf(flows.ErrCancelled, "%s (%s); last %s", msg, flows.FieldWait, last)
			}
			return "", flows.Errorf(flows.ErrCancelled, "%s (%s)", msg, flows.FieldWait)
		}
		r.res.AddCheck(outcome.checks...)
		if outcome.err != nil {
			return "", outcome.err
		}
		detail := "callback received, state matches"
		if cs.mode != "" {
			detail = "callback received by " + outcome.delivered + ", state matches"
		}
		if outcome.params.Response != "" || isJARM(cs.mode) {
			detail += ", JARM response verified"
		}
		if outcome.params.Iss != "" {
			detail += ", iss matches"
		}
		return detail, nil
	})
	if outcome.jarm != "" {
		// After the step, failed or not: a rejected exp or aud is
		// easiest to read in the decoded response.
		r.note(stepJARM, outcome.jarm, outcome.err == nil)
	}
	if err != nil {
		return r.finish(err)
	}

	form := url.Values{"grant_type": {"authorization_code"}, "code": {outcome.params.Code},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	if details != "" {
		form.Set("authorization_details", details) // RFC 9396 6.1
	}
	tr, err := e.postToken(ctx, r, ep, m, form, nonce)
	if err != nil {
		return r.finish(err)
	}
	if details != "" {
		r.res.AddCheck(grantedDetailsCheck(details, tr))
	}
	r.res.AddCheck(scopeCheck(e.req.Scopes, tr))
	if openid && tr.IDToken == "" {
		r.res.AddCheck(flows.Check{Name: "id_token", Status: flows.Fail, Detail: "the openid scope was requested but the token response has no id_token (OIDC Core 3.1.3.3)"})
	}
	return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
}

// openBrowser opens the authorization URL: the OpenURL option, else the
// Browser command ($BROWSER) or the system browser (flows.OpenBrowser).
// With NoBrowser, or when opening fails, the URL is reported for the user
// to open.
func (e *Engine) openBrowser(ctx context.Context, r *run, u string) {
	if e.req.NoBrowser {
		r.note(flows.StepOpenURL, u, true)
		return
	}
	var err error
	if e.opts.OpenURL != nil {
		err = e.opts.OpenURL(ctx, u)
	} else {
		err = flows.OpenBrowser(e.req.Browser, u)
	}
	if err != nil {
		r.note(flows.StepOpenURL, fmt.Sprintf("could not start a browser (%v); open it yourself: %s", err, u), true)
		return
	}
	r.note(flows.StepBrowserOpened, u, true)
}
