package audit

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/token"
)

// Defaults of a run.
const (
	DefaultMaxRequests = 60
	DefaultMaxLeeway   = time.Hour
	// maxLeewayProbes bounds the leeway bisection: 2^12 > 3601 one-second steps.
	maxLeewayProbes = 12
	paceLoopback    = 10 * time.Millisecond
	paceRemote      = 200 * time.Millisecond
)

// Config is one audit.
type Config struct {
	URL    string      // the resource under test; every case goes here only
	Method string      // GET when empty
	Header http.Header // extra request headers (-H)
	Body   []byte      // request body (--data)
	Token  string      // a valid access token for URL

	// JWKSURL is the issuer's key set; empty: discovery from the token's iss.
	JWKSURL string
	// JWKS is the issuer's key set document, when the caller has it.
	JWKS []byte
	// Signer signs the claims cases and the leeway probes; nil skips them.
	Signer Signer
	// SignerNote says why there is no signer (shown in the skipped cases).
	SignerNote string
	// RequireScope adds scope-missing: the token without this scope.
	RequireScope string
	// DPoPKey is the key a DPoP-bound valid token (cnf.jkt) is bound to.
	// With it every request presents its token as RFC 9449 asks
	// (Authorization: DPoP and a proof with ath) and the DPoP cases run;
	// without it they are skipped. Ignored when the token is not bound.
	DPoPKey *dpop.Key

	MaxRequests int           // DefaultMaxRequests when zero
	Pace        time.Duration // between requests; 0 picks by host, negative none
	MaxLeeway   time.Duration // DefaultMaxLeeway when zero
	Timeout     time.Duration // per request; flows.DefaultTimeout when zero
	TLSConfig   *tls.Config
	// Transport replaces the HTTP transport (tests); the host guard still applies.
	Transport http.RoundTripper
	Now       func() time.Time
}

// errCap is the request cap being reached.
var errCap = errors.New("request cap reached")

// run is one audit in progress.
type run struct {
	cfg      Config
	target   *url.URL
	client   *flows.Client
	rec      *flows.Recorder
	obs      flows.Observer
	report   *Report
	tok      *token.Decoded
	baseline int
	sent     int
	last     time.Time
	now      func() time.Time

	key       *dpop.Key    // the valid token's DPoP key, when bound and given
	nonces    *dpop.Nonces // the target's DPoP nonces
	lastProof string       // the proof of the latest request
	// baseProof is the proof the valid baseline call was accepted with:
	// dpop-replayed-jti sends it again.
	baseProof string
}

// Run audits cfg.URL. It never returns nil; Report.Err says why an audit
// could not run (bad input, or a failed baseline).
func Run(ctx context.Context, cfg Config, obs flows.Observer) *Report {
	start := time.Now()
	if obs == nil {
		obs = flows.Discard
	}
	r := &run{cfg: cfg, obs: obs, report: &Report{Target: cfg.URL, Cases: []Case{}}, now: cfg.Now}
	if r.now == nil {
		r.now = time.Now
	}
	r.rec = flows.NewRecorder("audit", obs)
	if err := r.setup(); err != nil {
		r.report.Err = err
	} else {
		r.audit(ctx)
	}
	r.report.Requests = r.sent
	r.report.Exchanges = r.rec.Exchanges()
	r.report.Duration = time.Since(start)
	return r.report
}

