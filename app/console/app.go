// Package console is the console's root bubbletea model: the shared context
// (size, theme, clock, keymaps), navigation between screens, and every piece
// of I/O as a tea.Cmd (store, flows, mock IdP admin). Screens live in views/.
package console

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	benchview "authlab/views/bench"
	"authlab/views/editor"
	"authlab/views/history"
	"authlab/views/idp"
	"authlab/views/inspect"
	"authlab/views/profiles"
	"authlab/views/run"
	"authlab/views/ui"
)

// Options configure the console.
type Options struct {
	Backend Backend
	Theme   *ui.Theme
	// Now is the clock for ages, expiry bars and skew; time.Now when nil.
	Now func() time.Time
	// IdP is the embedded mock IdP (authlab demo), or nil.
	IdP IdP
	// Clipboard copies text (OSC 52 in the terminal); nil disables copying.
	Clipboard func(string) error
	// OpenURL opens a URL in the browser again; nil disables it.
	OpenURL func(string) error
	// QR renders a URL as a terminal QR code; nil shows none.
	QR func(string) string
	// Tick is the live refresh interval of expiry bars (1 s when zero).
	Tick time.Duration
	// Title shows in the top bar ("authlab", "authlab demo").
	Title string
	// Bench bounds the console's benches (10 s, concurrency 8 when zero).
	Bench benchview.Settings
}

type screen int

const (
	scrProfiles screen = iota
	scrRun
	scrInspect
	scrIdP
	scrHistory
	scrEditor
	scrBench
)

func (s screen) String() string {
	return [...]string{"Profiles", "Run", "Token inspector", "Mock IdP", "History", "Editor", "Bench"}[s]
}

// Model is the root model.
type Model struct {
	opts   Options
	ctx    *ui.Context
	keys   globalKeys
	help   help.Model
	screen screen
	prev   screen

	prof   *profiles.Model
	run    *run.Model
	insp   *inspect.Model
	hist   *history.Model
	idp    *idp.Model
	edit   *editor.Model
	bench  *benchview.Model
	paste  textinput.Model
	pasted bool // the inspector shows a pasted token (else the paste prompt)
	// importing: the profile list's one-line prompt for an export file
	importing bool
	importIn  textinput.Model

	palette *palette

	life     context.Context
	quit     context.CancelFunc
	runSeq   int
	cancel   context.CancelFunc // of the current run
	lastReq  RunRequest
	kinds    map[string]string // profile name → kind, for run labels
	tickGen  int
	idpSub   func()
	idpGen   int
	idpSeq   int
	idpOrder *idpOrder
	// the bench screen's run: its id and how to cancel it
	benchSeq    int
	benchCancel context.CancelFunc

	status    string
	statusErr bool
	loaded    bool
	fatal     error
}

// New builds the root model. Call Close (or quit) to stop background work.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Title == "" {
		o.Title = "authlab"
	}
	ctx := &ui.Context{Theme: o.Theme, Now: o.Now}
	life, quit := context.WithCancel(context.Background())
	pi := textinput.New()
	pi.Prompt = "token> "
	pi.Placeholder = "paste a JWT or opaque token, then enter"
	pi.CharLimit = 64 << 10
	h := help.New()
	h.Styles.ShortKey = o.Theme.Key
	h.Styles.FullKey = o.Theme.Key
	h.Styles.ShortDesc = o.Theme.Subtle
	h.Styles.FullDesc = o.Theme.Subtle
	h.Styles.ShortSeparator = o.Theme.Subtle
	h.Styles.FullSeparator = o.Theme.Subtle
	h.Styles.Ellipsis = o.Theme.Subtle
	m := &Model{
		opts: o, ctx: ctx, keys: defaultGlobalKeys(), help: h,
		prof: profiles.New(ctx), run: run.New(ctx), insp: inspect.New(ctx),
		hist: history.New(ctx), idp: idp.New(ctx), edit: editor.New(ctx), bench: benchview.New(ctx),
		paste: pi, life: life, quit: quit, kinds: map[string]string{}, idpOrder: &idpOrder{},
	}
	m.importIn = textinput.New()
	m.importIn.Prompt = "import from file: "
	m.importIn.Placeholder = "path to an export (authlab profile export)"
	_, m.run.CanApprove = o.IdP.(deviceApprover)
	m.palette = newPalette(ctx, m.commands())
	// until the terminal reports its size (never, when it is not a terminal)
	m.setSize(80, 24)
	return m
}

