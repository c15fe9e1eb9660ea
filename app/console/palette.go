package console

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	benchview "authlab/views/bench"
	"authlab/views/inspect"
	"authlab/views/profiles"
	"authlab/views/run"
	"authlab/views/ui"
)

// command is one palette entry: every action of the console is one.
type command struct {
	name string
	run  func() tea.Cmd
	when func() bool // nil: always available
}

type paletteMsg struct{ run func() tea.Cmd }

// palette is the ctrl+p command palette with fuzzy (subsequence) search.
type palette struct {
	ctx    *ui.Context
	open   bool
	input  ui.Input
	all    []command
	shown  []int
	cursor int
	w, h   int
	up     key.Binding
	down   key.Binding
	enter  key.Binding
	esc    key.Binding
}

func newPalette(ctx *ui.Context, cmds []command) *palette {
	ti := ui.NewInput("search", 256)
	ti.Prompt = "search: "
	ti.Placeholder = "type to search every action"
	return &palette{ctx: ctx, input: ti, all: cmds,
		up:    key.NewBinding(key.WithKeys("up", "ctrl+k"), key.WithHelp("↑", "up")),
		down:  key.NewBinding(key.WithKeys("down", "ctrl+j"), key.WithHelp("↓", "down")),
		enter: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		esc:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
	}
}

func (p *palette) SetSize(w, h int) { p.w, p.h = w, h }

func (p *palette) Open() {
	p.open = true
	p.input.SetValue("")
	p.input.Focus()
	p.cursor = 0
	p.filter()
}

func (p *palette) Close() {
	p.open = false
	p.input.Blur()
}

// fuzzyScore reports whether every rune of q appears in s in order, and a
// score that prefers matches at word starts and close together (lower is better).
func fuzzyScore(s, q string) (int, bool) {
	s, q = strings.ToLower(s), strings.ToLower(q)
	score, last := 0, -1
	si := 0
	for _, qr := range q {
		found := false
		for si < len(s) {
			r := rune(s[si])
			si++
			if r == qr {
				pos := si - 1
				if last >= 0 {
					score += pos - last - 1
				}
				if pos > 0 && s[pos-1] != ' ' && s[pos-1] != ':' {
					score++
				}
				last = pos
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return score, true
}

func (p *palette) filter() {
	q := strings.TrimSpace(p.input.Value())
	type scored struct{ i, s int }
	var hits []scored
	for i, c := range p.all {
		if c.when != nil && !c.when() {
			continue
		}
		if q == "" {
			hits = append(hits, scored{i, 0})
			continue
		}
		if s, ok := fuzzyScore(c.name, q); ok {
			hits = append(hits, scored{i, s})
		}
	}
	// stable insertion sort: few commands
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && hits[j].s < hits[j-1].s; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	p.shown = p.shown[:0]
	for _, h := range hits {
		p.shown = append(p.shown, h.i)
	}
	p.cursor = ui.Clamp(p.cursor, 0, max(0, len(p.shown)-1))
}

func (p *palette) Update(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, p.esc):
		p.Close()
		return nil
	case key.Matches(k, p.up):
		p.cursor = max(0, p.cursor-1)
		return nil
	case key.Matches(k, p.down):
		p.cursor = ui.Clamp(p.cursor+1, 0, max(0, len(p.shown)-1))
		return nil
	case key.Matches(k, p.enter):
		if len(p.shown) == 0 {
			return nil
		}
		c := p.all[p.shown[p.cursor]]
		return func() tea.Msg { return paletteMsg{run: c.run} }
	}
	old := p.input.Value()
	cmd := p.input.Update(k)
	if p.input.Value() != old {
		p.cursor = 0
		p.filter()
	}
	return cmd
}

func (p *palette) View() string {
	t := p.ctx.Theme
	out := []string{t.Title.Render("Commands"), p.input.View()}
	room := max(1, p.h-6)
	off := max(0, p.cursor-room+1)
	for i := off; i < len(p.shown) && i < off+room; i++ {
		name := p.all[p.shown[i]].name
		if i == p.cursor {
			out = append(out, t.Selected.Render("> "+name))
		} else {
			out = append(out, "  "+name)
		}
	}
	if len(p.shown) == 0 {
		out = append(out, t.Subtle.Render("  no action matches"))
	}
	return strings.Join(out, "\n")
}

func (p *palette) ShortHelp() []key.Binding { return []key.Binding{p.enter, p.up, p.down, p.esc} }

// keyPress is the key message of b's first key, a single character.
func keyPress(b key.Binding) tea.KeyMsg {
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(b.Keys()[0])}
}

