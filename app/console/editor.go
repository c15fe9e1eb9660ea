package console

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/editor"
)

type (
	// formMsg is a profile read for the editor.
	formMsg struct {
		form     Form
		original string
		err      error
	}
	savedMsg struct{ name, note string }
)

func (m *Model) handleEditor(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case formMsg:
		if msg.err != nil {
			m.note(msg.err.Error(), true)
			return nil
		}
		m.edit.Load(toEditor(msg.form), msg.original)
		m.show(scrEditor)
	case editor.SaveMsg:
		return m.saveForm(msg)
	case editor.DiscoverMsg:
		return m.discover(msg)
	case editor.CancelMsg:
		m.show(scrProfiles)
	case savedMsg:
		m.show(scrProfiles)
		return func() tea.Msg { return reloadMsg{selectName: msg.name, note: msg.note} }
	}
	return nil
}

// editProfile reads a profile, then opens the editor on it.
func (m *Model) editProfile(name string) tea.Cmd {
	b := m.opts.Backend
	return func() tea.Msg {
		f, err := b.Form(name)
		return formMsg{form: f, original: name, err: err}
	}
}

// newProfile opens the editor on an empty client credentials profile.
func (m *Model) newProfile() tea.Cmd {
	m.edit.Load(toEditor(Form{Kind: "client-credentials", Fields: map[string]string{}}), "")
	m.show(scrEditor)
	return nil
}

func (m *Model) saveForm(s editor.SaveMsg) tea.Cmd {
	b := m.opts.Backend
	f := Form{Name: s.Form.Name, Kind: s.Form.Kind, Fields: s.Form.Fields}
	return func() tea.Msg {
		if err := b.SaveForm(f, s.Original); err != nil {
			return editor.ErrorMsg{Err: err}
		}
		note := "saved " + f.Name
		if s.Original != "" && s.Original != f.Name {
			note += " (renamed from " + s.Original + "; its history and cached token moved with it)"
		}
		return savedMsg{name: f.Name, note: note}
	}
}

func (m *Model) discover(d editor.DiscoverMsg) tea.Cmd {
	b := m.opts.Backend
	ctx := m.life
	f := Form{Name: d.Form.Name, Kind: d.Form.Kind, Fields: d.Form.Fields}
	return func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		nf, err := b.Discover(cctx, f)
		if err != nil {
			return editor.ErrorMsg{Err: fmt.Errorf("discovery: %w", err)}
		}
		return editor.FilledMsg{Fields: nf.Fields}
	}
}

func toEditor(f Form) editor.Form {
	return editor.Form{Name: f.Name, Kind: f.Kind, Fields: f.Fields}
}
