package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"authlab/flows"

	"authlab/internal/testtools"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsRun runs n requests, one in ten failing with a 503 after 2.1ms,
// the others succeeding after 290µs, and returns the run's metrics.
func metricsRun(t *testing.T, n int) *Metrics {
	t.Helper()
	var i atomic.Int64
	op := func(ctx context.Context) Outcome {
		if i.Add(1)%10 == 0 {
			return Outcome{Status: 503, OAuthError: "temporarily_unavailable", Err: &flows.Error{Kind: flows.ErrOAuth, Message: "token endpoint: temporarily_unavailable"}, Latency: 2100 * time.Microsecond}
		}
		return Outcome{OK: true, Status: 200, Latency: 290 * time.Microsecond}
	}
	m := NewMetrics("client-credentials", "demo")
	rep, err := Run(context.Background(), Config{Requests: n, Concurrency: 4, Duration: 30 * time.Second, OnSnapshot: m.Observe}, op)
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := ParseSLO("success>=99%,p50<5ms")
	m.SetSLO(Evaluate(objs, rep))
	return m
}

func parseText(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, b)
	}
	return fams
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// sumBy adds up family name's counter or gauge values over every series
// whose labels include want: PromQL's sum(name{want}).
func sumBy(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	total := 0.0
next:
	for _, m := range fams[name].GetMetric() {
		l := labelsOf(m)
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return total
}

// quantile is histogram_quantile(q, sum by (le) (name_bucket)): the
// histograms of every series summed, then linear interpolation in the
// bucket holding the rank, as Prometheus does.
func quantile(fams map[string]*dto.MetricFamily, name string, q float64) float64 {
	cum := map[float64]float64{}
	var total float64
	for _, m := range fams[name].GetMetric() {
		h := m.GetHistogram()
		total += float64(h.GetSampleCount())
		for _, b := range h.GetBucket() {
			cum[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	var bounds []float64
	for b := range cum {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	rank := q * total
	prevB, prevC := 0.0, 0.0
	for _, b := range bounds {
		if cum[b] >= rank {
			return prevB + (b-prevB)*(rank-prevC)/(cum[b]-prevC)
		}
		prevB, prevC = b, cum[b]
	}
	return math.Inf(1)
}

func TestMetricsFromRun(t *testing.T) {
	m := metricsRun(t, 1000)
	path := filepath.Join(t.TempDir(), "bench.prom")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fams := parseText(t, text)
	for _, c := range []struct {
		name string
		want map[string]string
		v    float64
	}{
		{"authlab_bench_requests_total", map[string]string{"result": "success", "flow": "client-credentials", "profile": "demo"}, 900},
		{"authlab_bench_requests_total", map[string]string{"result": "failure"}, 100},
		{"authlab_bench_failures_total", map[string]string{"reason": "HTTP 503 temporarily_unavailable"}, 100},
		{"authlab_bench_slo_met", map[string]string{"objective": "success>=99%"}, 0},
		{"authlab_bench_slo_met", map[string]string{"objective": "p50<5ms"}, 1},
	} {
		if got := sumBy(fams, c.name, c.want); got != c.v {
			t.Errorf("%s%v = %v, want %v", c.name, c.want, got, c.v)
		}
	}
	h := fams["authlab_bench_request_duration_seconds"].GetMetric()[0].GetHistogram()
	at := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		at[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	if h.GetSampleCount() != 1000 || at[0.00025] != 0 || at[0.0003] != 900 || at[0.002] != 900 || at[0.0025] != 1000 {
		t.Errorf("histogram count %d, cumulative %v", h.GetSampleCount(), at)
	}
	if s := h.GetSampleSum(); math.Abs(s-(900*290e-6+100*2.1e-3)) > 0.005*s {
		t.Errorf("sum %g, want %g ±0.5%%", s, 900*290e-6+100*2.1e-3)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
		}
	}
}

func TestMetricsFailureReasonsBounded(t *testing.T) {
	m := NewMetrics("call", "")
	var fs []FailureGroup
	for i := range maxReasons + 5 {
		fs = append(fs, FailureGroup{Status: 400, OAuthError: "err_" + strconv.Itoa(i), Count: int64(i + 1)})
	}
	m.Observe(Snapshot{Failed: 1, Failures: fs, Latency: newBuckets()})
	var buf bytes.Buffer
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		expfmt.MetricFamilyToText(&buf, f)
	}
	got := parseText(t, buf.Bytes())["authlab_bench_failures_total"].GetMetric()
	if len(got) != maxReasons+1 {
		t.Fatalf("%d reason series, want %d plus other", len(got), maxReasons)
	}
}

// freePort is a loopback port nothing listens on (a small race with other
// processes is acceptable for a test).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon runs a test tool in the background until the test ends and
// waits (bounded) until ready answers 200.
func startDaemon(t *testing.T, ready string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := hc.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, logs.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after 20s:\n%s", name, ready, logs.String())
		}
	}
}

func getBody(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return b
}

// Two machines' runs pushed under their own instance add up: in Go over
// the Pushgateway's exposition, and (when Debian's prometheus is installed)
// in PromQL on a Prometheus scraping the gateway.
func TestPushgatewayTwoRunsAddUp(t *testing.T) {
	gwBin := testtools.Require(t, "prometheus-pushgateway")
	gw := freePort(t)
	// Debian's build persists to /var/lib by default: memory only here.
	startDaemon(t, "http://"+gw+"/-/ready", gwBin, "--web.listen-address="+gw, "--persistence.file=")

	ctx := context.Background()
	// A push during a run: the periodic pusher reaches the gateway.
	live := NewMetrics("client-credentials", "demo")
	live.Observe(Snapshot{OK: 7, Requests: 7, Latency: newBuckets()})
	lp, err := live.NewPusher("http://"+gw, "live", 0)
	if err != nil {
		t.Fatal(err)
	}
	stop := lp.PushEvery(ctx, 20*time.Millisecond, func(err error) { t.Errorf("periodic push: %v", err) })
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Contains(getBody(t, "http://"+gw+"/metrics"), []byte(`instance="live"`)) {
		if time.Now().After(deadline) {
			t.Fatal("no periodic push within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling a separate process: nothing to wait on
	}
	stop()
	if err := lp.p.Delete(); err != nil {
		t.Fatal(err)
	}

	for inst, n := range map[string]int{"machine-1": 600, "machine-2": 400} {
		p, err := metricsRun(t, n).NewPusher("http://"+gw, inst, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Push(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fams := parseText(t, getBody(t, "http://"+gw+"/metrics"))
	if got := sumBy(fams, "authlab_bench_requests_total", map[string]string{"job": PushJob}); got != 1000 {
		t.Errorf("sum(authlab_bench_requests_total) = %v, want 1000", got)
	}
	if got := sumBy(fams, "authlab_bench_requests_total", map[string]string{"result": "failure"}); got != 100 {
		t.Errorf("failures = %v, want 100", got)
	}
	// 90% at 290µs, 10% at 2.1ms: p95 falls in the (2ms, 2.5ms] bucket.
	if p95 := quantile(fams, "authlab_bench_request_duration_seconds", 0.95); p95 <= 0.002 || p95 > 0.0025 {
		t.Errorf("p95 over both machines = %g s, want in (0.002, 0.0025]", p95)
	}

	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("AUTHLAB_REQUIRE_TOOLS") == "1" {
			t.Fatal("prometheus not installed (make deps installs it)")
		}
		t.Log("prometheus not installed: PromQL check skipped")
		return
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs: [{targets: ['%s']}]\n", gw)), 0o600); err != nil {
		t.Fatal(err)
	}
	prom := freePort(t)
	startDaemon(t, "http://"+prom+"/-/ready", promBin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+prom)
	query := func(q string) (float64, bool) {
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal(getBody(t, "http://"+prom+"/api/v1/query?query="+url.QueryEscape(q)), &r) != nil || len(r.Data.Result) != 1 {
			return 0, false
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	sumQ := `sum(authlab_bench_requests_total{job="authlab_bench"})`
	deadline = time.Now().Add(20 * time.Second)
	for {
		if v, ok := query(sumQ); ok && v == 1000 {
			break
		}
		if time.Now().After(deadline) {
			v, _ := query(sumQ)
			t.Fatalf("%s = %v after 20s, want 1000", sumQ, v)
		}
		time.Sleep(100 * time.Millisecond) // Prometheus scrapes every 1s
	}
	p95Q := `histogram_quantile(0.95, sum by (le) (authlab_bench_request_duration_seconds_bucket{job="authlab_bench"}))`
	if v, ok := query(p95Q); !ok || v <= 0.002 || v > 0.0025 {
		t.Errorf("%s = %v, want in (0.002, 0.0025]", p95Q, v)
	}
}

// BenchmarkMetricsGather is what one push costs the measuring client
// besides the HTTP call: converting a full snapshot and encoding it.
func BenchmarkMetricsGather(b *testing.B) {
	m := NewMetrics("client-credentials", "demo")
	var h Histogram
	for i := range 100000 {
		h.Record(time.Duration(50000+i*37) * time.Nanosecond)
	}
	s := Snapshot{OK: 99000, Failed: 1000, Requests: 100000, Latency: newBuckets(),
		Failures: []FailureGroup{{Status: 503, OAuthError: "temporarily_unavailable", Count: 1000}}}
	s.Latency.add(&h)
	m.Observe(s)
	b.ReportAllocs()
	for b.Loop() {
		fams, err := m.Gatherer().Gather()
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		for _, f := range fams {
			expfmt.MetricFamilyToText(&buf, f)
		}
	}
}
