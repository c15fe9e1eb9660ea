package profiles

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/ui"
)

// importPrompt is the list's one-line prompt for an export file; enter asks
// the root model to import it (ActImport with the path).
type importPrompt struct {
	on      bool
	input   ui.Input
	confirm key.Binding
	cancel  key.Binding
}

func newImportPrompt() importPrompt {
	in := ui.NewInput("file path", 4096) // PATH_MAX
	in.Prompt = "import from file: "
	in.Placeholder = "path to an export (authlab profile export)"
	return importPrompt{input: in,
		confirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "import")),
		cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// StartImport opens the import prompt, empty, with focus.
func (m *Model) StartImport() tea.Cmd {
	m.imp.on = true
	m.imp.input.SetValue("")
	return m.imp.input.Focus()
}

// Importing reports whether the import prompt is open.
func (m *Model) Importing() bool { return m.imp.on }

func (p *importPrompt) close() {
	p.on = false
	p.input.Blur()
}

func (p *importPrompt) update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, p.cancel):
			p.close()
			return nil
		case key.Matches(k, p.confirm):
			path := strings.TrimSpace(p.input.Value())
			p.close()
			if path == "" {
				return nil
			}
			return func() tea.Msg { return ActionMsg{Action: ActImport, Path: path} }
		}
	}
	return p.input.Update(msg)
}

func (p *importPrompt) help() []key.Binding { return []key.Binding{p.confirm, p.cancel} }
