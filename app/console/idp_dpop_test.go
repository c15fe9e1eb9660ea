package console

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/mockidp/mockidptest"
	"authlab/views/idp"
)

// The panel offers the DPoP faults for the demo IdP (it has DPoP-bound
// clients) and applies them to the running IdP, keeping the others.
func TestIdPPanelTogglesDPoPFaults(t *testing.T) {
	srv := mockidptest.New(t)
	m := newTestModel(&fakeBackend{rows: fixtureRows()}, func(o *Options) { o.IdP = srv })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(profilesMsg{rows: fixtureRows()})
	m.Update(keyMsg("m"))
	if v := m.View(); !strings.Contains(v, "DPoP nonce storm  off") || !strings.Contains(v, "DPoP bearer-only  off") {
		t.Fatalf("no DPoP fault rows for an IdP with DPoP clients:\n%s", v)
	}
	apply := func(keys ...string) {
		t.Helper()
		var cmd tea.Cmd
		for _, k := range keys {
			_, cmd = m.Update(keyMsg(k))
		}
		a, ok := cmd().(idp.ActionMsg)
		if !ok || a.Faults == nil {
			t.Fatalf("%v did not ask for a fault change", keys)
		}
		_, do := m.Update(a)
		m.Update(do())
	}
	apply("j", "j", "j", "j", "j", "j", "j", "j", "enter") // nonce storm
	apply("j", "enter")                                    // bearer-only
	f := srv.Faults()
	if !f.DPoPNonceStorm || !f.DPoPBearerOnly {
		t.Fatalf("IdP faults %+v; want nonce storm and bearer-only on", f)
	}
	apply("enter")
	if f := srv.Faults(); !f.DPoPNonceStorm || f.DPoPBearerOnly {
		t.Fatalf("IdP faults %+v; want bearer-only off, the storm kept", f)
	}
}
