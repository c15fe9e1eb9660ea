// Package run is the run screen: a live step timeline while a flow runs (with
// the authorization URL or the device code while it waits for the user), then
// tabs for the token inspector, the exchanges, the checks, raw JSON and the
// timeline in full (PAR, the request object and a JARM response decoded).
//
// Tokens are masked on every tab (render.Masker): R shows the focused one
// in clear for inspect.RevealFor; y still copies the real token.
package run

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/views/exchanges"
	"authlab/views/inspect"
	"authlab/views/render"
	"authlab/views/ui"
)

// Action is a follow-up the user asked for; the root model performs it.
type Action string

const (
	ActRerun       Action = "rerun"
	ActRefresh     Action = "refresh"
	ActIntrospect  Action = "introspect"
	ActRevoke      Action = "revoke"
	ActUserinfo    Action = "userinfo"
	ActCallAPI     Action = "call"
	ActCopyToken   Action = "copy-token"
	ActCopyCurl    Action = "copy-curl"
	ActCopyCurlSec Action = "copy-curl-secrets"
	ActOpenURL     Action = "open-url"
	ActCopyURL     Action = "copy-url"
	ActCancel      Action = "cancel"
	// ActApproveDevice approves the device code at the embedded mock IdP (demos).
	ActApproveDevice Action = "approve-device"
	// ActReveal: a token is shown in clear (Note says what; the root keeps
	// the clock ticking so it is masked again on time).
	ActReveal Action = "reveal"
	// ActHAR writes the run's exchanges as HAR beside the store.
	ActHAR Action = "har"
)

// ActionMsg asks the root model to act on the run.
type ActionMsg struct {
	Action   Action
	RunID    int
	Exchange *flows.Exchange // for copy-curl
	// Token is the label of the token to copy ("access", "id", "refresh").
	Token string
	// Note is what the status line says (reveal).
	Note string
}

// Tab is one of the result tabs.
type Tab int

const (
	TabToken Tab = iota
	TabExchanges
	TabChecks
	TabRaw
	TabTimeline
)

func tabNames() []string { return []string{"Token", "Exchanges", "Checks", "Raw JSON", "Timeline"} }

// KeyMap is the run screen's keys.
type KeyMap struct {
	NextTab, PrevTab                              key.Binding
	Rerun, Refresh, Introspect, Revoke, Userinfo  key.Binding
	CallAPI, CopyToken, CopyCurl, CopyCurlSecrets key.Binding
	OpenURL, CopyURL, Cancel, Approve             key.Binding
	Up, Down                                      key.Binding
	Reveal, HAR                                   key.Binding
}

// DefaultKeyMap is the run screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		NextTab:         key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next tab")),
		PrevTab:         key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev tab")),
		Rerun:           key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-run")),
		Refresh:         key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "refresh")),
		Introspect:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "introspect")),
		Revoke:          key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "revoke")),
		Userinfo:        key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "userinfo")),
		CallAPI:         key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "call API")),
		CopyToken:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy token")),
		CopyCurl:        key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy as curl")),
		CopyCurlSecrets: key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "curl with secrets")),
		OpenURL:         key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open browser again")),
		CopyURL:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy URL")),
		Cancel:          key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel run")),
		Approve:         key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "approve at the mock IdP")),
		Up:              key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:            key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Reveal:          inspect.RevealKey(),
		HAR:             key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "save HAR")),
	}
}

type step struct {
	name   string
	done   bool
	ok     bool
	detail string
	dur    time.Duration
}

// Model is the run screen.
type Model struct {
	ctx     *ui.Context
	keys    KeyMap
	id      int
	profile string
	flow    string
	steps   []step
	xs      []flows.Exchange
	authURL string
	device  *deviceWait
	qr      string
	result  *flows.Result
	running bool
	started time.Time
	tab     Tab
	spin    spinner.Model
	insp    *inspect.Model
	exch    *exchanges.Model
	raw     []string
	// mask hides the tokens the run received; rawMasked is raw through it
	mask      *render.Masker
	rawMasked []string
	// revealUntil: tab revealTab (raw JSON, timeline) shows tokens in clear
	revealUntil time.Time
	revealTab   Tab
	scroll      int
	note        string
	w, h        int
	// CanApprove: an embedded mock IdP can approve device codes (demo).
	CanApprove bool
}

