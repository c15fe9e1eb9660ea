// Package mockidp is authlab's bundled OAuth 2.0 / OpenID Connect provider:
// an http.Handler with demo clients and users, fault injection, an admin API
// under /_authlab/ and demo resource endpoints. Any Go test can start it on a
// loopback port (see mockidp/mockidptest).
package mockidp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is the demo IdP with in-memory keys.
type Options struct {
	// Issuer is the issuer URL; empty derives it from the listener (or, for
	// Handler() used alone, from each request's Host).
	Issuer string
	// Config replaces the demo clients, users, lifetimes and algorithm.
	Config *Config
	// Alg overrides Config.Alg (RS256, ES256, EdDSA).
	Alg string
	// KeysDir persists signing keys so a restarted IdP serves the same JWKS;
	// empty keeps them in memory.
	KeysDir string
	// Login serves the HTML login + consent page instead of auto-approving.
	Login bool
	// Clock is the IdP's time source (before the skew fault); default time.Now.
	Clock func() time.Time
	// AdminToken is demanded from non-loopback callers of /_authlab/; empty
	// generates one (see Server.AdminToken).
	AdminToken string
	// MaxEntries caps each in-memory table (codes, refresh tokens, revoked
	// ids, device codes, assertion ids); default 100000.
	MaxEntries int
	// MaxTableBytes caps the bytes each table holding what callers sent may
	// take (codes, pending logins, device sign-in forms); default 32 MiB.
	// Full sign-in form tables drop their oldest forms.
	MaxTableBytes int
	// ClientCAs verifies tls_client_auth certificates; StartTLS sets it from
	// its TLS material when nil.
	ClientCAs *x509.CertPool
}

// Option edits Options; used by the test helper and New's callers alike.
type Option func(*Options)

// WithConfig replaces the demo configuration.
func WithConfig(c Config) Option { return func(o *Options) { o.Config = &c } }

// WithAlg sets the issuer's signing algorithm.
func WithAlg(alg string) Option { return func(o *Options) { o.Alg = alg } }

// WithLogin turns on the HTML login + consent page.
func WithLogin() Option { return func(o *Options) { o.Login = true } }

// WithClock sets the IdP's clock.
func WithClock(c func() time.Time) Option { return func(o *Options) { o.Clock = c } }

// WithKeysDir persists signing keys in dir.
func WithKeysDir(dir string) Option { return func(o *Options) { o.KeysDir = dir } }

// Server is a running (or runnable) mock IdP. Its methods are safe for
// concurrent use.
type Server struct {
	opts       Options
	cfg        Config
	clients    map[string]*clientInfo
	users      map[string]*User
	trusted    map[string]*trustedIssuer // jwt-bearer assertion issuers (jwtbearer.go)
	mux        *http.ServeMux
	handler    http.Handler
	adminToken string

	clock       atomic.Pointer[func() time.Time]
	faults      atomic.Pointer[faultState]
	keys        atomic.Pointer[keySet]
	keysMu      sync.Mutex // serialises rotation and retirement
	events      broker
	st          *memStore
	disc        atomic.Pointer[discoveryCache]
	dpop        dpopState              // DPoP replay cache and nonces (dpop.go)
	metrics     *idpMetrics            // /metrics instruments (metrics.go)
	unpublished map[string]*signingKey // guarded by keysMu
	// bufs recycles *[]byte scratch buffers for token building: the token
	// endpoint's garbage is most of what drives GC under load.
	bufs sync.Pool
	// apiKeyDigest is the SHA-256 of cfg.APIKey, nil when none (apikey.go).
	apiKeyDigest *[32]byte

	mu      sync.Mutex
	epNames map[string]bool // endpoint names faults may name (guarded by mu)
	srv     *http.Server
	ln      net.Listener
	url     atomic.Pointer[string] // read on every request via Issuer()
	closed  chan struct{}
	serveWG sync.WaitGroup
}