// Close stops runs and the IdP subscription (the program's end calls it too).
func (m *Model) Close() {
	m.quit()
	if m.idpSub != nil {
		m.idpSub()
		m.idpSub = nil
	}
}

// Err is the error that ended the program, if any.
func (m *Model) Err() error { return m.fatal }

// Context is the shared context (tests read the size).
func (m *Model) Context() *ui.Context { return m.ctx }

type (
	profilesMsg struct {
		rows []profiles.Row
		err  error
	}
	lastRunsMsg struct {
		runs map[string]profiles.LastRun
		err  error
	}
	noteMsg struct {
		text string
		err  bool
	}
	historyMsg struct {
		name    string
		entries []history.Entry
		err     error
	}
	inspectMsg struct {
		data inspect.Data
		err  error
	}
	formMsg struct {
		form     Form
		original string
		err      error
	}
	tickMsg struct{ gen int }
	// reloadMsg asks for the profile list to be read again (after a change).
	// note is shown once the list is reloaded, so it never announces a
	// change the list does not show yet.
	reloadMsg struct{ selectName, note string }
)

// Init loads the profiles and, with an IdP, subscribes to its events.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loadProfiles()}
	if m.opts.IdP != nil {
		cmds = append(cmds, m.subscribeIdP())
	}
	return tea.Batch(cmds...)
}

func (m *Model) loadProfiles() tea.Cmd {
	b := m.opts.Backend
	return func() tea.Msg {
		rows, err := b.Profiles()
		return profilesMsg{rows: rows, err: err}
	}
}

func (m *Model) note(s string, isErr bool) {
	m.status, m.statusErr = s, isErr
}

func (m *Model) tick() tea.Cmd {
	m.tickGen++
	gen := m.tickGen
	return tea.Tick(m.opts.Tick, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// needsTick reports whether the screen shows something that changes with
// the clock (an expiry bar), so ticks stop when nothing needs them.
func (m *Model) needsTick() bool {
	switch m.screen {
	case scrRun:
		return m.run.Inspector().HasTokens()
	case scrInspect:
		return m.pasted && m.insp.HasTokens()
	}
	return false
}

func (m *Model) setSize(w, h int) {
	m.ctx.Width, m.ctx.Height = w, h
	m.help.Width = w
	bh := m.bodyHeight()
	for _, c := range []ui.Component{m.prof, m.run, m.insp, m.hist, m.idp, m.edit, m.bench} {
		c.SetSize(w, bh)
	}
	m.paste.Width = max(10, w-10)
	m.importIn.Width = max(10, w-22)
	m.palette.SetSize(w, h)
}

func (m *Model) bodyHeight() int {
	// top bar, status line, help footer (full help is an overlay)
	return max(3, m.ctx.Height-3)
}

func (m *Model) textFocused() bool {
	switch {
	case m.palette.open:
		return true
	case m.screen == scrProfiles:
		return m.prof.Filtering() || m.importing
	case m.screen == scrInspect:
		return !m.pasted
	case m.screen == scrEditor:
		return m.edit.Editing()
	}
	return false
}

func (m *Model) go_(s screen) {
	if s != m.screen {
		m.prev = m.screen
	}
	m.screen = s
	m.help.ShowAll = false
}

// Update routes messages: global keys first, then the current screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, nil

	case profilesMsg:
		m.loaded = true
		if msg.err != nil {
			m.note("cannot read profiles: "+msg.err.Error(), true)
			return m, nil
		}
		m.kinds = make(map[string]string, len(msg.rows))
		for _, r := range msg.rows {
			m.kinds[r.Name] = r.Kind
		}
		m.prof.SetRows(msg.rows)
		b := m.opts.Backend
		return m, func() tea.Msg {
			runs, err := b.LastRuns()
			return lastRunsMsg{runs: runs, err: err}
		}

	case lastRunsMsg:
		if msg.err != nil {
			m.note("cannot read run history: "+msg.err.Error(), true)
			return m, nil
		}
		m.prof.SetLastRuns(msg.runs)
		return m, nil

	case reloadMsg:
		return m, tea.Sequence(m.loadProfiles(), func() tea.Msg { return selectMsg{msg.selectName, msg.note} })

	case selectMsg:
		if msg.name != "" {
			m.prof.SelectName(msg.name)
		}
		if msg.note != "" {
			m.note(msg.note, false)
		}
		return m, nil

	case noteMsg:
		m.note(msg.text, msg.err)
		if m.screen == scrRun {
			m.run.SetNote(msg.text)
		}
		return m, nil

	case tickMsg:
		if msg.gen != m.tickGen || !m.needsTick() {
			return m, nil
		}
		return m, m.tick()

	case runMsg:
		return m, m.handleRun(msg)

	case historyMsg:
		if msg.err != nil {
			m.note("history: "+msg.err.Error(), true)
			return m, nil
		}
		m.hist.SetEntries(msg.name, msg.entries)
		m.go_(scrHistory)
		return m, nil

	case inspectMsg:
		if msg.err != nil {
			m.note(msg.err.Error(), true)
			m.pasted = false
			return m, m.paste.Focus()
		}
		m.insp.SetData(msg.data)
		m.pasted = true
		m.note("", false)
		return m, m.tick()

	case formMsg:
		if msg.err != nil {
			m.note(msg.err.Error(), true)
			return m, nil
		}
		m.edit.Load(toEditor(msg.form), msg.original)
		m.go_(scrEditor)
		return m, nil

	case idpEventMsg, idpFaultsMsg:
		return m, m.handleIdP(msg)

	case profiles.ActionMsg:
		return m, m.profileAction(msg)

	case run.ActionMsg:
		return m, m.runAction(msg)

	case editor.SaveMsg:
		return m, m.saveForm(msg)
	case editor.DiscoverMsg:
		return m, m.discover(msg)
	case editor.CancelMsg:
		m.go_(scrProfiles)
		return m, nil
	case savedMsg:
		m.go_(scrProfiles)
		return m, func() tea.Msg { return reloadMsg{selectName: msg.name, note: "saved " + msg.name} }

	case idp.ActionMsg:
		return m, m.idpAction(msg)

	case benchTargetMsg, benchStartedMsg, benchSnapMsg, benchDoneMsg, benchview.ActionMsg:
		return m, m.handleBench(msg)

	case paletteMsg:
		m.palette.Close()
		if msg.run != nil {
			return m, msg.run()
		}
		return m, nil

	case tea.KeyMsg:
		return m, m.handleKey(msg)

	case tea.MouseMsg:
		return m, m.forward(msg)
	}
	return m, m.forward(msg)
}