// New builds an idle run screen.
func New(ctx *ui.Context) *Model {
	sp := spinner.New(spinner.WithSpinner(spinner.Line))
	return &Model{ctx: ctx, keys: DefaultKeyMap(), spin: sp, insp: inspect.New(ctx), exch: exchanges.New(ctx), mask: render.NewMasker()}
}

// ID is the run the screen shows; messages of other runs are stale.
func (m *Model) ID() int { return m.id }

// Running reports whether the flow is still going.
func (m *Model) Running() bool { return m.running }

// Result is the finished run's result, or nil.
func (m *Model) Result() *flows.Result { return m.result }

// Profile is the profile being run.
func (m *Model) Profile() string { return m.profile }

// Inspector gives the root model the inspector (to feed it tokens).
func (m *Model) Inspector() *inspect.Model { return m.insp }

// Begin resets the screen for a new run and starts the spinner.
func (m *Model) Begin(id int, profile, flow string, now time.Time) tea.Cmd {
	*m = Model{ctx: m.ctx, keys: m.keys, spin: m.spin, insp: m.insp, exch: m.exch, w: m.w, h: m.h, tab: m.tab, CanApprove: m.CanApprove}
	m.id, m.profile, m.flow, m.running, m.started = id, profile, flow, true, now
	m.mask = render.NewMasker()
	m.insp.SetData(inspect.Data{})
	m.insp.Hide()
	m.exch.SetItems(nil)
	m.exch.SetMasker(m.mask)
	m.exch.Hide()
	m.resize()
	return m.spin.Tick
}

// Step records a step event: a start adds a running step, an end completes it.
func (m *Model) Step(e flows.StepEvent) {
	if !e.Done {
		m.steps = append(m.steps, step{name: e.Name, detail: e.Detail})
		return
	}
	for i := len(m.steps) - 1; i >= 0; i-- {
		if m.steps[i].name == e.Name && !m.steps[i].done {
			m.steps[i] = step{name: e.Name, done: true, ok: e.OK, detail: e.Detail, dur: e.Duration}
			return
		}
	}
	m.steps = append(m.steps, step{name: e.Name, done: true, ok: e.OK, detail: e.Detail, dur: e.Duration})
}

// Exchange records an HTTP exchange as it happens.
func (m *Model) Exchange(x flows.Exchange) {
	m.mask.LearnExchange(x)
	m.xs = append(m.xs, x)
	m.exch.SetItems(m.xs)
	// the device grant's polls show as exchanges: count them live
	if m.device != nil && x.Step == "device poll" {
		m.device.Polls++
		m.device.LastPoll = pollState(x)
		if strings.Contains(x.ResponseBody, "slow_down") {
			m.device.SlowDowns++
		}
	}
}

// pollState says what the token endpoint answered a device poll.
func pollState(x flows.Exchange) string {
	for _, e := range []string{"authorization_pending", "slow_down", "access_denied", "expired_token"} {
		if strings.Contains(x.ResponseBody, e) {
			return e
		}
	}
	if x.Status == 200 {
		return "approved"
	}
	return fmt.Sprintf("HTTP %d", x.Status)
}

// WaitBrowser shows the authorization URL while the flow waits for the callback.
func (m *Model) WaitBrowser(url string) { m.authURL = url }

// WaitDevice shows the device code; qr is a pre-rendered QR code or "".
func (m *Model) WaitDevice(d flows.DeviceAuthorization, qr string) {
	m.device = &deviceWait{DeviceAuthorization: d}
	m.qr = qr
}

// deviceWait is the device code on screen plus the live polling state.
type deviceWait struct {
	flows.DeviceAuthorization
	LastPoll string
}

// SetNote shows a one-line note (clipboard, action results).
func (m *Model) SetNote(s string) { m.note = s }

// Finish shows the result; data feeds the inspector.
func (m *Model) Finish(r *flows.Result, data inspect.Data) {
	m.running = false
	m.result = r
	m.authURL, m.device, m.qr = "", nil, ""
	if r != nil {
		m.mask.LearnResult(r)
		if len(r.Exchanges) >= len(m.xs) {
			m.xs = r.Exchanges
			m.exch.SetItems(m.xs)
		}
		if len(m.steps) == 0 {
			for _, s := range r.Steps {
				m.Step(s)
			}
		}
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			b = []byte("cannot encode result: " + err.Error())
		}
		m.raw = strings.Split(string(b), "\n")
		m.rawMasked = m.mask.JSONLines(m.raw)
	}
	m.insp.SetData(data)
	// land on the tokens when there are any, else on the checks (the why)
	if len(data.Tokens) > 0 {
		m.tab = TabToken
	} else if m.tab == TabToken {
		m.tab = TabChecks
	}
	m.resize()
}

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.resize()
}

