package bench

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	fbench "authlab/flows/bench"
	"authlab/views/ui"
)

func testModel() *Model {
	ctx := &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(nil), false), Now: time.Now}
	m := New(ctx)
	m.SetSize(80, 21)
	return m
}

func runes(s string) []rune { return []rune(s) }

func TestSparklineScalesToMaximum(t *testing.T) {
	got := Sparkline([]float64{0, 50, 100}, 10)
	if got != "▁▄█" {
		t.Fatalf("Sparkline = %q, want ▁▄█", got)
	}
	// only the latest values fit
	if got := Sparkline([]float64{100, 0, 0, 10}, 2); got != "▁█" {
		t.Fatalf("Sparkline keeps the latest: got %q, want ▁█", got)
	}
	if Sparkline(nil, 5) != "" || Sparkline([]float64{1}, 0) != "" {
		t.Fatal("empty input or width must draw nothing")
	}
}

func TestSettingsKeysAndDefaults(t *testing.T) {
	m := testModel()
	m.Open("p", "client-credentials", "http://127.0.0.1/token", Settings{})
	if s := m.Settings(); s.Duration != 10*time.Second || s.Concurrency != 8 {
		t.Fatalf("defaults %+v, want 10s and concurrency 8", s)
	}
	for _, k := range []string{"+", "+", ">", "-", "<", "<"} {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: runes(k)})
	}
	if s := m.Settings(); s.Duration != 20*time.Second || s.Concurrency != 4 {
		t.Fatalf("after + + > - < <: %+v, want 20s and concurrency 4", s)
	}
	if !strings.Contains(m.View(), "duration 20s · concurrency 4") {
		t.Fatalf("the settings are not on screen:\n%s", m.View())
	}
	cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil {
		t.Fatal("enter did not ask to start")
	}
	if a, ok := cmd().(ActionMsg); !ok || a.Action != ActStart {
		t.Fatalf("enter gave %#v, want ActStart", cmd())
	}
}

func TestRunningThenDone(t *testing.T) {
	m := testModel()
	m.Open("p", "client-credentials", "http://127.0.0.1/token", Settings{Requests: 100})
	m.Begin(3)
	if !m.Running() || m.ID() != 3 {
		t.Fatal("Begin did not start run 3")
	}
	m.Snapshot(fbench.Snapshot{Elapsed: time.Second, Requests: 50, OK: 49, Failed: 1, IntervalRPS: 50,
		Failures: []fbench.FailureGroup{{Status: 400, OAuthError: "invalid_grant", Count: 1, Example: "bad"}}})
	v := m.View()
	for _, want := range []string{"50 / 100 requests", "requests 50", "failed 1", "invalid_grant", "success 98.0%"} {
		if !strings.Contains(v, want) {
			t.Errorf("running view lacks %q:\n%s", want, v)
		}
	}
	cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: runes("x")})
	if a, ok := cmd().(ActionMsg); !ok || a.Action != ActCancel || a.RunID != 3 {
		t.Fatalf("x gave %#v, want ActCancel of run 3", cmd())
	}
	m.Finish(&fbench.Report{Requests: 60, OK: 60, StopReason: fbench.StopCancelled}, nil)
	if m.Running() || !strings.Contains(m.View(), "stopped: cancelled") {
		t.Fatalf("finished view:\n%s", m.View())
	}
	for _, l := range strings.Split(m.View(), "\n") {
		if lipgloss.Width(l) > 80 {
			t.Errorf("line wider than 80: %q", l)
		}
	}
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			m.Update(tea.KeyMsg{Type: tea.KeyEnter})
		case "esc":
			m.Update(tea.KeyMsg{Type: tea.KeyEsc})
		default:
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: runes(k)})
		}
	}
}

// TestRateSteps: ]/[ step the rate from closed loop up and back, and the
// rate reaches the engine's configuration.
func TestRateSteps(t *testing.T) {
	m := testModel()
	m.Open("p", "client-credentials", "http://127.0.0.1/token", Settings{})
	if !strings.Contains(m.View(), "closed loop") || m.Settings().Config().Rate != 0 {
		t.Fatalf("the default is not closed loop:\n%s", m.View())
	}
	press(m, "]", "]", "]", "]") // 1, 2, 5, 10
	if r := m.Settings().Config().Rate; r != 10 {
		t.Fatalf("rate after 4 × ]: %g, want 10", r)
	}
	if !strings.Contains(m.View(), "rate 10/s") {
		t.Fatalf("the rate is not on screen:\n%s", m.View())
	}
	press(m, "[", "[", "[", "[", "[") // past 0 stays 0
	if r := m.Settings().Rate; r != 0 {
		t.Fatalf("rate after stepping down: %g, want 0", r)
	}
}

// TestRateWarningForRemoteTarget: as the CLI does, a rate over the polite
// one (or no rate) to a host that is not loopback is warned about.
func TestRateWarningForRemoteTarget(t *testing.T) {
	m := testModel()
	m.Open("p", "client-credentials", "https://idp.example.com/token", Settings{Rate: 50})
	if strings.Contains(m.View(), "not loopback") {
		t.Fatalf("50/s is polite, yet warned:\n%s", m.View())
	}
	press(m, "]") // 100/s
	if !strings.Contains(m.View(), "not loopback") {
		t.Fatalf("100/s to idp.example.com without a warning:\n%s", m.View())
	}
}

