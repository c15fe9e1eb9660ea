// Package history shows a profile's past runs, read-only and redacted: the
// store keeps claims and fingerprints, never bearer strings.
package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/views/inspect"
	"authlab/views/ui"
)

// Entry is one past run.
type Entry struct {
	Time      time.Time
	Flow      string
	OK        bool
	Error     string
	Checks    []flows.Check
	Exchanges []string // one line each: METHOD URL STATUS DURATION
	Tokens    []string // one line each: kind, format, fingerprint, sub/exp
	// Decoded are the run's tokens as history keeps them (header, claims,
	// fingerprint), for comparing two runs; empty when the backend has none.
	Decoded []Token
}

// Model is the history screen.
type Model struct {
	ctx     *ui.Context
	profile string
	items   []Entry
	cursor  int
	w, h    int
	up      key.Binding
	down    key.Binding
	cmp     compare // marking a run and the diff of two (compare.go)
}

// New builds an empty history screen.
func New(ctx *ui.Context) *Model {
	return &Model{ctx: ctx,
		up:   key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "newer")),
		down: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "older")),
		cmp:  newCompare(),
	}
}

// SetEntries shows a profile's runs.
func (m *Model) SetEntries(profile string, es []Entry) {
	m.profile, m.items, m.cursor = profile, es, 0
	m.cmp.reset()
}

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// Update moves the selection.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		if m.compareKey(k) {
			return nil
		}
		switch {
		case key.Matches(k, m.up):
			m.cursor = max(0, m.cursor-1)
		case key.Matches(k, m.down):
			m.cursor = ui.Clamp(m.cursor+1, 0, max(0, len(m.items)-1))
		}
	}
	return nil
}

// View lists runs on top and the selected run's details below.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	now := m.ctx.Now()
	if m.cmp.diff != nil {
		return m.diffView(w)
	}
	out := []string{t.Title.Render("History of " + m.profile + " (read-only, redacted)")}
	if len(m.items) == 0 {
		return strings.Join(append(out, t.Subtle.Render("no runs yet")), "\n")
	}
	listH := min(len(m.items), max(3, m.h/3))
	off := max(0, m.cursor-listH+1)
	for i := off; i < len(m.items) && i < off+listH; i++ {
		e := m.items[i]
		mark := t.Pass.Render("✓")
		if !e.OK {
			mark = t.Fail.Render("✗")
		}
		if i == m.cmp.marked {
			mark = t.Accent.Render("A") + mark
		} else {
			mark = " " + mark
		}
		line := fmt.Sprintf("%s %s %-5s %-18s %s", mark, stamp(e), ui.Age(now, e.Time), e.Flow, e.Error)
		line = ui.Truncate(line, w-2)
		if i == m.cursor {
			line = t.Selected.Render("> " + line)
		} else {
			line = "  " + line
		}
		out = append(out, line)
	}
	e := m.items[m.cursor]
	out = append(out, m.markLine(w))
	if len(e.Checks) > 0 {
		out = append(out, inspect.CheckLines(t, e.Checks, w)...)
	}
	for _, x := range e.Exchanges {
		out = append(out, "  "+ui.Truncate(x, w-2))
	}
	for _, tk := range e.Tokens {
		out = append(out, "  "+ui.Truncate(tk, w-2))
	}
	if len(out) > m.h && m.h > 0 {
		out = out[:m.h]
	}
	return strings.Join(out, "\n")
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	if m.cmp.diff != nil {
		return m.cmp.diffHelp()
	}
	return []key.Binding{m.up, m.down, m.cmp.mark, m.cmp.compare}
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.up, m.down}, {m.cmp.mark, m.cmp.compare, m.cmp.next, m.cmp.allKey, m.cmp.back}}
}
