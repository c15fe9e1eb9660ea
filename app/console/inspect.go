package console

import (
	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/inspect"
)

// inspectMsg is the backend's reading of a pasted token.
type inspectMsg struct {
	data inspect.Data
	err  error
}

// openInspector shows the inspector's paste prompt.
func (m *Model) openInspector() tea.Cmd {
	m.show(scrInspect)
	return m.insp.Prompt()
}

// inspectToken shows the inspector on raw (a token pasted on any screen).
func (m *Model) inspectToken(raw string) tea.Cmd {
	m.show(scrInspect)
	return m.insp.Submit(raw)
}

func (m *Model) handleInspect(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case inspect.SubmitMsg:
		b, ctx, raw := m.opts.Backend, m.life, msg.Raw
		return func() tea.Msg {
			d, err := b.Inspect(ctx, raw)
			if len(d.Tokens) == 1 && d.Tokens[0].Raw == "" {
				d.Tokens[0].Raw = raw // shown masked; R reveals it
			}
			return inspectMsg{data: d, err: err}
		}
	case inspectMsg:
		if msg.err != nil {
			m.note(msg.err.Error(), true)
			return m.insp.Retry()
		}
		m.insp.Show(msg.data)
		m.note("", false)
		return m.tick()
	case inspect.CancelMsg:
		m.show(scrProfiles)
	case inspect.CopyMsg:
		return m.copy(msg.Raw, "real "+msg.Label+" token copied to the clipboard (shown masked)")
	}
	return nil
}
