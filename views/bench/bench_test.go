package bench

import (
	"strings"
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
