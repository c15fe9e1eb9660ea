package inspect

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/ui"
)

// SubmitMsg asks the root model to decode, verify and check a pasted token;
// it answers with Show (or Retry when the token cannot be read).
type SubmitMsg struct{ Raw string }

// CancelMsg asks the root model to leave the inspector screen.
type CancelMsg struct{}

// CopyMsg asks the root model to copy the shown token, in clear (the
// screen keeps it masked).
type CopyMsg struct{ Raw, Label string }

// Screen is the token inspector screen: a paste prompt, then the inspector
// on the token the root model decoded.
type Screen struct {
	ctx    *ui.Context
	insp   *Model
	paste  ui.Input
	pasted bool // the inspector shows a token (else the prompt has focus)
	submit key.Binding
	back   key.Binding
	reveal key.Binding
	copy   key.Binding
}

// NewScreen builds the screen with an empty prompt.
func NewScreen(ctx *ui.Context) *Screen {
	pi := ui.NewInput("token", ui.TokenInputLimit)
	pi.Prompt = "token> "
	pi.Placeholder = "paste a JWT or opaque token, then enter"
	return &Screen{ctx: ctx, insp: New(ctx), paste: pi,
		submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "inspect")),
		back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		reveal: RevealKey(),
		copy:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy token")),
	}
}

// RevealKey is the key that shows the focused token in clear for RevealFor
// (the run screen uses it too).
func RevealKey() key.Binding {
	return key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "reveal"))
}

// RevealNote is what the status line says when a token is revealed.
func RevealNote() string {
	return fmt.Sprintf("the token is shown in clear for %d s (R masks it again)", int(RevealFor.Seconds()))
}

// Prompt shows an empty paste prompt with focus.
func (s *Screen) Prompt() tea.Cmd {
	s.pasted = false
	s.paste.SetValue("")
	return s.paste.Focus()
}

// Submit asks for raw to be inspected, as if it was pasted into the prompt
// (and cut at the same limit, saying so).
func (s *Screen) Submit(raw string) tea.Cmd {
	s.pasted = false
	if s.paste.SetValue(raw) {
		note := s.paste.LimitNote()
		return tea.Batch(s.send(), func() tea.Msg { return ui.NoteMsg{Text: note} })
	}
	return s.send()
}

func (s *Screen) send() tea.Cmd {
	raw := strings.TrimSpace(s.paste.Value())
	if raw == "" {
		return nil
	}
	s.paste.Blur()
	return func() tea.Msg { return SubmitMsg{Raw: raw} }
}

// Show puts the decoded token on screen.
func (s *Screen) Show(d Data) {
	s.insp.SetData(d)
	s.pasted = true
}

// Retry gives the prompt focus again, keeping what was pasted (the root
// model says why it could not be read).
func (s *Screen) Retry() tea.Cmd {
	s.pasted = false
	return s.paste.Focus()
}

// Pasted reports whether a token is on screen (else the prompt is).
func (s *Screen) Pasted() bool { return s.pasted }

// Inspector is the inspector the screen shows.
func (s *Screen) Inspector() *Model { return s.insp }

// Typing is part of ui.Typer: the prompt takes every key.
func (s *Screen) Typing() bool { return !s.pasted }

// Live is part of ui.Ticker: a token's expiry bar counts down.
func (s *Screen) Live() bool { return s.pasted && s.insp.HasTokens() }

// SetSize is part of ui.Component.
func (s *Screen) SetSize(w, h int) {
	s.paste.Width = max(10, w-10)
	s.insp.SetSize(w, h)
}

// Update is part of ui.Component.
func (s *Screen) Update(msg tea.Msg) tea.Cmd {
	if s.pasted {
		if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, s.reveal) {
			return s.toggleReveal()
		}
		if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, s.copy) {
			tok, ok := s.insp.Selected()
			if !ok || tok.Raw == "" {
				return func() tea.Msg { return ui.NoteMsg{Text: "no raw token to copy"} }
			}
			return func() tea.Msg { return CopyMsg{Raw: tok.Raw, Label: tok.Label} }
		}
		return s.insp.Update(msg)
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, s.back):
			return func() tea.Msg { return CancelMsg{} }
		case key.Matches(k, s.submit):
			return s.send()
		}
	}
	return s.paste.Update(msg)
}

// toggleReveal reveals the token on show, or masks it again; the status
// line says which (the inspector is Live, so the clock's ticks end it).
func (s *Screen) toggleReveal() tea.Cmd {
	note := "the token is masked again"
	switch {
	case s.insp.Revealed():
		s.insp.Hide()
	case s.insp.Reveal(s.ctx.Now().Add(RevealFor)):
		note = RevealNote()
	default:
		note = "no raw token to reveal"
	}
	return func() tea.Msg { return ui.NoteMsg{Text: note} }
}

// View is part of ui.Component.
func (s *Screen) View() string {
	if s.pasted {
		return s.insp.View()
	}
	t := s.ctx.Theme
	v := t.Title.Render("Inspect a token") + "\n" + t.Subtle.Render("Paste a token (JWT, JWE or opaque). It is decoded here and checked; the issuer's JWKS is fetched when its iss is reachable.") + "\n\n" + s.paste.View()
	if s.paste.Cut() {
		v += "\n" + t.Warn.Render(s.paste.LimitNote())
	}
	return v
}

// ShortHelp is part of ui.Component.
func (s *Screen) ShortHelp() []key.Binding {
	if !s.pasted {
		return []key.Binding{s.submit, s.back}
	}
	return append(s.insp.ShortHelp(), s.reveal, s.copy)
}

// FullHelp is part of ui.Component.
func (s *Screen) FullHelp() [][]key.Binding {
	if !s.pasted {
		return [][]key.Binding{{s.submit, s.back}}
	}
	return append(s.insp.FullHelp(), []key.Binding{s.reveal, s.copy})
}