func (r *run) setup() error {
	c := &r.cfg
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return flows.Errorf(flows.ErrConfig, "audit: %q is not an http(s) URL", c.URL)
	}
	r.target = u
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	if c.MaxRequests <= 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.MaxLeeway <= 0 {
		c.MaxLeeway = DefaultMaxLeeway
	}
	if c.Pace == 0 {
		c.Pace = paceRemote
		if IsLoopbackHost(u.Hostname()) {
			c.Pace = paceLoopback
		}
	}
	if strings.TrimSpace(c.Token) == "" {
		return flows.Errorf(flows.ErrConfig, "audit: no valid token to start from")
	}
	d, err := token.Decode(strings.TrimSpace(c.Token))
	if err != nil {
		return flows.Errorf(flows.ErrConfig, "audit: the valid token does not decode: %v", err)
	}
	if d.Format != token.FormatJWS {
		return flows.Errorf(flows.ErrConfig, "audit: the valid token is %s, not a signed JWT; the audit forges tokens from a JWT", d.Format)
	}
	r.tok = d
	if jkt := dpop.CnfJKT(d.Claims); jkt != "" && c.DPoPKey != nil {
		if subtle.ConstantTimeCompare([]byte(jkt), []byte(c.DPoPKey.JKT())) != 1 {
			return flows.Errorf(flows.ErrConfig, "audit: the DPoP key (jkt %s) is not the key the valid token is bound to (cnf.jkt %s)", c.DPoPKey.JKT(), jkt)
		}
		r.key = c.DPoPKey
		r.nonces = dpop.NewNonces(4)
	}
	base := c.Transport
	if base == nil {
		base = flows.NewTransport(c.TLSConfig)
	}
	guard := hostGuard{base: base, host: strings.ToLower(u.Host)}
	// The client reports to the recorder through a mask for access_token
	// in the query: token-in-query puts the valid token there.
	r.client = flows.NewClient(flows.ClientOptions{Timeout: c.Timeout, Transport: guard}, maskQuery{r.rec})
	return nil
}

// hostGuard refuses any request to a host other than the target's, so no
// token (valid or forged) follows a redirect elsewhere.
type hostGuard struct {
	base http.RoundTripper
	host string
}

func (g hostGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, g.host) {
		return nil, fmt.Errorf("audit: refusing to send a request to %s: only %s is under test", req.URL.Host, g.host)
	}
	return g.base.RoundTrip(req)
}

// maskQuery masks access_token in recorded URLs before they reach the recorder.
type maskQuery struct{ next flows.Observer }

func (m maskQuery) Step(ev flows.StepEvent) { m.next.Step(ev) }

func (m maskQuery) Exchange(ex flows.Exchange) {
	if u, err := url.Parse(ex.URL); err == nil && u.Query().Has("access_token") {
		q := u.Query()
		q.Set("access_token", flows.Masked)
		u.RawQuery = q.Encode()
		ex.URL = u.String()
	}
	m.next.Exchange(ex)
}

// how a token travels in a request.
type carrier int

const (
	inHeader carrier = iota // Authorization: Bearer
	inQuery                 // ?access_token=
	noToken
)

// outcome is one request's answer.
type outcome struct {
	status int
	resp   *flows.Response
	err    error
}

// proofForm is how a request presents a DPoP-bound token: its
// Authorization scheme and its DPoP proof. A nil form is the run's
// default: DPoP with a fresh proof (ath of the token sent) when the run
// has a key, else Bearer and no proof.
type proofForm struct {
	scheme string                             // "Bearer" or "DPoP"
	proof  func(nonce string) (string, error) // nil: no DPoP header
	fixed  bool                               // a fixed proof (a replay): no nonce retry
}

// proofFor signs fresh proofs of key for the target, bound to tok.
func (r *run) proofFor(key *dpop.Key, htu, tok string) func(string) (string, error) {
	return func(nonce string) (string, error) { return key.Proof(r.cfg.Method, htu, nonce, tok) }
}

// send makes one paced, counted request to the target, presenting tok as
// the run does by default.
func (r *run) send(ctx context.Context, step, tok string, how carrier) outcome {
	return r.sendWith(ctx, step, tok, how, nil)
}

// sendWith sends tok presented by pf. With a proof, a nonce challenge
// (RFC 9449 9) gets the one retry with the nonce the server sent, so a
// case is refused for its flaw and not for a missing nonce.
func (r *run) sendWith(ctx context.Context, step, tok string, how carrier, pf *proofForm) outcome {
	if pf == nil && r.key != nil && how != noToken {
		pf = &proofForm{scheme: dpop.Scheme, proof: r.proofFor(r.key, r.cfg.URL, tok)}
	}
	if pf == nil {
		return r.attempt(ctx, step, tok, how, "Bearer", "")
	}
	var o outcome
	try := func(nonce string) (*flows.Response, error) {
		proof := ""
		if pf.proof != nil {
			p, err := pf.proof(nonce)
			if err != nil {
				o = outcome{err: fmt.Errorf("DPoP proof: %w", err)}
				return nil, o.err
			}
			proof = p
		}
		o = r.attempt(ctx, step, tok, how, pf.scheme, proof)
		if o.err == nil {
			r.lastProof = proof
		}
		return o.resp, o.err
	}
	if pf.fixed {
		try("")
	} else {
		// a second challenge leaves o as its answer: refused, honestly
		_, _, _ = dpop.Do(r.nonces, r.cfg.URL, try)
	}
	return o
}

