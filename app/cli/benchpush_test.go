package cli

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"authlab/mockidp/mockidptest"

	"authlab/internal/testtools"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func parseProm(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, b)
	}
	return fams
}

// promSum is PromQL's sum(name{want}) over counters and gauges.
func promSum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	total := 0.0
next:
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return total
}

func httpGetBody(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func TestBenchMetricsFile(t *testing.T) {
	idp := mockidptest.New(t)
	file := filepath.Join(t.TempDir(), "bench.prom")
	code, _, errs := runAuthlab(t, "", "", demoArgs(idp, "-n", "200", "-c", "4", "--slo", "success>=99%", "--metrics", file, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fams := parseProm(t, b)
	if got := promSum(fams, "authlab_bench_requests_total", map[string]string{"result": "success", "flow": "client-credentials"}); got != 200 {
		t.Errorf("successes %v, want 200\n%s", got, b)
	}
	if got := promSum(fams, "authlab_bench_slo_met", map[string]string{"objective": "success>=99%"}); got != 1 {
		t.Errorf("slo_met %v, want 1", got)
	}
	if h := fams["authlab_bench_request_duration_seconds"].GetMetric(); len(h) != 1 || h[0].GetHistogram().GetSampleCount() != 200 {
		t.Errorf("histogram %v", h)
	}
	// The IdP counted the same tokens on its side.
	idpFams := parseProm(t, httpGetBody(t, idp.URL()+"/metrics"))
	if got := promSum(idpFams, "authlab_idp_tokens_issued_total", map[string]string{"grant_type": "client_credentials", "client_id": "demo-cc"}); got != 200 {
		t.Errorf("IdP tokens issued %v, want 200", got)
	}
}

func TestBenchPushUsage(t *testing.T) {
	idp := mockidptest.New(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--instance", "a"}, "--instance needs --push"},
		{[]string{"--push", "ftp://gw"}, "--push: want the Pushgateway's http:// or https:// URL"},
	} {
		code, _, errs := runAuthlab(t, "", "", demoArgs(idp, append([]string{"-n", "1"}, c.args...)...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	// Nothing listens: the run completes, then the lost final push fails it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	code, out, errs := runAuthlab(t, "", "", demoArgs(idp, "-n", "5", "--push", "http://user:pw-Zq9@"+dead)...)
	if code != 1 || !strings.Contains(errs, "--push: final counts not pushed: push to http://"+dead) || !strings.Contains(out, "requests") || strings.Contains(errs, "pw-Zq9") {
		t.Errorf("dead gateway: exit %d, stderr %q", code, errs)
	}
}

// Two "machines" (two runs, two instances) push to a real Pushgateway; the
// sum over instances is what the README's PromQL query answers.
func TestBenchPushTwoInstances(t *testing.T) {
	gwBin := testtools.Require(t, "prometheus-pushgateway")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw := ln.Addr().String()
	ln.Close()
	// Debian's build persists to /var/lib by default: memory only here.
	cmd := exec.Command(gwBin, "--web.listen-address="+gw, "--persistence.file=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err := hc.Get("http://" + gw + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushgateway not ready after 20s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling another process
	}

	idp := mockidptest.New(t)
	for inst, n := range map[string]int{"runner-1": 300, "runner-2": 200} {
		code, _, errs := runAuthlab(t, "", "", demoArgs(idp, "-n", strconv.Itoa(n), "-c", "4", "--push", "http://"+gw, "--instance", inst, "--slo", "p99<10s")...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", inst, code, errs)
		}
	}
	fams := parseProm(t, httpGetBody(t, "http://"+gw+"/metrics"))
	// sum(authlab_bench_requests_total{job="authlab_bench"})
	if got := promSum(fams, "authlab_bench_requests_total", map[string]string{"job": "authlab_bench"}); got != 500 {
		t.Errorf("sum over instances %v, want 500", got)
	}
	for inst, n := range map[string]float64{"runner-1": 300, "runner-2": 200} {
		if got := promSum(fams, "authlab_bench_requests_total", map[string]string{"instance": inst, "result": "success"}); got != n {
			t.Errorf("%s: %v, want %v", inst, got, n)
		}
		if got := promSum(fams, "authlab_bench_slo_met", map[string]string{"instance": inst, "objective": "p99<10s"}); got != 1 {
			t.Errorf("%s slo_met %v", inst, got)
		}
	}
}
