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
	// a detail "header {…} claims {…}" decoded once (decodedNote), not per frame
	header, claims map[string]any
	decoded        bool
	summary        string // the one-line timeline's detail
}

// newStep is the timeline row of e, its detail decoded.
func newStep(e flows.StepEvent) step {
	s := step{name: e.Name, done: e.Done, ok: e.OK, detail: e.Detail, dur: e.Duration}
	s.header, s.claims, s.decoded = decodedNote(e.Detail)
	s.summary = summary(s)
	return s
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
	checks    []flows.Check // the result's checks, masked once at Finish
	reveal    render.Reveal // the tab (raw JSON, timeline) that shows tokens in clear
	scroll    int
	note      string
	w, h      int
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
		m.steps = append(m.steps, newStep(flows.StepEvent{Name: e.Name, Detail: e.Detail}))
		return
	}
	for i := len(m.steps) - 1; i >= 0; i-- {
		if m.steps[i].name == e.Name && !m.steps[i].done {
			m.steps[i] = newStep(e)
			return
		}
	}
	m.steps = append(m.steps, newStep(e))
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
		m.checks = maskChecks(m.mask, r.Checks)
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
		return m.reveal.On(int(m.tab), m.ctx.Now())
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
		m.reveal.Hide()
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
		m.reveal.Show(int(m.tab), until)
		ok = true
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
