package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"authlab/internal/testtools"
	"go.yaml.in/yaml/v3"
)

func sloRules(t *testing.T, args ...string) (string, promRuleFile) {
	t.Helper()
	code, out, errs := runAuthlab(t, "", "", append([]string{"slo", "rules"}, args...)...)
	if code != 0 {
		t.Fatalf("slo rules %v: exit %d: %s", args, code, errs)
	}
	var f promRuleFile
	if err := yaml.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	return out, f
}

func TestSLORulesShape(t *testing.T) {
	_, f := sloRules(t, "--slo", "p95<50ms,success>=99.9%")
	alerts := map[string]int{}
	records := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records[r.Record] = true
				continue
			}
			alerts[r.Alert]++
			sev := r.Labels["severity"]
			fast := strings.HasSuffix(r.Alert, "FastBurn")
			if (fast && (sev != "page" || r.For != "2m" || !strings.Contains(r.Expr, "ratio_rate1h") || !strings.Contains(r.Expr, "ratio_rate5m") || !strings.Contains(r.Expr, "14.4 *"))) ||
				(!fast && (sev != "ticket" || r.For != "15m" || !strings.Contains(r.Expr, "ratio_rate6h") || !strings.Contains(r.Expr, "ratio_rate30m") || !strings.Contains(r.Expr, "(6 *"))) {
				t.Errorf("alert %s: severity %q for %q expr %q", r.Alert, sev, r.For, r.Expr)
			}
			if s := r.Annotations["summary"]; !strings.Contains(s, r.Labels["slo"]) || r.Labels["slo"] == "" {
				t.Errorf("alert %s summary %q does not name its objective %q", r.Alert, s, r.Labels["slo"])
			}
		}
	}
	// Two sources × two objectives, one fast and one slow alert each.
	for _, a := range []string{"AuthlabBenchSLOFastBurn", "AuthlabBenchSLOSlowBurn", "AuthlabIdPSLOFastBurn", "AuthlabIdPSLOSlowBurn"} {
		if alerts[a] != 2 {
			t.Errorf("%s: %d rules, want 2 (one per objective)", a, alerts[a])
		}
	}
	for _, r := range []string{"authlab_bench:slo_errors:ratio_rate5m", "authlab_bench:slo_errors:ratio_rate30d", "authlab_idp:slo_errors:ratio_rate6h", "authlab_bench:request_duration_seconds:p95_rate5m"} {
		if !records[r] {
			t.Errorf("no recording rule %s", r)
		}
	}
	// A 7-day window keeps the budget shares: 2% in 1h is 3.36×.
	_, f = sloRules(t, "--slo", "success>=99%", "--window", "7d", "--job", "ci", "--no-idp")
	var fastExpr string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "AuthlabBenchSLOFastBurn" {
				fastExpr = r.Expr
			}
			if r.Record != "" && !strings.Contains(r.Expr, `job="ci"`) {
				t.Errorf("recording rule %s ignores --job: %s", r.Record, r.Expr)
			}
		}
	}
	if !strings.Contains(fastExpr, "(3.36 * 0.01)") {
		t.Errorf("7d fast burn: %s, want factor 3.36 of a 1%% budget", fastExpr)
	}
}

func TestSLORulesUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--slo is required"},
		{[]string{"--slo", "p95<50"}, "needs a unit"},
		{[]string{"--slo", "rps>=100"}, "no objective with an error budget"},
		{[]string{"--slo", "success>=99%", "--window", "soon"}, "--window"},
		{[]string{"--slo", "success>=99%", "--window", "1h"}, "shorter than the 6h"},
	} {
		code, _, errs := runAuthlab(t, "", "", append([]string{"slo", "rules"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	code, _, errs := runAuthlab(t, "", "", "slo", "rules", "--slo", "success>=99%,rps>=100,p99<20ms")
	if code != 0 || !strings.Contains(errs, "rps>=100 left out") || !strings.Contains(errs, "no bucket at 0.02s") {
		t.Errorf("exit %d, stderr %q: want the rps and bucket warnings", code, errs)
	}
}

// The rule file passes promtool's checks, and a small series burning the
// success budget 50× fires the fast-burn page within minutes, while the slow
// burn still waits out its 15m and the healthy latency objective stays quiet.
func TestSLORulesPromtool(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	out, _ := sloRules(t, "--slo", "p95<50ms,success>=99.9%")
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, b, out)
	}
	const lbl = `job="authlab_bench",instance="ci-1",flow="client-credentials",profile="demo"`
	const test = `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'authlab_bench_requests_total{` + lbl + `,result="success"}'
        values: '0+950x60'
      - series: 'authlab_bench_requests_total{` + lbl + `,result="failure"}'
        values: '0+50x60'
      - series: 'authlab_bench_request_duration_seconds_bucket{` + lbl + `,le="0.05"}'
        values: '0+1000x60'
      - series: 'authlab_bench_request_duration_seconds_count{` + lbl + `}'
        values: '0+1000x60'
    alert_rule_test:
      - eval_time: 10m
        alertname: AuthlabBenchSLOFastBurn
        exp_alerts:
          - exp_labels:
              severity: page
              slo: success>=99.9%
              job: authlab_bench
              flow: client-credentials
              profile: demo
            exp_annotations:
              summary: 'authlab bench: fast burn of the success>=99.9% error budget (14.4× over 1h and 5m)'
              description: 'Objective success>=99.9% over 30d: 5% of requests miss it in the last 1h (client-credentials, profile demo, job authlab_bench), against a budget of 0.1%; at this rate the 30d budget lasts 50h.'
      - eval_time: 10m
        alertname: AuthlabBenchSLOSlowBurn
        exp_alerts: []
      - eval_time: 25m
        alertname: AuthlabBenchSLOSlowBurn
        exp_alerts:
          - exp_labels:
              severity: ticket
              slo: success>=99.9%
              job: authlab_bench
              flow: client-credentials
              profile: demo
            exp_annotations:
              summary: 'authlab bench: slow burn of the success>=99.9% error budget (6× over 6h and 30m)'
              description: 'Objective success>=99.9% over 30d: 5% of requests miss it in the last 6h (client-credentials, profile demo, job authlab_bench), against a budget of 0.1%; at this rate the 30d budget lasts 120h.'
  - interval: 1m
    input_series:
      - series: 'authlab_bench_requests_total{` + lbl + `,result="success"}'
        values: '0+9999x60'
      - series: 'authlab_bench_requests_total{` + lbl + `,result="failure"}'
        values: '0+1x60'
    alert_rule_test:
      - eval_time: 30m
        alertname: AuthlabBenchSLOFastBurn
        exp_alerts: []
`
	tf := filepath.Join(dir, "rules_test.yml")
	if err := os.WriteFile(tf, []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(promtool, "test", "rules", tf).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s\n--- rules:\n%s", err, b, out)
	}
}