func (m *Model) timelineRows() int {
	// keep the timeline short once the result is in, to give the tabs room
	if m.result != nil {
		return min(len(m.steps), max(1, m.h/5))
	}
	return len(m.steps)
}

func (m *Model) bodyHeight() int {
	return max(3, m.h-2-m.timelineRows()-1-m.dpopRows())
}

// dpopRows is 1 when the result shows a DPoP binding line.
func (m *Model) dpopRows() int {
	if m.result != nil && m.result.DPoP != nil {
		return 1
	}
	return 0
}

// dpopLine says how the result's token is bound to the run's DPoP key
// (RFC 9449 6): cnf.jkt of a JWT access token against our key's
// thumbprint, or the token_type when the token says nothing itself.
func dpopLine(t *ui.Theme, r *flows.Result, w int) string {
	d := r.DPoP
	key := d.JKT
	if w < 100 && len(key) > 12 { // the Checks tab names it whole
		key = key[:12] + "…"
	}
	key = d.Alg + " key " + key
	if d.Ephemeral {
		key += " (ephemeral)"
	}
	tt := ""
	if r.Token != nil {
		tt = r.Token.TokenType
	}
	var verdict string
	jkt := ""
	if r.AccessToken != nil {
		cnf, _ := r.AccessToken.Claims["cnf"].(map[string]any)
		jkt, _ = cnf["jkt"].(string)
	}
	switch {
	case jkt != "" && jkt == d.JKT:
		verdict = t.Pass.Render("cnf.jkt = our key ✓")
	case jkt != "":
		verdict = t.Fail.Render("cnf.jkt ≠ our key ✗ (token is bound to " + jkt + ")")
	case r.Token == nil:
		verdict = t.Subtle.Render("no token")
	case !strings.EqualFold(tt, "DPoP"):
		verdict = t.Warn.Render("token_type " + orNone(tt) + ": not DPoP-bound !")
	default:
		verdict = t.Subtle.Render("token_type DPoP (opaque: the server checks the binding)")
	}
	line := "  DPoP " + verdict + t.Subtle.Render(" · "+key)
	if d.NonceRetries > 0 {
		line += t.Subtle.Render(fmt.Sprintf(" · %d nonce retr%s", d.NonceRetries, map[bool]string{true: "y", false: "ies"}[d.NonceRetries == 1]))
	}
	return ui.Truncate(line, w)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (m *Model) resize() {
	m.insp.SetSize(m.w, m.bodyHeight())
	m.exch.SetSize(m.w, m.bodyHeight())
}

// Update handles spinner ticks and keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if !m.running {
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd
	case tea.MouseMsg:
		return m.forward(msg)
	case tea.KeyMsg:
		act := func(a Action) tea.Cmd {
			id := m.id
			return func() tea.Msg { return ActionMsg{Action: a, RunID: id} }
		}
		if m.running {
			switch {
			case key.Matches(msg, m.keys.Cancel):
				return act(ActCancel)
			case m.authURL != "" && key.Matches(msg, m.keys.OpenURL):
				return act(ActOpenURL)
			case m.authURL != "" && key.Matches(msg, m.keys.CopyURL):
				return act(ActCopyURL)
			case m.device != nil && m.CanApprove && key.Matches(msg, m.keys.Approve):
				return act(ActApproveDevice)
			}
			return nil
		}
		switch {
		case key.Matches(msg, m.keys.NextTab):
			m.tab = (m.tab + 1) % Tab(len(tabNames()))
			m.scroll = 0
			return nil
		case key.Matches(msg, m.keys.PrevTab):
			m.tab = (m.tab + Tab(len(tabNames())) - 1) % Tab(len(tabNames()))
			m.scroll = 0
			return nil
		case len(msg.String()) == 1 && msg.String() >= "1" && msg.String()[0] < '1'+byte(len(tabNames())):
			m.tab = Tab(msg.String()[0] - '1')
			m.scroll = 0
			return nil
		case key.Matches(msg, m.keys.Rerun):
			return act(ActRerun)
		case key.Matches(msg, m.keys.Refresh):
			return act(ActRefresh)
		case key.Matches(msg, m.keys.Introspect):
			return act(ActIntrospect)
		case key.Matches(msg, m.keys.Revoke):
			return act(ActRevoke)
		case key.Matches(msg, m.keys.Userinfo):
			return act(ActUserinfo)
		case key.Matches(msg, m.keys.CallAPI):
			return act(ActCallAPI)
		case key.Matches(msg, m.keys.CopyToken):
			label := "access"
			if tk, ok := m.insp.Selected(); ok && m.tab == TabToken {
				label = tk.Label
			}
			id := m.id
			return func() tea.Msg { return ActionMsg{Action: ActCopyToken, RunID: id, Token: label} }
		case key.Matches(msg, m.keys.Reveal):
			return m.toggleReveal()
		case key.Matches(msg, m.keys.HAR):
			return act(ActHAR)
		case key.Matches(msg, m.keys.CopyCurl), key.Matches(msg, m.keys.CopyCurlSecrets):
			x, ok := m.exch.Selected()
			if !ok {
				m.note = "no exchange to copy"
				return nil
			}
			a := ActCopyCurl
			if key.Matches(msg, m.keys.CopyCurlSecrets) {
				a = ActCopyCurlSec
			}
			id := m.id
			return func() tea.Msg { return ActionMsg{Action: a, RunID: id, Exchange: &x} }
		}
		return m.forward(msg)
	}
	return nil
}