// commands lists every action; the palette filters the ones that apply now.
func (m *Model) commands() []command {
	onProfile := func() bool { return m.screen == scrProfiles && m.prof.Selected() != "" }
	runDone := func() bool { return m.screen == scrRun && !m.run.Running() && m.run.Result() != nil }
	prof := func(a profiles.Action) func() tea.Cmd {
		return func() tea.Cmd { return m.profileAction(profiles.ActionMsg{Action: a, Name: m.prof.Selected()}) }
	}
	ract := func(a run.Action) func() tea.Cmd {
		return func() tea.Cmd { return m.runAction(run.ActionMsg{Action: a, RunID: m.run.ID()}) }
	}
	return []command{
		{name: "profile: run selected", run: prof(profiles.ActRun), when: onProfile},
		{name: "profile: new", run: prof(profiles.ActNew)},
		{name: "profile: edit selected", run: prof(profiles.ActEdit), when: onProfile},
		{name: "profile: duplicate selected", run: prof(profiles.ActDuplicate), when: onProfile},
		{name: "profile: export selected", run: prof(profiles.ActExport), when: onProfile},
		{name: "profile: import from a file", run: m.prof.StartImport, when: func() bool { return m.screen == scrProfiles }},
		{name: "profile: history of selected", run: prof(profiles.ActHistory), when: onProfile},
		{name: "profile: check IdP of selected (FAPI 2.0, BCP)", run: func() tea.Cmd { return m.openCheck(m.prof.Selected()) },
			when: func() bool { _, ok := m.opts.Backend.(Checker); return onProfile() && ok }},
		{name: "profile: bench selected (load test)", run: func() tea.Cmd { return m.openBench(m.prof.Selected()) },
			when: func() bool { return onProfile() && m.canBench() }},
		{name: "bench: start", run: func() tea.Cmd {
			return m.handleBench(benchview.ActionMsg{Action: benchview.ActStart, RunID: m.bench.ID()})
		},
			when: func() bool { return m.screen == scrBench && !m.bench.Running() && m.bench.Phase() != benchview.Refused }},
		{name: "bench: cancel", run: func() tea.Cmd { m.cancelBench(); return nil },
			when: func() bool { return m.screen == scrBench && m.bench.Running() }},
		{name: "go: profiles", run: func() tea.Cmd { m.show(scrProfiles); return nil }},
		{name: "go: mock IdP panel", run: m.openIdP, when: func() bool { return m.opts.IdP != nil }},
		{name: "token: inspect a pasted token", run: m.openInspector},
		{name: "run: re-run", run: ract(run.ActRerun), when: runDone},
		{name: "run: refresh token", run: ract(run.ActRefresh), when: runDone},
		{name: "run: introspect token", run: ract(run.ActIntrospect), when: runDone},
		{name: "run: revoke token", run: ract(run.ActRevoke), when: runDone},
		{name: "run: userinfo", run: ract(run.ActUserinfo), when: runDone},
		{name: "run: call API with token", run: ract(run.ActCallAPI), when: runDone},
		{name: "run: copy access token", run: ract(run.ActCopyToken), when: runDone},
		{name: "run: save HAR", run: ract(run.ActHAR), when: runDone},
		// the screen reveals what its focused tab shows: the palette presses its key
		{name: "run: reveal token", run: func() tea.Cmd { return m.run.Update(keyPress(inspect.RevealKey())) },
			when: func() bool { return runDone() && !m.run.Revealed() }},
		{name: "run: cancel", run: ract(run.ActCancel), when: func() bool { return m.screen == scrRun && m.run.Running() }},
		{name: "idp: reset faults", run: func() tea.Cmd { return m.idpAction(m.idpReset()) }, when: func() bool { return m.opts.IdP != nil }},
		{name: "idp: rotate signing key", run: func() tea.Cmd { return m.idpAction(m.idpRotate()) }, when: func() bool { return m.opts.IdP != nil }},
		{name: "help: show all keys", run: func() tea.Cmd { m.help.ShowAll = true; return nil }},
		{name: "quit", run: m.quitCmd},
	}
}
