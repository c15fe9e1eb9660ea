// Package oauth runs OAuth 2.0 / OIDC flows: discovery, client
// authentication, every grant, introspection, revocation, userinfo and a
// resource call. Each flow reports its steps and masked HTTP exchanges to a
// flows.Observer and returns a *flows.Result; nothing here prints.
//
// An Engine is built once from a flows.Request and may run flows repeatedly
// and concurrently: it keeps one HTTP transport, the discovered metadata, the
// client credentials and a JWKS cache.
package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"authlab/flows"
	"authlab/flows/mtls"
)

// Options tune an Engine beyond the Request; the zero value is right for
// the command line.
type Options struct {
	// Transport replaces the HTTP transport (tests, bench). TLS settings of
	// the Request are then ignored.
	Transport http.RoundTripper
	// OpenURL opens the authorization URL for the user. Nil: the Request's
	// Browser command, else the system browser (github.com/pkg/browser).
	OpenURL func(ctx context.Context, url string) error
	// Listener serves the authorization code callback instead of a fresh
	// loopback listener (tests that must know the port in advance). It is
	// closed when the flow ends, so it serves one AuthCode run.
	Listener net.Listener
	// Sleep waits between device polls; nil sleeps for real. Tests inject
	// one that records the intervals.
	Sleep func(ctx context.Context, d time.Duration) error
	// SkipInspect leaves tokens undecoded and unchecked (bench loops that
	// only measure the token endpoint).
	SkipInspect bool
}

// Engine runs flows for one client against one authorization server.
type Engine struct {
	req       flows.Request
	opts      Options
	transport http.RoundTripper
	clientTLS *tls.Certificate  // mTLS client certificate, when given
	clientCrt *x509.Certificate // its leaf, for cnf checks
	signer    *assertionKey     // private_key_jwt key, when given

	mu   sync.Mutex
	meta *Metadata // discovered once, on first success

	keys keyCache
}

// New validates req and loads its certificates and keys. Errors are
// *flows.Error of kind config.
func New(req flows.Request, opts Options) (*Engine, error) {
	req = req.Clone()
	if err := validate(&req); err != nil {
		return nil, err
	}
	e := &Engine{req: req, opts: opts}
	if req.CertFile != "" || req.CAFile != "" {
		if req.CertFile != "" && req.KeyFile == "" {
			req.KeyFile = req.CertFile // a combined PEM
			e.req.KeyFile = req.CertFile
		}
		conf, err := mtls.LoadClientTLS(req.CertFile, req.KeyFile, req.CAFile)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "TLS files: %v", err)
		}
		if req.CertFile != "" {
			// The config may present the pair through a callback; keep the
			// leaf ourselves for the mTLS aliases and cnf checks.
			c, err := mtls.LoadKeyPair(req.CertFile, req.KeyFile)
			if err != nil {
				return nil, flows.Errorf(flows.ErrConfig, "TLS files: %v", err)
			}
			e.clientTLS = &c
			if c.Leaf != nil {
				e.clientCrt = c.Leaf
			} else if len(c.Certificate) > 0 {
				e.clientCrt, _ = x509.ParseCertificate(c.Certificate[0])
			}
		}
		if opts.Transport == nil {
			e.transport = flows.NewTransport(conf)
		}
	}
	if e.transport == nil {
		e.transport = opts.Transport
	}
	if e.transport == nil {
		e.transport = flows.NewTransport(nil)
	}
	if req.AuthMethod == flows.AuthPrivateKeyJWT {
		k, err := loadAssertionKey(req.PrivateKey, req.PrivateKeyData, req.KeyID)
		if err != nil {
			return nil, err
		}
		e.signer = k
	}
	return e, nil
}

