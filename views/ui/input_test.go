package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func runes(n int) tea.KeyMsg {
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("x", n))}
}

func TestInputStopsAtItsLimitAndSaysSo(t *testing.T) {
	in := NewInput("token", 1000)
	in.Focus()
	in.Width = 40
	for i := 0; i < 3; i++ {
		in.Update(runes(300))
	}
	if in.Cut() || len(in.Value()) != 900 {
		t.Fatalf("below the limit: cut %v, %d runes", in.Cut(), len(in.Value()))
	}
	if in.Update(runes(100)); len(in.Value()) != 1000 || in.Cut() {
		t.Fatalf("exactly full: %d runes, cut %v", len(in.Value()), in.Cut())
	}
	cmd := in.Update(runes(300)) // nothing fits: noted
	if len(in.Value()) != 1000 || !in.Cut() || cmd == nil {
		t.Fatalf("past the limit: %d runes, cut %v", len(in.Value()), in.Cut())
	}
	if msg, ok := cmd().(NoteMsg); !ok || msg.Text != "token input takes at most 1000 characters; the rest was dropped" {
		t.Fatalf("note %#v", cmd())
	}
	if cmd := in.Update(runes(300)); len(in.Value()) != 1000 || cmd != nil {
		t.Fatalf("still full: %d runes, noted again %v", len(in.Value()), cmd != nil)
	}
	in.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	if cmd := in.Update(runes(5)); len(in.Value()) != 1000 || cmd == nil {
		t.Fatalf("after a backspace one rune fits and the cut is noted again: %d", len(in.Value()))
	}
	if !in.SetValue(strings.Repeat("é", 1500)) || len([]rune(in.Value())) != 1000 || !in.Cut() {
		t.Fatal("SetValue must cut at the limit in runes")
	}
	if in.SetValue("short") || in.Cut() {
		t.Fatal("a short value is not cut")
	}
}