// attempt is one request: scheme and tok in Authorization (inHeader),
// proof in the DPoP header when not "".
func (r *run) attempt(ctx context.Context, step, tok string, how carrier, scheme, proof string) outcome {
	if r.sent >= r.cfg.MaxRequests {
		return outcome{err: errCap}
	}
	if r.cfg.Pace > 0 && !r.last.IsZero() {
		if wait := r.cfg.Pace - time.Since(r.last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return outcome{err: ctx.Err()}
			case <-t.C:
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return outcome{err: err}
	}
	u := *r.target
	if how == inQuery {
		q := u.Query()
		q.Set("access_token", tok)
		u.RawQuery = q.Encode()
	}
	var body *bytes.Reader
	if r.cfg.Body != nil {
		body = bytes.NewReader(r.cfg.Body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, r.cfg.Method, u.String(), body)
	} else {
		req, err = http.NewRequestWithContext(ctx, r.cfg.Method, u.String(), nil)
	}
	if err != nil {
		return outcome{err: err}
	}
	for k, vs := range r.cfg.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Del("Authorization")
	if how == inHeader && scheme != "" {
		req.Header.Set("Authorization", scheme+" "+tok)
	}
	if r.key != nil {
		req.Header.Del(dpop.Header)
	}
	if proof != "" {
		req.Header.Set(dpop.Header, proof)
	}
	r.sent++
	r.last = time.Now()
	resp, err := r.client.Do(req, step)
	if resp == nil {
		return outcome{err: err}
	}
	return outcome{status: resp.Status, resp: resp}
}

// verdictOf classifies one answer against the baseline.
func (r *run) verdictOf(o outcome) (Verdict, string) {
	switch {
	case errors.Is(o.err, errCap):
		return Skipped, fmt.Sprintf("not sent: the request cap (%d) was reached; raise the cap to send it", r.cfg.MaxRequests)
	case o.err != nil:
		return Inconclusive, "no answer: " + oneLine(o.err.Error())
	case o.status == http.StatusUnauthorized || o.status == http.StatusForbidden:
		return Rejected, fmt.Sprintf("refused with HTTP %d", o.status)
	case o.status == r.baseline || (o.status/100 == 2 && r.baseline/100 == 2):
		return Accepted, fmt.Sprintf("answered HTTP %d, like the valid call", o.status)
	case o.status >= 500:
		return Inconclusive, fmt.Sprintf("answered HTTP %d: a server error on a bad token is itself a should-level finding (answer 401, RFC 6750 §3.1)", o.status)
	}
	return Inconclusive, fmt.Sprintf("answered HTTP %d, neither like the valid call (HTTP %d) nor 401/403", o.status, r.baseline)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (r *run) audit(ctx context.Context) {
	if err := r.runBaseline(ctx); err != nil {
		r.report.Err = err
		return
	}
	f := newForger(r)
	for _, spec := range caseSpecs(r.cfg.RequireScope != "", hasDPoP(r.tok)) {
		c := Case{Name: spec.name, Level: spec.level, Reference: spec.ref, Sent: spec.sent}
		c = r.runCase(ctx, f, spec, c)
		if ctx.Err() != nil {
			// a case cut short proves nothing; the ones before it stand
			f.close()
			r.report.Err = flows.Errorf(flows.ErrCancelled, "audit cancelled after %d of its cases", len(r.report.Cases))
			return
		}
		r.report.Cases = append(r.report.Cases, c)
		if co, ok := r.obs.(CaseObserver); ok {
			co.Case(c)
		}
	}
	f.close()
	if f.trusted {
		r.report.Leeway = r.leeway(ctx, f)
		if r.report.Leeway != nil {
			if lo, ok := r.obs.(LeewayObserver); ok {
				lo.Leeway(*r.report.Leeway)
			}
		}
	}
}

func (r *run) runBaseline(ctx context.Context) error {
	valid := r.send(ctx, "baseline: valid token", strings.TrimSpace(r.cfg.Token), inHeader)
	if valid.err != nil {
		return flows.Wrap(flows.ErrNetwork, valid.err, "baseline: the call with the valid token failed: %s", oneLine(valid.err.Error()))
	}
	r.baseProof = r.lastProof
	bare := r.send(ctx, "baseline: no token", "", noToken)
	if bare.err != nil {
		return flows.Wrap(flows.ErrNetwork, bare.err, "baseline: the call without a token failed: %s", oneLine(bare.err.Error()))
	}
	r.report.Baseline = Baseline{Status: valid.status, NoTokenStatus: bare.status}
	r.baseline = valid.status
	be := &BaselineError{Status: valid.status, NoTokenStatus: bare.status}
	switch {
	case valid.status < 200 || valid.status > 299:
		be.Message = fmt.Sprintf("baseline: %s refused the valid token (HTTP %d); fix that first: the audit needs a token the API accepts", r.cfg.URL, valid.status)
		if hasDPoP(r.tok) && r.key == nil {
			// The hint names the field; each front end says how to set it
			// (Explain). The BaselineError stays reachable (Unwrap).
			fe := flows.Wrap(flows.ErrConfig, be, "%s; the token is DPoP-bound (cnf.jkt) and was sent as Bearer: give the key it is bound to (%s)", be.Message, flows.FieldDPoPKey)
			be.Message = fe.Message
			return fe
		}
		return be
	case bare.status != http.StatusUnauthorized && bare.status != http.StatusForbidden:
		be.Message = fmt.Sprintf("baseline: %s answered HTTP %d without any token (want 401 or 403): an API that does not require a token has nothing to audit", r.cfg.URL, bare.status)
		return be
	}
	return nil
}

// runCase sends a case's variants until one is accepted.
func (r *run) runCase(ctx context.Context, f *forger, spec caseSpec, c Case) Case {
	vs, skip := spec.build(ctx, f)
	if skip != "" {
		c.Verdict, c.Detail = Skipped, skip
		return c
	}
	var firstOther *Case
	for _, v := range vs {
		how := inHeader
		if v.query {
			how = inQuery
		}
		o := r.sendWith(ctx, "case "+spec.name+v.label(), v.token, how, v.dpop)
		verdict, detail := r.verdictOf(o)
		if v.name != "" && len(vs) > 1 {
			detail = "variant " + v.name + ": " + detail
		}
		if v.note != nil {
			if n := v.note(); n != "" {
				detail += "; " + n
			}
		}
		cur := Case{Verdict: verdict, Status: o.status, Detail: detail}
		if verdict == Accepted {
			c.Verdict, c.Status, c.Detail = Accepted, o.status, detail
			return c
		}
		if verdict == Skipped {
			c.Verdict, c.Detail = Skipped, detail
			return c
		}
		if firstOther == nil || (firstOther.Verdict == Rejected && verdict == Inconclusive) {
			firstOther = &cur
		}
	}
	c.Verdict, c.Status, c.Detail = firstOther.Verdict, firstOther.Status, firstOther.Detail
	if c.Verdict == Rejected && len(vs) > 1 {
		c.Detail = fmt.Sprintf("all %d variants refused (HTTP %d)", len(vs), c.Status)
	}
	return c
}

// leeway bisects over seconds past exp: the largest d in [0, MaxLeeway]
// at which a token that expired d seconds ago is still accepted.
func (r *run) leeway(ctx context.Context, f *forger) *Leeway {
	maxD := int64(r.cfg.MaxLeeway / time.Second)
	lo, hi := int64(-1), maxD+1 // lo: accepted (assumed), hi: refused (assumed)
	l := &Leeway{}
	for hi-lo > 1 && l.Requests < maxLeewayProbes {
		mid := lo + (hi-lo)/2
		tok, err := f.expiredBy(ctx, mid)
		if err != nil {
			return nil
		}
		o := r.send(ctx, fmt.Sprintf("leeway: expired %d s ago", mid), tok, inHeader)
		if o.err != nil {
			return nil // the cap or the network: no honest figure
		}
		l.Requests++
		switch v, _ := r.verdictOf(o); v {
		case Accepted:
			lo = mid
		case Rejected:
			hi = mid
		default:
			return nil
		}
	}
	l.ExpSeconds = max(lo, 0)
	l.AtLeast = lo >= maxD
	return l
}

func hasDPoP(d *token.Decoded) bool { return dpop.CnfJKT(d.Claims) != "" }
