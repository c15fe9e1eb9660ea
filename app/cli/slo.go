package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"authlab/flows/bench"
	"authlab/mockidp"
)

func newSLOCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "slo",
		Short: "Turn auth SLOs into monitoring configuration",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSLORulesCmd(g))
	return cmd
}

type sloRulesFlags struct {
	slo     string
	job     string
	idpJob  string
	window  string
	noIdP   bool
	noBench bool
}

func newSLORulesCmd(g *globals) *cobra.Command {
	var f sloRulesFlags
	cmd := &cobra.Command{
		Use:   "rules --slo OBJECTIVES [flags]",
		Short: "Print Prometheus recording and burn-rate alerting rules for SLOs",
		Long: `Prints a Prometheus rule file for the objectives of --slo (the same syntax
as 'authlab bench --slo'):

  recording rules   the error ratio of each objective over 5m, 30m, 1h, 6h and
                    the SLO window, from authlab bench's metrics (pushed to a
                    Pushgateway, job --job) and the mock IdP's /metrics; and the
                    latency quantiles the objectives name.
  alerts            per objective, multi-window multi-burn-rate (the SRE
                    workbook): a fast burn (1h and 5m above 14.4× the budget
                    rate for a 30d window) pages, a slow burn (6h and 30m
                    above 6×) opens a ticket. For another --window the factors
                    keep the same budget share: 2% in 1h, 5% in 6h.

success>=X% counts failed requests (bench) or 5xx answers (IdP) against
the budget; pNN<D counts requests slower than D against a budget of
(100-NN)%, using the histogram bucket at D (or the next lower bucket bound,
with a warning). min, max and rps objectives have no error budget and are
left out (with a warning).

Check the output with 'promtool check rules FILE'.`,
		Example: `  authlab slo rules --slo 'p95<50ms,success>=99.9%' > authlab-slo.rules.yml
  authlab slo rules --slo 'success>=99.5%' --job ci_bench --window 7d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSLORules(g, &f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.slo, "slo", "", "objectives, e.g. 'p95<50ms,success>=99.9%' (required)")
	fs.StringVar(&f.job, "job", "authlab_bench", "job label of the bench series (authlab bench --push uses authlab_bench)")
	fs.StringVar(&f.idpJob, "idp-job", "", "job label of the mock IdP's scrape (default: any job)")
	fs.StringVar(&f.window, "window", "30d", "SLO window (Prometheus duration: 30d, 4w, 7d)")
	fs.BoolVar(&f.noIdP, "no-idp", false, "leave out the mock IdP's rules")
	fs.BoolVar(&f.noBench, "no-bench", false, "leave out the bench rules")
	return cmd
}

// sliSource is one set of metrics the rules read: bench's or the IdP's.
type sliSource struct {
	name     string // "bench", "idp": recording rule prefix authlab_NAME:
	alert    string // alert name stem
	title    string // for summaries
	requests string // counter of all requests
	failSel  string // matcher picking the failed ones
	hist     string // duration histogram, without _bucket
	sel      string // job matcher, or ""
	by       string // labels the SLIs keep
	labels   string // those labels, as alert descriptions name them
	buckets  []float64
}

// objectiveSLI is an objective as an error-budget SLI.
type objectiveSLI struct {
	obj      bench.Objective
	target   float64 // fraction of good requests, e.g. 0.999
	quantile float64 // latency objectives: 0.95 for p95; 0 otherwise
	seconds  float64 // latency threshold
}

func runSLORules(g *globals, f *sloRulesFlags) error {
	if f.slo == "" {
		return usageErr("--slo is required, e.g. --slo 'p95<50ms,success>=99.9%%'")
	}
	objs, err := bench.ParseSLO(f.slo)
	if err != nil {
		return usageErr("--slo: %v", err)
	}
	win, err := model.ParseDuration(f.window)
	if err != nil || win <= 0 {
		return usageErr("--window %q: want a Prometheus duration such as 30d, 4w or 7d", f.window)
	}
	if time.Duration(win) < 6*time.Hour {
		return usageErr("--window %s: shorter than the 6h slow-burn window; use at least 1d", f.window)
	}
	var slis []objectiveSLI
	for _, o := range objs {
		s, why := toSLI(o)
		if why != "" {
			fmt.Fprintf(g.stderr, "warning: %s left out: %s\n", o.Text, why)
			continue
		}
		slis = append(slis, s)
	}
	if len(slis) == 0 {
		return usageErr("--slo: no objective with an error budget (success>=X%% or pNN<D)")
	}
	var sources []sliSource
	if !f.noBench {
		sources = append(sources, sliSource{
			name: "bench", alert: "AuthlabBench", title: "authlab bench",
			requests: "authlab_bench_requests_total", failSel: `result="failure"`,
			hist: "authlab_bench_request_duration_seconds",
			sel:  matcher("job", f.job), by: "job, flow, profile", buckets: bench.DurationBuckets(),
			labels: " ({{ $labels.flow }}, profile {{ $labels.profile }}, job {{ $labels.job }})",
		})
	}
	if !f.noIdP {
		sources = append(sources, sliSource{
			name: "idp", alert: "AuthlabIdP", title: "the mock IdP",
			requests: "authlab_idp_requests_total", failSel: `status=~"5.."`,
			hist: "authlab_idp_request_duration_seconds",
			sel:  matcher("job", f.idpJob), by: "job, endpoint", buckets: mockidp.DurationBuckets(),
			labels: " (endpoint {{ $labels.endpoint }}, job {{ $labels.job }})",
		})
	}
	if len(sources) == 0 {
		return usageErr("--no-bench and --no-idp leave nothing to write rules for")
	}
	file, warnings := buildRules(sources, slis, win)
	for _, w := range warnings {
		fmt.Fprintln(g.stderr, "warning: "+w)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# Prometheus rules for %s (window %s), by authlab slo rules.\n", strings.Join(sloTexts(slis), ", "), win)
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(file); err != nil {
		return fmt.Errorf("slo rules: %w", err)
	}
	_, err = g.stdout.Write(out.Bytes())
	return err
}

func sloTexts(slis []objectiveSLI) []string {
	var t []string
	for _, s := range slis {
		t = append(t, s.obj.Text)
	}
	return t
}

func matcher(label, value string) string {
	if value == "" {
		return ""
	}
	return label + "=" + strconv.Quote(value)
}

// toSLI maps an objective onto good/total requests, or says why it cannot.
func toSLI(o bench.Objective) (objectiveSLI, string) {
	s := objectiveSLI{obj: o}
	switch {
	case o.Metric == "success":
		if o.Op != ">=" && o.Op != ">" {
			return s, "a success objective needs >= or >"
		}
		s.target = o.Value / 100
	case len(o.Metric) == 3 && o.Metric[0] == 'p':
		if o.Op != "<" && o.Op != "<=" {
			return s, "a latency objective needs < or <="
		}
		q, _ := strconv.Atoi(o.Metric[1:])
		s.quantile = float64(q) / 100
		s.target = s.quantile
		s.seconds = time.Duration(o.Value).Seconds()
	default:
		return s, o.Metric + " has no error budget to burn"
	}
	if s.target >= 1 {
		return s, "a 100% objective leaves no error budget"
	}
	if s.target <= 0 {
		return s, "a 0% objective cannot be missed"
	}
	return s, ""
}

// Prometheus rule file shapes (only the fields written).
type promRuleFile struct {
	Groups []promRuleGroup `yaml:"groups"`
}

type promRuleGroup struct {
	Name  string     `yaml:"name"`
	Rules []promRule `yaml:"rules"`
}

type promRule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// burnAlert is one of the workbook's two alerts: the long and short windows,
// the share of the budget the long window may use, and the pending time.
type burnAlert struct {
	kind, long, short, severity, pending string
	share                                float64
	longDur                              time.Duration
}

func burnAlerts() []burnAlert {
	return []burnAlert{
		{kind: "Fast", long: "1h", short: "5m", severity: "page", pending: "2m", share: 0.02, longDur: time.Hour},
		{kind: "Slow", long: "6h", short: "30m", severity: "ticket", pending: "15m", share: 0.05, longDur: 6 * time.Hour},
	}
}

func buildRules(sources []sliSource, slis []objectiveSLI, win model.Duration) (promRuleFile, []string) {
	var file promRuleFile
	var warnings []string
	winText := win.String()
	windows := []string{"5m", "30m", "1h", "6h"}
	if !slices.Contains(windows, winText) {
		windows = append(windows, winText)
	}
	for _, src := range sources {
		rec := promRuleGroup{Name: "authlab-slo-" + src.name + "-recording"}
		alerts := promRuleGroup{Name: "authlab-slo-" + src.name + "-alerts"}
		quantiles := map[float64]bool{}
		for _, s := range slis {
			le := ""
			if s.quantile > 0 {
				var exact bool
				le, exact = bucketAtOrBelow(src.buckets, s.seconds)
				if le == "" {
					warnings = append(warnings, fmt.Sprintf("%s: %s is below %s's smallest bucket; left out", s.obj.Text, bench.FormatDuration(time.Duration(s.obj.Value)), src.hist))
					continue
				}
				if !exact {
					warnings = append(warnings, fmt.Sprintf("%s: %s has no bucket at %gs; %s counts requests above le=%s as slow (stricter)", s.obj.Text, src.hist, s.seconds, src.name, le))
				}
				if !quantiles[s.quantile] {
					quantiles[s.quantile] = true
					rec.Rules = append(rec.Rules, promRule{
						Record: fmt.Sprintf("authlab_%s:request_duration_seconds:p%s_rate5m", src.name, s.obj.Metric[1:]),
						Expr:   fmt.Sprintf("histogram_quantile(%g, sum by (le, %s) (rate(%s_bucket%s[5m])))", s.quantile, src.by, src.hist, selector(src.sel)),
					})
				}
			}
			for _, w := range windows {
				rec.Rules = append(rec.Rules, promRule{
					Record: errorRatioName(src, w),
					Expr:   errorRatioExpr(src, s, le, w),
					Labels: map[string]string{"slo": s.obj.Text},
				})
			}
			budget := 1 - s.target
			for _, b := range burnAlerts() {
				factor := b.share * float64(win) / float64(b.longDur)
				if factor*budget >= 1 {
					warnings = append(warnings, fmt.Sprintf("%s: the %s-burn alert needs an error ratio above %.3g, which cannot happen; it never fires", s.obj.Text, strings.ToLower(b.kind), factor*budget))
				}
				th := fmt.Sprintf("(%s * %s)", fmtFloat(factor), fmtFloat(budget))
				obj := selector(matcher("slo", s.obj.Text))
				alerts.Rules = append(alerts.Rules, promRule{
					Alert: src.alert + "SLO" + b.kind + "Burn",
					Expr: fmt.Sprintf("%s%s > %s and %s%s > %s",
						errorRatioName(src, b.long), obj, th, errorRatioName(src, b.short), obj, th),
					For:    b.pending,
					Labels: map[string]string{"severity": b.severity, "slo": s.obj.Text},
					Annotations: map[string]string{
						"summary": fmt.Sprintf("%s: %s burn of the %s error budget (%s× over %s and %s)",
							src.title, strings.ToLower(b.kind), s.obj.Text, fmtFloat(factor), b.long, b.short),
						"description": fmt.Sprintf("Objective %s over %s: {{ $value | humanizePercentage }} of requests miss it in the last %s%s, against a budget of %s; at this rate the %s budget lasts %s.",
							s.obj.Text, winText, b.long, src.labels, fmtPercent(budget), winText, lastsFor(win, factor)),
					},
				})
			}
		}
		file.Groups = append(file.Groups, rec, alerts)
	}
	return file, warnings
}

func errorRatioName(src sliSource, w string) string {
	return "authlab_" + src.name + ":slo_errors:ratio_rate" + w
}

// errorRatioExpr is the share of requests that miss s over window w: failed
// ones for success, ones slower than le for latency.
func errorRatioExpr(src sliSource, s objectiveSLI, le, w string) string {
	if s.quantile == 0 {
		return fmt.Sprintf("sum by (%s) (rate(%s%s[%s])) / sum by (%s) (rate(%s%s[%s]))",
			src.by, src.requests, selector(src.sel, src.failSel), w, src.by, src.requests, selector(src.sel), w)
	}
	return fmt.Sprintf("1 - (sum by (%s) (rate(%s_bucket%s[%s])) / sum by (%s) (rate(%s_count%s[%s])))",
		src.by, src.hist, selector(src.sel, matcher("le", le)), w, src.by, src.hist, selector(src.sel), w)
}

func selector(matchers ...string) string {
	var m []string
	for _, s := range matchers {
		if s != "" {
			m = append(m, s)
		}
	}
	if len(m) == 0 {
		return ""
	}
	return "{" + strings.Join(m, ",") + "}"
}

// bucketAtOrBelow returns the le label of the largest bound <= sec, and
// whether it is sec itself. le reads as client_golang writes it.
func bucketAtOrBelow(bounds []float64, sec float64) (string, bool) {
	best := -1.0
	for _, b := range bounds {
		if b <= sec*(1+1e-9) && b > best {
			best = b
		}
	}
	if best < 0 {
		return "", false
	}
	return strconv.FormatFloat(best, 'g', -1, 64), best >= sec*(1-1e-9)
}

func lastsFor(win model.Duration, factor float64) string {
	d := time.Duration(float64(win) / factor).Round(time.Minute)
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func fmtPercent(v float64) string { return strconv.FormatFloat(v*100, 'g', 6, 64) + "%" }
