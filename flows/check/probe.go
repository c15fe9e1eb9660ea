package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"authlab/flows"
	"authlab/flows/oauth"
)

// Skip is a probe that could not be judged; its detail says why.
const Skip flows.Status = "skip"

// Probe item names.
const (
	ProbeNoPAR       = "request without PAR"
	ProbePKCEMissing = "request without PKCE"
	ProbePKCEPlain   = "PKCE plain"
	ProbeRedirect    = "redirect_uri mismatch"
	ProbeCodeReuse   = "code redeemed twice"
	ProbeIss         = "iss in the authorization response"
	ProbeRequestURI  = "request_uri lifetime"
	ProbeDPoPNonce   = "DPoP nonce"
)

// mismatchPath is appended to the client's redirect_uri for the mismatch
// probe: a sub-path, which a server comparing prefixes lets through.
const mismatchPath = "/authlab-check-mismatch"

// authzKeep are the authorization request parameters the without-PAR probe
// resends: everything but client authentication.
var authzKeep = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "dpop_jkt", "resource", "audience", "prompt", "login_hint",
	"acr_values", "max_age", "claims", "ui_locales", "authorization_details"}

// prober runs the behaviour probes for one client: authorization code
// runs of the engine, some with one authorization parameter changed.
type prober struct {
	c       *checker
	rec     *recorder
	eng     *oauth.Engine
	hc      *http.Client // the authorization endpoint and the loopback listener; no redirects followed
	timeout time.Duration
	issuer  string // the metadata's issuer: the iss an authorization response must carry
	authz   string
	par     string
	secrets flows.Secrets

	mu   sync.Mutex
	open func(u string) // the current run's browser

	responses []answer // every authorization response that reached the client, in order
}

// run is one engine run in progress, as its browser sees it.
type run struct {
	ctx    context.Context
	cancel context.CancelFunc
	mark   int
	p      *prober

	mu       sync.Mutex
	rejected string // the engine's listener's last "callback rejected" reason
}

func (r *run) rejection() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// seen is what the run sent so far.
func (r *run) seen() []exchange { return r.p.rec.since(r.mark) }

