package inspect

import (
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"authlab/flows"
	"authlab/views/ui"
)

func testScreen() *Screen {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewScreen(&ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: func() time.Time { return now }})
	s.SetSize(80, 20)
	return s
}

func TestScreenPromptSubmitsAndCancels(t *testing.T) {
	s := testScreen()
	s.Prompt()
	if !s.Typing() || s.Live() || !strings.Contains(s.View(), "Inspect a token") {
		t.Fatalf("the prompt should have focus:\n%s", s.View())
	}
	if cmd := s.Update(tea.KeyMsg{Type: tea.KeyEnter}); cmd != nil {
		t.Fatal("enter on an empty prompt must ask for nothing")
	}
	s.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(" abc.def.ghi ")})
	cmd := s.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil {
		t.Fatal("enter should submit the token")
	}
	if msg, ok := cmd().(SubmitMsg); !ok || msg.Raw != "abc.def.ghi" {
		t.Fatalf("enter sent %#v", cmd())
	}
	s.Retry()
	if !s.Typing() || !strings.Contains(s.View(), "abc.def.ghi") {
		t.Fatalf("a retry keeps what was pasted:\n%s", s.View())
	}
	cmd = s.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if cmd == nil {
		t.Fatal("esc should leave the screen")
	}
	if _, ok := cmd().(CancelMsg); !ok {
		t.Fatalf("esc sent %#v", cmd())
	}
}

func TestScreenShowsTheToken(t *testing.T) {
	s := testScreen()
	if cmd := s.Submit("raw-token-value"); cmd == nil {
		t.Fatal("Submit should ask for the token to be inspected")
	}
	s.Show(Data{Tokens: []Token{{Label: "pasted", Tok: &flows.DecodedToken{Format: "opaque", Length: 15}}}})
	if s.Typing() || !s.Pasted() || !s.Live() {
		t.Fatal("a shown token leaves the prompt and keeps the clock ticking")
	}
	if v := s.View(); !strings.Contains(v, "opaque token") || strings.Contains(v, "token>") {
		t.Fatalf("the inspector should show the token:\n%s", v)
	}
}
