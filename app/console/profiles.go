package console

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/store"
	"authlab/views/history"
	"authlab/views/profiles"
)

// The profile list's messages: the store's answers and the list's actions.
type (
	profilesMsg struct {
		rows []profiles.Row
		err  error
	}
	lastRunsMsg struct {
		runs map[string]profiles.LastRun
		err  error
	}
	historyMsg struct {
		name    string
		entries []history.Entry
		err     error
	}
	// reloadMsg asks for the profile list to be read again (after a change).
	// note is shown once the list is reloaded, so it never announces a
	// change the list does not show yet.
	reloadMsg struct{ selectName, note string }
	selectMsg struct{ name, note string }
	// detailMsg is the detail pane of one profile, as the backend read it.
	detailMsg struct {
		name string
		d    profiles.Detail
		err  error
	}
)

// paneState keeps the detail pane's reads to one at a time: a selection
// that moved during a read is read once that one answers.
type paneState struct {
	name     string // the profile last read (or being read)
	inflight bool
	stale    bool   // read again even if the selection did not move
	seen     screen // the screen at the last look, to re-read on return
}

// followPane reads the selected profile's detail when the selection moved,
// the list was reloaded, or the profile list is shown again (a run or an
// edit may have changed what the pane says).
func (m *Model) followPane() tea.Cmd {
	p := &m.pane
	if m.screen == scrProfiles && p.seen != scrProfiles {
		p.stale = true
	}
	p.seen = m.screen
	d, ok := m.opts.Backend.(Describer)
	if !ok || m.screen != scrProfiles {
		return nil
	}
	if !m.prof.PaneOn() {
		p.stale = true
		return nil
	}
	sel := m.prof.Selected()
	if p.inflight || sel == p.name && !p.stale {
		return nil
	}
	p.name, p.stale = sel, false
	if sel == "" {
		m.prof.SetDetail(nil)
		return nil
	}
	p.inflight = true
	return func() tea.Msg {
		det, err := d.Describe(sel)
		return detailMsg{name: sel, d: det, err: err}
	}
}

// handleDetail shows a read detail, and keeps the clock ticking while the
// pane counts a token down.
func (m *Model) handleDetail(msg detailMsg) tea.Cmd {
	m.pane.inflight = false
	d := msg.d
	if msg.err != nil {
		d = profiles.Detail{Name: msg.name, Kind: m.kinds[msg.name], Err: msg.err.Error()}
	}
	d.Name = msg.name
	m.prof.SetDetail(&d)
	if m.screen == scrProfiles && m.prof.Live() {
		return m.tick()
	}
	return nil
}

func (m *Model) loadProfiles() tea.Cmd {
	b := m.opts.Backend
	return func() tea.Msg {
		rows, err := b.Profiles()
		return profilesMsg{rows: rows, err: err}
	}
}

func (m *Model) handleProfiles(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case profilesMsg:
		m.prof.SetLoaded()
		if msg.err != nil {
			m.note("cannot read profiles: "+msg.err.Error(), true)
			return nil
		}
		m.kinds = make(map[string]string, len(msg.rows))
		for _, r := range msg.rows {
			m.kinds[r.Name] = r.Kind
		}
		m.prof.SetRows(msg.rows)
		m.pane.stale = true
		b := m.opts.Backend
		return func() tea.Msg {
			runs, err := b.LastRuns()
			return lastRunsMsg{runs: runs, err: err}
		}
	case lastRunsMsg:
		if msg.err != nil {
			m.note("cannot read run history: "+msg.err.Error(), true)
			return nil
		}
		m.prof.SetLastRuns(msg.runs)
		m.pane.stale = true
	case detailMsg:
		return m.handleDetail(msg)
	case reloadMsg:
		return tea.Sequence(m.loadProfiles(), func() tea.Msg { return selectMsg{msg.selectName, msg.note} })
	case selectMsg:
		if msg.name != "" {
			m.prof.SelectName(msg.name)
		}
		if msg.note != "" {
			m.note(msg.note, false)
		}
	case historyMsg:
		if msg.err != nil {
			m.note("history: "+msg.err.Error(), true)
			return nil
		}
		m.hist.SetEntries(msg.name, msg.entries)
		m.show(scrHistory)
	case trustMsg:
		m.handleTrust(msg)
	case profiles.ActionMsg:
		return m.profileAction(msg)
	}
	return nil
}