// params are the run's authorization parameters: the pushed form, else
// the browser URL's query.
func (r *run) params(browserURL string) url.Values {
	if ex := last(r.seen(), kindPAR); ex != nil && ex.form != nil {
		return ex.form
	}
	u, err := url.Parse(browserURL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// probe runs the behaviour probes and adds their items. An error is a
// configuration the engine refuses.
func (c *checker) probe(ctx context.Context, o Options, base http.RoundTripper) error {
	req := o.Probe.Clone()
	req.Flow = flows.FlowAuthCode
	req.Issuer = strings.TrimRight(o.Issuer, "/")
	p := &prober{c: c, timeout: o.Timeout, issuer: c.str("issuer"), authz: c.str("authorization_endpoint"),
		par: c.str("pushed_authorization_request_endpoint")}
	if p.timeout <= 0 {
		p.timeout = flows.DefaultTimeout
	}
	// The probes send query responses and change plain parameters, so no
	// request object and no other response mode; PAR whenever there is an
	// endpoint, so that the without-PAR probe has a pushed control.
	req.RequestObject, req.ResponseMode = false, ""
	req.PAR = p.par != ""
	req.NoBrowser = false
	req.Timeout = p.timeout
	req.Wait = p.timeout
	p.secrets.AddRequest(&req)
	p.rec = &recorder{base: base, secrets: &p.secrets}
	p.hc = &http.Client{Transport: p.rec, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	eng, err := oauth.New(req, oauth.Options{Transport: p.rec, OpenURL: p.openURL})
	if err != nil {
		return err
	}
	defer eng.Close()
	p.eng = eng
	if p.authz == "" {
		for _, n := range []string{ProbeNoPAR, ProbePKCEMissing, ProbePKCEPlain, ProbeRedirect, ProbeCodeReuse, ProbeIss, ProbeRequestURI} {
			c.add(n, Skip, p.ref(n), "the metadata names no authorization_endpoint")
		}
		p.dpopNonce(p.rec.since(0))
		return nil
	}
	p.all(ctx)
	return nil
}

// openURL is the engine's browser: the current run's.
func (p *prober) openURL(_ context.Context, u string) error {
	p.mu.Lock()
	f := p.open
	p.mu.Unlock()
	if f == nil {
		return errors.New("no probe is running")
	}
	f(u)
	return nil
}

// authCode runs the engine's authorization code flow with browse as the
// browser and rewrites applied to the run's PAR or token request.
func (p *prober) authCode(ctx context.Context, browse func(r *run, u string), rewrites map[string]func(url.Values)) (*flows.Result, []exchange) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{ctx: rctx, cancel: cancel, mark: p.rec.mark(), p: p}
	p.mu.Lock()
	p.open = func(u string) { browse(r, u) }
	p.mu.Unlock()
	p.rec.setRewrite(rewrites)
	// The listener reports a refused callback as a step, from its goroutine.
	obs := flows.ObserverFuncs{OnStep: func(ev flows.StepEvent) {
		if ev.Name == "callback rejected" {
			r.mu.Lock()
			r.rejected = ev.Detail
			r.mu.Unlock()
		}
	}}
	res := p.eng.AuthCode(rctx, obs)
	p.rec.setRewrite(nil)
	p.mu.Lock()
	p.open = nil
	p.mu.Unlock()
	return res, p.rec.since(r.mark)
}

// answer is how the authorization endpoint answered one request.
type answer struct {
	sent     bool
	err      error
	status   int
	toClient bool       // a redirect to the redirect_uri that was sent
	params   url.Values // that redirect's parameters
	location string     // any other redirect's target (scheme, host, path)
}

func (a answer) code() bool { return a.toClient && a.params.Get("code") != "" }
func (a answer) refused() bool {
	if a.err != nil {
		return false
	}
	if a.toClient {
		return a.params.Get("error") != "" && aboutTheRequest(a.params.Get("error"))
	}
	return a.status >= 400 && a.status < 500 && a.status != http.StatusTooManyRequests
}

// aboutTheRequest: an OAuth error that can be the answer to a changed
// parameter, not to the client's credentials, a DPoP nonce or an outage.
func aboutTheRequest(code string) bool {
	switch code {
	case "invalid_client", "unauthorized_client", "use_dpop_nonce", "invalid_dpop_proof", "server_error", "temporarily_unavailable", "slow_down":
		return false
	}
	return true
}

// interactive: a page, or a redirect elsewhere (a sign-in page).
func (a answer) interactive() bool {
	return a.sent && a.err == nil && !a.toClient && a.status < 400
}

// drive sends the browser's GET to the authorization endpoint and reads
// the answer without following it.
func (p *prober) drive(ctx context.Context, target, redirectURI string) answer {
	a := answer{sent: true}
	resp, err := p.get(ctx, target, "text/html")
	if err != nil {
		a.err = err
		return a
	}
	a.status = resp.StatusCode
	loc := resp.Header.Get("Location")
	if loc == "" || a.status < 300 || a.status > 399 {
		return a
	}
	tu, _ := url.Parse(target) // get parsed it already
	lu, err := tu.Parse(loc)
	if err != nil {
		a.location = "an unparsable Location"
		return a
	}
	bare := *lu
	bare.RawQuery, bare.Fragment, bare.RawFragment = "", "", ""
	if redirectURI != "" && bare.String() == redirectURI {
		a.toClient = true
		a.params = lu.Query()
		if frag, err := url.ParseQuery(lu.Fragment); err == nil {
			for k, vs := range frag {
				a.params[k] = vs
			}
		}
		p.secrets.Add(a.params.Get("code"))
		p.responses = append(p.responses, a)
		return a
	}
	a.location = bare.String()
	return a
}

// describe says what the answer was, masked.
func (p *prober) describe(a answer) string {
	switch {
	case !a.sent:
		return "no authorization request was sent"
	case a.err != nil:
		return "the authorization request failed: " + p.secrets.Mask(a.err.Error())
	case a.code():
		return fmt.Sprintf("HTTP %d to the redirect_uri with a code", a.status)
	case a.toClient && a.params.Get("error") != "":
		return fmt.Sprintf("HTTP %d to the redirect_uri with %s", a.status, p.oauthErr(a.params.Get("error"), a.params.Get("error_description")))
	case a.toClient:
		return fmt.Sprintf("HTTP %d to the redirect_uri with neither code nor error", a.status)
	case a.location != "":
		return fmt.Sprintf("HTTP %d to %s", a.status, p.secrets.Mask(a.location))
	}
	return fmt.Sprintf("an HTTP %d page", a.status)
}

func (p *prober) oauthErr(code, desc string) string {
	if code == "" {
		code = "no error code"
	}
	s := "error=" + code
	if desc != "" {
		s += " (" + flows.Snippet([]byte(desc), 160) + ")"
	}
	return p.secrets.Mask(s)
}

// parAnswer describes a push that was not accepted ("" when it was), and
// whether the refusal can be about the request's parameters.
func (p *prober) parAnswer(ex *exchange) (desc string, refused bool) {
	if ex == nil || ex.err != nil || ex.status < 400 {
		return "", false
	}
	e := errorBody(ex.body)
	desc = fmt.Sprintf("the PAR endpoint answered HTTP %d %s", ex.status, p.oauthErr(e.Error, e.Desc))
	return desc, ex.status < 500 && ex.status != http.StatusTooManyRequests && aboutTheRequest(e.Error)
}

// oauthError is an OAuth error response body (RFC 6749 5.2).
type oauthError struct {
	Error string `json:"error"`
	Desc  string `json:"error_description"`
}

// errorBody reads an error response; a body that is not one reads as empty.
func errorBody(b []byte) oauthError {
	var e oauthError
	_ = json.Unmarshal(b, &e)
	return e
}

// deliver hands an authorization response to the engine's loopback
// listener, as the browser would after the redirect.
func (p *prober) deliver(ctx context.Context, target string) error {
	resp, err := p.get(ctx, target, "")
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("the callback listener refused the response (HTTP %d)", resp.StatusCode)
	}
	return nil
}

// get sends a browser's GET without following a redirect, bounded by the
// timeout, and drains the answer: status and headers are what count.
func (p *prober) get(ctx context.Context, target, accept string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		hr.Header.Set("Accept", accept)
	}
	resp, err := p.hc.Do(hr)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp, nil
}

