package profiles

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"authlab/views/ui"
)

func testCtx() *ui.Context {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: func() time.Time { return now }}
}

func rows(n int) []Row {
	rs := make([]Row, n)
	for i := range rs {
		rs[i] = Row{Name: fmt.Sprintf("p-%04d", i), Kind: "client-credentials"}
	}
	rs[n/2].Kind = "hmac"
	return rs
}

func TestFilterMatchesNameAndKindAndKeepsWindow(t *testing.T) {
	m := New(testCtx())
	m.SetSize(80, 10)
	m.SetRows(rows(1000))
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	for _, r := range "hmac" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if m.Len() != 1 || m.Selected() != "p-0500" {
		t.Fatalf("filter 'hmac' shows %d rows, selected %q; want only p-0500", m.Len(), m.Selected())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.Len() != 1000 {
		t.Fatalf("esc should clear the filter, %d rows shown", m.Len())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'G'}})
	v := m.View()
	if !strings.Contains(v, "p-0999") || strings.Contains(v, "p-0000") {
		t.Errorf("after G the window should show the end only:\n%s", v)
	}
	if n := strings.Count(v, "\n") + 1; n != 10 {
		t.Errorf("view has %d lines, want 10", n)
	}
}

func TestSetLastRunsKeepsOrderAndSelection(t *testing.T) {
	m := New(testCtx())
	m.SetSize(120, 10)
	m.SetRows(rows(10))
	m.SelectName("p-0003")
	m.SetLastRuns(map[string]LastRun{"p-0003": {At: m.ctx.Now().Add(-time.Minute), OK: false, Reason: "invalid_client"}})
	if m.Selected() != "p-0003" {
		t.Fatalf("selection moved to %q", m.Selected())
	}
	// the detail pane takes the note column's room; p hides it
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'p'}})
	if v := m.View(); !strings.Contains(v, "✗ fail") || !strings.Contains(v, "invalid_client") || !strings.Contains(v, "1m") || strings.Contains(v, "│") {
		t.Errorf("last run not shown, or the pane still is:\n%s", v)
	}
}

func TestDeleteAsksFirst(t *testing.T) {
	m := New(testCtx())
	m.SetSize(80, 10)
	m.SetRows(rows(3))
	if cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'d'}}); cmd != nil {
		t.Fatal("d must ask, not delete")
	}
	if !m.Confirming() {
		t.Fatal("d should ask for confirmation")
	}
	cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'y'}})
	if cmd == nil {
		t.Fatal("y should delete")
	}
	if msg, ok := cmd().(ActionMsg); !ok || msg.Action != ActDelete || msg.Name != "p-0000" {
		t.Fatalf("y sent %#v", cmd())
	}
}

func TestImportPromptAsksForAPath(t *testing.T) {
	m := New(testCtx())
	m.SetSize(80, 10)
	m.SetRows(rows(3))
	if cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'i'}}); cmd == nil || !m.Typing() {
		t.Fatal("i should open the import prompt with focus")
	}
	if v := m.View(); !strings.Contains(v, "import from file:") || strings.Contains(v, "1/3") {
		t.Fatalf("the prompt should take the count line's place:\n%s", v)
	}
	for _, r := range " /tmp/x.json " {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil {
		t.Fatal("enter should ask for the import")
	}
	if msg, ok := cmd().(ActionMsg); !ok || msg.Action != ActImport || msg.Path != "/tmp/x.json" {
		t.Fatalf("enter sent %#v", cmd())
	}
	if m.Importing() || m.Typing() {
		t.Fatal("the prompt should close after enter")
	}
	m.StartImport()
	if cmd := m.Update(tea.KeyMsg{Type: tea.KeyEsc}); cmd != nil || m.Importing() {
		t.Fatal("esc should close the prompt and import nothing")
	}
}

func TestInspectAndBenchKeys(t *testing.T) {
	m := New(testCtx())
	m.SetSize(80, 10)
	m.SetRows(nil)
	cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'t'}})
	if cmd == nil {
		t.Fatal("t should open the inspector even with no profile")
	}
	if msg, ok := cmd().(ActionMsg); !ok || msg.Action != ActInspect {
		t.Fatalf("t sent %#v", cmd())
	}
	m.SetRows(rows(3))
	m.SetBench(false)
	if cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'b'}}); cmd != nil {
		t.Fatal("b must do nothing when bench is not offered")
	}
	for _, k := range m.ShortHelp() {
		if k.Enabled() && k.Help().Key == "b" {
			t.Fatal("the footer offers b without bench")
		}
	}
	m.SetBench(true)
	cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'b'}})
	if cmd == nil {
		t.Fatal("b should bench the selected profile")
	}
	if msg, ok := cmd().(ActionMsg); !ok || msg.Action != ActBench || msg.Name != "p-0000" {
		t.Fatalf("b sent %#v", cmd())
	}
}
