package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Percentile methods a Report can use.
const (
	MethodExact     = "nearest-rank"
	MethodHistogram = "nearest-rank over a log-linear histogram (±0.4%)"
)

// LatencyStats summarises latencies of all completed requests (successes
// and failures alike, as hey does).
type LatencyStats struct {
	Min, P50, P90, P95, P99, Max, Mean time.Duration
	Method                             string
	// From says where each latency starts: FromIntended with a rate,
	// FromSent without.
	From string
}

// Where latencies are measured from.
const (
	// FromSent: from when the request was sent to its answer (no rate: each
	// worker sends as soon as its previous answer is in).
	FromSent = "sent"
	// FromIntended: from the request's slot in the --rate schedule, so time
	// spent waiting behind a slow request counts (coordinated omission
	// corrected, as wrk2 does).
	FromIntended = "intended"
)

// describeFrom is From in words, for the human report.
func describeFrom(from string) string {
	if from == FromIntended {
		return "from each request's scheduled send time (--rate; includes time queued behind slow requests)"
	}
	return "from each request's send to its answer"
}

// Report is the result of a run.
type Report struct {
	Started     time.Time
	Elapsed     time.Duration // start to the last completion
	Requests    int64         // completed (excludes interrupted)
	OK, Failed  int64
	Interrupted int64 // cut off by the bound or cancellation, not counted
	Throughput  float64
	Latency     LatencyStats
	Failures    []FailureGroup
	StopReason  string
	Concurrency int
	Rate        float64
	// DPoP is the proofs' cost when the op sent DPoP proofs; nil otherwise.
	DPoP    *DPoPStats
	buckets Buckets
	sorted  []time.Duration // exact latencies, ascending; nil when capped
}

// SuccessRate is the percentage of completed requests that succeeded.
func (r *Report) SuccessRate() float64 { return pct(r.OK, r.Requests) }

// Quantile returns the nearest-rank q-quantile with the report's method.
func (r *Report) Quantile(q float64) time.Duration {
	if r.sorted != nil {
		return Percentile(r.sorted, q)
	}
	return r.buckets.Quantile(q)
}

func buildReport(cfg Config, workers []*worker, start time.Time, reason string) *Report {
	r := &Report{Started: start, StopReason: reason, Concurrency: cfg.Concurrency, Rate: cfg.Rate, buckets: newBuckets()}
	r.Latency.From = FromSent
	if cfg.Rate > 0 {
		r.Latency.From = FromIntended
	}
	var last time.Time
	exact := true
	var total int64
	var sum time.Duration
	first := true
	for _, w := range workers {
		r.OK += w.ok.Load()
		r.Failed += w.failed.Load()
		r.Interrupted += w.interrupted
		r.buckets.add(&w.hist)
		total += w.n
		sum += w.sum
		if int64(len(w.samples)) < w.n {
			exact = false
		}
		if w.last.After(last) {
			last = w.last
		}
		if w.n > 0 {
			if first || w.min < r.Latency.Min {
				r.Latency.Min = w.min
			}
			first = false
			r.Latency.Max = max(r.Latency.Max, w.max)
		}
	}
	r.Requests = r.OK + r.Failed
	if !last.IsZero() {
		r.Elapsed = last.Sub(start)
	} else {
		r.Elapsed = time.Since(start) // nothing completed: how long we waited
	}
	if r.Elapsed > 0 {
		r.Throughput = float64(r.Requests) / r.Elapsed.Seconds()
	}
	r.Failures = mergeFailures(workers)
	r.DPoP = proofStats(workers)
	if exact {
		all := make([]time.Duration, 0, total)
		for _, w := range workers {
			all = append(all, w.samples...)
		}
		slices.Sort(all)
		r.sorted = all
		r.Latency.Method = MethodExact
	} else {
		r.Latency.Method = MethodHistogram
	}
	if total > 0 {
		r.Latency.Mean = sum / time.Duration(total)
		r.Latency.P50 = r.Quantile(0.50)
		r.Latency.P90 = r.Quantile(0.90)
		r.Latency.P95 = r.Quantile(0.95)
		r.Latency.P99 = r.Quantile(0.99)
	}
	return r
}

// Bin is one row of a rendered histogram: latencies in [From, To).
type Bin struct {
	From, To time.Duration
	Count    int64
}

