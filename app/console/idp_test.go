package console

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/idp"
)

// TestIdPPanelKeepsNewerKeyPresses: the IdP's answer to an older fault
// change arrives after a newer key press; it must not put the older value
// back on the panel.
func TestIdPPanelKeepsNewerKeyPresses(t *testing.T) {
	fake := newFakeIdP()
	m := newTestModel(&fakeBackend{rows: fixtureRows()}, func(o *Options) { o.IdP = fake })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(profilesMsg{rows: fixtureRows()})
	m.Update(keyMsg("m"))
	_, first := m.Update(keyMsg("enter"))  // skew +40s
	_, second := m.Update(keyMsg("enter")) // skew +2m, not yet sent to the IdP
	a1, ok := first().(idp.ActionMsg)
	if !ok || second == nil {
		t.Fatal("enter on the skew row should ask for a fault change")
	}
	_, apply := m.Update(a1)
	m.Update(apply()) // the IdP's answer to +40s
	if v := m.View(); !strings.Contains(v, "+2m0s") {
		t.Fatalf("an older answer undid a newer key press:\n%s", v)
	}
	a2 := second().(idp.ActionMsg)
	_, apply = m.Update(a2)
	m.Update(apply())
	if got := fake.Faults().Skew.D(); got != 2*time.Minute {
		t.Errorf("IdP skew = %v, want 2m", got)
	}
	if v := m.View(); !strings.Contains(v, "+2m0s") {
		t.Fatalf("the panel should show the applied skew:\n%s", v)
	}
}