// TestSLOPrompt: o opens the prompt (keys are text there), a bad objective
// is refused with flows/bench's reason and the prompt stays, a good one
// becomes the gate, esc keeps the old one.
func TestSLOPrompt(t *testing.T) {
	m := testModel()
	m.Open("p", "client-credentials", "http://127.0.0.1/token", Settings{})
	press(m, "o")
	if !m.Typing() {
		t.Fatal("o did not open the SLO prompt")
	}
	press(m, "p", "9", "5", "<", "5", "0", "enter") // no unit
	if !m.Typing() || !strings.Contains(m.View(), "needs a unit") {
		t.Fatalf("a latency without a unit was accepted:\n%s", m.View())
	}
	m.gate.input.SetValue("p95<50ms, success>=99.9%")
	press(m, "enter")
	if m.Typing() {
		t.Fatalf("a good SLO left the prompt open:\n%s", m.View())
	}
	if s := m.Settings().SLO; s != "p95<50ms, success>=99.9%" {
		t.Fatalf("SLO %q", s)
	}
	if v := m.View(); !strings.Contains(v, "gate     p95<50ms, success>=99.9%") {
		t.Fatalf("the gate is not in the settings:\n%s", v)
	}
	press(m, "o")
	m.gate.input.SetValue("rps>=1")
	press(m, "esc")
	if m.Typing() || m.Settings().SLO != "p95<50ms, success>=99.9%" {
		t.Fatalf("esc changed the SLO to %q", m.Settings().SLO)
	}
	// enter in the prompt is not a start
	press(m, "o")
	if cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter}); cmd != nil {
		t.Fatal("enter in the SLO prompt asked for something")
	}
}

// gateRun is a finished run of 100 requests, 98 ok, latencies 1…100 ms,
// through the real engine.
func gateRun(t *testing.T) (fbench.Snapshot, *fbench.Report) {
	t.Helper()
	var snap fbench.Snapshot
	var n atomic.Int64
	op := func(context.Context) fbench.Outcome {
		i := n.Add(1)
		out := fbench.Outcome{OK: i%50 != 0, Latency: time.Duration(i) * time.Millisecond}
		if !out.OK {
			out.Status = 500
		}
		return out
	}
	rep, err := fbench.Run(context.Background(), fbench.Config{Requests: 100, Concurrency: 1, Duration: time.Minute,
		OnSnapshot: func(s fbench.Snapshot) { snap = s }}, op)
	if err != nil || rep.Requests != 100 {
		t.Fatalf("bench: %v, %d requests", err, rep.Requests)
	}
	return snap, rep
}

// TestGateVerdictLiveAndFinal: the live verdict (from a snapshot) and the
// final one (bench.Evaluate on the report) agree with each objective, and
// the objectives show target and observed value.
func TestGateVerdictLiveAndFinal(t *testing.T) {
	snap, rep := gateRun(t)
	m := testModel()
	m.SetSize(120, 40)
	m.Open("p", "client-credentials", "http://127.0.0.1/token", Settings{SLO: "p95<50ms,success>=95%,max<=200ms,p50>=40ms"})
	m.Begin(1)
	if v := m.View(); !strings.Contains(v, "waiting for the first requests") {
		t.Fatalf("before a snapshot:\n%s", v)
	}
	snap.Done = false
	m.Snapshot(snap)
	v := m.View()
	// p95 of 1…100 ms is 95 ms: missed; success 98%: met; max 100 ms: met; p50 50 ms: met
	for _, want := range []string{"so far missed (1 of 4)", "✗ FAIL  p95<50ms", "✓ pass  success>=95%", "observed 98%", "✓ pass  max<=200ms", "✓ pass  p50>=40ms"} {
		if !strings.Contains(v, want) {
			t.Errorf("live view lacks %q:\n%s", want, v)
		}
	}
	m.Finish(rep, nil)
	v = m.View()
	for _, want := range []string{"✗ missed 1 of 4: p95<50ms (was 95.0ms)", "observed 95.0ms", "observed 100ms"} {
		if !strings.Contains(v, want) {
			t.Errorf("final view lacks %q:\n%s", want, v)
		}
	}
	want := fbench.Evaluate(m.gate.objs, rep)
	for i, r := range m.gate.results {
		if r != want[i] {
			t.Errorf("objective %d: %+v, want bench.Evaluate's %+v", i, r, want[i])
		}
	}
	// o on the finished run judges the same report again
	press(m, "o")
	m.gate.input.SetValue("p95<=95ms")
	press(m, "enter")
	if v := m.View(); !strings.Contains(v, "✓ met: all 1 objectives") {
		t.Fatalf("re-judged report:\n%s", v)
	}
	for _, l := range strings.Split(m.View(), "\n") {
		if lipgloss.Width(l) > 120 {
			t.Errorf("line wider than 120: %q", l)
		}
	}
}

// TestLiveResultsMatchEvaluate: for every metric, the live verdict of the
// final snapshot matches bench.Evaluate on the report within the
// histogram's precision.
func TestLiveResultsMatchEvaluate(t *testing.T) {
	snap, rep := gateRun(t)
	objs, err := fbench.ParseSLO("min<2ms,p50<=51ms,p90<92ms,p95>94ms,p99<98ms,max>=99ms,success>=98%,rps>0")
	if err != nil {
		t.Fatal(err)
	}
	live, final := liveResults(objs, snap), fbench.Evaluate(objs, rep)
	for i := range objs {
		if live[i].Pass != final[i].Pass || live[i].Objective != final[i].Objective {
			t.Errorf("%s: live %+v, final %+v", objs[i].Text, live[i], final[i])
		}
	}
	if got := liveResults(nil, snap); got != nil {
		t.Errorf("no objectives gave %v", got)
	}
}

func TestOpenDropsBadSLO(t *testing.T) {
	m := testModel()
	m.Open("p", "client-credentials", "http://127.0.0.1/token", Settings{SLO: "p95<<1"})
	if m.Settings().SLO != "" || !strings.Contains(m.View(), "SLO ignored") {
		t.Fatalf("a bad SLO from the options: %q\n%s", m.Settings().SLO, m.View())
	}
}
