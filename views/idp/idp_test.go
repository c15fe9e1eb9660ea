package idp

import (
	"io"
	"strings"
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

// The DPoP faults are rows for an IdP with DPoP clients, toggle on and
// off, and stay hidden for one without (unless one is on).
func TestDPoPFaultRows(t *testing.T) {
	ctx := &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: time.Now}
	m := New(ctx)
	m.SetSize(120, 30)
	if v := m.View(); strings.Contains(v, "DPoP") {
		t.Fatalf("DPoP rows without DPoP clients:\n%s", v)
	}
	m.SetInfo(Info{Issuer: "http://idp", DPoP: true})
	var last *Faults
	send := func(k tea.KeyMsg) {
		if cmd := m.Update(k); cmd != nil {
			if a, ok := cmd().(ActionMsg); ok && a.Faults != nil {
				last = a.Faults
			}
		}
	}
	for range 8 { // past the eight token faults
		send(tea.KeyMsg{Type: tea.KeyDown})
	}
	send(tea.KeyMsg{Type: tea.KeyEnter})
	if last == nil || !last.DPoPNonceStorm || last.DPoPBearerOnly {
		t.Fatalf("enter on the nonce storm row sent %+v", last)
	}
	send(tea.KeyMsg{Type: tea.KeyDown})
	send(tea.KeyMsg{Type: tea.KeyEnter})
	if !last.DPoPNonceStorm || !last.DPoPBearerOnly {
		t.Fatalf("bearer-only did not build on the storm: %+v", last)
	}
	v := m.View()
	if !strings.Contains(v, "DPoP nonce storm  ON") || !strings.Contains(v, "DPoP bearer-only  ON") {
		t.Fatalf("rows do not show the faults on:\n%s", v)
	}
	send(tea.KeyMsg{Type: tea.KeyEnter})
	if last.DPoPBearerOnly {
		t.Fatalf("a second enter did not turn bearer-only off: %+v", last)
	}
	// An IdP without DPoP clients still shows a DPoP fault that is on.
	m.SetInfo(Info{Faults: Faults{DPoPNonceStorm: true}})
	if v := m.View(); !strings.Contains(v, "DPoP nonce storm  ON") {
		t.Fatalf("an active DPoP fault is hidden:\n%s", v)
	}
}
