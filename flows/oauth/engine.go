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
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
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
	grantKey  *assertionKey     // the jwt-bearer grant's assertion key, when given
	dpop      *dpop.Key         // DPoP proof key, when the request uses DPoP
	nonces    *dpop.Nonces      // DPoP server nonces, per origin

	mu   sync.Mutex
	meta *Metadata // discovered once, on first success

	keys keyCache

	secrets flows.Secrets // the request's, computed once; each run inherits them
}

// New validates req and loads its certificates and keys. Errors are
// *flows.Error of kind config.
func New(req flows.Request, opts Options) (*Engine, error) {
	req = req.Clone()
	if err := validate(&req); err != nil {
		return nil, err
	}
	e := &Engine{req: req, opts: opts}
	e.secrets.AddRequest(&e.req)
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
		fapi2Signer(&req, k)
		e.signer = k
	}
	if req.Flow == flows.FlowJWTBearer && !req.Assertion.IsSet() {
		// KeyID names this key too: the kid of every assertion authlab signs.
		k, err := loadSigningKey(flows.FieldAssertionKey, req.AssertionKey, req.AssertionKeyData, req.KeyID)
		if err != nil {
			return nil, err
		}
		e.grantKey = k
	}
	k, err := loadDPoPKey(&req)
	if err != nil {
		return nil, err
	}
	e.dpop = k
	e.nonces = dpop.NewNonces(0)
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
	case flows.FlowPassword:
		return e.Password(ctx, obs)
	case flows.FlowJWTBearer:
		return e.JWTBearer(ctx, obs)
	}
	r := &flows.Result{Flow: e.req.Flow, Started: time.Now()}
	r.Fail(flows.Errorf(flows.ErrConfig, "unknown flow %q (one of %s)", e.req.Flow, strings.Join(flows.OAuthFlows(), ", ")))
	return r
}

// validate checks what can be checked without the network. Messages name
// the request's fields (flows.Field), never a front end's flags.
func validate(r *flows.Request) error {
	cfg := func(format string, args ...any) error { return flows.Errorf(flows.ErrConfig, format, args...) }
	if r.Issuer != "" {
		if err := httpURL(r.Issuer); err != nil {
			return cfg("%s: %v", flows.FieldIssuer, err)
		}
	}
	for _, ep := range []struct {
		field flows.Field
		v     string
	}{
		{flows.FieldTokenURL, r.Endpoints.Token}, {flows.FieldAuthURL, r.Endpoints.Auth}, {flows.FieldDeviceURL, r.Endpoints.Device},
		{flows.FieldIntrospectURL, r.Endpoints.Introspect}, {flows.FieldRevokeURL, r.Endpoints.Revoke},
		{flows.FieldUserinfoURL, r.Endpoints.Userinfo}, {flows.FieldJWKSURL, r.Endpoints.JWKS}, {flows.FieldCallURL, r.CallURL},
	} {
		if ep.v == "" {
			continue
		}
		if err := httpURL(ep.v); err != nil {
			return cfg("%s: %v", ep.field, err)
		}
	}
	if r.Issuer == "" && !hasNeededEndpoints(r) {
		return cfg("%s: give %s (for discovery) or the endpoint URLs it needs (%s)", r.Flow, flows.FieldIssuer, neededEndpoints(r.Flow))
	}
	needsClient := r.Flow != flows.FlowUserinfo
	if needsClient && r.ClientID == "" {
		return cfg("%s: %s is required", r.Flow, flows.FieldClientID)
	}
	if r.AuthMethod == "" {
		r.AuthMethod = defaultAuthMethod(r)
	}
	switch r.AuthMethod {
	case flows.AuthClientSecretBasic, flows.AuthClientSecretPost, flows.AuthClientSecretJWT:
		if !r.ClientSecret.IsSet() && needsClient {
			return cfg("%s %s needs %s", flows.FieldAuthMethod, r.AuthMethod, flows.FieldClientSecret)
		}
	case flows.AuthPrivateKeyJWT:
		if r.PrivateKey == "" && !r.PrivateKeyData.IsSet() {
			return cfg("%s private_key_jwt needs %s (a PEM or JWK file)", flows.FieldAuthMethod, flows.FieldPrivateKey)
		}
	case flows.AuthTLSClient, flows.AuthSelfSignedTLS:
		if r.CertFile == "" {
			return cfg("%s %s needs %s and %s", flows.FieldAuthMethod, r.AuthMethod, flows.FieldCertFile, flows.FieldKeyFile)
		}
	case flows.AuthNone:
	default:
		if _, err := flows.ParseAuthMethod(string(r.AuthMethod)); err != nil {
			return cfg("%s: %v", flows.FieldAuthMethod, err)
		}
	}
	switch r.Flow {
	case flows.FlowRefresh, flows.FlowIntrospect, flows.FlowRevoke, flows.FlowUserinfo, flows.FlowTokenExchange:
		if !r.Token.IsSet() {
			return cfg("%s needs %s (a value, or - to read it from stdin)", r.Flow, flows.FieldToken)
		}
	}
	if r.RedirectPort < 0 || r.RedirectPort > 65535 {
		return cfg("%s %d is not a port", flows.FieldRedirectPort, r.RedirectPort)
	}
	if r.Timeout < 0 || r.Wait < 0 {
		return cfg("%s and %s must be positive", flows.FieldTimeout, flows.FieldWait)
	}
	return validateExtra(r)
}

