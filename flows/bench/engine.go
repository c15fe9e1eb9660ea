// Package bench repeats an operation under load and measures auth SLIs:
// success rate, failures grouped by HTTP status and OAuth error, throughput
// and latency percentiles; it also evaluates SLO objectives and runs probes
// (revocation propagation, JWKS health, mTLS handshakes, issuance latency).
// It knows nothing about terminals: progress goes to a callback or channel.
package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"authlab/flows"
)

// Defaults for a run's bounds.
const (
	DefaultDuration      = 10 * time.Second
	DefaultGrace         = 2 * time.Second
	DefaultSnapshotEvery = 100 * time.Millisecond
	// DefaultMaxSamples bounds the exact latencies kept (8 bytes each); past
	// it percentiles come from the histogram (±0.4%).
	DefaultMaxSamples = 4 << 20
	MaxConcurrency    = 4096
)

// Outcome is what one operation reports.
type Outcome struct {
	OK         bool
	Status     int           // HTTP status of the decisive response; 0 when none
	OAuthError string        // the OAuth "error" code, when the server sent one
	Err        error         // why it failed; nil when OK
	Latency    time.Duration // measured by the op; 0 → wall time around the call
	// Proof is the time spent signing this request's DPoP proofs (part of
	// Latency); 0 when the op sent none or did not measure them.
	Proof        time.Duration
	NonceRetries int // DPoP nonce retries (RFC 9449 8, 9) this request took
}

// Op is one unit of load: a token request, a signed call, a handshake.
// It must be safe for concurrent use and must honour ctx.
type Op func(ctx context.Context) Outcome

// Config bounds and shapes a run.
type Config struct {
	Requests      int           // stop after this many (0: only the duration bounds the run)
	Duration      time.Duration // stop sending after this long (0: DefaultDuration)
	Concurrency   int           // workers (0: 1)
	Rate          float64       // requests per second over all workers (0: unlimited)
	Grace         time.Duration // how long in-flight calls may finish after the bound (0: DefaultGrace)
	SnapshotEvery time.Duration // progress period (0: DefaultSnapshotEvery)
	// OnSnapshot receives progress from a single goroutine, never concurrently,
	// and a final snapshot (Done set) before Run returns. It must not block long.
	OnSnapshot func(Snapshot)
	MaxSamples int // exact latencies kept (0: DefaultMaxSamples)
}

// DurationOrDefault is the time bound the run will use.
func (c Config) DurationOrDefault() time.Duration {
	if c.Duration <= 0 {
		return DefaultDuration
	}
	return c.Duration
}

