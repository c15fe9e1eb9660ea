// Package console is the console's root bubbletea model: the shared context
// (size, theme, clock, keymaps), navigation between screens, and every piece
// of I/O as a tea.Cmd (store, flows, mock IdP admin). Screens live in views/.
//
// This file is the routing and the chrome (top bar, status line, help); each
// area's messages and actions live in its own file (profiles.go,
// runscreen.go, inspect.go, editor.go, idp.go, bench.go).
package console

import (
	"authlab/store"
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	auditview "authlab/views/audit"
	benchview "authlab/views/bench"
	checkview "authlab/views/check"
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

// screen indexes Model.screens; scrProfiles is home, where esc stops.
type screen int

const (
	scrProfiles screen = iota
	scrRun
	scrInspect
	scrIdP
	scrHistory
	scrEditor
	scrBench
	scrAudit
	scrCheck
	numScreens
)

func (s screen) String() string {
	return [...]string{"Profiles", "Run", "Token inspector", "Mock IdP", "History", "Editor", "Bench", "Audit", "Check"}[s]
}

// Model is the root model.
type Model struct {
	opts   Options
	ctx    *ui.Context
	keys   globalKeys
	help   help.Model
	screen screen
	// screens holds every screen's component; the typed fields below are
	// the same components, for the calls only that screen has.
	screens [numScreens]ui.Component

	prof  *profiles.Model
	run   *run.Model
	insp  *inspect.Screen
	hist  *history.Model
	idp   *idp.Model
	edit  *editor.Model
	bench *benchview.Model
	aud   auditState // the audit screen and its run (audit.go)
	chk   checkState // the Check screen and its run (check.go)

	palette *palette

	life     context.Context
	quit     context.CancelFunc
	runSeq   int
	cancel   context.CancelFunc // of the current run
	lastReq  RunRequest
	kinds    map[string]string // profile name → kind, for run labels
	tickGen  int
	pane     paneState // the profile pane's reads (profiles.go)
	idpSub   func()
	idpGen   int
	idpOrder *idpOrder
	// trustShown is what the profile list last asked to confirm: a yes
	// confirms exactly these items.
	trustShown []store.TrustItem
	// the bench screen's run: its id and how to cancel it
	benchSeq    int
	benchCancel context.CancelFunc

	status    string
	statusErr bool
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
		prof: profiles.New(ctx), run: run.New(ctx), insp: inspect.NewScreen(ctx),
		hist: history.New(ctx), idp: idp.New(ctx), edit: editor.New(ctx), bench: benchview.New(ctx),
		life: life, quit: quit, kinds: map[string]string{}, idpOrder: &idpOrder{},
		aud: auditState{view: auditview.New(ctx)}, chk: checkState{view: checkview.New(ctx)},
	}
	m.screens = [numScreens]ui.Component{
		scrProfiles: m.prof, scrRun: m.run, scrInspect: m.insp, scrIdP: m.idp,
		scrHistory: m.hist, scrEditor: m.edit, scrBench: m.bench,
		scrAudit: m.aud.view, scrCheck: m.chk.view,
	}
	_, m.run.CanApprove = o.IdP.(deviceApprover)
	m.prof.SetBench(m.canBench())
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
	noteMsg struct {
		text string
		err  bool
	}
	tickMsg struct{ gen int }
)

// Init loads the profiles and, with an IdP, subscribes to its events.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loadProfiles()}
	if m.opts.IdP != nil {
		cmds = append(cmds, m.subscribeIdP())
	}
	return tea.Batch(cmds...)
}

func (m *Model) note(s string, isErr bool) {
	m.status, m.statusErr = s, isErr
}