// Bins splits the latencies into n equal-width rows between the fastest and
// the slowest (as hey does). Counts come from the log-linear buckets.
func (b Buckets) Bins(n int) []Bin {
	if b.total == 0 || b.counts == nil || n <= 0 {
		return nil
	}
	lo, hi := -1, -1
	for i, c := range b.counts {
		if c > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	minV, _ := bucketBounds(lo)
	_, maxV := bucketBounds(hi)
	width := (maxV - minV + int64(n) - 1) / int64(n)
	if width < 1 {
		width = 1
	}
	bins := make([]Bin, n)
	for i := range bins {
		bins[i].From = time.Duration(minV + int64(i)*width)
		bins[i].To = time.Duration(minV + int64(i+1)*width)
	}
	for i := lo; i <= hi; i++ {
		if c := b.counts[i]; c > 0 {
			l, h := bucketBounds(i)
			mid := l + (h-l-1)/2
			j := int((mid - minV) / width)
			bins[min(max(j, 0), n-1)].Count += c
		}
	}
	// Trim empty rows past the last used one (width rounding).
	for len(bins) > 1 && bins[len(bins)-1].Count == 0 {
		bins = bins[:len(bins)-1]
	}
	return bins
}

// Bins returns the report's histogram in n rows.
func (r *Report) Bins(n int) []Bin { return r.buckets.Bins(n) }

// RenderBars draws bins as unicode bars at most width cells wide, one row
// per bin: "  12.3ms ┤████████▍ 1234". Pure: same input, same text.
func RenderBars(bins []Bin, width int) string {
	if len(bins) == 0 {
		return ""
	}
	if width < 1 {
		width = 1
	}
	var peak int64
	for _, b := range bins {
		peak = max(peak, b.Count)
	}
	eighths := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	var sb strings.Builder
	for _, b := range bins {
		units := 0
		if peak > 0 {
			units = int(math.Round(float64(b.Count) * float64(width*8) / float64(peak)))
		}
		if b.Count > 0 && units == 0 {
			units = 1 // a non-empty row is never invisible
		}
		bar := strings.Repeat("█", units/8) + eighths[units%8]
		fmt.Fprintf(&sb, "%10s │%s%s %d\n", FormatDuration(b.To), bar, strings.Repeat(" ", width-(units+7)/8), b.Count)
	}
	return sb.String()
}

// FormatDuration prints a latency with three significant digits: 812µs, 12.3ms, 1.25s.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// WriteText prints the human summary: counts, throughput, latency, failures
// and a histogram width cells wide.
func (r *Report) WriteText(w io.Writer, width int) {
	fmt.Fprintf(w, "requests     %d in %s (%s)", r.Requests, r.Elapsed.Round(time.Millisecond), r.describeStop())
	if r.Interrupted > 0 {
		fmt.Fprintf(w, ", %d interrupted and not counted", r.Interrupted)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "success      %.2f%% (%d ok, %d failed)\n", r.SuccessRate(), r.OK, r.Failed)
	fmt.Fprintf(w, "throughput   %.1f requests/s with %d workers", r.Throughput, r.Concurrency)
	if r.Rate > 0 {
		fmt.Fprintf(w, " (limited to %g/s)", r.Rate)
	}
	fmt.Fprintln(w)
	if r.Requests == 0 {
		return
	}
	l := r.Latency
	fmt.Fprintf(w, "latency      min %s  p50 %s  p90 %s  p95 %s  p99 %s  max %s\n",
		FormatDuration(l.Min), FormatDuration(l.P50), FormatDuration(l.P90), FormatDuration(l.P95), FormatDuration(l.P99), FormatDuration(l.Max))
	fmt.Fprintf(w, "measured     %s\n", describeFrom(l.From))
	if d := r.DPoP; d != nil {
		fmt.Fprintf(w, "dpop         %s\n", d.describe(l.P50))
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w, "failures")
		for _, g := range r.Failures {
			fmt.Fprintf(w, "  %7d  %-32s %s\n", g.Count, g.Label(), g.Example)
		}
	}
	fmt.Fprintln(w, "histogram")
	fmt.Fprint(w, RenderBars(r.Bins(10), width))
}

func (r *Report) describeStop() string {
	switch r.StopReason {
	case StopCount:
		return "all requests sent"
	case StopDuration:
		return "time bound reached"
	case StopCancelled:
		return "cancelled"
	}
	return r.StopReason
}

// JSON shapes, in milliseconds for people and scripts.

// LatencyJSON is LatencyStats in milliseconds.
type LatencyJSON struct {
	Min    float64 `json:"min"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Method string  `json:"method"`
	// From is "intended" (from the --rate schedule) or "sent".
	From string `json:"from"`
}

// BinJSON is one histogram row.
type BinJSON struct {
	FromMS float64 `json:"from_ms"`
	ToMS   float64 `json:"to_ms"`
	Count  int64   `json:"count"`
}

// ReportJSON is the machine-readable report.
type ReportJSON struct {
	Requests    int64          `json:"requests"`
	OK          int64          `json:"ok_count"`
	Failed      int64          `json:"failed"`
	Interrupted int64          `json:"interrupted"`
	SuccessRate float64        `json:"success_rate"`
	Throughput  float64        `json:"throughput_rps"`
	ElapsedMS   float64        `json:"elapsed_ms"`
	StopReason  string         `json:"stop_reason"`
	Concurrency int            `json:"concurrency"`
	Rate        float64        `json:"rate,omitempty"`
	LatencyMS   LatencyJSON    `json:"latency_ms"`
	Failures    []FailureGroup `json:"failures"`
	Histogram   []BinJSON      `json:"histogram"`
	DPoP        *DPoPJSON      `json:"dpop,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// JSON converts the report for --json.
func (r *Report) JSON() ReportJSON {
	l := r.Latency
	out := ReportJSON{
		Requests: r.Requests, OK: r.OK, Failed: r.Failed, Interrupted: r.Interrupted,
		SuccessRate: math.Round(r.SuccessRate()*1000) / 1000,
		Throughput:  math.Round(r.Throughput*10) / 10,
		ElapsedMS:   ms(r.Elapsed), StopReason: r.StopReason, Concurrency: r.Concurrency, Rate: r.Rate,
		LatencyMS: LatencyJSON{Min: ms(l.Min), P50: ms(l.P50), P90: ms(l.P90), P95: ms(l.P95), P99: ms(l.P99), Max: ms(l.Max), Mean: ms(l.Mean), Method: l.Method, From: l.From},
		Failures:  r.Failures,
		Histogram: []BinJSON{},
	}
	if out.Failures == nil {
		out.Failures = []FailureGroup{}
	}
	if r.DPoP != nil {
		out.DPoP = r.DPoP.JSON()
	}
	for _, b := range r.Bins(10) {
		out.Histogram = append(out.Histogram, BinJSON{FromMS: ms(b.From), ToMS: ms(b.To), Count: b.Count})
	}
	return out
}

// MarshalJSON makes a Report encode as ReportJSON.
func (r *Report) MarshalJSON() ([]byte, error) { return json.Marshal(r.JSON()) }
