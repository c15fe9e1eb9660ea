package editor

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestKindSwitchKeepsTypedValuesAndValidates(t *testing.T) {
	m := testModel(100, 30)
	m.Load(Form{Kind: "client-credentials", Fields: map[string]string{"client_id": "abc", "issuer": "https://idp.example"}}, "")
	m.Update(tea.KeyMsg{Type: tea.KeyTab}) // kind
	m.Update(tea.KeyMsg{Type: tea.KeyRight})
	if f := m.Form(); f.Kind != "auth-code" || f.Fields["client_id"] != "abc" {
		t.Fatalf("after switching kind: %+v", f)
	}
	if _, ok := m.Errors()["name"]; !ok {
		t.Error("an empty name must be flagged")
	}
	m.Update(tea.KeyMsg{Type: tea.KeyShiftTab})
	for _, r := range "bad name" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if m.Errors()["name"] != "no spaces or slashes" {
		t.Errorf("name error = %q", m.Errors()["name"])
	}
	if cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlS}); cmd != nil {
		t.Error("an invalid form must not be saved")
	}
}
