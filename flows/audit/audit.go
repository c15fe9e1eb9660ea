package audit

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
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
	err    error
}

// send makes one paced, counted request to the target.
func (r *run) send(ctx context.Context, step, tok string, how carrier) outcome {
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
	if how == inHeader {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	r.sent++
	r.last = time.Now()
	resp, err := r.client.Do(req, step)
	if resp == nil {
		return outcome{err: err}
	}
	return outcome{status: resp.Status}
}

// verdictOf classifies one answer against the baseline.
func (r *run) verdictOf(o outcome) (Verdict, string) {
	switch {
	case errors.Is(o.err, errCap):
		return Skipped, fmt.Sprintf("not sent: the request cap (%d) was reached; raise --max-requests", r.cfg.MaxRequests)
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
		o := r.send(ctx, "case "+spec.name+v.label(), v.token, how)
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

func hasDPoP(d *token.Decoded) bool {
	cnf, _ := d.Claims["cnf"].(map[string]any)
	_, ok := cnf["jkt"]
	return ok
}
