package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	faudit "authlab/flows/audit"
	"authlab/flows/oauth"
	auditview "authlab/views/audit"
)

// auditState is the audit screen and its run: the id of the audit on
// screen (messages of another are stale) and how to cancel it.
type auditState struct {
	view   *auditview.Model
	seq    int
	cancel context.CancelFunc
}

// Audit messages carry the audit's id, as run messages do.
type (
	auditTargetMsg struct {
		profile, url string
		err          error
	}
	auditStepMsg struct {
		id           int
		name, detail string
	}
	auditExchangeMsg struct{ id int }
	auditCaseMsg     struct {
		id int
		c  faudit.Case
	}
	auditLeewayMsg struct {
		id int
		l  faudit.Leeway
	}
	auditDoneMsg struct {
		id  int
		rep *faudit.Report
	}
	auditExportedMsg struct {
		id           int
		jsonPath, md string
		err          error
	}
	// auditMsg wraps every message of a running audit with the channel
	// to read the next one from.
	auditMsg struct {
		ch    <-chan tea.Msg
		inner tea.Msg
	}
)

// auditEvents turns the audit's observer calls into messages; a send
// never outlives the audit's context.
type auditEvents struct {
	id  int
	ctx context.Context
	ch  chan<- tea.Msg
}

func (e auditEvents) send(m tea.Msg) {
	select {
	case e.ch <- m:
	case <-e.ctx.Done():
	}
}

func (e auditEvents) Step(ev flows.StepEvent) {
	// only what the user must act on (a sign-in URL, a device code) and
	// step starts: the screen shows the latest
	if !ev.Done || ev.AsksUser() {
		detail := ""
		if ev.AsksUser() {
			detail = ev.Detail
		}
		e.send(auditStepMsg{e.id, ev.Name, detail})
	}
}
func (e auditEvents) Exchange(flows.Exchange) { e.send(auditExchangeMsg{e.id}) }
func (e auditEvents) Case(c faudit.Case)      { e.send(auditCaseMsg{e.id, c}) }
func (e auditEvents) Leeway(l faudit.Leeway)  { e.send(auditLeewayMsg{e.id, l}) }

// openAudit asks the backend for the profile's call URL and shows the
// audit screen's URL prompt with it.
func (m *Model) openAudit(name string) tea.Cmd {
	ab, ok := m.opts.Backend.(Auditor)
	if !ok {
		return func() tea.Msg { return noteMsg{"this store cannot run audits", true} }
	}
	if name == "" {
		return nil
	}
	return func() tea.Msg {
		u, err := ab.AuditTarget(name)
		return auditTargetMsg{profile: name, url: u, err: err}
	}
}

func (m *Model) handleAudit(msg tea.Msg) tea.Cmd {
	v := m.aud.view
	switch x := msg.(type) {
	case auditTargetMsg:
		m.cancelAudit()
		m.show(scrAudit)
		if x.err != nil {
			v.Refuse(x.profile, x.err.Error())
			return nil
		}
		return v.Open(x.profile, x.url)
	case auditMsg:
		cmd := m.handleAudit(x.inner)
		if _, done := x.inner.(auditDoneMsg); done {
			return cmd
		}
		return tea.Batch(cmd, waitAudit(x.ch))
	case auditStepMsg:
		if x.id == v.ID() {
			v.Step(x.name, x.detail)
		}
	case auditExchangeMsg:
		if x.id == v.ID() {
			v.Exchange()
		}
	case auditCaseMsg:
		if x.id == v.ID() {
			v.Case(x.c)
		}
	case auditLeewayMsg:
		if x.id == v.ID() {
			v.Leeway(x.l)
		}
	case auditDoneMsg:
		if x.id != v.ID() {
			return nil
		}
		m.aud.cancel = nil
		v.Finish(x.rep)
	case auditExportedMsg:
		if x.err != nil {
			m.note("audit export: "+x.err.Error(), true)
			return nil
		}
		m.note("report written to "+x.jsonPath+" and "+x.md, false)
	case auditview.ActionMsg:
		return m.auditAction(x)
	}
	return nil
}

func (m *Model) auditAction(a auditview.ActionMsg) tea.Cmd {
	v := m.aud.view
	switch a.Action {
	case auditview.ActClose:
		m.cancelAudit()
		m.show(scrProfiles)
	case auditview.ActCancel:
		if a.RunID == v.ID() {
			m.cancelAudit()
		}
	case auditview.ActStart:
		return m.startAudit(a.Profile, a.URL)
	case auditview.ActExport:
		ab, ok := m.opts.Backend.(Auditor)
		rep := v.Report()
		if !ok || rep == nil || a.RunID != v.ID() {
			return nil
		}
		id, name := v.ID(), a.Profile
		return func() tea.Msg {
			j, md, err := ab.ExportAudit(name, rep)
			return auditExportedMsg{id: id, jsonPath: j, md: md, err: err}
		}
	}
	return nil
}

