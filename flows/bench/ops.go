package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/mtls"
	"authlab/flows/oauth"
)

// Flow names bench accepts beyond the OAuth flows.
const (
	FlowCall = flows.FlowCall // GET the resource with a cached access token
	FlowHMAC = flows.FlowHMAC // an HMAC-signed request
	FlowMTLS = flows.FlowMTLS // a request over TLS with the client certificate
)

// BenchFlows lists the flows bench can repeat.
func BenchFlows() []string {
	return []string{flows.FlowClientCredentials, flows.FlowRefresh, flows.FlowTokenExchange,
		flows.FlowIntrospect, flows.FlowUserinfo, FlowCall, FlowHMAC, FlowMTLS, flows.FlowPassword, flows.FlowJWTBearer}
}

// Setup is shared by every operation of one run: one transport with
// keep-alive sized for the concurrency and endpoints discovered once, so the
// measuring client is not the bottleneck.
type Setup struct {
	Request   flows.Request
	Transport *http.Transport
	TLS       *tls.Config // client certificate and CA from the request, or nil
	// ClientCert says a client certificate was loaded. mtls.LoadClientTLS
	// sets GetClientCertificate, not Certificates, so TLS alone cannot tell.
	ClientCert bool
	Endpoints  flows.Endpoints
	Meta       *oauth.Metadata // nil without discovery

	concurrency int
	conns       *closers // connections ops keep outside Transport; shared by copies

	dpop   *dpop.Key    // the run's DPoP key (one for every op), or nil
	nonces *dpop.Nonces // DPoP server nonces of the lean ops
}

// closers are Close functions Setup.Close calls.
type closers struct {
	mu  sync.Mutex
	fns []func()
}

// track has Close call fn.
func (s *Setup) track(fn func()) {
	if s.conns == nil {
		s.conns = &closers{}
	}
	s.conns.mu.Lock()
	s.conns.fns = append(s.conns.fns, fn)
	s.conns.mu.Unlock()
}

// NewSetup builds the transport for concurrency workers and resolves the
// endpoints (one discovery when the request names an issuer).
func NewSetup(ctx context.Context, req flows.Request, concurrency int) (*Setup, error) {
	s := &Setup{Request: req.Clone(), concurrency: concurrency, conns: &closers{}}
	if err := s.loadDPoP(); err != nil {
		return nil, err
	}
	req = s.Request
	if req.CertFile != "" || req.CAFile != "" {
		key := req.KeyFile
		if key == "" {
			key = req.CertFile
		}
		conf, err := mtls.LoadClientTLS(req.CertFile, key, req.CAFile)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "TLS files: %v", err)
		}
		s.TLS = conf
		s.ClientCert = req.CertFile != ""
	}
	s.Transport = NewTransport(s.TLS, concurrency)
	s.Endpoints = req.Endpoints
	if req.Issuer != "" {
		e, err := s.engine(req)
		if err != nil {
			return nil, err
		}
		m, err := e.Discover(ctx, nil)
		if err != nil {
			return nil, err
		}
		s.Meta = m
		pick := func(dst *string, v, alias string) {
			if *dst != "" {
				return
			}
			if a := m.MTLSEndpointAliases[alias]; a != "" && s.ClientCert {
				v = a
			}
			*dst = v
		}
		pick(&s.Endpoints.Token, m.TokenEndpoint, "token_endpoint")
		pick(&s.Endpoints.Introspect, m.IntrospectionEndpoint, "introspection_endpoint")
		pick(&s.Endpoints.Revoke, m.RevocationEndpoint, "revocation_endpoint")
		pick(&s.Endpoints.Userinfo, m.UserinfoEndpoint, "userinfo_endpoint")
		pick(&s.Endpoints.JWKS, m.JWKSURI, "jwks_uri")
		pick(&s.Endpoints.Auth, m.AuthorizationEndpoint, "authorization_endpoint")
		pick(&s.Endpoints.Device, m.DeviceAuthorizationEndpoint, "device_authorization_endpoint")
	}
	return s, nil
}

// NewTransport is flows.NewTransport with an idle pool of at least
// concurrency connections per host, so every worker keeps its connection.
func NewTransport(conf *tls.Config, concurrency int) *http.Transport {
	t := flows.NewTransport(conf)
	t.MaxIdleConnsPerHost = max(concurrency, t.MaxIdleConnsPerHost)
	t.MaxIdleConns = max(2*concurrency, t.MaxIdleConns)
	return t
}