func (c Config) normalized() (Config, error) {
	switch {
	case c.Requests < 0:
		return c, fmt.Errorf("request count must be ≥ 0, got %d", c.Requests)
	case c.Duration < 0:
		return c, fmt.Errorf("duration must be ≥ 0, got %s", c.Duration)
	case c.Concurrency < 0 || c.Concurrency > MaxConcurrency:
		return c, fmt.Errorf("concurrency must be between 1 and %d, got %d", MaxConcurrency, c.Concurrency)
	case c.Rate < 0:
		return c, fmt.Errorf("rate must be ≥ 0 requests/s, got %g", c.Rate)
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Requests > 0 && c.Concurrency > c.Requests {
		c.Concurrency = c.Requests
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.MaxSamples <= 0 {
		c.MaxSamples = DefaultMaxSamples
	}
	return c, nil
}

// Stop reasons.
const (
	StopCount     = "count"     // -n requests completed
	StopDuration  = "duration"  // the time bound was reached
	StopCancelled = "cancelled" // the caller cancelled (Ctrl-C)
)

type failKey struct {
	status int
	oauth  string
	kind   string
}

// worker holds everything one goroutine records, so the request path takes
// no shared lock: counters and histogram are atomics read by snapshots; the
// failure map has a mutex that only failures and snapshots touch.
type worker struct {
	hist        Histogram
	ok, failed  atomic.Int64
	interrupted int64
	n           int64
	samples     []time.Duration
	sampleCap   int
	min, max    time.Duration
	sum         time.Duration
	last        time.Time
	// DPoP proof signing times (bounded like samples) and nonce retries.
	proofs       []time.Duration
	proofN       int64
	nonceRetries int64

	mu       sync.Mutex
	failures map[failKey]*FailureGroup
}

func (w *worker) record(out Outcome) {
	d := out.Latency
	w.hist.Record(d)
	if len(w.samples) < w.sampleCap {
		w.samples = append(w.samples, d)
	}
	if w.n == 0 || d < w.min {
		w.min = d
	}
	if d > w.max {
		w.max = d
	}
	w.sum += d
	w.n++
	if out.Proof > 0 {
		w.proofN++
		if len(w.proofs) < w.sampleCap {
			w.proofs = append(w.proofs, out.Proof)
		}
	}
	w.nonceRetries += int64(out.NonceRetries)
	if out.OK {
		w.ok.Add(1)
		return
	}
	k, msg := classify(out)
	w.mu.Lock()
	g := w.failures[k]
	if g == nil {
		g = &FailureGroup{Status: k.status, OAuthError: k.oauth, Kind: k.kind, Example: msg}
		w.failures[k] = g
	}
	g.Count++
	w.mu.Unlock()
	w.failed.Add(1)
}

// classify groups a failure by status, OAuth error and error kind, and keeps
// a one-line example message.
func classify(out Outcome) (failKey, string) {
	k := failKey{status: out.Status, oauth: out.OAuthError}
	msg := ""
	if out.Err != nil {
		msg = out.Err.Error()
		var fe *flows.Error
		if errors.As(out.Err, &fe) {
			k.kind = string(fe.Kind)
			if k.oauth == "" {
				k.oauth = fe.OAuthError
			}
			if k.status == 0 {
				k.status = fe.Status
			}
		} else {
			k.kind = "error"
		}
	}
	if msg == "" {
		if out.Status != 0 {
			msg = fmt.Sprintf("HTTP %d", out.Status)
		} else {
			msg = "failed"
		}
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return k, msg
}

// Run drives op under cfg until the count or time bound is reached or ctx is
// cancelled, and reports what completed. Calls still in flight when the run
// is stopped get cfg.Grace to finish; those cut off are counted as
// interrupted, not as failures, so a bound never shows up as errors.
func Run(ctx context.Context, cfg Config, op Op) (*Report, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	if op == nil {
		return nil, errors.New("bench: no operation")
	}
	workers := make([]*worker, cfg.Concurrency)
	perWorker := cfg.MaxSamples / cfg.Concurrency
	for i := range workers {
		capHint := perWorker
		if cfg.Requests > 0 {
			capHint = min(perWorker, cfg.Requests/cfg.Concurrency+1)
		}
		workers[i] = &worker{
			failures:  map[failKey]*FailureGroup{},
			sampleCap: perWorker,
			samples:   make([]time.Duration, 0, min(capHint, 1<<16)),
		}
	}

	start := time.Now()
	stopAt := start.Add(cfg.Duration)
	// opCtx outlives the bound by the grace period, so calls in flight can finish.
	opCtx, cancelOps := context.WithDeadline(ctx, stopAt.Add(cfg.Grace))
	defer cancelOps()
	stop := make(chan struct{})
	var stopOnce sync.Once
	var reasonMu sync.Mutex
	reason := ""
	halt := func(r string) {
		stopOnce.Do(func() {
			reasonMu.Lock()
			reason = r
			reasonMu.Unlock()
			close(stop)
		})
	}
	timer := time.AfterFunc(cfg.Duration, func() { halt(StopDuration) })
	defer timer.Stop()
	go func() {
		select {
		case <-ctx.Done():
			halt(StopCancelled)
		case <-stop:
		}
	}()

	var issued atomic.Int64
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWorker(opCtx, cfg, op, w, &issued, start, interval, stop)
		}()
	}

	snapDone := make(chan struct{})
	if cfg.OnSnapshot != nil {
		go func() {
			defer close(snapDone)
			t := time.NewTicker(cfg.SnapshotEvery)
			defer t.Stop()
			var prev Snapshot
			for {
				select {
				case <-t.C:
					prev = takeSnapshot(workers, start, prev, false)
					cfg.OnSnapshot(prev)
				case <-stop:
					return
				}
			}
		}()
	} else {
		close(snapDone)
	}
	wg.Wait()
	if ctx.Err() != nil {
		halt(StopCancelled)
	}
	halt(StopCount) // no-op when the duration or ctx stopped the run first
	<-snapDone
	reasonMu.Lock()
	r := reason
	reasonMu.Unlock()
	rep := buildReport(cfg, workers, start, r)
	if cfg.OnSnapshot != nil {
		cfg.OnSnapshot(takeSnapshot(workers, start, Snapshot{}, true))
	}
	return rep, nil
}

func runWorker(ctx context.Context, cfg Config, op Op, w *worker, issued *atomic.Int64, start time.Time, interval time.Duration, stop <-chan struct{}) {
	var pace *time.Timer
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done(): // cancellation reaches here before the stop channel closes
			return
		default:
		}
		i := issued.Add(1) - 1
		if cfg.Requests > 0 && i >= int64(cfg.Requests) {
			return // the others finish their slots; Run sees all workers done
		}
		var intended time.Time
		if interval > 0 {
			// Each request has a slot start+i·interval; sleep until it (no
			// busy loop, no central dispatcher).
			intended = start.Add(time.Duration(i) * interval)
			if wait := time.Until(intended); wait > 0 {
				if pace == nil {
					pace = time.NewTimer(wait)
				} else {
					pace.Reset(wait)
				}
				select {
				case <-pace.C:
				case <-stop:
					return
				}
			}
		}
		t0 := time.Now()
		out := op(ctx)
		t1 := time.Now()
		if out.Latency <= 0 {
			out.Latency = t1.Sub(t0)
		}
		if !intended.IsZero() && t0.After(intended) {
			// At a fixed rate a request is late when the ones before it were
			// slow; counting from its slot, not from when it finally left,
			// keeps a stall in the percentiles (coordinated omission, as wrk2
			// corrects it).
			out.Latency += t0.Sub(intended)
		}
		if !out.OK && ctx.Err() != nil {
			// Cut off by the grace deadline or by cancellation: not the server's fault.
			w.interrupted++
			continue
		}
		w.last = t1
		w.record(out)
	}
}

