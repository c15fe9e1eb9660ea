package ui

import (
	"strconv"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// TokenInputLimit is what the token paste prompt takes: the token engine's
// own size limit (64 KiB).
const TokenInputLimit = 64 << 10

// NoteMsg asks the root model to show a line in the status bar.
type NoteMsg struct{ Text string }

// Input is a text input that takes at most Limit runes however they arrive
// (typed, pasted with or without bracketed-paste markers, in one message or
// thousands) and says once, in a NoteMsg, that the rest was dropped.
//
// The text input redoes work proportional to its whole value on every
// message; a 1 MB paste without markers arrives as thousands of rune
// messages. Input refuses runes beyond the limit before they reach it, in
// constant time, so a long burst costs what its first Limit runes cost.
type Input struct {
	textinput.Model
	Limit int
	name  string // for the note: "token", "search", ...
	full  bool   // the limit was reached; rune messages are dropped as they come
}

// NewInput is a focused-on-demand text input for name holding at most limit runes.
func NewInput(name string, limit int) Input {
	ti := textinput.New()
	ti.CharLimit = limit
	return Input{Model: ti, Limit: limit, name: name}
}

// Update is textinput's Update with the limit applied first.
func (in *Input) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok || k.Type != tea.KeyRunes || in.Limit <= 0 {
		if ok {
			in.full = false // an edit key may have made room
		}
		return in.update(msg)
	}
	if in.full {
		return nil
	}
	room := in.Limit - utf8.RuneCountInString(in.Model.Value())
	if len(k.Runes) <= room {
		return in.update(msg)
	}
	in.full = true
	note := in.noteCmd()
	if room <= 0 {
		return note
	}
	k.Runes = k.Runes[:room]
	return tea.Batch(in.update(k), note)
}

func (in *Input) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	in.Model, cmd = in.Model.Update(msg)
	return cmd
}

// SetValue sets the value, cut at the limit; Cut reports whether it was.
func (in *Input) SetValue(s string) (cut bool) {
	in.full = false
	if in.Limit > 0 && len(s) > in.Limit && utf8.RuneCountInString(s) > in.Limit {
		cut = true
		n := 0
		for i := range s {
			if n == in.Limit {
				s = s[:i]
				break
			}
			n++
		}
	}
	in.Model.SetValue(s)
	return cut
}

// Reset clears the value.
func (in *Input) Reset() {
	in.full = false
	in.Model.Reset()
}

// LimitNote is the status line when the limit cuts an input.
func (in *Input) LimitNote() string {
	name := in.name
	if name == "" {
		name = "input"
	}
	return name + " input takes at most " + sizeText(in.Limit) + " characters; the rest was dropped"
}

func (in *Input) noteCmd() tea.Cmd {
	text := in.LimitNote()
	return func() tea.Msg { return NoteMsg{Text: text} }
}

func sizeText(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return strconv.Itoa(n>>10) + " Ki"
	}
	return strconv.Itoa(n)
}