// Close releases idle connections.
func (s *Setup) Close() {
	if s.conns != nil {
		s.conns.mu.Lock()
		fns := s.conns.fns
		s.conns.fns = nil
		s.conns.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}
	if s.Transport != nil {
		s.Transport.CloseIdleConnections()
	}
}

// engine builds an oauth engine on the shared transport. With every endpoint
// it needs already resolved, it does not discover again.
func (s *Setup) engine(req flows.Request) (*oauth.Engine, error) {
	return oauth.New(req, oauth.Options{Transport: s.Transport, SkipInspect: true})
}

// FlowRequest returns the setup's request for flow with resolved endpoints.
func (s *Setup) FlowRequest(flow string, token flows.Secret) flows.Request {
	r := s.Request.Clone()
	r.Flow = flow
	r.Endpoints = s.Endpoints
	if token.IsSet() {
		r.Token = token
	}
	r.CallURL = "" // bench calls resources itself, never after each grant
	return r
}

// Client returns a recording client on the shared transport with no
// observer. It follows no redirect: each bench request is one exchange
// (a 3xx counts under its status, as on the raw HTTP path), and net/http
// would send the request's credential along to wherever the redirect
// points: an API key or signature header always, Authorization to
// another port of the same host.
func (s *Setup) Client() *flows.Client {
	return flows.NewClient(flows.ClientOptions{Timeout: s.Request.Timeout, Transport: s.Transport, NoRedirects: true}, nil)
}

// OutcomeOf turns a flow result into an Outcome.
func OutcomeOf(res *flows.Result) Outcome {
	o := Outcome{OK: res.OK}
	if res.DPoP != nil {
		o.NonceRetries = res.DPoP.NonceRetries
	}
	if n := len(res.Exchanges); n > 0 {
		o.Status = res.Exchanges[n-1].Status
	}
	if res.Err != nil {
		o.Err = res.Err
		o.OAuthError = res.Err.OAuthError
		if res.Err.Status != 0 {
			o.Status = res.Err.Status
		}
	} else if !res.OK {
		o.Err = errors.New(res.Reason())
	}
	return o
}

// FlowOp repeats one OAuth flow on one engine (one transport, endpoints
// resolved once). Client credentials with a shared secret (or none) take
// bench's lean path, TokenOp; the other flows and client authentication
// methods go through the engine, which records each exchange for display.
func (s *Setup) FlowOp(flow string) (Op, error) {
	switch flow {
	case flows.FlowClientCredentials:
		if op, ok := s.TokenOp(url.Values{"grant_type": {"client_credentials"}}); ok {
			return op, nil
		}
	case flows.FlowRefresh:
		return s.RefreshOp()
	case flows.FlowTokenExchange, flows.FlowIntrospect:
		if !s.Request.Token.IsSet() {
			// No --token: a client credentials token is the subject / the token to introspect.
			src, err := s.TokenSource()
			if err != nil {
				return nil, err
			}
			tok, err := src.Get(context.Background())
			if err != nil {
				return nil, err
			}
			s2 := *s
			s2.Request = s.FlowRequest(flow, tok)
			return s2.FlowOp(flow)
		}
	}
	e, err := s.engine(s.FlowRequest(flow, ""))
	if err != nil {
		return nil, err
	}
	tok := s.Request.Token.Reveal()
	var run func(ctx context.Context) *flows.Result
	switch flow {
	case flows.FlowClientCredentials:
		run = func(ctx context.Context) *flows.Result { return e.ClientCredentials(ctx, nil) }
	case flows.FlowTokenExchange:
		run = func(ctx context.Context) *flows.Result { return e.TokenExchange(ctx, nil) }
	case flows.FlowPassword, flows.FlowJWTBearer:
		run = func(ctx context.Context) *flows.Result { return e.Run(ctx, nil) } // a fresh assertion per jwt-bearer request
	case flows.FlowIntrospect, flows.FlowUserinfo:
		if tok == "" {
			return nil, flows.Errorf(flows.ErrConfig, "%s: needs a token (%s)", flow, flows.FieldToken)
		}
		if flow == flows.FlowIntrospect {
			run = func(ctx context.Context) *flows.Result { return e.Introspect(ctx, tok, nil) }
		} else {
			run = func(ctx context.Context) *flows.Result { return e.Userinfo(ctx, tok, nil) }
		}
	default:
		return nil, flows.Errorf(flows.ErrConfig, "bench cannot repeat the %s flow (one of %s)", flow, strings.Join(BenchFlows(), ", "))
	}
	return func(ctx context.Context) Outcome { return OutcomeOf(run(ctx)) }, nil
}

