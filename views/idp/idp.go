// Package idp is the mock IdP panel: issuer, clients, every fault as a toggle
// or a small cycle of values, and the live request log from the IdP's event
// stream. It emits the faults the user picked; the root model applies them.
package idp

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/ui"
)

// Faults are the faults the panel edits (a view of mockidp.Faults).
type Faults struct {
	Skew          time.Duration
	Latency       time.Duration // on every endpoint
	ErrorEndpoint string        // endpoint answering with an error, "" for none
	ErrorCode     string        // OAuth error, e.g. server_error
	ErrorStatus   int
	JWKS          string // "", "503", "hang", "empty", "garbage"
	UnknownKey    bool
	AlgNone       bool
	Lifetime      time.Duration
	Expired       bool
	// DPoP (RFC 9449): a new nonce demanded on every proof; proofs ignored
	// and bearer tokens issued (to show the client's warning).
	DPoPNonceStorm bool
	DPoPBearerOnly bool
}

// Info is the IdP's identity and its current faults.
type Info struct {
	URL     string
	Issuer  string
	Clients []string
	Faults  Faults
	// DPoP: the IdP serves DPoP-bound clients, so the DPoP faults are
	// offered (they are also shown whenever one is on).
	DPoP bool
}

// Event is one line of the live request log.
type Event struct {
	Time     time.Time
	Method   string
	Path     string
	Endpoint string
	Status   int
	Client   string
	Error    string
	Fault    string
	Dropped  uint64
}

// ActionMsg asks the root model to change the IdP. Seq orders actions:
// commands deliver messages in any order, and a later key press must win.
type ActionMsg struct {
	Seq    int
	Faults *Faults // set these faults
	Rotate bool    // rotate the signing key now
	Reset  bool    // clear every fault
}

// MaxLog bounds the log kept in memory.
const MaxLog = 500

// endpoints whose errors the panel can switch.
func endpoints() []string {
	return []string{"token", "authorize", "jwks", "introspect", "revoke", "userinfo", "device_authorization", "discovery", "api"}
}

type item int

const (
	itSkew item = iota
	itLatency
	itErrors
	itJWKS
	itUnknownKey
	itAlgNone
	itLifetime
	itExpired
	itNonceStorm
	itBearerOnly
	itRotate
	itReset
)

// items are the rows shown, in order: the DPoP faults only for an IdP
// with DPoP clients or while one is on.
func (m *Model) items() []item {
	out := []item{itSkew, itLatency, itErrors, itJWKS, itUnknownKey, itAlgNone, itLifetime, itExpired}
	if f := m.info.Faults; m.info.DPoP || f.DPoPNonceStorm || f.DPoPBearerOnly {
		out = append(out, itNonceStorm, itBearerOnly)
	}
	return append(out, itRotate, itReset)
}

// current is the row under the cursor.
func (m *Model) current() item {
	its := m.items()
	return its[min(m.cursor, len(its)-1)]
}

// Model is the panel.
type Model struct {
	ctx    *ui.Context
	info   Info
	log    []Event
	cursor int // index into items()
	errEP  int
	w, h   int
	seq    int
	keys   struct{ up, down, toggle, left, right, plus, minus, rotate, reset key.Binding }
}

// Next numbers an action (also for actions started elsewhere, the palette).
func (m *Model) Next() int {
	m.seq++
	return m.seq
}

// Latest is the number of the newest action: the panel already shows what
// it asked for, so only the answer to it may replace the panel's faults.
func (m *Model) Latest() int { return m.seq }

// New builds the panel.
func New(ctx *ui.Context) *Model {
	m := &Model{ctx: ctx}
	m.keys.up = key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up"))
	m.keys.down = key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down"))
	m.keys.toggle = key.NewBinding(key.WithKeys("enter", " "), key.WithHelp("enter", "toggle/next value"))
	m.keys.left = key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/→", "endpoint"))
	m.keys.right = key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→", "endpoint"))
	m.keys.plus = key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "skew ±10s"))
	m.keys.minus = key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "skew -10s"))
	m.keys.rotate = key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "rotate key"))
	m.keys.reset = key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "reset faults"))
	return m
}

// SetInfo shows the IdP's identity and faults.
func (m *Model) SetInfo(i Info) { m.info = i }

// SetFaults shows the faults in force (after the IdP applied them).
func (m *Model) SetFaults(f Faults) { m.info.Faults = f }

// AddEvent appends to the live log (bounded).
func (m *Model) AddEvent(e Event) {
	m.log = append(m.log, e)
	if len(m.log) > MaxLog {
		m.log = append(m.log[:0:0], m.log[len(m.log)-MaxLog:]...)
	}
}