func (m *Model) cancelAudit() {
	if m.aud.cancel != nil {
		m.aud.cancel()
		m.aud.cancel = nil
		m.aud.view.SetNote("cancelling…")
	}
}

// startAudit runs the audit of profile against target on its own
// goroutine; its observer's calls come back as messages with its id.
func (m *Model) startAudit(profile, target string) tea.Cmd {
	ab, ok := m.opts.Backend.(Auditor)
	if !ok {
		return nil
	}
	m.cancelAudit()
	m.aud.seq++
	id := m.aud.seq
	ctx, cancel := context.WithCancel(m.life)
	m.aud.cancel = cancel
	m.aud.view.Begin(id, target)
	ch := make(chan tea.Msg, 64)
	ev := auditEvents{id: id, ctx: ctx, ch: ch}
	life := m.life
	go func() {
		defer close(ch)
		rep := safeAudit(ctx, ab, profile, target, ev)
		// delivered even after a cancel, so the screen shows what ran
		select {
		case ch <- auditDoneMsg{id: id, rep: rep}:
		case <-life.Done():
		}
	}()
	return waitAudit(ch)
}

func safeAudit(ctx context.Context, ab Auditor, profile, target string, ev auditEvents) (rep *faudit.Report) {
	defer func() {
		if r := recover(); r != nil {
			rep = &faudit.Report{Target: target, Err: fmt.Errorf("internal error: the audit panicked: %v (please report this)", r)}
		}
	}()
	rep = ab.Audit(ctx, profile, target, ev)
	if rep == nil {
		rep = &faudit.Report{Target: target, Err: fmt.Errorf("the audit returned no report")}
	}
	return rep
}

func waitAudit(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return auditMsg{ch: ch, inner: msg}
	}
}

// ---- StoreBackend ----

// auditRequest is the request of the profile's flow that gets the audit's
// valid token, as `authlab audit PROFILE` builds it.
func (b *StoreBackend) auditRequest(name string) (flows.Request, error) {
	p, err := b.trustedProfile(name)
	if err != nil {
		return flows.Request{}, err
	}
	if !slices.Contains(flows.OAuthFlows(), string(p.Kind)) {
		return flows.Request{}, fmt.Errorf("%s is a %s profile: the audit gets its valid token from an OAuth flow", name, p.Kind)
	}
	return b.flowRequest(p, "")
}

// AuditTarget is the URL the audit prompt starts with: the profile's call
// URL, else the mock IdP's demo resource for a loopback issuer.
func (b *StoreBackend) AuditTarget(name string) (string, error) {
	req, err := b.auditRequest(name)
	if err != nil {
		return "", err
	}
	if req.CallURL != "" {
		return req.CallURL, nil
	}
	if u, err := url.Parse(req.Issuer); err == nil && faudit.IsLoopbackHost(u.Hostname()) {
		return strings.TrimRight(req.Issuer, "/") + "/api/hello", nil
	}
	return "", nil
}

// Audit is `authlab audit PROFILE --call target`: the profile's flow gets
// the valid token (keeping its DPoP key), then audit.RunFlow. Nothing is
// written to history.
func (b *StoreBackend) Audit(ctx context.Context, name, target string, obs flows.Observer) *faudit.Report {
	req, err := b.auditRequest(name)
	if err != nil {
		return &faudit.Report{Target: target, Cases: []faudit.Case{}, Err: err}
	}
	open := b.OpenURL
	src := faudit.Source{Request: req, Options: oauth.Options{Transport: b.Transport, OpenURL: func(_ context.Context, u string) error {
		if open != nil {
			return open(u)
		}
		return nil
	}}}
	return faudit.RunFlow(ctx, faudit.Config{URL: target, Timeout: req.Timeout, Transport: b.Transport, Now: b.Now}, src, obs)
}

// ExportAudit writes the report as JSON (the `authlab audit --json`
// contract) and Markdown, beside the store (or in ExportDir).
func (b *StoreBackend) ExportAudit(name string, rep *faudit.Report) (string, string, error) {
	return writeAuditReport(b.exportDir(), name, b.now(), rep)
}

// writeAuditReport writes audit-NAME-TIME.json and .md into dir.
func writeAuditReport(dir, name string, at time.Time, rep *faudit.Report) (string, string, error) {
	base := exportBase(dir, "audit", name, at)
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", "", err
	}
	j, err := writeExport(base, ".json", append(data, '\n'))
	if err != nil {
		return "", "", err
	}
	md, err := writeExport(base, ".md", []byte(auditview.Markdown(rep)))
	if err != nil {
		return "", "", err
	}
	return j, md, nil
}
