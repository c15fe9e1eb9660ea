package editor

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// ctrl+o turns DPoP on (alg and a secret key field appear, the form
// carries dpop=true) and off again; a bad alg is flagged; kinds without
// tokens have no DPoP.
func TestDPoPToggle(t *testing.T) {
	m := testModel(100, 40)
	m.Load(Form{Name: "p", Kind: "client-credentials", Fields: map[string]string{"client_id": "abc", "issuer": "https://idp.example"}}, "")
	if v := m.View(); strings.Contains(v, "DPoP alg") {
		t.Fatalf("DPoP fields shown while off:\n%s", v)
	}
	ctrlO := tea.KeyMsg{Type: tea.KeyCtrlO}
	m.Update(ctrlO)
	f := m.Form()
	if f.Fields["dpop"] != "true" {
		t.Fatalf("form after ctrl+o: %+v", f.Fields)
	}
	if _, ok := f.Fields["dpop_key"]; !ok {
		t.Fatal("no DPoP key field while on")
	}
	v := m.View()
	if !strings.Contains(v, "DPoP alg") || !strings.Contains(v, "DPoP key") {
		t.Fatalf("DPoP fields missing while on:\n%s", v)
	}
	// Type a key into the (secret) field: it is masked on screen.
	for m.fields[m.focus].key != "dpop_key" {
		m.Update(tea.KeyMsg{Type: tea.KeyTab})
	}
	for _, r := range "file:/tmp/k.pem" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if strings.Contains(m.View(), "/tmp/k.pem") {
		t.Error("the DPoP key is echoed")
	}
	if got := m.Form().Fields["dpop_key"]; got != "file:/tmp/k.pem" {
		t.Errorf("dpop_key = %q", got)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyShiftTab}) // dpop_alg: a choice, → cycles
	m.Update(tea.KeyMsg{Type: tea.KeyRight})
	m.Update(tea.KeyMsg{Type: tea.KeyRight})
	if got := m.Form().Fields["dpop_alg"]; got != "PS256" {
		t.Errorf("dpop_alg after →→ = %q, want PS256", got)
	}
	// A value the choice does not know (an import) is flagged.
	m.values["dpop_alg"] = "HS256"
	m.validate()
	if !strings.Contains(m.Errors()["dpop_alg"], "ES256") {
		t.Errorf("dpop_alg HS256 error = %q", m.Errors()["dpop_alg"])
	}
	m.Update(ctrlO)
	if f := m.Form(); f.Fields["dpop"] != "" || f.Fields["dpop_alg"] != "" {
		t.Fatalf("form after DPoP off: %+v", f.Fields)
	}
	if _, ok := m.Errors()["dpop_alg"]; ok {
		t.Error("a hidden field is still validated")
	}
	m.Load(Form{Name: "h", Kind: "hmac", Fields: map[string]string{"dpop": "true"}}, "")
	m.Update(ctrlO)
	if _, ok := m.Form().Fields["dpop"]; ok || !strings.Contains(m.View(), "DPoP applies to OAuth profiles") {
		t.Errorf("hmac form with DPoP: %+v", m.Form().Fields)
	}
}
