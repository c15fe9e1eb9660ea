package mockidp

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Replay kinds for authlab_idp_replays_refused_total.
const (
	replayCode      = "code"
	replayRefresh   = "refresh_token"
	replayDevice    = "device_code"
	replayDPoPJTI   = "dpop_jti"
	replayAssertion = "client_assertion_jti"
)

// tokenGrants are the grant_type label values; anything else is "other".
var tokenGrants = [...]string{GrantClientCreds, GrantAuthCode, GrantRefresh, GrantDeviceCode, GrantTokenExchange, GrantPassword, GrantJWTBearer}

// oauthErrorCodes are the error label values; a fault may name any string,
// so everything else is "other" (labels stay low-cardinality).
var oauthErrorCodes = [...]string{
	"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "access_denied", "server_error",
	"temporarily_unavailable", "unsupported_response_type", "invalid_token",
	"insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce",
	"authorization_pending", "slow_down", "expired_token", "login_required",
	"consent_required", "interaction_required", "invalid_request_uri",
	"invalid_request_object", "request_not_supported", "request_uri_not_supported",
	"invalid_authorization_details", "invalid_target", "unsupported_token_type",
	"not_found", "method_not_allowed", "invalid_api_key",
}

// idpMetrics is one Server's instruments, on its own registry. Everything
// the request path touches is resolved ahead (per endpoint, per client), so
// recording a request is a few atomic adds and no label lookups.
type idpMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	oauthErr *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	replays  *prometheus.CounterVec

	// byClient maps configured client ids to their per-grant counters;
	// written only in newIdPMetrics.
	byClient    map[string]*grantCounters
	otherClient grantCounters
	replayKinds map[string]prometheus.Counter // written only in newIdPMetrics

	mu  sync.Mutex
	eps map[string]*epMetrics // guarded by mu; one per endpoint name

	writers sync.Pool // *metricsWriter
}

// grantCounters holds authlab_idp_tokens_issued_total for one client_id.
type grantCounters [len(tokenGrants) + 1]incer

type incer interface{ Inc() }

// epMetrics are one endpoint's instruments. Per-status and per-error
// counters are created on first use and then read lock-free.
type epMetrics struct {
	m        *idpMetrics
	name     string
	duration prometheus.Observer
	status   [600]atomic.Pointer[prometheus.Counter]
	errs     [len(oauthErrorCodes) + 1]atomic.Pointer[prometheus.Counter]
}

// DurationBuckets are authlab_idp_request_duration_seconds' bucket bounds,
// from an in-process token (tens of µs) to a fault's delay; SLO rules pick
// their latency thresholds among them.
func DurationBuckets() []float64 {
	return []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

func newIdPMetrics(s *Server) *idpMetrics {
	m := &idpMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authlab_idp_requests_total",
			Help: "Requests the mock IdP answered, by endpoint and HTTP status.",
		}, []string{"endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authlab_idp_request_duration_seconds",
			Help:    "Time the mock IdP took to answer, faults included, by endpoint.",
			Buckets: DurationBuckets(),
		}, []string{"endpoint"}),
		oauthErr: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authlab_idp_oauth_errors_total",
			Help: "OAuth error responses, by endpoint and error code (unknown codes as other).",
		}, []string{"endpoint", "error"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authlab_idp_tokens_issued_total",
			Help: "Successful token endpoint responses, by grant type and configured client (others as other).",
		}, []string{"grant_type", "client_id"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authlab_idp_replays_refused_total",
			Help: "Replayed single-use artefacts the mock IdP refused, by kind.",
		}, []string{"kind"}),
		byClient:    map[string]*grantCounters{},
		replayKinds: map[string]prometheus.Counter{},
		eps:         map[string]*epMetrics{},
	}
	m.writers.New = func() any { return new(metricsWriter) }
	// Series a client can reach start at zero, so rate() sees their first
	// increase; other combinations appear on first use.
	for id, c := range s.clients {
		gc := &grantCounters{}
		for i, g := range tokenGrants {
			if c.grants[g] {
				gc[i] = m.tokens.WithLabelValues(g, id)
			} else {
				gc[i] = &lazyCounter{vec: m.tokens, labels: []string{g, id}}
			}
		}
		gc[len(tokenGrants)] = &lazyCounter{vec: m.tokens, labels: []string{"other", id}}
		m.byClient[id] = gc
	}
	for i, g := range tokenGrants {
		m.otherClient[i] = &lazyCounter{vec: m.tokens, labels: []string{g, "other"}}
	}
	m.otherClient[len(tokenGrants)] = &lazyCounter{vec: m.tokens, labels: []string{"other", "other"}}
	for _, k := range []string{replayCode, replayRefresh, replayDevice, replayDPoPJTI, replayAssertion} {
		m.replayKinds[k] = m.replays.WithLabelValues(k)
	}
	m.reg.MustRegister(m.requests, m.duration, m.oauthErr, m.tokens, m.replays, newFaultsCollector(s), newKeysCollector(s))
	return m
}

// lazyCounter creates its series on first increment, so clients or grants
// that never get a token do not show up as zero series.
type lazyCounter struct {
	vec    *prometheus.CounterVec
	labels []string
	once   sync.Once
	c      prometheus.Counter
}

func (c *lazyCounter) Inc() {
	c.once.Do(func() { c.c = c.vec.WithLabelValues(c.labels...) })
	c.c.Inc()
}

