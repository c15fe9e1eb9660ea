package check

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"authlab/flows"
	fcheck "authlab/flows/check"
	"authlab/views/ui"
)

func testModel(w, h int) *Model {
	ctx := &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: time.Now}
	m := New(ctx)
	m.SetSize(w, h)
	return m
}

func press(m *Model, k string) tea.Cmd {
	switch k {
	case "down":
		return m.Update(tea.KeyMsg{Type: tea.KeyDown})
	case "pgdown":
		return m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
	}
	return m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
}

func action(t *testing.T, cmd tea.Cmd) ActionMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	a, ok := cmd().(ActionMsg)
	if !ok {
		t.Fatalf("%#v is not an ActionMsg", cmd())
	}
	return a
}

func report(n int) *fcheck.Report {
	r := &fcheck.Report{Profile: fcheck.ProfileFAPI2, Issuer: "http://127.0.0.1:9090"}
	st := []flows.Status{flows.Pass, flows.Warn, flows.Fail}
	for i := range n {
		r.Checks = append(r.Checks, fcheck.Item{Name: fmt.Sprintf("item-%02d", i), Status: st[i%3],
			Detail: fmt.Sprintf("detail of item %d: ", i) + strings.Repeat("word ", 40), Reference: fmt.Sprintf("RFC 9700 %d", i)})
	}
	return r
}

func TestKeysAskForRunsExportAndCancel(t *testing.T) {
	m := testModel(80, 21)
	m.Open("p", "http://127.0.0.1:9090", "")
	m.Begin(4, fcheck.ProfileFAPI2)
	if a := action(t, press(m, "c")); a.Action != ActCancel || a.RunID != 4 {
		t.Fatalf("c while running: %+v", a)
	}
	if cmd, ok := m.Back(); !ok || action(t, cmd).Action != ActCancel {
		t.Fatal("esc while running does not cancel")
	}
	if press(m, "b") != nil {
		t.Fatal("b while running started another check")
	}
	m.Finish(report(3), nil)
	if a := action(t, press(m, "b")); a.Action != ActRun || a.Mode != fcheck.ProfileBCP || a.Profile != "p" {
		t.Fatalf("b: %+v", a)
	}
	if a := action(t, press(m, "f")); a.Action != ActRun || a.Mode != fcheck.ProfileFAPI2 {
		t.Fatalf("f: %+v", a)
	}
	m.Begin(5, fcheck.ProfileBCP)
	m.Finish(report(3), nil)
	if a := action(t, press(m, "r")); a.Action != ActRun || a.Mode != fcheck.ProfileBCP {
		t.Fatalf("r after a bcp check: %+v", a)
	}
	if a := action(t, press(m, "x")); a.Action != ActExport || a.RunID != 5 {
		t.Fatalf("x: %+v", a)
	}
	if _, ok := m.Back(); ok {
		t.Fatal("esc on a finished check does not leave")
	}
	m.Begin(6, fcheck.ProfileFAPI2)
	m.Finish(nil, fmt.Errorf("metadata of http://x: connection refused"))
	if press(m, "x") != nil || !strings.Contains(m.View(), "nothing to export") || !strings.Contains(m.View(), "connection refused") {
		t.Fatalf("export without a report:\n%s", m.View())
	}
}

func TestScrollingAndDetail(t *testing.T) {
	m := testModel(80, 21)
	m.Open("p", "http://127.0.0.1:9090", "")
	m.Begin(1, fcheck.ProfileFAPI2)
	m.Finish(report(30), nil)
	v := m.View()
	if lines := strings.Split(v, "\n"); len(lines) != 21 {
		t.Fatalf("%d lines, want 21:\n%s", len(lines), v)
	}
	if !strings.Contains(v, "> ✓ pass item-00") || strings.Contains(v, "item-29") {
		t.Fatalf("first page:\n%s", v)
	}
	if !strings.Contains(v, "✗ does not meet the profile: 10 failed · 10 warnings · 10 passed") {
		t.Fatalf("summary:\n%s", v)
	}
	for range 25 {
		press(m, "down")
	}
	v = m.View()
	if !strings.Contains(v, "> ! warn item-25") || strings.Contains(v, "item-00") {
		t.Fatalf("after 25 downs:\n%s", v)
	}
	// the selected item in full: name, reference, detail wrapped
	if !strings.Contains(v, "reference RFC 9700 25") || !strings.Contains(v, "detail of item 25: word word") {
		t.Fatalf("detail of the selection:\n%s", v)
	}
	press(m, "pgdown")
	if v := m.View(); !strings.Contains(v, "> ✗ FAIL item-29") {
		t.Fatalf("pgdown stops at the last item:\n%s", v)
	}
	for _, l := range strings.Split(m.View(), "\n") {
		if lipgloss.Width(l) > 80 {
			t.Errorf("line wider than 80: %q", l)
		}
	}
}

// TestStatusColours: pass, warn and fail rows are drawn in the theme's
// pass, warn and fail colours.
func TestStatusColours(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	theme := ui.NewTheme(r, true)
	r.SetColorProfile(termenv.TrueColor) // NewTheme leaves a colour profile as it is
	m := New(&ui.Context{Theme: theme, Now: time.Now})
	m.SetSize(120, 30)
	m.Open("p", "http://127.0.0.1:9090", "")
	m.Begin(1, fcheck.ProfileFAPI2)
	m.Finish(report(3), nil)
	v := m.View()
	for _, c := range []struct{ label, style string }{
		{"✓ pass", theme.Pass.Render("✓ pass")},
		{"! warn", theme.Warn.Render("! warn")},
		{"✗ FAIL", theme.Fail.Render("✗ FAIL")},
	} {
		if !strings.Contains(c.style, "\x1b[") {
			t.Fatalf("the theme renders %s without colour", c.label)
		}
		if !strings.Contains(v, c.style) {
			t.Errorf("%s is not drawn in its colour:\n%q", c.label, v)
		}
	}
}

func TestRefused(t *testing.T) {
	m := testModel(80, 21)
	m.Refuse("demo-hmac", "demo-hmac has no issuer")
	if !strings.Contains(m.View(), "cannot check: demo-hmac has no issuer") {
		t.Fatal(m.View())
	}
	if press(m, "r") != nil || press(m, "f") != nil {
		t.Fatal("a refused check can be started")
	}
}
