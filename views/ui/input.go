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
// constant time, and hands the runes of a burst (long rune messages) over
// in batches of burstBatch, so a burst costs a few passes over the value
// per batch rather than per message.
type Input struct {
	textinput.Model
	Limit   int
	name    string // for the note: "token", "search", ...
	n       int    // runes in Model's value
	pending []rune // runes of a burst not yet handed to Model
	full    bool   // the limit was reached; rune messages are dropped as they come
	cut     bool   // something was dropped since the value was last set
}

// A rune message this long is part of a paste, not typing; the runes of
// such messages are gathered up to burstBatch before the text input sees
// them (any other message, or a short one, hands them over first).
const (
	burstRunes = 64
	burstBatch = 4096
)

// Cut reports whether the limit dropped input since the value was last set.
func (in *Input) Cut() bool { return in.cut }

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
		return tea.Batch(in.flush(), in.update(msg))
	}
	if in.full {
		return nil // constant time: the burst goes on, the input is full
	}
	runes, note := k.Runes, tea.Cmd(nil)
	if room := in.Limit - in.n - len(in.pending); len(runes) > room {
		in.full, in.cut = true, true
		note = in.noteCmd()
		runes = runes[:max(room, 0)]
		in.pending = append(in.pending, runes...)
		return tea.Batch(in.flush(), note)
	}
	if len(runes) >= burstRunes {
		in.pending = append(in.pending, runes...)
		if len(in.pending) < burstBatch {
			return nil
		}
		return in.flush()
	}
	return tea.Batch(in.flush(), in.update(msg))
}

// flush hands the gathered runes of a burst to the text input at once.
func (in *Input) flush() tea.Cmd {
	if len(in.pending) == 0 {
		return nil
	}
	k := tea.KeyMsg{Type: tea.KeyRunes, Runes: in.pending}
	in.pending = nil
	return in.update(k)
}

func (in *Input) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	in.Model, cmd = in.Model.Update(msg)
	in.n = utf8.RuneCountInString(in.Model.Value())
	return cmd
}

// Value is the text, including runes of a burst not shown yet.
func (in *Input) Value() string {
	in.flush()
	return in.Model.Value()
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
	in.pending = nil
	in.Model.SetValue(s)
	in.n = utf8.RuneCountInString(in.Model.Value())
	in.cut = cut
	return cut
}

// Reset clears the value.
func (in *Input) Reset() {
	in.full, in.cut, in.pending, in.n = false, false, nil, 0
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