// TokenOp is a lean token request: the form and client authentication the
// engine would send (client_secret_basic with RFC 6749 2.3.1 encoding,
// client_secret_post, or none), serialised once and sent by a rawClient
// (net/http on the shared transport when a proxy applies), without the
// per-request masking and records the engine keeps for display, so the
// client costs less CPU per request than hey. ok is false for the methods
// that need a fresh assertion per request (JWT, mTLS): use the engine.
func (s *Setup) TokenOp(form url.Values) (op Op, ok bool) {
	r := s.Request
	method := r.AuthMethod
	if method == "" {
		switch {
		case r.PrivateKey != "":
			method = flows.AuthPrivateKeyJWT
		case r.ClientSecret.IsSet():
			method = flows.AuthClientSecretBasic
		case r.CertFile != "":
			method = flows.AuthTLSClient
		default:
			method = flows.AuthNone
		}
	}
	if s.Endpoints.Token == "" {
		return nil, false
	}
	form = cloneValues(form)
	if len(r.Scopes) > 0 {
		form.Set("scope", strings.Join(r.Scopes, " "))
	}
	for _, a := range r.Audience {
		form.Add("audience", a)
	}
	for _, res := range r.Resource {
		form.Add("resource", res)
	}
	var authz string
	switch method {
	case flows.AuthClientSecretBasic:
		cred := url.QueryEscape(r.ClientID) + ":" + url.QueryEscape(r.ClientSecret.Reveal())
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
	case flows.AuthClientSecretPost:
		form.Set("client_id", r.ClientID)
		form.Set("client_secret", r.ClientSecret.Reveal())
	case flows.AuthNone:
		form.Set("client_id", r.ClientID)
	default:
		return nil, false
	}
	body := form.Encode()
	endpoint := s.Endpoints.Token
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, false
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = flows.DefaultTimeout
	}
	// Everything that does not change between requests is built once, so the
	// measuring client spends its CPU on the exchange, not on re-parsing the
	// URL or re-encoding the form (the IdP shares these cores).
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	if authz != "" {
		header["Authorization"] = []string{authz}
	}
	bodyBytes := []byte(body)
	// A 200 carrying an access token is recognised without decoding the
	// token (the lean path never inspects it); anything else gets the full
	// diagnosis.
	classify := func(status int, h http.Header, b []byte) Outcome {
		if status == http.StatusOK && bytes.Contains(b, []byte(`"access_token":"`)) && !bytes.Contains(b, []byte(`"error":`)) {
			return Outcome{OK: true, Status: status}
		}
		fr := &flows.Response{Status: status, Header: h, Body: bytes.Clone(b)}
		if status != http.StatusOK {
			return HTTPOutcome(fr, nil)
		}
		var tr struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		if err := json.Unmarshal(b, &tr); err != nil || tr.AccessToken == "" || tr.Error != "" {
			// No body snippet: a 200 body may hold other tokens.
			return Outcome{Status: status, OAuthError: tr.Error, Err: flows.Errorf(flows.ErrProtocol,
				"token request: %s answered HTTP 200 without an access_token (%s, %d bytes)", u.Host, orNone(fr.ContentType()), len(b))}
		}
		return Outcome{OK: true, Status: status}
	}
	proxyFor := http.ProxyFromEnvironment
	if s.Transport != nil && s.Transport.Proxy != nil {
		proxyFor = s.Transport.Proxy
	}
	if proxy, err := proxyFor(&http.Request{URL: u}); err == nil && proxy == nil {
		if rc := newRawClient(http.MethodPost, u, header, bodyBytes, s.TLS, timeout, s.concurrency); rc != nil {
			s.track(rc.Close)
			rawErr := func(err error) Outcome {
				var fe *flows.Error
				if errors.As(err, &fe) {
					return Outcome{Err: fe}
				}
				return Outcome{Err: flows.ExplainTransportError("token request", u, err, timeout)}
			}
			if s.dpop == nil {
				return func(ctx context.Context) Outcome {
					buf := rc.buffer()
					defer rc.release(buf)
					ans, err := rc.Do(ctx, buf)
					if err != nil {
						return rawErr(err)
					}
					return classify(ans.Status, ans.Header, ans.Body)
				}, true
			}
			// DPoP: a fresh proof per request, spliced into the prepared
			// request, and the one nonce retry of RFC 9449 8.
			var reqBufs sync.Pool // *[]byte
			return func(ctx context.Context) Outcome {
				buf := rc.buffer()
				defer rc.release(buf)
				rb, _ := reqBufs.Get().(*[]byte)
				if rb == nil {
					rb = new([]byte)
				}
				defer reqBufs.Put(rb)
				return s.proofRetry(endpoint, classify, func(proof string) (int, http.Header, []byte, *Outcome) {
					req, ok := rc.appendWithHeader((*rb)[:0], dpop.Header, proof)
					if !ok {
						return 0, nil, nil, &Outcome{Err: flows.Errorf(flows.ErrProtocol, "token request: the DPoP proof is not a valid header value")}
					}
					*rb = req
					ans, err := rc.DoRequest(ctx, buf, req)
					if err != nil {
						fail := rawErr(err)
						return 0, nil, nil, &fail
					}
					return ans.Status, ans.Header, ans.Body, nil
				})
			}, true
		}
	}
	// Through a proxy: net/http, with the request built once and copied.
	hc := &http.Client{Transport: s.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	template := &http.Request{Method: http.MethodPost, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Host: u.Host, ContentLength: int64(len(bodyBytes)),
		// GetBody lets the transport resend on a keep-alive connection the
		// server closed, as it does for requests built by NewRequest.
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(bodyBytes)), nil }}
	var bufs sync.Pool
	// send makes one exchange; proof "" sends none. On success the body
	// is in buf and fail is nil.
	send := func(ctx context.Context, proof string, buf *bytes.Buffer) (status int, h http.Header, fail *Outcome) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req := template.WithContext(ctx)
		if proof != "" {
			req.Header = header.Clone()
			req.Header.Set(dpop.Header, proof)
		}
		req.Body = io.NopCloser(bytes.NewReader(bodyBytes))
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, &Outcome{Err: flows.ExplainTransportError("token request", u, err, timeout)}
		}
		defer resp.Body.Close()
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(resp.Body, flows.MaxResponseBody+1)); err != nil {
			return 0, nil, &Outcome{Status: resp.StatusCode, Err: flows.ExplainTransportError("token request", u, err, timeout)}
		}
		return resp.StatusCode, resp.Header, nil
	}
	return func(ctx context.Context) Outcome {
		buf, _ := bufs.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		defer bufs.Put(buf)
		if s.dpop == nil {
			status, h, fail := send(ctx, "", buf)
			if fail != nil {
				return *fail
			}
			return classify(status, h, buf.Bytes())
		}
		return s.proofRetry(endpoint, classify, func(proof string) (int, http.Header, []byte, *Outcome) {
			status, h, fail := send(ctx, proof, buf)
			return status, h, buf.Bytes(), fail
		})
	}, true
}