// Back is part of ui.Backer: esc closes an open exchange detail. It
// reports false when esc should leave the screen.
func (m *Model) Back() (tea.Cmd, bool) {
	if m.tab == TabExchanges && m.exch.InDetail() {
		return m.exch.Update(tea.KeyMsg{Type: tea.KeyEsc}), true
	}
	return nil, false
}

// Live is part of ui.Ticker: the tokens' expiry bars count down, and a
// revealed token is masked again when its time is up.
func (m *Model) Live() bool { return m.insp.HasTokens() || m.Revealed() }

// Revealed reports whether the focused tab shows a token in clear.
func (m *Model) Revealed() bool {
	switch m.tab {
	case TabToken:
		return m.insp.Revealed()
	case TabExchanges:
		return m.exch.Revealed()
	case TabRaw, TabTimeline:
		return m.tab == m.revealTab && m.ctx.Now().Before(m.revealUntil)
	}
	return false
}

// toggleReveal shows the focused tab's token in clear for
// inspect.RevealFor (the selected token, the open exchange, raw JSON, the
// timeline), or masks it again.
func (m *Model) toggleReveal() tea.Cmd {
	if m.Revealed() {
		m.insp.Hide()
		m.exch.Hide()
		m.revealUntil = time.Time{}
		m.note = ""
		id := m.id
		return func() tea.Msg { return ActionMsg{Action: ActReveal, RunID: id, Note: "the token is masked again"} }
	}
	until := m.ctx.Now().Add(inspect.RevealFor)
	ok := false
	switch m.tab {
	case TabToken:
		ok = m.insp.Reveal(until)
	case TabExchanges:
		ok = m.exch.Reveal(until)
		if !ok {
			m.note = "open an exchange (enter) to reveal its tokens"
			return nil
		}
	case TabRaw, TabTimeline:
		m.revealUntil, m.revealTab, ok = until, m.tab, true
	}
	if !ok {
		m.note = "nothing to reveal here"
		return nil
	}
	m.note = "" // the status line says it
	id, note := m.id, inspect.RevealNote()
	return func() tea.Msg { return ActionMsg{Action: ActReveal, RunID: id, Note: note} }
}

// masker is what masks the focused tab: nil while it is revealed.
func (m *Model) masker() *render.Masker {
	if m.Revealed() {
		return nil
	}
	return m.mask
}

func (m *Model) forward(msg tea.Msg) tea.Cmd {
	switch m.tab {
	case TabToken:
		return m.insp.Update(msg)
	case TabExchanges:
		return m.exch.Update(msg)
	default:
		if mm, ok := msg.(tea.MouseMsg); ok {
			m.scroll = max(0, m.scroll+ui.Wheel(mm))
		}
		if km, ok := msg.(tea.KeyMsg); ok {
			switch {
			case key.Matches(km, m.keys.Up):
				m.scroll = max(0, m.scroll-1)
			case key.Matches(km, m.keys.Down):
				m.scroll++
			}
		}
	}
	return nil
}

