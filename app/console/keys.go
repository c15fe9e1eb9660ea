package console

import "github.com/charmbracelet/bubbles/key"

// globalKeys work on every screen (unless a text input has focus); keys of
// one screen are in that screen's keymap.
type globalKeys struct {
	Quit, ForceQuit, Help, Palette, Back key.Binding
	Profiles, IdP                        key.Binding
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Palette:   key.NewBinding(key.WithKeys("ctrl+p"), key.WithHelp("ctrl+p", "commands")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Profiles:  key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "profiles")),
		IdP:       key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mock IdP")),
	}
}