// proofRetry makes a token request with a fresh DPoP proof per attempt
// (send sends it: the answer, or fail when there is none) and answers one
// nonce challenge (RFC 9449 8); classify judges the last answer.
func (s *Setup) proofRetry(endpoint string, classify func(int, http.Header, []byte) Outcome,
	send func(proof string) (status int, h http.Header, body []byte, fail *Outcome)) Outcome {
	var o Outcome
	nonce := s.nonces.Get(endpoint)
	for attempt := 0; ; attempt++ {
		proof, err := s.signProof(&o, http.MethodPost, endpoint, nonce, "")
		if err != nil {
			o.Err = err
			return o
		}
		status, h, body, fail := send(proof)
		if fail != nil {
			return withProof(o, *fail)
		}
		s.nonces.Observe(endpoint, h)
		if next, ok := nonceRetry(attempt, status, h, body); ok {
			nonce = next
			o.NonceRetries++
			continue
		}
		return withProof(o, classify(status, h, body))
	}
}

// withProof carries the DPoP proof time and nonce retries of o into res.
func withProof(o, res Outcome) Outcome {
	res.Proof, res.NonceRetries = o.Proof, o.NonceRetries
	return res
}

// nonceRetry reports whether an answer is a nonce challenge (RFC 9449 8,
// 9) to answer with one retry, and its nonce. Only the first attempt
// retries: a second challenge is reported as the failure it is.
func nonceRetry(attempt, status int, h http.Header, body []byte) (string, bool) {
	if attempt > 0 || status != http.StatusBadRequest && status != http.StatusUnauthorized {
		return "", false
	}
	next, ok := dpop.NonceChallenge(&flows.Response{Status: status, Header: h, Body: body})
	return next, ok && dpop.ValidNonce(next)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// RefreshOp refreshes from a pool seeded with the request's refresh token.
// A server that rotates refresh tokens invalidates the one just used, so each
// call takes a token from the pool and returns the one it received: with a
// single seed, workers take turns instead of failing with invalid_grant.
func (s *Setup) RefreshOp() (Op, error) {
	if !s.Request.Token.IsSet() {
		return nil, flows.Errorf(flows.ErrConfig, "refresh: needs a refresh token (%s)", flows.FieldToken)
	}
	e, err := s.engine(s.FlowRequest(flows.FlowRefresh, ""))
	if err != nil {
		return nil, err
	}
	pool := make(chan string, 1)
	pool <- s.Request.Token.Reveal()
	return func(ctx context.Context) Outcome {
		var tok string
		select {
		case tok = <-pool:
		case <-ctx.Done():
			return Outcome{Err: ctx.Err()}
		}
		t0 := time.Now()
		res := e.Refresh(ctx, tok, nil)
		o := OutcomeOf(res)
		o.Latency = time.Since(t0) // not the wait for the pool
		if res.Token != nil && res.Token.RefreshToken != "" {
			tok = res.Token.RefreshToken
		}
		pool <- tok
		return o
	}, nil
}

// cachedToken is an access token and when to stop using it.
type cachedToken struct {
	value   flows.Secret
	renewAt time.Time
}

// TokenCache holds one access token for many workers: reads are one atomic
// load; when it is due for renewal, one caller fetches and the rest wait.
type TokenCache struct {
	fetch func(ctx context.Context) (flows.Secret, time.Time, error)
	now   func() time.Time
	cur   atomic.Pointer[cachedToken]
	mu    sync.Mutex
}

// NewTokenCache caches what fetch returns until its expiry (minus 30 s).
// A fixed token (expiry zero) never renews.
func NewTokenCache(fetch func(ctx context.Context) (flows.Secret, time.Time, error), now func() time.Time) *TokenCache {
	if now == nil {
		now = time.Now
	}
	return &TokenCache{fetch: fetch, now: now}
}

// Get returns a token that is not about to expire.
func (c *TokenCache) Get(ctx context.Context) (flows.Secret, error) {
	if t := c.cur.Load(); t != nil && (t.renewAt.IsZero() || c.now().Before(t.renewAt)) {
		return t.value, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.cur.Load(); t != nil && (t.renewAt.IsZero() || c.now().Before(t.renewAt)) {
		return t.value, nil
	}
	v, exp, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	t := &cachedToken{value: v}
	if !exp.IsZero() {
		t.renewAt = exp.Add(-30 * time.Second)
		if lifetime := exp.Sub(c.now()); lifetime < time.Minute {
			t.renewAt = c.now().Add(lifetime / 2)
		}
	}
	c.cur.Store(t)
	return v, nil
}

// TokenSource returns a cache of the request's --token, or of a client
// credentials token fetched (and renewed) through the engine.
func (s *Setup) TokenSource() (*TokenCache, error) {
	if s.Request.Token.IsSet() {
		tok := s.Request.Token
		return NewTokenCache(func(context.Context) (flows.Secret, time.Time, error) { return tok, time.Time{}, nil }, nil), nil
	}
	e, err := s.engine(s.FlowRequest(flows.FlowClientCredentials, ""))
	if err != nil {
		return nil, err
	}
	return NewTokenCache(func(ctx context.Context) (flows.Secret, time.Time, error) {
		res := e.ClientCredentials(ctx, nil)
		if !res.OK || res.Token == nil || res.Token.AccessToken == "" {
			return "", time.Time{}, fmt.Errorf("getting an access token: %s", res.Reason())
		}
		return flows.Secret(res.Token.AccessToken), res.Token.ExpiresAt(), nil
	}, nil), nil
}

// CallOp calls url with a bearer token from tokens; the latency is the call
// alone, not a token renewal.
func (s *Setup) CallOp(url string, tokens *TokenCache) Op {
	c := s.Client()
	if s.dpop != nil {
		return s.dpopCallOp(c, url, tokens)
	}
	return func(ctx context.Context) Outcome {
		tok, err := tokens.Get(ctx)
		if err != nil {
			return Outcome{Err: err}
		}
		h := http.Header{"Authorization": {"Bearer " + tok.Reveal()}}
		t0 := time.Now()
		resp, err := c.Get(ctx, "call", url, h)
		o := HTTPOutcome(resp, err)
		o.Latency = time.Since(t0)
		return o
	}
}

// dpopCallOp calls url with `Authorization: DPoP`, a fresh proof carrying
// ath per request, and the resource's nonce retry (RFC 9449 7, 9). With a
// key, every token is presented as DPoP: the token source got it with
// proofs, and a DPoP-bound token is never sent as a bearer token.
func (s *Setup) dpopCallOp(c *flows.Client, url string, tokens *TokenCache) Op {
	return func(ctx context.Context) Outcome {
		tok, err := tokens.Get(ctx)
		if err != nil {
			return Outcome{Err: err}
		}
		t0 := time.Now()
		var o Outcome
		nonce := s.nonces.Get(url)
		for attempt := 0; ; attempt++ {
			proof, err := s.signProof(&o, http.MethodGet, url, nonce, tok.Reveal())
			if err != nil {
				o.Err = err
				return o
			}
			h := http.Header{"Authorization": {dpop.Scheme + " " + tok.Reveal()}, dpop.Header: {proof}}
			resp, err := c.Get(ctx, "call", url, h)
			if resp != nil {
				s.nonces.Observe(url, resp.Header)
				if next, ok := nonceRetry(attempt, resp.Status, resp.Header, resp.Body); ok && err == nil {
					nonce = next
					o.NonceRetries++
					continue
				}
			}
			res := withProof(o, HTTPOutcome(resp, err))
			res.Latency = time.Since(t0)
			return res
		}
	}
}

// RequestOp sends what build returns (an HMAC-signed request, a call over
// mTLS) and classifies the answer.
func (s *Setup) RequestOp(step string, build func(ctx context.Context) (*http.Request, error)) Op {
	c := s.Client()
	return func(ctx context.Context) Outcome {
		req, err := build(ctx)
		if err != nil {
			return Outcome{Err: err}
		}
		return HTTPOutcome(c.Do(req, step))
	}
}

// HTTPOutcome classifies a response: 2xx is success; otherwise the status and
// the OAuth error from a JSON body or a Bearer WWW-Authenticate challenge.
func HTTPOutcome(resp *flows.Response, err error) Outcome {
	if resp == nil {
		return Outcome{Err: err}
	}
	o := Outcome{Status: resp.Status, OK: err == nil && resp.Status/100 == 2}
	if o.OK {
		return o
	}
	o.OAuthError = oauthError(resp)
	if err != nil {
		o.Err = err
	} else {
		o.Err = &flows.Error{Kind: flows.ErrProtocol, Status: resp.Status, OAuthError: o.OAuthError,
			Message: fmt.Sprintf("HTTP %d %s", resp.Status, resp.Snippet())}
		if o.OAuthError != "" {
			o.Err.(*flows.Error).Kind = flows.ErrOAuth
		}
	}
	return o
}

func oauthError(resp *flows.Response) string {
	if strings.Contains(resp.ContentType(), "json") {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(resp.Body, &e) == nil && e.Error != "" {
			return e.Error
		}
	}
	// RFC 6750 3: WWW-Authenticate: Bearer error="invalid_token", ...
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if i := strings.Index(v, `error="`); i >= 0 {
			rest := v[i+len(`error="`):]
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				return rest[:j]
			}
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}