// Log is the live log (tests).
func (m *Model) Log() []Event { return m.log }

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

func cycleDur(cur time.Duration, vals []time.Duration) time.Duration {
	for i, v := range vals {
		if v == cur {
			return vals[(i+1)%len(vals)]
		}
	}
	return vals[0]
}

// send shows the new faults at once (keys pressed quickly build on each
// other) and asks the root model to apply them; its answer confirms.
func (m *Model) send(f Faults) tea.Cmd {
	m.info.Faults = f
	seq := m.Next()
	return func() tea.Msg { return ActionMsg{Seq: seq, Faults: &f} }
}

// Update handles the panel's keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	f := m.info.Faults
	switch {
	case key.Matches(k, m.keys.up):
		m.cursor = max(0, m.cursor-1)
	case key.Matches(k, m.keys.down):
		m.cursor = min(len(m.items())-1, m.cursor+1)
	case key.Matches(k, m.keys.rotate):
		seq := m.Next()
		return func() tea.Msg { return ActionMsg{Seq: seq, Rotate: true} }
	case key.Matches(k, m.keys.reset):
		seq := m.Next()
		return func() tea.Msg { return ActionMsg{Seq: seq, Reset: true} }
	case key.Matches(k, m.keys.plus) && m.current() == itSkew:
		f.Skew += 10 * time.Second
		return m.send(f)
	case key.Matches(k, m.keys.minus) && m.current() == itSkew:
		f.Skew -= 10 * time.Second
		return m.send(f)
	case (key.Matches(k, m.keys.left) || key.Matches(k, m.keys.right)) && m.current() == itErrors:
		n := len(endpoints())
		if key.Matches(k, m.keys.left) {
			m.errEP = (m.errEP + n - 1) % n
		} else {
			m.errEP = (m.errEP + 1) % n
		}
		if f.ErrorEndpoint != "" {
			f.ErrorEndpoint = endpoints()[m.errEP]
			return m.send(f)
		}
	case key.Matches(k, m.keys.toggle):
		switch m.current() {
		case itSkew:
			f.Skew = cycleDur(f.Skew, []time.Duration{0, 40 * time.Second, 120 * time.Second, -120 * time.Second})
		case itLatency:
			f.Latency = cycleDur(f.Latency, []time.Duration{0, 500 * time.Millisecond, 2 * time.Second})
		case itErrors:
			type e struct {
				code   string
				status int
			}
			seq := []e{{"", 0}, {"server_error", 500}, {"invalid_client", 401}, {"temporarily_unavailable", 503}}
			next := seq[0]
			for i, s := range seq {
				if s.code == f.ErrorCode && (f.ErrorEndpoint != "") == (s.code != "") {
					next = seq[(i+1)%len(seq)]
				}
			}
			if f.ErrorEndpoint == "" {
				next = seq[1]
			}
			f.ErrorCode, f.ErrorStatus = next.code, next.status
			f.ErrorEndpoint = ""
			if next.code != "" {
				f.ErrorEndpoint = endpoints()[m.errEP]
			}
		case itJWKS:
			modes := []string{"", "503", "hang", "empty", "garbage"}
			for i, s := range modes {
				if s == f.JWKS {
					f.JWKS = modes[(i+1)%len(modes)]
					break
				}
			}
		case itUnknownKey:
			f.UnknownKey = !f.UnknownKey
		case itAlgNone:
			f.AlgNone = !f.AlgNone
		case itLifetime:
			f.Lifetime = cycleDur(f.Lifetime, []time.Duration{0, 30 * time.Second, 5 * time.Second})
		case itExpired:
			f.Expired = !f.Expired
		case itNonceStorm:
			f.DPoPNonceStorm = !f.DPoPNonceStorm
		case itBearerOnly:
			f.DPoPBearerOnly = !f.DPoPBearerOnly
		case itRotate:
			seq := m.Next()
			return func() tea.Msg { return ActionMsg{Seq: seq, Rotate: true} }
		case itReset:
			seq := m.Next()
			return func() tea.Msg { return ActionMsg{Seq: seq, Reset: true} }
		}
		return m.send(f)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "off"
}

func dur(d time.Duration, zero string) string {
	if d == 0 {
		return zero
	}
	s := d.String()
	if d > 0 {
		s = "+" + s
	}
	return s
}