type selectMsg struct{ name, note string }

type savedMsg struct{ name string }

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, m.keys.ForceQuit) {
		return m.quitCmd()
	}
	if m.palette.open {
		return m.palette.Update(k)
	}
	if key.Matches(k, m.keys.Palette) {
		m.palette.Open()
		return textinput.Blink
	}
	// pasting a token anywhere outside a text field opens the inspector on it
	if k.Paste && !m.textFocused() && m.screen != scrEditor {
		if raw := strings.TrimSpace(string(k.Runes)); strings.Count(raw, ".") >= 2 || len(raw) >= 16 {
			m.openPaste()
			m.paste.SetValue(raw)
			return m.forward(tea.KeyMsg{Type: tea.KeyEnter})
		}
	}
	if !m.textFocused() {
		switch {
		case key.Matches(k, m.keys.Quit):
			return m.quitCmd()
		case key.Matches(k, m.keys.Help):
			m.help.ShowAll = !m.help.ShowAll
			return nil
		case m.help.ShowAll && key.Matches(k, m.keys.Back):
			m.help.ShowAll = false
			return nil
		case key.Matches(k, m.keys.Back) && m.screen != scrProfiles:
			if m.screen == scrRun && m.run.Back() {
				return nil
			}
			if m.screen == scrEditor {
				break
			}
			if m.screen == scrBench && m.bench.Running() {
				m.cancelBench()
				return nil
			}
			m.go_(scrProfiles)
			return nil
		case key.Matches(k, m.keys.Profiles):
			m.go_(scrProfiles)
			return nil
		case key.Matches(k, m.keys.IdP) && m.screen != scrEditor:
			return m.openIdP()
		case key.Matches(k, m.keys.Paste) && m.screen == scrProfiles && !m.prof.Confirming():
			return m.openPaste()
		case key.Matches(k, m.keys.Bench) && m.screen == scrProfiles && !m.prof.Confirming() && m.canBench():
			return m.openBench(m.prof.Selected())
		}
	}
	return m.forward(k)
}

func (m *Model) quitCmd() tea.Cmd {
	m.Close()
	return tea.Quit
}

func (m *Model) openIdP() tea.Cmd {
	if m.opts.IdP == nil {
		m.note("no mock IdP in this session: `authlab demo` embeds one", true)
		return nil
	}
	m.idp.SetInfo(idpInfo(m.opts.IdP))
	m.go_(scrIdP)
	return nil
}

