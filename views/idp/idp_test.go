package idp

import (
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"authlab/views/ui"
)

func TestFaultsCycleAndAccumulate(t *testing.T) {
	ctx := &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: time.Now}
	m := New(ctx)
	m.SetSize(120, 30)
	enter := tea.KeyMsg{Type: tea.KeyEnter}
	var last *Faults
	send := func(k tea.KeyMsg) {
		if cmd := m.Update(k); cmd != nil {
			if a, ok := cmd().(ActionMsg); ok && a.Faults != nil {
				last = a.Faults
			}
		}
	}
	send(enter) // skew +40s
	send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'+'}})
	if last == nil || last.Skew != 50*time.Second {
		t.Fatalf("skew after enter and + = %+v, want 50s", last)
	}
	send(tea.KeyMsg{Type: tea.KeyDown})
	send(tea.KeyMsg{Type: tea.KeyDown}) // errors
	send(tea.KeyMsg{Type: tea.KeyRight})
	send(enter)
	if last.ErrorEndpoint != "authorize" || last.ErrorCode != "server_error" || last.ErrorStatus != 500 || last.Skew != 50*time.Second {
		t.Fatalf("errors fault = %+v; want authorize → 500 server_error, skew kept", last)
	}
	for range 3 { // server_error → invalid_client → temporarily_unavailable → off
		send(enter)
	}
	if last.ErrorEndpoint != "" {
		t.Fatalf("the errors fault should cycle back to off, got %+v", last)
	}
	for i := 0; i < MaxLog+10; i++ {
		m.AddEvent(Event{Status: 200})
	}
	if len(m.Log()) != MaxLog {
		t.Errorf("log keeps %d events, want the cap %d", len(m.Log()), MaxLog)
	}
}