func (m *Model) rows() []string {
	f := m.info.Faults
	errs := "off"
	if f.ErrorEndpoint != "" {
		errs = fmt.Sprintf("%s → %d %s", f.ErrorEndpoint, f.ErrorStatus, f.ErrorCode)
	} else {
		errs = "off (endpoint: " + endpoints()[m.errEP] + ")"
	}
	jwks := f.JWKS
	if jwks == "" {
		jwks = "up"
	}
	lt := "configured"
	if f.Lifetime > 0 {
		lt = f.Lifetime.String()
	}
	text := map[item]string{
		itSkew:       "Clock skew        " + dur(f.Skew, "none"),
		itLatency:    "Latency (all)     " + dur(f.Latency, "none"),
		itErrors:     "Errors            " + errs,
		itJWKS:       "JWKS              " + jwks,
		itUnknownKey: "Sign w/ wrong key " + onOff(f.UnknownKey),
		itAlgNone:    "Unsigned (none)   " + onOff(f.AlgNone),
		itLifetime:   "Token lifetime    " + lt,
		itExpired:    "Expired tokens    " + onOff(f.Expired),
		itNonceStorm: "DPoP nonce storm  " + onOff(f.DPoPNonceStorm),
		itBearerOnly: "DPoP bearer-only  " + onOff(f.DPoPBearerOnly),
		itRotate:     "Rotate signing key now",
		itReset:      "Reset all faults",
	}
	var out []string
	for _, it := range m.items() {
		out = append(out, text[it])
	}
	return out
}

func (m *Model) active(i item) bool {
	f := m.info.Faults
	switch i {
	case itSkew:
		return f.Skew != 0
	case itLatency:
		return f.Latency != 0
	case itErrors:
		return f.ErrorEndpoint != ""
	case itJWKS:
		return f.JWKS != ""
	case itUnknownKey:
		return f.UnknownKey
	case itAlgNone:
		return f.AlgNone
	case itLifetime:
		return f.Lifetime != 0
	case itExpired:
		return f.Expired
	case itNonceStorm:
		return f.DPoPNonceStorm
	case itBearerOnly:
		return f.DPoPBearerOnly
	}
	return false
}

// View shows identity, faults and the log (side by side when wide).
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	head := []string{
		t.Title.Render("Mock IdP") + "  " + t.Accent.Render(m.info.Issuer),
		t.Subtle.Render(ui.Truncate("clients: "+strings.Join(m.info.Clients, ", "), w)),
	}
	var faults []string
	faults = append(faults, t.Title.Render("FAULTS"))
	its := m.items()
	for i, r := range m.rows() {
		line := r
		active := m.active(its[i])
		if active {
			line = t.Warn.Render(r)
		}
		if i == m.cursor {
			line = t.Selected.Render("> " + r)
		} else {
			line = "  " + line
		}
		faults = append(faults, line)
	}
	logH := max(3, m.h-len(head)-1)
	logW := w
	side := w >= 110
	if side {
		logW = w - 46
	} else {
		logH = max(2, m.h-len(head)-len(faults)-1)
	}
	logLines := []string{t.Title.Render("LIVE REQUEST LOG")}
	start := max(0, len(m.log)-(logH-1))
	for _, e := range m.log[start:] {
		st := t.Pass
		switch {
		case e.Status >= 500 || e.Status == 0:
			st = t.Fail
		case e.Status >= 400:
			st = t.Warn
		}
		line := e.Time.UTC().Format("15:04:05") + " " + st.Render(fmt.Sprintf("%3d", e.Status)) + " " + ui.Pad(e.Method, 4) + " " + e.Path
		extra := ""
		if e.Client != "" {
			extra += " " + e.Client
		}
		if e.Error != "" {
			extra += " " + e.Error
		}
		if e.Fault != "" {
			extra += " [fault " + e.Fault + "]"
		}
		if e.Dropped > 0 {
			extra += fmt.Sprintf(" (%d missed)", e.Dropped)
		}
		logLines = append(logLines, ui.Truncate(line+t.Subtle.Render(extra), logW+40))
	}
	if len(m.log) == 0 {
		logLines = append(logLines, t.Subtle.Render("no request yet — run a profile"))
	}
	out := append([]string{}, head...)
	out = append(out, "")
	if side {
		for i := 0; i < max(len(faults), len(logLines)); i++ {
			l, r := "", ""
			if i < len(faults) {
				l = faults[i]
			}
			if i < len(logLines) {
				r = logLines[i]
			}
			out = append(out, ui.Pad(l, 44)+"  "+r)
		}
	} else {
		out = append(out, faults...)
		out = append(out, logLines...)
	}
	return strings.Join(out, "\n")
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	hs := []key.Binding{m.keys.toggle, m.keys.down}
	if m.current() == itSkew {
		hs = append(hs, m.keys.plus)
	}
	if m.current() == itErrors {
		hs = append(hs, m.keys.left)
	}
	return append(hs, m.keys.reset)
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.up, m.keys.down, m.keys.toggle}, {m.keys.plus, m.keys.minus, m.keys.left, m.keys.right}, {m.keys.rotate, m.keys.reset}}
}