func (m *Model) openPaste() tea.Cmd {
	m.pasted = false
	m.paste.SetValue("")
	m.go_(scrInspect)
	return m.paste.Focus()
}

func (m *Model) forward(msg tea.Msg) tea.Cmd {
	switch m.screen {
	case scrProfiles:
		if m.importing {
			return m.updateImport(msg)
		}
		return m.prof.Update(msg)
	case scrRun:
		return m.run.Update(msg)
	case scrInspect:
		if !m.pasted {
			if k, ok := msg.(tea.KeyMsg); ok {
				switch k.Type {
				case tea.KeyEsc:
					m.go_(scrProfiles)
					return nil
				case tea.KeyEnter:
					raw := strings.TrimSpace(m.paste.Value())
					if raw == "" {
						return nil
					}
					m.paste.Blur()
					b := m.opts.Backend
					ctx := m.life
					return func() tea.Msg {
						d, err := b.Inspect(ctx, raw)
						return inspectMsg{data: d, err: err}
					}
				}
			}
			var cmd tea.Cmd
			m.paste, cmd = m.paste.Update(msg)
			return cmd
		}
		return m.insp.Update(msg)
	case scrHistory:
		return m.hist.Update(msg)
	case scrIdP:
		return m.idp.Update(msg)
	case scrEditor:
		return m.edit.Update(msg)
	case scrBench:
		return m.bench.Update(msg)
	}
	return nil
}

// ---- profiles ----

func (m *Model) updateImport(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch k.Type {
		case tea.KeyEsc:
			m.importing = false
			m.importIn.Blur()
			return nil
		case tea.KeyEnter:
			path := strings.TrimSpace(m.importIn.Value())
			m.importing = false
			m.importIn.Blur()
			if path == "" {
				return nil
			}
			b := m.opts.Backend
			return func() tea.Msg {
				n, err := b.Import(path)
				if err != nil {
					return noteMsg{"import " + path + ": " + err.Error(), true}
				}
				return reloadMsg{note: fmt.Sprintf("imported %d profiles from %s", n, path)}
			}
		}
	}
	var cmd tea.Cmd
	m.importIn, cmd = m.importIn.Update(msg)
	return cmd
}

func (m *Model) profileAction(a profiles.ActionMsg) tea.Cmd {
	b := m.opts.Backend
	switch a.Action {
	case profiles.ActRun:
		return m.begin(RunRequest{Profile: a.Name})
	case profiles.ActDelete:
		name := a.Name
		return func() tea.Msg {
			if err := b.Delete(name); err != nil {
				return noteMsg{"delete " + name + ": " + err.Error(), true}
			}
			return reloadMsg{note: "deleted " + name}
		}
	case profiles.ActDuplicate:
		name := a.Name
		return func() tea.Msg {
			n, err := b.Duplicate(name)
			if err != nil {
				return noteMsg{"duplicate " + name + ": " + err.Error(), true}
			}
			return reloadMsg{selectName: n, note: "duplicated " + name + " as " + n}
		}
	case profiles.ActExport:
		name := a.Name
		return func() tea.Msg {
			where, err := b.Export(name)
			if err != nil {
				return noteMsg{"export " + name + ": " + err.Error(), true}
			}
			return noteMsg{"exported " + name + " to " + where + " (secrets as references only)", false}
		}
	case profiles.ActHistory:
		name := a.Name
		return func() tea.Msg {
			es, err := b.History(name)
			return historyMsg{name: name, entries: es, err: err}
		}
	case profiles.ActEdit:
		name := a.Name
		return func() tea.Msg {
			f, err := b.Form(name)
			return formMsg{form: f, original: name, err: err}
		}
	case profiles.ActImport:
		m.importing = true
		m.importIn.SetValue("")
		return m.importIn.Focus()
	case profiles.ActNew:
		m.edit.Load(toEditor(Form{Kind: "client-credentials", Fields: map[string]string{}}), "")
		m.go_(scrEditor)
		return nil
	}
	return nil
}

// ---- runs ----

func (m *Model) begin(req RunRequest) tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	m.runSeq++
	id := m.runSeq
	ctx, cancel := context.WithCancel(m.life)
	m.cancel = cancel
	m.lastReq = req
	m.go_(scrRun)
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
			d.Tokens = append(d.Tokens, inspect.Token{Label: label, Tok: t, Received: recv})
		}
	}
	add("access", r.AccessToken)
	add("id", r.IDToken)
	add("refresh", r.RefreshToken)
	d.Skew = r.Skew
	return d
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
		return follow("call", false)
	case run.ActCopyToken:
		if res == nil || res.Token == nil || res.Token.AccessToken == "" {
			m.run.SetNote("no access token to copy")
			return nil
		}
		return m.copy(res.Token.AccessToken, "access token copied to the clipboard (OSC 52)")
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