// profileAction does what the list asked for: store work as a command whose
// answer is a note or a reload, or another screen.
func (m *Model) profileAction(a profiles.ActionMsg) tea.Cmd {
	b := m.opts.Backend
	name := a.Name
	switch a.Action {
	case profiles.ActRun:
		return m.begin(RunRequest{Profile: name})
	case profiles.ActDelete:
		return func() tea.Msg {
			if err := b.Delete(name); err != nil {
				return noteMsg{"delete " + name + ": " + err.Error(), true}
			}
			return reloadMsg{note: "deleted " + name}
		}
	case profiles.ActDuplicate:
		return func() tea.Msg {
			n, err := b.Duplicate(name)
			if err != nil {
				return noteMsg{"duplicate " + name + ": " + err.Error(), true}
			}
			return reloadMsg{selectName: n, note: "duplicated " + name + " as " + n}
		}
	case profiles.ActExport:
		return func() tea.Msg {
			where, err := b.Export(name)
			if err != nil {
				return noteMsg{"export " + name + ": " + err.Error(), true}
			}
			return noteMsg{"exported " + name + " to " + where + " (secrets as references only)", false}
		}
	case profiles.ActImport:
		path := a.Path
		if path == "" {
			return nil
		}
		return func() tea.Msg {
			n, err := b.Import(path)
			if err != nil {
				return noteMsg{"import " + path + ": " + err.Error(), true}
			}
			return reloadMsg{note: fmt.Sprintf("imported %d profiles from %s", n, path)}
		}
	case profiles.ActHistory:
		th, withTokens := b.(TokenHistorian)
		return func() tea.Msg {
			// with the runs' decoded tokens, two runs can be compared
			read := b.History
			if withTokens {
				read = th.HistoryTokens
			}
			es, err := read(name)
			return historyMsg{name: name, entries: es, err: err}
		}
	case profiles.ActEdit:
		return m.editProfile(name)
	case profiles.ActNew:
		return m.newProfile()
	case profiles.ActInspect:
		return m.openInspector()
	case profiles.ActBench:
		return m.openBench(name)
	case profiles.ActAudit:
		return m.openAudit(name)
	case profiles.ActCheck:
		return m.openCheck(name)
	case profiles.ActTrust, profiles.ActConfirmTrust:
		return m.trustAction(a)
	}
	return nil
}

// trustMsg carries the secrets of a profile that await confirmation.
type trustMsg struct {
	name  string
	items []store.TrustItem
	err   error
}

// trustAction asks the backend what would be confirmed (ActTrust), or
// confirms exactly what was shown (ActConfirmTrust).
func (m *Model) trustAction(a profiles.ActionMsg) tea.Cmd {
	t, ok := m.opts.Backend.(Truster)
	if !ok {
		return func() tea.Msg { return noteMsg{"this store cannot confirm secrets", true} }
	}
	name := a.Name
	if a.Action == profiles.ActTrust {
		return func() tea.Msg {
			items, err := t.Trust(name)
			return trustMsg{name: name, items: items, err: err}
		}
	}
	shown := m.trustShown
	m.trustShown = nil
	return func() tea.Msg {
		if err := t.ConfirmTrust(name, shown); err != nil {
			return noteMsg{"confirm " + name + ": " + err.Error(), true}
		}
		return reloadMsg{selectName: name, note: fmt.Sprintf("confirmed %d secret(s) of %s for the hosts shown", len(shown), name)}
	}
}

// handleTrust shows what awaits confirmation, or says there is nothing.
func (m *Model) handleTrust(tm trustMsg) {
	if tm.err != nil {
		m.note("trust "+tm.name+": "+tm.err.Error(), true)
		return
	}
	var pending []string
	for _, it := range tm.items {
		if !it.Confirmed {
			pending = append(pending, it.String())
		}
	}
	if len(pending) == 0 {
		m.note(tm.name+": every secret is confirmed for the hosts it goes to", false)
		return
	}
	m.trustShown = tm.items
	m.prof.AskTrust(tm.name, strings.Join(pending, "; "))
}