// View renders the timeline, then the waiting panel or the tabs.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	var out []string
	state := ""
	switch {
	case m.running:
		state = t.Accent.Render(m.spin.View() + " running")
	case m.result == nil:
		state = t.Subtle.Render("idle")
	case m.result.Failed():
		state = t.Fail.Render("✗ failed")
	default:
		state = t.Pass.Render("✓ ok")
	}
	title := fmt.Sprintf("%s · %s  ", m.profile, m.flow)
	if m.result != nil && m.result.Duration > 0 {
		state += t.Subtle.Render("  " + ui.Duration(m.result.Duration))
	}
	out = append(out, t.Title.Render(ui.Truncate(title, w-20))+state)

	rows := m.timelineRows()
	first := len(m.steps) - rows
	for _, s := range m.steps[first:] {
		mark := t.Accent.Render(m.spin.View())
		switch {
		case s.done && s.ok:
			mark = t.Pass.Render("✓")
		case s.done:
			mark = t.Fail.Render("✗")
		case !m.running:
			mark = t.Subtle.Render("·")
		}
		line := "  " + mark + " " + ui.Pad(s.name, 22) + " " + ui.Pad(ui.Duration(s.dur), 7)
		if d := m.mask.Text(summary(s)); d != "" {
			line += " " + t.Subtle.Render(ui.Truncate(d, max(5, w-36)))
		}
		out = append(out, line)
	}
	if m.dpopRows() > 0 {
		out = append(out, dpopLine(t, m.result, w))
	}
	if m.result != nil && m.result.Err != nil {
		out = append(out, t.Error.Render(ui.Truncate("  "+string(m.result.Err.Kind)+": "+m.mask.Text(m.result.Err.Message), w)))
	}
	if m.running {
		out = append(out, "")
		out = append(out, m.waitingLines(w)...)
		if m.note != "" {
			out = append(out, t.Subtle.Render(ui.Truncate(m.note, w)))
		}
		return strings.Join(out, "\n")
	}
	if m.result == nil {
		return strings.Join(out, "\n")
	}
	// tab bar
	var tabs []string
	for i, n := range tabNames() {
		lbl := fmt.Sprintf("%d %s", i+1, n)
		if Tab(i) == TabChecks && m.result != nil {
			lbl += checkBadge(m.result.Checks)
		}
		if Tab(i) == TabExchanges {
			lbl += fmt.Sprintf(" (%d)", len(m.xs))
		}
		if Tab(i) == m.tab {
			tabs = append(tabs, t.TabOn.Render(lbl))
		} else {
			tabs = append(tabs, t.Tab.Render(lbl))
		}
	}
	out = append(out, ui.Truncate(strings.Join(tabs, "  "), w+60))
	bh := m.bodyHeight()
	var body string
	switch m.tab {
	case TabToken:
		body = m.insp.View()
	case TabExchanges:
		body = m.exch.View()
	case TabChecks:
		lines := inspect.CheckLines(t, maskChecks(m.mask, m.result.Checks), w)
		if len(lines) == 0 {
			lines = []string{t.Subtle.Render("no checks")}
		}
		body = m.window(lines, bh)
	case TabRaw:
		raw := m.rawMasked
		if m.Revealed() {
			raw = m.raw
		}
		body = m.window(raw, bh)
	case TabTimeline:
		body = m.window(m.timelineLines(w), bh)
	}
	out = append(out, body)
	if m.note != "" {
		out = append(out, t.Subtle.Render(ui.Truncate(m.note, w)))
	}
	return strings.Join(out, "\n")
}

// maskChecks is cs with the known tokens masked in their details.
func maskChecks(mk *render.Masker, cs []flows.Check) []flows.Check {
	out := make([]flows.Check, len(cs))
	for i, c := range cs {
		c.Detail = mk.Text(c.Detail)
		out[i] = c
	}
	return out
}