// control is the client's own, unchanged authorization request: the
// probes that expect a refusal mean something only when it was accepted.
type control struct {
	ans      answer
	params   url.Values
	res      *flows.Result
	exs      []exchange
	redeemed *exchange // the successful token request
	rejected string    // why the engine's listener refused the response, if it did
}

// accepted: a code, or a page asking the user to sign in.
func (c *control) accepted() bool { return c.ans.code() || c.ans.interactive() }

// why says why the control was not accepted.
func (p *prober) why(c *control) string {
	if c.ans.sent {
		return "the client's own authorization request was not accepted (" + p.describe(c.ans) + ")"
	}
	return "the client's own authorization request could not be made: " + c.res.Reason()
}

func (p *prober) all(ctx context.Context) {
	ctl := p.control(ctx)
	p.codeReuse(ctx, ctl) // first: the code is young
	p.noPAR(ctx, ctl)
	p.refusal(ctx, ctl, ProbePKCEMissing, "issued a code for a request without code_challenge", func(f url.Values) {
		f.Del("code_challenge")
		f.Del("code_challenge_method")
	})
	p.refusal(ctx, ctl, ProbePKCEPlain, "issued a code for code_challenge_method plain", func(f url.Values) {
		v, _, _ := oauth.NewPKCE()
		f.Set("code_challenge", v) // plain: the challenge is the verifier
		f.Set("code_challenge_method", "plain")
	})
	p.refusal(ctx, ctl, ProbeRedirect, "", func(f url.Values) {
		f.Set("redirect_uri", f.Get("redirect_uri")+mismatchPath)
	})
	p.iss(ctl)
	p.requestURI(ctl)
	p.dpopNonce(p.rec.since(0))
}

