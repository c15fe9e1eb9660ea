package bench

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	fbench "authlab/flows/bench"
	"authlab/views/ui"
)

// gate is the SLO gate of the screen: the objectives (parsed by
// flows/bench, as `authlab bench --slo` parses them), their verdicts so
// far or on the finished report, and the prompt that edits them.
type gate struct {
	objs      []fbench.Objective
	results   []fbench.SLOResult
	final     bool // results judge the finished report, not a snapshot
	prompting bool
	input     ui.Input
	err       string // why the typed objectives were refused
}

func newGate() gate {
	in := ui.NewInput("SLO", 512)
	in.Prompt = "SLO: "
	in.Placeholder = "p95<50ms,success>=99.9%"
	return gate{input: in}
}

// open shows the prompt with the objectives as they are.
func (g *gate) open(spec string) tea.Cmd {
	g.prompting, g.err = true, ""
	g.input.SetValue(spec)
	g.input.CursorEnd()
	return g.input.Focus()
}

// update handles the prompt's keys. enter parses the objectives (empty
// clears the gate) into s; on a finished run they judge its report again.
func (g *gate) update(msg tea.Msg, keys KeyMap, rep *fbench.Report, s *Settings) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, keys.Apply):
			spec := strings.TrimSpace(g.input.Value())
			objs, err := Settings{SLO: spec}.Objectives()
			if err != nil {
				g.err = err.Error()
				return nil
			}
			s.SLO, g.objs = spec, objs
			g.close()
			if rep != nil {
				g.judge(rep)
			} else {
				g.results = nil
			}
			return nil
		case key.Matches(k, keys.Discard):
			g.close()
			return nil
		}
	}
	return g.input.Update(msg)
}

func (g *gate) close() {
	g.prompting, g.err = false, ""
	g.input.Blur()
}

// judge is the final verdict: bench.Evaluate on the report, as the CLI's
// gate decides its exit status.
func (g *gate) judge(r *fbench.Report) {
	if r == nil {
		g.results, g.final = nil, false
		return
	}
	g.results, g.final = fbench.Evaluate(g.objs, r), true
}

// latencyQuantile is the quantile a latency objective's metric names.
var latencyQuantile = map[string]float64{"min": 0, "p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "max": 1}

// liveResults judges objectives on a running bench's snapshot with the
// same bench.Evaluate the final report gets. A snapshot keeps only the
// histogram, so each latency objective is asked of a report whose min is
// the histogram's quantile for its metric (±0.4%); success and rps come
// from the snapshot's counters.
func liveResults(objs []fbench.Objective, s fbench.Snapshot) []fbench.SLOResult {
	if len(objs) == 0 {
		return nil
	}
	r := fbench.Report{Requests: s.Requests, OK: s.OK, Failed: s.Failed, Throughput: s.Throughput}
	out := make([]fbench.SLOResult, 0, len(objs))
	for _, o := range objs {
		rr := r
		if q, ok := latencyQuantile[o.Metric]; ok {
			rr.Latency.Min = s.Latency.Quantile(q)
			o.Metric = "min"
		}
		out = append(out, fbench.Evaluate([]fbench.Objective{o}, &rr)...)
	}
	return out
}

// spec is the objectives in one line, for the settings.
func (g *gate) spec() string {
	if len(g.objs) == 0 {
		return "none (o sets objectives such as p95<50ms,success>=99.9%)"
	}
	texts := make([]string, len(g.objs))
	for i, o := range g.objs {
		texts[i] = o.Text
	}
	return strings.Join(texts, ", ")
}

// view is the gate's verdict: a summary line, then each objective with
// its target and what was observed. Nothing when there is no objective.
func (g *gate) view(t *ui.Theme, w int) []string {
	if len(g.objs) == 0 {
		return nil
	}
	head := t.Title.Render("SLO gate") + " "
	missed := 0
	for _, r := range g.results {
		if !r.Pass {
			missed++
		}
	}
	switch {
	case len(g.results) == 0:
		head += t.Subtle.Render("waiting for the first requests")
	case !g.final && missed == 0:
		head += t.Pass.Render(fmt.Sprintf("so far met (%d of %d)", len(g.results), len(g.results)))
	case !g.final:
		head += t.Fail.Render(fmt.Sprintf("so far missed (%d of %d)", missed, len(g.results)))
	case missed == 0:
		head += t.Pass.Render(fmt.Sprintf("✓ met: all %d objectives", len(g.results)))
	default:
		head += t.Fail.Render(fmt.Sprintf("✗ missed %d of %d: %s", missed, len(g.results), strings.Join(fbench.Missed(g.results), "; ")))
	}
	out := []string{"", ui.Truncate(head, w)}
	for _, r := range g.results {
		mark := t.Pass.Render("✓ pass")
		if !r.Pass {
			mark = t.Fail.Render("✗ FAIL")
		}
		out = append(out, ui.Truncate(fmt.Sprintf("  %s  %s %s %s", mark, ui.Pad(r.Objective, 20),
			t.Subtle.Render("observed"), r.Actual), w))
	}
	return out
}

// promptView is the SLO prompt with the syntax and why the last try failed.
func (g *gate) promptView(t *ui.Theme, w int) []string {
	out := []string{"", g.input.View(), ""}
	for _, s := range []string{
		"Objectives, comma-separated, as authlab bench --slo takes them: min p50 p90 p95 p99",
		"max (durations), success (percent), rps (requests/s), each with < <= > or >=;",
		"e.g. p95<50ms,success>=99.9%,rps>=100. Empty clears the gate.",
	} {
		out = append(out, t.Subtle.Render(s))
	}
	if g.err != "" {
		out = append(out, "", t.Error.Render("✗ "+g.err))
	}
	for i := range out {
		out[i] = ui.Truncate(out[i], w)
	}
	return out
}

// rateText is a rate setting in words.
func rateText(r float64) string {
	if r <= 0 {
		return "closed loop"
	}
	return fmt.Sprintf("rate %g/s", r)
}
