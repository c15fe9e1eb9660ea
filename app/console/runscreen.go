package console

import (
	"bytes"
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/flows/har"
	"authlab/views/inspect"
	"authlab/views/run"
)

// What the run screen does: start a run, put its messages on the screen,
// and carry out the screen's actions (follow-ups, copies, device approval).

func (m *Model) begin(req RunRequest) tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	m.runSeq++
	id := m.runSeq
	ctx, cancel := context.WithCancel(m.life)
	m.cancel = cancel
	m.lastReq = req
	m.show(scrRun)
	label := runLabel(req, m.kinds[req.Profile])
	return tea.Batch(m.run.Begin(id, req.Profile, label, m.ctx.Now()), startRun(m.life, ctx, m.opts.Backend, id, req))
}

func (m *Model) handleRun(rm runMsg) tea.Cmd {
	next := waitRun(rm.ch)
	cur := m.run.ID()
	switch x := rm.inner.(type) {
	case runStepMsg:
		if x.id == cur {
			m.run.Step(x.ev)
		}
	case runExchangeMsg:
		if x.id == cur {
			m.run.Exchange(x.x)
		}
	case runAuthURLMsg:
		if x.id == cur {
			m.run.WaitBrowser(x.url)
		}
	case runDeviceMsg:
		if x.id == cur {
			qr := ""
			if m.opts.QR != nil && x.d.VerificationURIComplete != "" {
				qr = m.opts.QR(x.d.VerificationURIComplete)
			}
			m.run.WaitDevice(x.d, qr)
		}
	case runDoneMsg:
		if x.id != cur {
			return next
		}
		m.cancel = nil
		m.run.Finish(x.res, inspectData(x.res, m.ctx.Now()))
		m.prof.SetLastRun(m.run.Profile(), m.ctx.Now(), !x.res.Failed(), x.res.Reason())
		return tea.Batch(next, m.tick())
	}
	return next
}

// inspectData turns a result's decoded tokens into the inspector's tabs.
func inspectData(r *flows.Result, now time.Time) inspect.Data {
	var d inspect.Data
	if r == nil {
		return d
	}
	recv := now
	if r.Token != nil && !r.Token.ReceivedAt.IsZero() {
		recv = r.Token.ReceivedAt
	}
	add := func(label string, t *flows.DecodedToken) {
		if t != nil {
			d.Tokens = append(d.Tokens, inspect.Token{Label: label, Tok: t, Raw: rawToken(r, label), Received: recv})
		}
	}
	add("access", r.AccessToken)
	add("id", r.IDToken)
	add("refresh", r.RefreshToken)
	d.Skew = r.Skew
	return d
}

// rawToken is the token of a result by its inspector label, or "".
func rawToken(r *flows.Result, label string) string {
	if r == nil || r.Token == nil {
		return ""
	}
	switch label {
	case "access":
		return r.Token.AccessToken
	case "id":
		return r.Token.IDToken
	case "refresh":
		return r.Token.RefreshToken
	}
	return ""
}

