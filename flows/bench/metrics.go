package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

// PushJob is the Pushgateway job bench pushes under.
const PushJob = "authlab_bench"

// DefaultPushEvery is how often a run pushes while it is going.
const DefaultPushEvery = 5 * time.Second

// maxReasons bounds authlab_bench_failures_total's reason label: the first
// maxReasons distinct failure groups keep their own series, later ones
// share "other" (a server's error codes are its input, not ours).
const maxReasons = 20

// DurationBuckets are authlab_bench_request_duration_seconds' classic
// bucket bounds: ten per decade (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8) from
// 10µs to 8s, then 10s, 15s, 30s, 60s. Adjacent bounds differ by at most
// 33%, so histogram_quantile's linear interpolation stays within a few
// percent of p99 even at sub-millisecond latencies, and common SLO
// thresholds (1ms, 50ms, 100ms, 250ms, 1s) are exact bounds. Each bound is
// parsed from its decimal text so the le labels read "0.05", not
// "0.05000000000000001".
func DurationBuckets() []float64 {
	mantissas := []string{"1", "1.25", "1.5", "2", "2.5", "3", "4", "5", "6", "8"}
	var out []float64
	for exp := -5; exp <= 0; exp++ {
		for _, m := range mantissas {
			v, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(exp), 64)
			out = append(out, v)
		}
	}
	return append(out, 10, 15, 30, 60)
}

// Metrics exports a run's SLIs in Prometheus form on its own registry. It
// reads the engine's progress snapshots (Observe), so the request path pays
// nothing for it: the counters and the histogram are the engine's own,
// converted when a push or a file write gathers them.
type Metrics struct {
	flow, profile string
	bounds        []float64
	reg           *prometheus.Registry

	requests, duration, failures, sloMet *prometheus.Desc

	mu      sync.Mutex
	snap    Snapshot
	slo     []SLOResult
	reasons map[string]bool // failure labels with their own series (sticky)
	other   int64           // failures of groups past maxReasons, at the last snapshot
}

// NewMetrics is the metrics of one run of flow (the profile's name, or "").
func NewMetrics(flow, profile string) *Metrics {
	m := &Metrics{
		flow: flow, profile: profile, bounds: DurationBuckets(),
		reg:     prometheus.NewRegistry(),
		reasons: map[string]bool{},
		requests: prometheus.NewDesc("authlab_bench_requests_total",
			"Completed bench requests by result (success or failure), flow and profile.", []string{"result", "flow", "profile"}, nil),
		duration: prometheus.NewDesc("authlab_bench_request_duration_seconds",
			"Latency of completed bench requests, failures included (coordinated-omission corrected at a fixed --rate).", []string{"flow", "profile"}, nil),
		failures: prometheus.NewDesc("authlab_bench_failures_total",
			"Failed bench requests by reason (HTTP status, OAuth error, kind).", []string{"reason"}, nil),
		sloMet: prometheus.NewDesc("authlab_bench_slo_met",
			"Whether the run met each --slo objective (1) or not (0); set when the run ends.", []string{"objective"}, nil),
	}
	m.reg.MustRegister(metricsCollector{m})
	return m
}

// Observe takes a progress snapshot (a Config.OnSnapshot callback).
func (m *Metrics) Observe(s Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snap = s
}

// SetSLO records the run's verdicts for authlab_bench_slo_met.
func (m *Metrics) SetSLO(results []SLOResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.slo = append([]SLOResult(nil), results...)
}

// Gatherer is the registry holding the run's metrics.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// WriteFile writes the metrics in the text exposition format to path,
// atomically (a temporary file renamed over it).
func (m *Metrics) WriteFile(path string) error {
	if err := prometheus.WriteToTextfile(path, m.reg); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	return nil
}

type metricsCollector struct{ m *Metrics }

func (c metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.requests
	ch <- c.m.duration
	ch <- c.m.failures
	ch <- c.m.sloMet
}