// New builds a Server from opts; it loads (or creates and persists) the
// signing keys but does not listen yet.
func New(opts Options) (*Server, error) {
	cfg := DefaultConfig()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	if opts.Alg != "" {
		cfg.Alg = opts.Alg
	}
	cfg.ApplyFAPI2() // FAPI 2.0 mode narrows the configuration (fapi.go)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Issuer != "" {
		opts.Issuer = strings.TrimRight(opts.Issuer, "/")
		if !strings.HasPrefix(opts.Issuer, "http://") && !strings.HasPrefix(opts.Issuer, "https://") {
			return nil, fmt.Errorf("issuer %q: want an http:// or https:// URL", opts.Issuer)
		}
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 100000
	}
	if opts.MaxTableBytes <= 0 {
		opts.MaxTableBytes = 32 << 20
	}
	s := &Server{opts: opts, cfg: cfg, closed: make(chan struct{}), epNames: map[string]bool{}}
	clk := opts.Clock
	if clk == nil {
		clk = time.Now
	}
	s.clock.Store(&clk)
	s.faults.Store(newFaultState(Faults{}))
	var err error
	if s.clients, err = buildClients(cfg); err != nil {
		return nil, err
	}
	if s.trusted, err = buildTrusted(cfg); err != nil {
		return nil, err
	}
	s.apiKeyDigest = apiKeyDigestOf(cfg.APIKey)
	s.users = map[string]*User{}
	for i := range cfg.Users {
		s.users[cfg.Users[i].Username] = &cfg.Users[i]
	}
	ks, err := loadOrCreateKeys(opts.KeysDir, clk())
	if err != nil {
		return nil, err
	}
	s.keys.Store(ks)
	s.adminToken = opts.AdminToken
	if s.adminToken == "" {
		s.adminToken = randomToken(24)
	}
	s.st = newMemStore(opts.MaxEntries, opts.MaxTableBytes)
	s.metrics = newIdPMetrics(s)
	s.routes()
	return s, nil
}

// Handler serves the whole IdP: protocol endpoints, demo resources and the
// admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// Handle adds a route (http.ServeMux pattern) to the IdP, e.g. a demo
// resource; it goes through the same fault, event and Date middleware.
// Endpoint names the route for per-endpoint faults and events.
func (s *Server) Handle(pattern, endpoint string, h http.Handler) {
	s.mu.Lock()
	s.epNames[endpoint] = true
	s.mu.Unlock()
	s.mux.Handle(pattern, s.wrap(endpoint, h))
}

// checkEndpoints names the first fault keyed by an endpoint nobody serves.
func (s *Server) checkEndpoints(f Faults) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ep := range f.Latency {
		if ep != "*" && !s.epNames[ep] {
			return fmt.Errorf("faults: latency for unknown endpoint %q (known: %s)", ep, s.knownLocked())
		}
	}
	for ep := range f.Errors {
		if ep != "*" && !s.epNames[ep] {
			return fmt.Errorf("faults: errors for unknown endpoint %q (known: %s)", ep, s.knownLocked())
		}
	}
	return nil
}

func (s *Server) knownLocked() string {
	var names []string
	for n := range s.epNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ") + ", *"
}

// Start listens on addr (e.g. "127.0.0.1:0") over plain HTTP and serves in
// the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mock IdP: listen %s: %w", addr, err)
	}
	return s.serve(ln, nil)
}

// StartTLS listens on addr over HTTPS with conf's certificate. conf.ClientCAs
// verifies tls_client_auth certificates; the handshake only requests a client
// certificate (so self-signed ones for self_signed_tls_client_auth and
// clients without one still connect), and each client's method is checked
// per request. mtls.CertSet.ServerTLSConfig produces a suitable conf.
func (s *Server) StartTLS(addr string, conf *tls.Config) error {
	if conf == nil || (len(conf.Certificates) == 0 && conf.GetCertificate == nil) {
		return errors.New("mock IdP: StartTLS needs a server certificate")
	}
	conf = conf.Clone()
	if conf.ClientCAs != nil {
		s.mu.Lock()
		s.opts.ClientCAs = conf.ClientCAs
		s.mu.Unlock()
	}
	// Advertise no acceptable CAs: Go clients would otherwise withhold
	// self-signed or foreign certificates, and the IdP wants to see (and
	// explain) whatever the client holds.
	conf.ClientCAs = nil
	conf.ClientAuth = tls.RequestClientCert
	if conf.MinVersion == 0 {
		conf.MinVersion = tls.VersionTLS12
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mock IdP: listen %s: %w", addr, err)
	}
	return s.serve(tls.NewListener(ln, conf), conf)
}

func (s *Server) serve(ln net.Listener, conf *tls.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		ln.Close()
		return errors.New("mock IdP: already started")
	}
	scheme := "http"
	if conf != nil {
		scheme = "https"
	}
	s.ln = ln
	addr := ln.Addr().String()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		// Bound to all interfaces: name the loopback address, which works here.
		addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
	}
	u := scheme + "://" + addr
	s.url.Store(&u)
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: quietLog()}
	srv := s.srv
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = srv.Serve(ln)
	}()
	return nil
}

// URL is the listener's base URL ("http://127.0.0.1:PORT"), empty before Start.
func (s *Server) URL() string {
	if u := s.url.Load(); u != nil {
		return *u
	}
	return ""
}

