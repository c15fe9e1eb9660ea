package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Objective is one SLO term such as p95<50ms or success>=99.9%.
type Objective struct {
	Text   string  // as written, trimmed
	Metric string  // min, p50, p90, p95, p99, max, success, rps
	Op     string  // <, <=, >, >=
	Value  float64 // nanoseconds for latency, percent for success, per second for rps
}

// SLOResult is the verdict on one objective.
type SLOResult struct {
	Objective string  `json:"objective"`
	Actual    string  `json:"actual"`
	Pass      bool    `json:"pass"`
	actual    float64 // in the objective's unit
}

var latencyMetrics = map[string]float64{"min": 0, "p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "max": 1}

// ParseSLO parses a comma-separated list of objectives:
//
//	METRIC OP VALUE, ...   METRIC: min p50 p90 p95 p99 max (a duration: 50ms, 1.5s, 800us)
//	                               success (a percentage: 99.9%)
//	                               rps or throughput (requests per second: 200 or 200/s)
//	                       OP:     < <= > >=
//
// Errors name the offending term and what was expected.
func ParseSLO(spec string) ([]Objective, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("empty SLO; expected objectives like 'p95<50ms,success>=99.9%%'")
	}
	var out []Objective
	for i, term := range strings.Split(spec, ",") {
		o, err := parseObjective(strings.TrimSpace(term))
		if err != nil {
			return nil, fmt.Errorf("objective %d %q: %v", i+1, strings.TrimSpace(term), err)
		}
		out = append(out, o)
	}
	return out, nil
}

func parseObjective(t string) (Objective, error) {
	if t == "" {
		return Objective{}, fmt.Errorf("empty objective (stray comma?)")
	}
	i := strings.IndexAny(t, "<>=!")
	if i < 0 {
		return Objective{}, fmt.Errorf("no comparison; expected one of < <= > >= as in p95<50ms")
	}
	metric := strings.ToLower(strings.TrimSpace(t[:i]))
	rest := t[i:]
	var op string
	switch {
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, ">="):
		op = rest[:2]
	case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, ">"):
		op = rest[:1]
	default:
		return Objective{}, fmt.Errorf("unsupported comparison %q; use < <= > or >=", strings.TrimRight(rest[:min(2, len(rest))], "0123456789. "))
	}
	val := strings.TrimSpace(rest[len(op):])
	if val == "" {
		return Objective{}, fmt.Errorf("missing value after %q", op)
	}
	o := Objective{Text: metric + op + val, Metric: metric, Op: op}
	switch {
	case metric == "":
		return o, fmt.Errorf("missing metric before %q; use min, p50, p90, p95, p99, max, success or rps", op)
	case hasKey(latencyMetrics, metric):
		d, err := time.ParseDuration(strings.ReplaceAll(val, "μ", "µ"))
		if err != nil {
			if _, nerr := strconv.ParseFloat(val, 64); nerr == nil {
				return o, fmt.Errorf("latency %q needs a unit, e.g. %sms", val, val)
			}
			return o, fmt.Errorf("bad latency %q; expected a duration such as 50ms, 1.5s or 800us", val)
		}
		if d < 0 {
			return o, fmt.Errorf("latency must not be negative")
		}
		o.Value = float64(d)
	case metric == "success":
		v, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
		if err != nil {
			return o, fmt.Errorf("bad success rate %q; expected a percentage such as 99.9%%", val)
		}
		if v < 0 || v > 100 {
			return o, fmt.Errorf("success rate %s is outside 0–100%%", val)
		}
		o.Value = v
	case metric == "rps" || metric == "throughput":
		o.Metric = "rps"
		v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(val, "/s"), "rps"), 64)
		if err != nil || v < 0 {
			return o, fmt.Errorf("bad throughput %q; expected requests per second such as 200 or 200/s", val)
		}
		o.Value = v
	default:
		return o, fmt.Errorf("unknown metric %q; use min, p50, p90, p95, p99, max, success or rps", metric)
	}
	return o, nil
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }

// Evaluate checks every objective against r. A run with no completed
// requests misses every objective: there is nothing to vouch for.
func Evaluate(objs []Objective, r *Report) []SLOResult {
	out := make([]SLOResult, 0, len(objs))
	for _, o := range objs {
		res := SLOResult{Objective: o.Text}
		switch o.Metric {
		case "success":
			res.actual = r.SuccessRate()
			res.Actual = fmt.Sprintf("%.3g%%", res.actual)
			if res.actual != 100 && res.actual >= 99 {
				res.Actual = fmt.Sprintf("%.3f%%", res.actual)
			}
		case "rps":
			res.actual = r.Throughput
			res.Actual = fmt.Sprintf("%.1f/s", res.actual)
		default:
			var d time.Duration
			switch o.Metric {
			case "min":
				d = r.Latency.Min
			case "max":
				d = r.Latency.Max
			default:
				d = r.Quantile(latencyMetrics[o.Metric])
			}
			res.actual = float64(d)
			res.Actual = FormatDuration(d)
		}
		if r.Requests == 0 {
			res.Actual = "no completed requests"
			out = append(out, res)
			continue
		}
		switch o.Op {
		case "<":
			res.Pass = res.actual < o.Value
		case "<=":
			res.Pass = res.actual <= o.Value
		case ">":
			res.Pass = res.actual > o.Value
		case ">=":
			res.Pass = res.actual >= o.Value
		}
		out = append(out, res)
	}
	return out
}

// Missed lists the objectives that failed, as "p95<50ms (was 62.1ms)".
func Missed(results []SLOResult) []string {
	var m []string
	for _, r := range results {
		if !r.Pass {
			m = append(m, fmt.Sprintf("%s (was %s)", r.Objective, r.Actual))
		}
	}
	return m
}