func (m *Model) runAction(a run.ActionMsg) tea.Cmd {
	if a.RunID != m.run.ID() {
		return nil
	}
	res := m.run.Result()
	follow := func(flow string, useRefresh bool) tea.Cmd {
		req := RunRequest{Profile: m.run.Profile(), Flow: flow}
		if res != nil && res.Token != nil {
			req.Token = res.Token.AccessToken
			if useRefresh {
				req.Token = res.Token.RefreshToken
				if req.Token == "" {
					m.run.SetNote("this run got no refresh token (ask for offline_access?)")
					return nil
				}
			}
		}
		return m.begin(req)
	}
	switch a.Action {
	case run.ActCancel:
		if m.cancel != nil {
			m.cancel()
			m.run.SetNote("cancelling…")
		}
	case run.ActRerun:
		// a follow-up re-runs with the latest cached token: a rotated
		// refresh token must not be replayed (the IdP would revoke the family)
		return m.begin(RunRequest{Profile: m.lastReq.Profile, Flow: m.lastReq.Flow})
	case run.ActRefresh:
		return follow(flows.FlowRefresh, true)
	case run.ActIntrospect:
		return follow(flows.FlowIntrospect, false)
	case run.ActRevoke:
		return follow(flows.FlowRevoke, false)
	case run.ActUserinfo:
		return follow(flows.FlowUserinfo, false)
	case run.ActCallAPI:
		return follow(flows.FlowCall, false)
	case run.ActCopyToken:
		label := a.Token
		if label == "" {
			label = "access"
		}
		tok := rawToken(res, label)
		if tok == "" {
			m.run.SetNote("no " + label + " token to copy")
			return nil
		}
		// the screen masks it; the clipboard gets the real one, and says so
		return m.copy(tok, "real "+label+" token copied to the clipboard (shown masked)")
	case run.ActReveal:
		m.note(a.Note, false)
		return m.tick() // Live while revealed: the tick masks it again on time
	case run.ActHAR:
		return m.exportHAR(res)
	case run.ActCopyCurl, run.ActCopyCurlSec:
		if a.Exchange == nil {
			return nil
		}
		if a.Action == run.ActCopyCurl {
			return m.copy(Curl(*a.Exchange, nil), "curl copied (secrets masked; C copies with secrets)")
		}
		return m.copyCurlWithSecrets(*a.Exchange)
	case run.ActOpenURL:
		if m.opts.OpenURL == nil {
			return nil
		}
		u := m.run.AuthURL()
		open := m.opts.OpenURL
		return func() tea.Msg {
			if err := open(u); err != nil {
				return noteMsg{"cannot open a browser: " + err.Error(), true}
			}
			return noteMsg{"opened the browser again", false}
		}
	case run.ActCopyURL:
		return m.copy(m.run.AuthURL(), "authorization URL copied")
	case run.ActApproveDevice:
		ap, ok := m.opts.IdP.(deviceApprover)
		code := m.run.UserCode()
		if !ok || code == "" {
			return nil
		}
		return func() tea.Msg {
			if err := ap.ApproveDevice(code, "alice", true); err != nil {
				return noteMsg{"approve: " + err.Error(), true}
			}
			return noteMsg{"approved " + code + " as alice at the mock IdP; the next poll gets the token", false}
		}
	}
	return nil
}

// HARExporter is a backend that writes a run's exchanges as an HTTP
// Archive beside its store (the run screen's H).
type HARExporter interface {
	ExportHAR(profile string, res *flows.Result) (string, error)
}

// exportHAR writes the finished run's exchanges as HAR on a tea.Cmd; the
// status line names the file.
func (m *Model) exportHAR(res *flows.Result) tea.Cmd {
	hx, ok := m.opts.Backend.(HARExporter)
	switch {
	case res == nil:
		m.run.SetNote("no finished run to save as HAR")
		return nil
	case !ok:
		m.run.SetNote("this console cannot write files (no store)")
		return nil
	}
	name := m.run.Profile()
	return func() tea.Msg {
		path, err := hx.ExportHAR(name, res)
		if err != nil {
			return noteMsg{"HAR: " + err.Error(), true}
		}
		return noteMsg{"HAR written to " + path + " (tokens masked)", false}
	}
}

// ExportHAR writes res's exchanges as HAR 1.2 (flows/har, what --har
// writes) into the store's directory (or ExportDir), tokens masked: the
// console's archives are for sharing. The file is 0600 all the same.
func (b *StoreBackend) ExportHAR(name string, res *flows.Result) (string, error) {
	var buf bytes.Buffer
	if err := har.Write(&buf, res, har.Options{Creator: "authlab console"}); err != nil {
		return "", err
	}
	return writeExport(exportBase(b.exportDir(), "run", name, b.now()), ".har", buf.Bytes())
}

func (m *Model) copy(s, okNote string) tea.Cmd {
	if m.opts.Clipboard == nil {
		m.run.SetNote("clipboard not available")
		return nil
	}
	c := m.opts.Clipboard
	return func() tea.Msg {
		if err := c(s); err != nil {
			return noteMsg{"copy failed: " + err.Error(), true}
		}
		return noteMsg{okNote, false}
	}
}

func (m *Model) copyCurlWithSecrets(x flows.Exchange) tea.Cmd {
	b, ok := m.opts.Backend.(SecretSource)
	if !ok || m.opts.Clipboard == nil {
		m.run.SetNote("secrets are not available for copying here")
		return nil
	}
	name := m.run.Profile()
	c := m.opts.Clipboard
	return func() tea.Msg {
		sec, err := b.Secrets(name)
		if err != nil {
			return noteMsg{"curl with secrets: " + err.Error(), true}
		}
		if err := c(Curl(x, &sec)); err != nil {
			return noteMsg{"copy failed: " + err.Error(), true}
		}
		return noteMsg{"curl copied WITH SECRETS — treat the clipboard as sensitive", false}
	}
}