// ---- history, editor ----

func (m *Model) saveForm(s editor.SaveMsg) tea.Cmd {
	b := m.opts.Backend
	f := Form{Name: s.Form.Name, Kind: s.Form.Kind, Fields: s.Form.Fields}
	return func() tea.Msg {
		if err := b.SaveForm(f, s.Original); err != nil {
			return editor.ErrorMsg{Err: err}
		}
		return savedMsg{name: f.Name}
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

// ---- view ----

// View draws the top bar, the current screen, the status line and the help.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := m.ctx.Width
	top := t.Title.Render(m.opts.Title) + t.Subtle.Render(" · ") + t.Accent.Render(m.screen.String())
	if m.opts.IdP != nil {
		top += t.Subtle.Render("  IdP " + m.opts.IdP.URL())
	}
	var body string
	switch {
	case m.palette.open:
		body = m.palette.View()
	case m.help.ShowAll:
		body = m.help.FullHelpView(m.fullHelp())
	default:
		body = m.screenView()
	}
	body = fit(body, m.bodyHeight())
	status := ""
	if m.status != "" {
		st := t.Subtle
		if m.statusErr {
			st = t.Error
		}
		status = st.Render(ui.Truncate(m.status, w))
	}
	// bubbles/help can overrun its width by one item; cut it here
	foot := ui.Truncate(m.help.ShortHelpView(m.shortHelp()), w)
	return ui.Truncate(top, w+40) + "\n" + body + "\n" + status + "\n" + foot
}

// fit pads or cuts s to exactly h lines so the footer never moves.
func fit(s string, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) screenView() string {
	t := m.ctx.Theme
	switch m.screen {
	case scrProfiles:
		if !m.loaded {
			return t.Subtle.Render("reading profiles…")
		}
		if m.importing {
			// the prompt takes the count line's place
			v := m.prof.View()
			if i := strings.LastIndexByte(v, '\n'); i >= 0 {
				v = v[:i]
			}
			return v + "\n" + m.importIn.View()
		}
		return m.prof.View()
	case scrRun:
		return m.run.View()
	case scrInspect:
		if !m.pasted {
			return t.Title.Render("Inspect a token") + "\n" + t.Subtle.Render("Paste a token (JWT, JWE or opaque). It is decoded here and checked; the issuer's JWKS is fetched when its iss is reachable.") + "\n\n" + m.paste.View()
		}
		return m.insp.View()
	case scrHistory:
		return m.hist.View()
	case scrIdP:
		return m.idp.View()
	case scrEditor:
		return m.edit.View()
	case scrBench:
		return m.bench.View()
	}
	return ""
}

func (m *Model) current() ui.Component {
	switch m.screen {
	case scrRun:
		return m.run
	case scrInspect:
		return m.insp
	case scrHistory:
		return m.hist
	case scrIdP:
		return m.idp
	case scrEditor:
		return m.edit
	case scrBench:
		return m.bench
	}
	return m.prof
}

func (m *Model) shortHelp() []key.Binding {
	if m.palette.open {
		return m.palette.ShortHelp()
	}
	hs := m.current().ShortHelp()
	if m.screen == scrProfiles && m.importing {
		hs = []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "import")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	if m.screen == scrInspect && !m.pasted {
		hs = []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "inspect")), m.keys.Back}
	}
	if m.screen == scrProfiles && !m.importing && m.canBench() {
		hs = append(hs, m.keys.Bench)
	}
	if m.screen != scrProfiles && m.screen != scrEditor {
		hs = append(hs, m.keys.Back)
	}
	if m.textFocused() {
		return hs
	}
	return append(hs, m.keys.Help, m.keys.Quit)
}

func (m *Model) fullHelp() [][]key.Binding {
	g := m.current().FullHelp()
	global := []key.Binding{m.keys.Palette, m.keys.Help, m.keys.Back, m.keys.Profiles, m.keys.Paste}
	if m.canBench() {
		global = append(global, m.keys.Bench)
	}
	if m.opts.IdP != nil {
		global = append(global, m.keys.IdP)
	}
	global = append(global, m.keys.Quit)
	return append(g, global)
}