// FailureGroup counts failures that share a status, OAuth error and kind.
type FailureGroup struct {
	Status     int    `json:"status,omitempty"`
	OAuthError string `json:"oauth_error,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Count      int64  `json:"count"`
	Example    string `json:"example"`
}

// Label names the group in one short phrase: "HTTP 500 server_error".
func (g FailureGroup) Label() string {
	s := ""
	if g.Status != 0 {
		s = fmt.Sprintf("HTTP %d", g.Status)
	}
	if g.OAuthError != "" {
		s = join(s, g.OAuthError)
	}
	if s == "" || (g.Kind != "" && g.Kind != string(flows.ErrOAuth) && g.Kind != string(flows.ErrProtocol)) {
		s = join(s, g.Kind)
	}
	if s == "" {
		s = "failed"
	}
	return s
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + " " + b
}

func mergeFailures(workers []*worker) []FailureGroup {
	m := map[failKey]*FailureGroup{}
	for _, w := range workers {
		w.mu.Lock()
		for k, g := range w.failures {
			if t := m[k]; t != nil {
				t.Count += g.Count
			} else {
				c := *g
				m[k] = &c
			}
		}
		w.mu.Unlock()
	}
	out := make([]FailureGroup, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Label() < out[j].Label()
	})
	return out
}

// Snapshot is the progress of a running bench, for a progress line or a live
// view. Latency quantiles come from the histogram (±0.4%).
type Snapshot struct {
	Elapsed    time.Duration
	Requests   int64 // completed so far
	OK, Failed int64
	// Throughput is completed requests per second since the start;
	// IntervalRPS over the last snapshot period (for a sparkline).
	Throughput  float64
	IntervalRPS float64
	P50, P95    time.Duration
	P99         time.Duration
	Failures    []FailureGroup
	Latency     Buckets // the live histogram; render with Bins
	Done        bool    // the final snapshot
}

// SuccessRate is the percentage of completed requests that succeeded.
func (s Snapshot) SuccessRate() float64 { return pct(s.OK, s.Requests) }

func pct(a, n int64) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(a) / float64(n)
}

func takeSnapshot(workers []*worker, start time.Time, prev Snapshot, done bool) Snapshot {
	s := Snapshot{Elapsed: time.Since(start), Latency: newBuckets(), Done: done}
	for _, w := range workers {
		s.OK += w.ok.Load()
		s.Failed += w.failed.Load()
		s.Latency.add(&w.hist)
	}
	s.Requests = s.OK + s.Failed
	if sec := s.Elapsed.Seconds(); sec > 0 {
		s.Throughput = float64(s.Requests) / sec
	}
	if dt := (s.Elapsed - prev.Elapsed).Seconds(); dt > 0 {
		s.IntervalRPS = float64(s.Requests-prev.Requests) / dt
	}
	s.P50, s.P95, s.P99 = s.Latency.Quantile(0.50), s.Latency.Quantile(0.95), s.Latency.Quantile(0.99)
	s.Failures = mergeFailures(workers)
	return s
}