func (c metricsCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snap
	ch <- prometheus.MustNewConstMetric(m.requests, prometheus.CounterValue, float64(s.OK), "success", m.flow, m.profile)
	ch <- prometheus.MustNewConstMetric(m.requests, prometheus.CounterValue, float64(s.Failed), "failure", m.flow, m.profile)
	count, sum, cum := s.Latency.classic(m.bounds)
	ch <- prometheus.MustNewConstHistogram(m.duration, count, sum, cum, m.flow, m.profile)
	byReason := map[string]int64{}
	for _, g := range s.Failures {
		r := g.Label()
		if !m.reasons[r] && len(m.reasons) < maxReasons {
			m.reasons[r] = true
		}
		if !m.reasons[r] {
			r = "other"
		}
		byReason[r] += g.Count
	}
	// A reason once exported stays exported, so no series goes backwards.
	for r := range m.reasons {
		ch <- prometheus.MustNewConstMetric(m.failures, prometheus.CounterValue, float64(byReason[r]), r)
	}
	if n, ok := byReason["other"]; ok || m.other > 0 {
		m.other = max(m.other, n)
		ch <- prometheus.MustNewConstMetric(m.failures, prometheus.CounterValue, float64(m.other), "other")
	}
	for _, r := range m.slo {
		v := 0.0
		if r.Pass {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(m.sloMet, prometheus.GaugeValue, v, r.Objective)
	}
}

// classic converts the log-linear histogram into cumulative counts at
// bounds (seconds). An engine bucket counts under the first bound at or
// above its largest value, so a count errs by at most one engine bucket
// width (under 0.8%) at a bound; sum uses bucket midpoints (±0.4%).
func (b Buckets) classic(bounds []float64) (count uint64, sum float64, cum map[float64]uint64) {
	cum = make(map[float64]uint64, len(bounds))
	per := make([]uint64, len(bounds))
	if b.counts != nil {
		ns := make([]int64, len(bounds))
		for i, v := range bounds {
			ns[i] = int64(math.Floor(v * 1e9))
		}
		for i, c := range b.counts {
			if c == 0 {
				continue
			}
			lo, hi := bucketBounds(i)
			count += uint64(c)
			sum += float64(c) * float64(lo+(hi-lo-1)/2) / 1e9
			if j := sort.Search(len(ns), func(j int) bool { return ns[j] >= hi-1 }); j < len(ns) {
				per[j] += uint64(c)
			}
		}
	}
	var run uint64
	for i, v := range bounds {
		run += per[i]
		cum[v] = run
	}
	return count, sum, cum
}

// DefaultInstance is the default grouping key: host name and process id.
func DefaultInstance() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return h + "-" + strconv.Itoa(os.Getpid())
}

// Pusher sends a Metrics to a Prometheus Pushgateway under job
// authlab_bench and grouping key instance; each push replaces the group.
type Pusher struct {
	p      *push.Pusher
	target string // the URL without credentials, for messages
}

// NewPusher checks rawURL (http or https; user:password@ becomes basic
// auth, never shown) and prepares pushes of m.
func (m *Metrics) NewPusher(rawURL, instance string, timeout time.Duration) (*Pusher, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("want the Pushgateway's http:// or https:// URL, e.g. http://pushgateway:9091")
	}
	if instance == "" {
		return nil, errors.New("the instance name is empty")
	}
	user := u.User
	u.User = nil
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	p := push.New(u.String(), PushJob).Grouping("instance", instance).Gatherer(m.reg).
		Client(&http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	if user != nil {
		pw, _ := user.Password()
		p = p.BasicAuth(user.Username(), pw)
	}
	return &Pusher{p: p, target: u.String()}, nil
}

// Push sends the current figures.
func (p *Pusher) Push(ctx context.Context) error {
	if err := p.p.PushContext(ctx); err != nil {
		return fmt.Errorf("push to %s: %w", p.target, err)
	}
	return nil
}

// PushEvery pushes every period until stop is called; stop waits for a
// push in flight. Errors go to onErr (from the pushing goroutine); the run
// goes on. The final push, with the final counts, is the caller's.
func (p *Pusher) PushEvery(ctx context.Context, every time.Duration, onErr func(error)) (stop func()) {
	if every <= 0 {
		every = DefaultPushEvery
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := p.Push(ctx); err != nil && ctx.Err() == nil && onErr != nil {
					onErr(err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