// control runs the unchanged flow: push, authorize, redeem.
func (p *prober) control(ctx context.Context) *control {
	ctl := &control{}
	ctl.res, ctl.exs = p.authCode(ctx, func(r *run, u string) {
		ctl.params = r.params(u)
		ctl.ans = p.drive(r.ctx, u, ctl.params.Get("redirect_uri"))
		if !ctl.ans.code() {
			r.cancel()
			return
		}
		q := url.Values{}
		for _, k := range []string{"code", "state", "iss"} {
			if v := ctl.ans.params.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		// A refused callback leaves the engine waiting for another: stop
		// it. A response it judged (an error, no iss) ends the run itself.
		if err := p.deliver(r.ctx, ctl.params.Get("redirect_uri")+"?"+q.Encode()); err != nil {
			if why := r.rejection(); why != "" {
				ctl.rejected = p.secrets.Mask(why)
				r.cancel()
			}
		}
	}, nil)

	if t := last(ctl.exs, kindToken); t != nil && t.err == nil && t.status == http.StatusOK {
		ctl.redeemed = t
	}
	return ctl
}

// judgeRefusal is the verdict on a changed request the server should refuse.
func (p *prober) judgeRefusal(name string, ctl *control, par *exchange, ans answer, res *flows.Result, bad flows.Status, accepted string) {
	ref := p.ref(name)
	parDesc, parRefused := p.parAnswer(par)
	switch {
	case !ctl.accepted():
		p.c.add(name, Skip, ref, "%s, so a refusal would prove nothing", p.why(ctl))
	case parDesc != "" && parRefused:
		p.c.add(name, flows.Pass, ref, "refused: %s", parDesc)
	case parDesc != "":
		p.c.add(name, Skip, ref, "%s, which says nothing about the change", parDesc)
	case ans.code():
		p.c.add(name, bad, ref, "%s: %s", accepted, p.describe(ans))
	case ans.refused():
		p.c.add(name, flows.Pass, ref, "refused: %s", p.describe(ans))
	case ans.interactive():
		p.c.add(name, Skip, ref, "needs an interactive login: the server answered %s, and whether it refuses after the sign-in cannot be seen", p.describe(ans))
	case !ans.sent && res != nil:
		p.c.add(name, Skip, ref, "the request was not sent: %s", res.Reason())
	default:
		p.c.add(name, Skip, ref, "%s", p.describe(ans))
	}
}

// noPAR sends the control's parameters straight to the authorization
// endpoint, without pushing them.
func (p *prober) noPAR(ctx context.Context, ctl *control) {
	name := ProbeNoPAR
	bad := p.c.status(flows.Fail, flows.Pass)
	accepted := p.c.pick("the server accepted an authorization request that was not pushed (FAPI 2.0 wants it refused)",
		"accepted (RFC 9700 does not require PAR)")
	if p.par == "" {
		// The control itself was not pushed: there is nowhere to push.
		if ctl.accepted() {
			p.c.add(name, bad, p.ref(name), "no PAR endpoint, and %s: %s", strings.TrimSuffix(accepted, " (FAPI 2.0 wants it refused)"), p.describe(ctl.ans))
			return
		}
		p.c.add(name, Skip, p.ref(name), "%s", p.why(ctl))
		return
	}
	if !ctl.accepted() || ctl.params == nil {
		p.c.add(name, Skip, p.ref(name), "%s, so a refusal would prove nothing", p.why(ctl))
		return
	}
	u, err := url.Parse(p.authz)
	if err != nil {
		p.c.add(name, Skip, p.ref(name), "authorization_endpoint %q: %v", p.authz, err)
		return
	}
	q := u.Query()
	for _, k := range authzKeep {
		if vs, ok := ctl.params[k]; ok {
			q[k] = vs
		}
	}
	u.RawQuery = q.Encode()
	ans := p.drive(ctx, u.String(), q.Get("redirect_uri"))
	if ans.code() && !p.c.fapi {
		p.c.add(name, flows.Pass, p.ref(name), "%s: %s", accepted, p.describe(ans))
		return
	}
	p.judgeRefusal(name, ctl, nil, ans, nil, bad, accepted)
}

// refusal runs the flow with one authorization parameter changed by
// mutate: in the pushed form, else in the browser URL.
func (p *prober) refusal(ctx context.Context, ctl *control, name, accepted string, mutate func(url.Values)) {
	if !ctl.accepted() {
		p.c.add(name, Skip, p.ref(name), "%s, so a refusal would prove nothing", p.why(ctl))
		return
	}
	var ans answer
	var rewrites map[string]func(url.Values)
	if p.par != "" {
		rewrites = map[string]func(url.Values){kindPAR: mutate}
	}
	res, exs := p.authCode(ctx, func(r *run, u string) {
		defer r.cancel()
		params := r.params(u)
		if p.par == "" {
			bu, err := url.Parse(u)
			if err != nil {
				return
			}
			params = bu.Query()
			mutate(params)
			bu.RawQuery = params.Encode()
			u = bu.String()
		}
		ans = p.drive(r.ctx, u, params.Get("redirect_uri"))
	}, rewrites)
	bad := p.c.status(flows.Fail, flows.Warn)
	if name == ProbeRedirect {
		// Any redirect to an unregistered URI is a failure: with a code it
		// hands the code over, with an error it is an open redirector.
		bad = flows.Fail
		if ans.toClient && !ans.code() {
			p.c.add(name, flows.Fail, p.ref(name), "the server redirected to the unregistered redirect_uri (…%s): %s; an open redirector (RFC 6749 4.1.2.1)", mismatchPath, p.describe(ans))
			return
		}
		accepted = "the server sent a code to an unregistered redirect_uri (…" + mismatchPath + "): it does not compare redirect URIs exactly"
	}
	p.judgeRefusal(name, ctl, last(exs, kindPAR), ans, res, bad, accepted)
}

// codeReuse redeems the control's code a second time: a fresh run of the
// engine (fresh client authentication and DPoP proof) whose callback gets
// the old code, with the old code_verifier and redirect_uri.
func (p *prober) codeReuse(ctx context.Context, ctl *control) {
	name := ProbeCodeReuse
	switch {
	case !ctl.ans.code() && ctl.ans.interactive():
		p.c.add(name, Skip, p.ref(name), "needs an interactive login: the server answered %s", p.describe(ctl.ans))
		return
	case !ctl.ans.code():
		p.c.add(name, Skip, p.ref(name), "no code to redeem: %s", p.why(ctl))
		return
	case ctl.redeemed == nil:
		why := ctl.res.Reason()
		if ctl.rejected != "" {
			why = "authlab's listener refused the response: " + ctl.rejected
		}
		p.c.add(name, Skip, p.ref(name), "the code was not redeemed, so a second redemption proves nothing: %s", why)
		return
	}
	first := ctl.redeemed.form
	res, exs := p.authCode(ctx, func(r *run, u string) {
		q := url.Values{"code": {first.Get("code")}, "state": {r.params(u).Get("state")}}
		if iss := ctl.ans.params.Get("iss"); iss != "" {
			q.Set("iss", iss)
		}
		if err := p.deliver(r.ctx, r.params(u).Get("redirect_uri")+"?"+q.Encode()); err != nil {
			r.cancel()
		}
	}, map[string]func(url.Values){kindToken: func(f url.Values) {
		f.Set("code", first.Get("code"))
		f.Set("code_verifier", first.Get("code_verifier"))
		f.Set("redirect_uri", first.Get("redirect_uri"))
	}})
	t := last(exs, kindToken)
	switch {
	case t == nil:
		p.c.add(name, Skip, p.ref(name), "the second redemption was not sent: %s", res.Reason())
	case t.err != nil:
		p.c.add(name, Skip, p.ref(name), "the second redemption failed in transit: %s", p.secrets.Mask(t.err.Error()))
	case t.status == http.StatusOK:
		p.c.add(name, flows.Fail, p.ref(name), "the server issued tokens again (HTTP 200) for a code it had already redeemed")
	case t.status >= 400:
		e := errorBody(t.body)
		p.c.add(name, flows.Pass, p.ref(name), "the second redemption was refused: HTTP %d %s", t.status, p.oauthErr(e.Error, e.Desc))
	default:
		p.c.add(name, Skip, p.ref(name), "the second redemption got HTTP %d, neither tokens nor an error", t.status)
	}
}

// iss checks the first authorization response that reached the client:
// the control's, else an error response of another probe (RFC 9207 2
// covers both).
func (p *prober) iss(ctl *control) {
	name := ProbeIss
	a := ctl.ans
	if !a.toClient && len(p.responses) > 0 {
		a = p.responses[0]
	}
	if !a.toClient {
		if a.interactive() {
			p.c.add(name, Skip, p.ref(name), "needs an interactive login: the server answered %s", p.describe(a))
			return
		}
		p.c.add(name, Skip, p.ref(name), "no authorization response reached the redirect_uri: %s", p.describe(a))
		return
	}
	got := a.params.Get("iss")
	switch {
	case got == "":
		p.c.add(name, p.c.status(flows.Fail, flows.Warn), p.ref(name), "the authorization response (%s) has no iss: the client cannot tell which server answered (mix-up)", p.describe(a))
	case got != p.issuer:
		p.c.add(name, flows.Fail, p.ref(name), "the authorization response's iss is %q, not the issuer %q", got, p.issuer)
	default:
		p.c.add(name, flows.Pass, p.ref(name), "the authorization response (%s) carries iss %s", p.describe(a), got)
	}
}

// requestURI judges the control's PAR response.
func (p *prober) requestURI(ctl *control) {
	name := ProbeRequestURI
	if p.par == "" {
		p.c.add(name, Skip, p.ref(name), "the metadata names no pushed_authorization_request_endpoint")
		return
	}
	ex := last(ctl.exs, kindPAR)
	if ex == nil || ex.err != nil || ex.status >= 300 {
		p.c.add(name, Skip, p.ref(name), "the client's pushed authorization request did not succeed: %s", ctl.res.Reason())
		return
	}
	var body struct {
		ExpiresIn *json.Number `json:"expires_in"`
	}
	dec := json.NewDecoder(bytes.NewReader(ex.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body.ExpiresIn == nil {
		p.c.add(name, flows.Fail, p.ref(name), "the PAR response (HTTP %d) has no numeric expires_in, which RFC 9126 2.2 requires", ex.status)
		return
	}
	n, err := body.ExpiresIn.Float64()
	switch {
	case err != nil || n <= 0:
		p.c.add(name, flows.Fail, p.ref(name), "expires_in %s: not a positive number of seconds", body.ExpiresIn)
	case n >= 600:
		p.c.add(name, p.c.status(flows.Fail, flows.Warn), p.ref(name), "expires_in %s s: a request_uri must live less than 600 s", body.ExpiresIn)
	default:
		p.c.add(name, flows.Pass, p.ref(name), "expires_in %s s", body.ExpiresIn)
	}
}

// dpopNonce judges the server nonce mechanism from every DPoP-proofed
// exchange of the probes.
func (p *prober) dpopNonce(exs []exchange) {
	name := ProbeDPoPNonce
	var proofed, offered int
	var demanded, retried []string
	for i, ex := range exs {
		if !ex.dpop || ex.err != nil {
			continue
		}
		proofed++
		nonce := ex.header.Get("DPoP-Nonce")
		if nonce != "" {
			offered++
		}
		if !askedForNonce(ex) {
			continue
		}
		where := endpointName(ex.url)
		if nonce == "" {
			p.c.add(name, flows.Fail, p.ref(name), "%s answered use_dpop_nonce (HTTP %d) without a DPoP-Nonce header: the client cannot learn the nonce", where, ex.status)
			return
		}
		demanded = append(demanded, where)
		// The engine retries once with the nonce: the next proofed
		// request to the same URL.
		for _, nx := range exs[i+1:] {
			if nx.dpop && nx.url == ex.url && nx.err == nil {
				if askedForNonce(nx) {
					p.c.add(name, flows.Fail, p.ref(name), "%s refused the proof carrying the nonce it had just issued (use_dpop_nonce again)", where)
					return
				}
				retried = append(retried, where)
				break
			}
		}
	}
	switch {
	case proofed == 0:
		p.c.add(name, Skip, p.ref(name), "the client sent no DPoP proof (pass --dpop, or --fapi2 without --cert)")
	case len(demanded) > 0:
		p.c.add(name, flows.Pass, p.ref(name), "the server demanded a nonce (use_dpop_nonce with DPoP-Nonce) at %s and accepted the retried proof at %s",
			strings.Join(slices.Compact(demanded), ", "), strings.Join(slices.Compact(retried), ", "))
	case offered > 0:
		p.c.add(name, flows.Pass, p.ref(name), "the server sends DPoP-Nonce headers (%d of %d answers) without demanding them", offered, proofed)
	default:
		p.c.add(name, flows.Pass, p.ref(name), "the server does not use server-provided nonces (optional); %d proofs without a nonce were answered without use_dpop_nonce", proofed)
	}
}

// askedForNonce: a use_dpop_nonce error, in a JSON body (authorization
// server, RFC 9449 8) or a WWW-Authenticate header (resource, RFC 9449 9).
func askedForNonce(ex exchange) bool {
	if ex.status < 400 {
		return false
	}
	if strings.Contains(ex.header.Get("WWW-Authenticate"), "use_dpop_nonce") {
		return true
	}
	return errorBody(ex.body).Error == "use_dpop_nonce"
}

func endpointName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "an endpoint"
	}
	return u.Path
}

// probeRefs are the sections each probe's item comes from: FAPI 2.0, BCP.
var probeRefs = map[string][2]string{
	ProbeNoPAR:       {"FAPI 2.0 Security Profile 5.3.2.2; RFC 9126 5", "RFC 9126 5"},
	ProbePKCEMissing: {"FAPI 2.0 Security Profile 5.3.2.2; RFC 7636 4.4.1", "RFC 9700 2.1.1; RFC 7636 4.4.1"},
	ProbePKCEPlain:   {"FAPI 2.0 Security Profile 5.3.2.2; RFC 7636 4.2", "RFC 9700 2.1.1; RFC 7636 4.2"},
	ProbeRedirect:    {"FAPI 2.0 Security Profile 5.3.2.1; RFC 9700 2.1, 4.1.3", "RFC 9700 2.1, 4.1.3; RFC 6749 4.1.2.1"},
	ProbeCodeReuse:   {"FAPI 2.0 Security Profile 5.3.2.2; RFC 6749 4.1.2", "RFC 6749 4.1.2, 10.5"},
	ProbeIss:         {"FAPI 2.0 Security Profile 5.3.2.2; RFC 9207 2", "RFC 9700 4.4.2; RFC 9207 2"},
	ProbeRequestURI:  {"FAPI 2.0 Security Profile 5.3.2.2; RFC 9126 2.2", "RFC 9126 2.2"},
	ProbeDPoPNonce:   {"FAPI 2.0 Security Profile 5.3.2.1; RFC 9449 8", "RFC 9449 8"},
}

// ref is the section a probe's item comes from.
func (p *prober) ref(name string) string {
	r := probeRefs[name]
	return p.c.pick(r[0], r[1])
}