// endpoint returns (creating once) the instruments for endpoint name ep.
func (m *idpMetrics) endpoint(ep string) *epMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.eps[ep]; e != nil {
		return e
	}
	e := &epMetrics{m: m, name: ep, duration: m.duration.WithLabelValues(ep)}
	m.eps[ep] = e
	return e
}

// replay counts a refused replay of kind (one of the replay* constants).
func (m *idpMetrics) replay(kind string) {
	if c := m.replayKinds[kind]; c != nil {
		c.Inc()
	}
}

func (e *epMetrics) statusCounter(code int) prometheus.Counter {
	if code < 100 || code >= len(e.status) {
		code = 0 // never sent by net/http; recorded as "0"
	}
	if c := e.status[code].Load(); c != nil {
		return *c
	}
	c := e.m.requests.WithLabelValues(e.name, strconv.Itoa(code))
	e.status[code].Store(&c)
	return c
}

func (e *epMetrics) errCounter(code string) prometheus.Counter {
	i := len(oauthErrorCodes)
	for j, k := range oauthErrorCodes {
		if k == code {
			i = j
			break
		}
	}
	if c := e.errs[i].Load(); c != nil {
		return *c
	}
	label := "other"
	if i < len(oauthErrorCodes) {
		label = oauthErrorCodes[i]
	}
	c := e.m.oauthErr.WithLabelValues(e.name, label)
	e.errs[i].Store(&c)
	return c
}

// begin wraps w to observe the response; finish records it and recycles
// the wrapper.
func (e *epMetrics) begin(w http.ResponseWriter) *metricsWriter {
	mw := e.m.writers.Get().(*metricsWriter)
	*mw = metricsWriter{ResponseWriter: w, start: time.Now()}
	return mw
}

func (e *epMetrics) finish(mw *metricsWriter) {
	e.duration.Observe(time.Since(mw.start).Seconds())
	status := mw.status
	if status == 0 {
		status = http.StatusOK
	}
	e.statusCounter(status).Inc()
	if mw.oerr != "" {
		e.errCounter(mw.oerr).Inc()
	}
	if e.name == EPToken && status == http.StatusOK {
		e.m.tokenIssued(mw.grant, mw.clientID)
	}
	*mw = metricsWriter{}
	e.m.writers.Put(mw)
}

func (m *idpMetrics) tokenIssued(grant, clientID string) {
	gc := m.byClient[clientID]
	if gc == nil {
		gc = &m.otherClient
	}
	i := len(tokenGrants)
	for j, g := range tokenGrants {
		if g == grant {
			i = j
			break
		}
	}
	gc[i].Inc()
}

// handler serves the exposition: loopback callers (with a loopback or the
// IdP's own Host, against DNS rebinding) read it freely, like discovery;
// others need the admin token, since it names the clients and their use.
func (m *idpMetrics) handler(s *Server) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isLoopback(r) && s.adminHostAllowed(r.Host) {
			h.ServeHTTP(w, r)
			return
		}
		s.adminAuth(h.ServeHTTP)(w, r)
	})
}

// metricsWriter records what the metrics need from a response: status, the
// OAuth error code, and (token endpoint) who got a token with which grant.
type metricsWriter struct {
	http.ResponseWriter
	start    time.Time
	status   int
	oerr     string
	clientID string
	grant    string
}

func (w *metricsWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *metricsWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *metricsWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *metricsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// metricsOf finds the metrics recorder behind w (under the event recorder
// when someone is subscribed), or nil.
func metricsOf(w http.ResponseWriter) *metricsWriter {
	switch v := w.(type) {
	case *metricsWriter:
		return v
	case *recWriter:
		mw, _ := v.ResponseWriter.(*metricsWriter)
		return mw
	}
	return nil
}

// faultsCollector exports authlab_idp_faults_active at scrape time from the
// faults in force, so setting faults costs the request path nothing.
type faultsCollector struct {
	s    *Server
	desc *prometheus.Desc
}

func newFaultsCollector(s *Server) faultsCollector {
	return faultsCollector{s, prometheus.NewDesc("authlab_idp_faults_active",
		"Whether each kind of injected fault is in force (1) or not (0).", []string{"fault"}, nil)}
}

func (c faultsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c faultsCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.s.faults.Load().f
	for _, kv := range []struct {
		name string
		on   bool
	}{
		{"skew", f.Skew != 0},
		{"latency", len(f.Latency) > 0},
		{"errors", len(f.Errors) > 0},
		{"jwks", f.JWKS != JWKSUp},
		{"unknown_key", f.UnknownKey},
		{"alg_none", f.AlgNone},
		{"lifetime", f.Lifetime != 0},
		{"expired", f.Expired},
		{"dpop_nonce_storm", f.DPoPNonceStorm},
		{"dpop_bearer_only", f.DPoPBearerOnly},
	} {
		v := 0.0
		if kv.on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, kv.name)
	}
}

// keysCollector exports authlab_idp_signing_key_info: one series per
// current signing key, value 1.
type keysCollector struct {
	s    *Server
	desc *prometheus.Desc
}

func newKeysCollector(s *Server) keysCollector {
	return keysCollector{s, prometheus.NewDesc("authlab_idp_signing_key_info",
		"The current signing keys (value 1), by key id and algorithm.", []string{"kid", "alg"}, nil)}
}

func (c keysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c keysCollector) Collect(ch chan<- prometheus.Metric) {
	ks := c.s.keySet()
	for _, alg := range signingAlgs {
		if k := ks.current[alg]; k != nil {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, k.Kid, alg)
		}
	}
}