// missingEndpoint: the flow needs an endpoint that neither the request nor
// the discovered metadata has.
func missingEndpoint(what string, f flows.Field) *flows.Error {
	return flows.Errorf(flows.ErrConfig, "no %s endpoint: the metadata has none; pass %s", what, f)
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
		if shown := withoutUserinfo(s); shown != s {
			// The parser's reason quotes pieces of the password.
			return fmt.Errorf("%q is not a URL (check the escaping of its user:password part)", shown)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL
		}
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", withoutUserinfo(s))
	}
	return nil
}

// withoutUserinfo is s for an error message: whatever stands before the last
// '@' of its authority (user:password) replaced, since a URL that does not
// parse cannot be masked field by field.
func withoutUserinfo(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	// The '/' of an unescaped password ends the authority early: look for
	// '@' in the whole remainder then.
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		at = strings.LastIndex(rest, "@")
		if at < 0 {
			return s
		}
		return scheme + "://xxxxx@" + rest[at+1:]
	}
	return scheme + "://xxxxx@" + authority[at+1:] + path
}

// neededEndpoints names the endpoint fields a flow needs without discovery.
func neededEndpoints(flow string) flows.Fields {
	switch flow {
	case flows.FlowAuthCode:
		return flows.Fields{flows.FieldAuthURL, flows.FieldTokenURL}
	case flows.FlowDevice:
		return flows.Fields{flows.FieldDeviceURL, flows.FieldTokenURL}
	case flows.FlowIntrospect:
		return flows.Fields{flows.FieldIntrospectURL}
	case flows.FlowRevoke:
		return flows.Fields{flows.FieldRevokeURL}
	case flows.FlowUserinfo:
		return flows.Fields{flows.FieldUserinfoURL}
	}
	return flows.Fields{flows.FieldTokenURL}
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

// run is one flow in progress: its recorder (which collects steps and
// exchanges into the result and passes them on to the caller's observer),
// the result and the HTTP client.
type run struct {
	e   *Engine
	rec *flows.Recorder
	res *flows.Result
	hc  *flows.Client
	bg  sync.WaitGroup // background work (JWKS prefetch) finish waits for
	pre *prefetch      // the JWKS fetched alongside the token request, or nil
}

func (e *Engine) newRun(flow string, obs flows.Observer) *run {
	rec := flows.NewRecorder(flow, obs)
	rec.Secrets().Inherit(&e.secrets) // masked wherever a server reflects them
	r := &run{e: e, rec: rec, res: rec.Result()}
	r.hc = flows.NewClient(flows.ClientOptions{Timeout: e.req.Timeout, Transport: e.transport}, rec)
	return r
}

// step runs fn as a named step, reporting start and end.
func (r *run) step(name string, fn func() (string, error)) error { return r.rec.Run(name, fn) }

// note reports a finished informational step (no work of its own).
func (r *run) note(name, detail string, ok bool) { r.rec.Note(name, detail, ok) }

// finish sets OK and the duration and returns the result.
func (r *run) finish(err error) *flows.Result {
	if r.pre != nil {
		r.pre.stop() // keys not used by now are not needed: cancel the fetch
	}
	r.bg.Wait() // nothing may report into the result after it is returned
	return r.rec.Finish(err)
}

func (e *Engine) now() time.Time { return e.req.Clock()() }