func (m *Model) tick() tea.Cmd {
	m.tickGen++
	gen := m.tickGen
	return tea.Tick(m.opts.Tick, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// current is the screen on show.
func (m *Model) current() ui.Component { return m.screens[m.screen] }

// show makes s the screen on show (the full help closes with the old one).
func (m *Model) show(s screen) {
	m.screen = s
	m.help.ShowAll = false
}

// needsTick reports whether the screen shows something that changes with
// the clock (an expiry bar), so ticks stop when nothing needs them.
func (m *Model) needsTick() bool {
	t, ok := m.current().(ui.Ticker)
	return ok && t.Live()
}

// typing: a text field has focus, so keys are text, not global keys.
func (m *Model) typing() bool {
	if m.palette.open {
		return true
	}
	t, ok := m.current().(ui.Typer)
	return ok && t.Typing()
}

func (m *Model) setSize(w, h int) {
	m.ctx.Width, m.ctx.Height = w, h
	m.help.Width = w
	bh := m.bodyHeight()
	for _, c := range m.screens {
		c.SetSize(w, bh)
	}
	m.palette.SetSize(w, h)
}

func (m *Model) bodyHeight() int {
	// top bar, status line, help footer (full help is an overlay)
	return max(3, m.ctx.Height-3)
}

// Update routes messages: each area's messages to its handler, keys through
// the global keys, everything else to the current screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.route(msg)
	// the profile pane follows the selection, whatever moved it
	if pc := m.followPane(); pc != nil {
		cmd = tea.Batch(cmd, pc)
	}
	return m, cmd
}

func (m *Model) route(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	case noteMsg:
		m.note(msg.text, msg.err)
		if m.screen == scrRun {
			m.run.SetNote(msg.text)
		}
		return nil
	case ui.NoteMsg: // a text input cut at its limit
		m.note(msg.Text, false)
		return nil
	case tickMsg:
		if msg.gen != m.tickGen || !m.needsTick() {
			return nil
		}
		return m.tick()
	case paletteMsg:
		m.palette.Close()
		if msg.run != nil {
			return msg.run()
		}
		return nil
	case profilesMsg, lastRunsMsg, reloadMsg, selectMsg, historyMsg, trustMsg, detailMsg, profiles.ActionMsg:
		return m.handleProfiles(msg)
	case runMsg:
		return m.handleRun(msg)
	case run.ActionMsg:
		return m.runAction(msg)
	case inspectMsg, inspect.SubmitMsg, inspect.CancelMsg, inspect.CopyMsg:
		return m.handleInspect(msg)
	case formMsg, savedMsg, editor.SaveMsg, editor.DiscoverMsg, editor.CancelMsg:
		return m.handleEditor(msg)
	case idpEventMsg, idpFaultsMsg:
		return m.handleIdP(msg)
	case idp.ActionMsg:
		return m.idpAction(msg)
	case benchTargetMsg, benchStartedMsg, benchSnapMsg, benchDoneMsg, benchview.ActionMsg:
		return m.handleBench(msg)
	case auditTargetMsg, auditMsg, auditExportedMsg, auditview.ActionMsg:
		return m.handleAudit(msg)
	case checkTargetMsg, checkDoneMsg, checkExportedMsg, checkview.ActionMsg:
		return m.handleCheck(msg)
	}
	// mouse, cursor blinks, spinner ticks, the editor's discovery results
	return m.current().Update(msg)
}

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
	if m.typing() {
		return m.current().Update(k)
	}
	// pasting a token anywhere outside a text field opens the inspector on it
	if k.Paste {
		if raw := strings.TrimSpace(string(k.Runes)); strings.Count(raw, ".") >= 2 || len(raw) >= 16 {
			return m.inspectToken(raw)
		}
	}
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
		if b, ok := m.current().(ui.Backer); ok {
			if cmd, done := b.Back(); done {
				return cmd
			}
		}
		m.show(scrProfiles)
		return nil
	case key.Matches(k, m.keys.Profiles):
		m.show(scrProfiles)
		return nil
	case key.Matches(k, m.keys.IdP):
		return m.openIdP()
	}
	return m.current().Update(k)
}

func (m *Model) quitCmd() tea.Cmd {
	m.Close()
	return tea.Quit
}

// ---- chrome ----

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
		body = m.current().View()
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

// shortHelp is the footer: the screen's keys, then (unless a text field
// has every key) back, help and quit.
func (m *Model) shortHelp() []key.Binding {
	if m.palette.open {
		return m.palette.ShortHelp()
	}
	hs := m.current().ShortHelp()
	if m.typing() {
		return hs
	}
	if m.screen != scrProfiles {
		hs = append(hs, m.keys.Back)
	}
	return append(hs, m.keys.Help, m.keys.Quit)
}

// fullHelp is the screen's columns, then the navigation column: the
// console's keys with the screen's own keys to other screens among them.
func (m *Model) fullHelp() [][]key.Binding {
	g := m.current().FullHelp()
	global := []key.Binding{m.keys.Palette, m.keys.Help, m.keys.Back, m.keys.Profiles}
	if n, ok := m.current().(ui.Navigator); ok {
		global = append(global, n.NavHelp()...)
	}
	if m.opts.IdP != nil {
		global = append(global, m.keys.IdP)
	}
	global = append(global, m.keys.Quit)
	return append(g, global)
}
