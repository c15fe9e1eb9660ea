package console

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	fcheck "authlab/flows/check"
	checkview "authlab/views/check"
)

// checkState is the Check screen and its run: the id of the check on
// screen (messages of another are stale) and how to cancel it.
type checkState struct {
	view   *checkview.Model
	seq    int
	cancel context.CancelFunc
}

// Check messages carry the check's id, as run messages do.
type (
	checkTargetMsg struct {
		profile, issuer string
		err             error
	}
	checkDoneMsg struct {
		id  int
		rep *fcheck.Report
		err error
	}
	checkExportedMsg struct {
		path string
		err  error
	}
)

// openCheck asks the backend for the profile's issuer, then shows the
// Check screen and checks it against FAPI 2.0.
func (m *Model) openCheck(name string) tea.Cmd {
	cb, ok := m.opts.Backend.(Checker)
	if !ok {
		return func() tea.Msg { return noteMsg{"this store cannot run checks", true} }
	}
	if name == "" {
		return nil
	}
	return func() tea.Msg {
		iss, err := cb.CheckTarget(name)
		return checkTargetMsg{profile: name, issuer: iss, err: err}
	}
}

func (m *Model) handleCheck(msg tea.Msg) tea.Cmd {
	v := m.chk.view
	switch x := msg.(type) {
	case checkTargetMsg:
		m.cancelCheck()
		m.show(scrCheck)
		if x.err != nil {
			v.Refuse(x.profile, x.err.Error())
			return nil
		}
		v.Open(x.profile, maskURL(x.issuer), v.Mode())
		return m.startCheck(x.profile, v.Mode())
	case checkDoneMsg:
		if x.id != v.ID() {
			return nil
		}
		m.chk.cancel = nil
		v.Finish(x.rep, x.err)
	case checkExportedMsg:
		if x.err != nil {
			m.note("check export: "+x.err.Error(), true)
			return nil
		}
		m.note("report written to "+x.path, false)
	case checkview.ActionMsg:
		return m.checkAction(x)
	}
	return nil
}

func (m *Model) checkAction(a checkview.ActionMsg) tea.Cmd {
	v := m.chk.view
	switch a.Action {
	case checkview.ActCancel:
		if a.RunID == v.ID() {
			m.cancelCheck()
		}
	case checkview.ActRun:
		return m.startCheck(a.Profile, a.Mode)
	case checkview.ActExport:
		cb, ok := m.opts.Backend.(Checker)
		rep := v.Report()
		if !ok || rep == nil || a.RunID != v.ID() {
			return nil
		}
		name := a.Profile
		return func() tea.Msg {
			p, err := cb.ExportCheck(name, rep)
			return checkExportedMsg{path: p, err: err}
		}
	}
	return nil
}

func (m *Model) cancelCheck() {
	if m.chk.cancel != nil {
		m.chk.cancel()
		m.chk.cancel = nil
		m.chk.view.SetNote("cancelling…")
	}
}

// startCheck checks profile's issuer against mode in a tea.Cmd.
func (m *Model) startCheck(profile, mode string) tea.Cmd {
	cb, ok := m.opts.Backend.(Checker)
	if !ok || profile == "" {
		return nil
	}
	m.cancelCheck()
	m.chk.seq++
	id := m.chk.seq
	ctx, cancel := context.WithCancel(m.life)
	m.chk.cancel = cancel
	m.chk.view.Begin(id, mode)
	return func() tea.Msg {
		rep, err := safeCheck(ctx, cb, profile, mode)
		return checkDoneMsg{id: id, rep: rep, err: err}
	}
}

func safeCheck(ctx context.Context, cb Checker, profile, mode string) (rep *fcheck.Report, err error) {
	defer func() {
		if r := recover(); r != nil {
			rep, err = nil, fmt.Errorf("internal error: the check panicked: %v (please report this)", r)
		}
	}()
	return cb.Check(ctx, profile, mode)
}