// Issuer is the issuer URL tokens carry.
func (s *Server) Issuer() string {
	if s.opts.Issuer != "" {
		return s.opts.Issuer
	}
	return s.URL()
}

// Addr is the listener address, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// AdminToken is the bearer token /_authlab/ demands from non-loopback callers.
func (s *Server) AdminToken() string { return s.adminToken }

// Close stops the listener, ends in-flight requests (including hangs) and
// closes event subscriptions. It is safe to call twice.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return nil
	default:
		close(s.closed)
	}
	srv := s.srv
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			err = srv.Close()
		}
		s.serveWG.Wait()
	}
	s.events.closeAll()
	return err
}

// SetClock replaces the IdP's clock (the skew fault still applies on top).
func (s *Server) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.clock.Store(&now)
}

// clockNow is the IdP's clock without the skew fault (certificate checks and
// key rotation follow real time).
func (s *Server) clockNow() time.Time { return (*s.clock.Load())() }

// Now is the IdP's current time: its clock plus the skew fault.
func (s *Server) Now() time.Time {
	t := s.clockNow()
	if f := s.faults.Load(); !f.zero {
		t = t.Add(f.f.Skew.D())
	}
	return t
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults { return s.faults.Load().f.clone() }

// SetFaults replaces all faults at once (counted error faults start afresh).
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	if err := s.checkEndpoints(f); err != nil {
		return err
	}
	s.faults.Store(newFaultState(f))
	return nil
}

// UpdateFaults edits the faults in force atomically.
func (s *Server) UpdateFaults(edit func(*Faults)) error {
	for {
		old := s.faults.Load()
		f := old.f.clone()
		edit(&f)
		if err := f.validate(); err != nil {
			return err
		}
		if err := s.checkEndpoints(f); err != nil {
			return err
		}
		if s.faults.CompareAndSwap(old, newFaultState(f)) {
			return nil
		}
	}
}

// ResetFaults restores normal behaviour (keys rotated stay rotated).
func (s *Server) ResetFaults() { s.faults.Store(newFaultState(Faults{})) }

// Events subscribes to the event stream: every request and response at the
// IdP. The server never waits for a subscriber; a full buffer drops events
// (the next delivered event says how many). Call cancel to unsubscribe; the
// channel is closed then, and when the server closes.
func (s *Server) Events(buffer int) (<-chan Event, func()) { return s.events.subscribe(buffer) }

// Config returns the effective configuration.
func (s *Server) Config() Config { return s.cfg }

// Clients returns the registered clients.
func (s *Server) Clients() []Client { return append([]Client(nil), s.cfg.Clients...) }

// JWKS returns the JWK Set document the IdP serves (without faults).
func (s *Server) JWKS() []byte { return append([]byte(nil), s.keySet().jwks...) }

// RotateKey makes a new signing key current for every algorithm. The old keys
// stay in the JWKS for grace (0: dropped at once, so tokens signed with them
// stop verifying). The new keys are persisted when a keys dir is set.
func (s *Server) RotateKey(grace time.Duration) error {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	now := s.clockNow()
	old := s.keys.Load()
	next := &keySet{current: map[string]*signingKey{}}
	for _, k := range old.retired {
		if grace > 0 {
			next.retired = append(next.retired, k)
		}
	}
	for _, alg := range signingAlgs {
		k, err := generateKey(alg, now)
		if err != nil {
			return err
		}
		next.current[alg] = k
		if grace > 0 {
			o := *old.current[alg]
			o.RetireAt = now.Add(grace)
			next.retired = append(next.retired, &o)
		}
	}
	ks := next.index(now)
	if s.opts.KeysDir != "" {
		if err := saveKeys(s.opts.KeysDir, ks); err != nil {
			return err
		}
	}
	s.keys.Store(ks)
	return nil
}

// keySet returns the current keys, dropping retired keys whose grace ended.
func (s *Server) keySet() *keySet {
	ks := s.keys.Load()
	if ks.nextRetire.IsZero() {
		return ks
	}
	now := s.clockNow()
	if now.Before(ks.nextRetire) {
		return ks
	}
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	ks = s.keys.Load()
	if !ks.nextRetire.IsZero() && !now.Before(ks.nextRetire) {
		ks = ks.index(now)
		s.keys.Store(ks)
	}
	return ks
}

// getBuf returns an empty scratch buffer; putBuf gives it back.
func (s *Server) getBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1024)
	return &b
}

func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= 16<<10 { // do not pin the odd huge token
		*b = (*b)[:0]
		s.bufs.Put(b)
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// roll is the fraction-fault die; math/rand is fine: it is not a secret.
func roll() float64 { return mrand.Float64() }