// Close releases the engine's idle connections (a transport given in
// Options is left alone).
func (e *Engine) Close() {
	if e.opts.Transport != nil {
		return
	}
	if t, ok := e.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// Request returns (a copy of) the request the engine was built from.
func (e *Engine) Request() flows.Request { return e.req.Clone() }

// Run builds an Engine for req and runs req.Flow: the one-shot entry point.
func Run(ctx context.Context, req flows.Request, obs flows.Observer) *flows.Result {
	e, err := New(req, Options{})
	if err != nil {
		r := &flows.Result{Flow: req.Flow, Started: time.Now()}
		r.Fail(err)
		return r
	}
	defer e.Close()
	return e.Run(ctx, obs)
}

// Run runs the engine's flow (Request.Flow).
func (e *Engine) Run(ctx context.Context, obs flows.Observer) *flows.Result {
	switch e.req.Flow {
	case flows.FlowClientCredentials:
		return e.ClientCredentials(ctx, obs)
	case flows.FlowAuthCode:
		return e.AuthCode(ctx, obs)
	case flows.FlowRefresh:
		return e.Refresh(ctx, e.req.Token.Reveal(), obs)
	case flows.FlowDevice:
		return e.Device(ctx, obs)
	case flows.FlowTokenExchange:
		return e.TokenExchange(ctx, obs)
	case flows.FlowIntrospect:
		return e.Introspect(ctx, e.req.Token.Reveal(), obs)
	case flows.FlowRevoke:
		return e.Revoke(ctx, e.req.Token.Reveal(), obs)
	case flows.FlowUserinfo:
		return e.Userinfo(ctx, e.req.Token.Reveal(), obs)
	}
	r := &flows.Result{Flow: e.req.Flow, Started: time.Now()}
	r.Fail(flows.Errorf(flows.ErrConfig, "unknown flow %q (one of %s)", e.req.Flow, strings.Join(flows.OAuthFlows(), ", ")))
	return r
}

// validate checks what can be checked without the network.
func validate(r *flows.Request) error {
	cfg := func(format string, args ...any) error { return flows.Errorf(flows.ErrConfig, format, args...) }
	if r.Issuer != "" {
		if err := httpURL(r.Issuer); err != nil {
			return cfg("--issuer: %v", err)
		}
	}
	for _, ep := range []struct{ flag, v string }{
		{"--token-url", r.Endpoints.Token}, {"--auth-url", r.Endpoints.Auth}, {"--device-url", r.Endpoints.Device},
		{"--introspect-url", r.Endpoints.Introspect}, {"--revoke-url", r.Endpoints.Revoke},
		{"--userinfo-url", r.Endpoints.Userinfo}, {"--jwks-url", r.Endpoints.JWKS}, {"--call", r.CallURL},
	} {
		if ep.v == "" {
			continue
		}
		if err := httpURL(ep.v); err != nil {
			return cfg("%s: %v", ep.flag, err)
		}
	}
	if r.Issuer == "" && !hasNeededEndpoints(r) {
		return cfg("%s: give --issuer (for discovery) or the endpoint URLs it needs (%s)", r.Flow, strings.Join(neededFlags(r.Flow), ", "))
	}
	needsClient := r.Flow != flows.FlowUserinfo
	if needsClient && r.ClientID == "" {
		return cfg("%s: --client-id is required", r.Flow)
	}
	if r.AuthMethod == "" {
		r.AuthMethod = defaultAuthMethod(r)
	}
	switch r.AuthMethod {
	case flows.AuthClientSecretBasic, flows.AuthClientSecretPost, flows.AuthClientSecretJWT:
		if !r.ClientSecret.IsSet() && needsClient {
			return cfg("--auth-method %s needs --client-secret", r.AuthMethod)
		}
	case flows.AuthPrivateKeyJWT:
		if r.PrivateKey == "" && !r.PrivateKeyData.IsSet() {
			return cfg("--auth-method private_key_jwt needs --private-key (a PEM or JWK file)")
		}
	case flows.AuthTLSClient, flows.AuthSelfSignedTLS:
		if r.CertFile == "" {
			return cfg("--auth-method %s needs --cert and --key", r.AuthMethod)
		}
	case flows.AuthNone:
	default:
		if _, err := flows.ParseAuthMethod(string(r.AuthMethod)); err != nil {
			return cfg("--auth-method: %v", err)
		}
	}
	switch r.Flow {
	case flows.FlowRefresh, flows.FlowIntrospect, flows.FlowRevoke, flows.FlowUserinfo, flows.FlowTokenExchange:
		if !r.Token.IsSet() {
			return cfg("%s needs --token (a value, or - to read it from stdin)", r.Flow)
		}
	}
	if r.RedirectPort < 0 || r.RedirectPort > 65535 {
		return cfg("--redirect-port %d is not a port", r.RedirectPort)
	}
	if r.Timeout < 0 || r.Wait < 0 {
		return cfg("--timeout and --wait must be positive")
	}
	return nil
}

func defaultAuthMethod(r *flows.Request) flows.AuthMethod {
	switch {
	case r.PrivateKey != "" || r.PrivateKeyData.IsSet():
		return flows.AuthPrivateKeyJWT
	case r.ClientSecret.IsSet():
		return flows.AuthClientSecretBasic
	case r.CertFile != "":
		return flows.AuthTLSClient
	}
	return flows.AuthNone
}

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// neededFlags names the endpoint flags a flow needs without discovery.
func neededFlags(flow string) []string {
	switch flow {
	case flows.FlowAuthCode:
		return []string{"--auth-url", "--token-url"}
	case flows.FlowDevice:
		return []string{"--device-url", "--token-url"}
	case flows.FlowIntrospect:
		return []string{"--introspect-url"}
	case flows.FlowRevoke:
		return []string{"--revoke-url"}
	case flows.FlowUserinfo:
		return []string{"--userinfo-url"}
	}
	return []string{"--token-url"}
}

func hasNeededEndpoints(r *flows.Request) bool {
	ep := r.Endpoints
	switch r.Flow {
	case flows.FlowAuthCode:
		return ep.Auth != "" && ep.Token != ""
	case flows.FlowDevice:
		return ep.Device != "" && ep.Token != ""
	case flows.FlowIntrospect:
		return ep.Introspect != ""
	case flows.FlowRevoke:
		return ep.Revoke != ""
	case flows.FlowUserinfo:
		return ep.Userinfo != ""
	}
	return ep.Token != ""
}

// run is one flow in progress: its result, its observer (which also
// collects into the result) and its HTTP client.
type run struct {
	e     *Engine
	res   *flows.Result
	obs   flows.Observer
	hc    *flows.Client
	mu    sync.Mutex     // guards res.Steps / res.Exchanges (the callback goroutine reports too)
	bg    sync.WaitGroup // background work (JWKS prefetch) finish waits for
	obsMu sync.Mutex     // serialises calls into the caller's observer
}

func (e *Engine) newRun(flow string, obs flows.Observer) *run {
	if obs == nil {
		obs = flows.Discard
	}
	r := &run{e: e, res: &flows.Result{Flow: flow, Started: time.Now()}}
	// Reports come from the flow, the JWKS prefetch and the callback
	// listener; the caller's observer gets them one at a time.
	r.obs = flows.ObserverFuncs{
		OnStep: func(ev flows.StepEvent) {
			r.obsMu.Lock()
			defer r.obsMu.Unlock()
			if ev.Done {
				r.mu.Lock()
				r.res.Steps = append(r.res.Steps, ev)
				r.mu.Unlock()
			}
			obs.Step(ev)
		},
		OnExchange: func(ex flows.Exchange) {
			r.obsMu.Lock()
			defer r.obsMu.Unlock()
			r.mu.Lock()
			r.res.Exchanges = append(r.res.Exchanges, ex)
			r.mu.Unlock()
			obs.Exchange(ex)
		},
	}
	r.hc = flows.NewClient(flows.ClientOptions{Timeout: e.req.Timeout, Transport: e.transport}, r.obs)
	return r
}

// step runs fn as a named step, reporting start and end.
func (r *run) step(name string, fn func() (string, error)) error {
	r.obs.Step(flows.StepEvent{Name: name})
	start := time.Now()
	detail, err := fn()
	ev := flows.StepEvent{Name: name, Done: true, OK: err == nil, Detail: detail, Duration: time.Since(start)}
	if err != nil && detail == "" {
		ev.Detail = err.Error()
	}
	r.obs.Step(ev)
	return err
}

// note reports a finished informational step (no work of its own).
func (r *run) note(name, detail string, ok bool) {
	r.obs.Step(flows.StepEvent{Name: name, Done: true, OK: ok, Detail: detail})
}

// finish sets OK and the duration and returns the result.
func (r *run) finish(err error) *flows.Result {
	r.bg.Wait() // nothing may report into the result after it is returned
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Duration = time.Since(r.res.Started)
	if err != nil {
		r.res.Fail(err)
		return r.res
	}
	r.res.OK = true
	return r.res
}

func (e *Engine) now() time.Time { return e.req.Clock()() }