func checkBadge(cs []flows.Check) string {
	var f, wn int
	for _, c := range cs {
		switch c.Status {
		case flows.Fail:
			f++
		case flows.Warn:
			wn++
		}
	}
	switch {
	case f > 0:
		return fmt.Sprintf(" (%d ✗)", f)
	case wn > 0:
		return fmt.Sprintf(" (%d !)", wn)
	}
	return ""
}

func (m *Model) window(lines []string, h int) string {
	m.scroll = ui.Clamp(m.scroll, 0, max(0, len(lines)-h))
	w := max(30, m.w)
	end := min(len(lines), m.scroll+h)
	out := make([]string, 0, end-m.scroll)
	for _, l := range lines[m.scroll:end] {
		out = append(out, ui.Truncate(l, w))
	}
	return strings.Join(out, "\n")
}

func (m *Model) waitingLines(w int) []string {
	t := m.ctx.Theme
	var out []string
	if m.authURL != "" {
		out = append(out, t.Title.Render("Waiting for the browser"), "Sign in at:")
		// the URL is shown whole, wrapped, so it can be selected and copied;
		// a request object in it is masked (y copies the real URL)
		u := m.mask.URL(m.authURL)
		for len(u) > w {
			out = append(out, u[:w])
			u = u[w:]
		}
		out = append(out, u, t.Subtle.Render("o opens it again · y copies it · x cancels"))
	}
	if d := m.device; d != nil {
		out = append(out, t.Title.Render("Enter this code on another device"))
		out = append(out, t.Big.Render(spaced(d.UserCode)))
		out = append(out, "at "+t.Accent.Render(d.VerificationURI))
		poll := "polling the token endpoint until you approve"
		if d.Interval > 0 {
			poll = fmt.Sprintf("polling every %s", d.Interval)
		}
		if d.Polls > 0 {
			poll += fmt.Sprintf(" · %d polls, last: %s", d.Polls, d.LastPoll)
		}
		if d.SlowDowns > 0 {
			poll += fmt.Sprintf(" · told to slow down %d×", d.SlowDowns)
		}
		out = append(out, t.Subtle.Render(poll+" · x cancels"))
		if m.qr != "" {
			qrLines := strings.Split(strings.TrimRight(m.qr, "\n"), "\n")
			if len(qrLines)+len(out)+len(m.steps)+4 <= m.h {
				out = append(out, qrLines...)
			} else {
				out = append(out, t.Subtle.Render("(enlarge the terminal to see a QR code of the complete URL)"))
			}
		}
	}
	return out
}

// spaced renders a user code with wide spacing so it reads from across a room.
func spaced(s string) string {
	rs := []rune(s)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return "  " + strings.Join(parts, " ")
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	if m.running {
		if m.authURL != "" {
			return []key.Binding{m.keys.OpenURL, m.keys.CopyURL, m.keys.Cancel}
		}
		if m.device != nil && m.CanApprove {
			return []key.Binding{m.keys.Approve, m.keys.Cancel}
		}
		return []key.Binding{m.keys.Cancel}
	}
	hs := []key.Binding{m.keys.NextTab, m.keys.Rerun, m.keys.CopyToken}
	if m.tab != TabChecks {
		hs = append(hs, m.keys.Reveal)
	}
	hs = append(hs, m.keys.HAR)
	switch m.tab {
	case TabToken:
		hs = append(hs, m.insp.ShortHelp()...)
	case TabExchanges:
		hs = append(hs, m.exch.ShortHelp()...)
		hs = append(hs, m.keys.CopyCurl)
	}
	return hs
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	g := [][]key.Binding{
		{m.keys.NextTab, m.keys.PrevTab, m.keys.Rerun, m.keys.Cancel},
		{m.keys.Refresh, m.keys.Introspect, m.keys.Revoke, m.keys.Userinfo, m.keys.CallAPI},
		{m.keys.CopyToken, m.keys.CopyCurl, m.keys.CopyCurlSecrets, m.keys.OpenURL, m.keys.Reveal, m.keys.HAR},
	}
	switch m.tab {
	case TabToken:
		g = append(g, m.insp.FullHelp()...)
	case TabExchanges:
		g = append(g, m.exch.FullHelp()...)
	}
	return g
}

// AuthURL is the authorization URL the run waits on, or "".
func (m *Model) AuthURL() string { return m.authURL }

// UserCode is the device code the run waits on, or "".
func (m *Model) UserCode() string {
	if m.device == nil {
		return ""
	}
	return m.device.UserCode
}
