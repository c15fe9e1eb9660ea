package audit

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	faudit "authlab/flows/audit"
	"authlab/views/ui"
)

func TestMarkdownEscapesCells(t *testing.T) {
	md := Markdown(&faudit.Report{Target: "http://127.0.0.1/api", Cases: []faudit.Case{
		{Name: "alg-none", Level: faudit.Must, Verdict: faudit.Accepted, Status: 200, Sent: "a | b\nc", Detail: "x\x1b[31m"},
	}})
	for _, want := range []string{"| `alg-none` | must | a \\| b c | 200 | **ACCEPTED** |", "## Details"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "\x1b") {
		t.Error("an escape sequence reached the Markdown")
	}
}

func TestGaugeMarksTheWarning(t *testing.T) {
	m := New(&ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: time.Now})
	m.SetSize(100, 30)
	for _, c := range []struct {
		s    int64
		want string
	}{{0, "0 s after exp"}, {30, "30 s after exp"}, {300, "over 60 s is a warning"}} {
		m.Leeway(faudit.Leeway{ExpSeconds: c.s})
		g := m.gauge(100)
		if !strings.Contains(g, c.want) || !strings.Contains(g, "│") || lipgloss.Width(g) > 100 {
			t.Errorf("leeway %d: %q", c.s, g)
		}
	}
	m.Leeway(faudit.Leeway{ExpSeconds: 3600, AtLeast: true})
	if g := m.gauge(100); strings.Contains(g, "░") || !strings.Contains(g, "at least 3600 s") {
		t.Errorf("the bound: %q", g)
	}
}
