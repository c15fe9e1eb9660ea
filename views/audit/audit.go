// Package audit is the audit screen: which bad tokens does an API accept?
// A URL prompt (prefilled with the profile's call URL), then the cases of
// flows/audit filling in live with their verdicts, the expiry leeway on a
// gauge, the one-line summary, and the report exportable as JSON and
// Markdown. It does no I/O: the root model runs the audit and feeds it.
package audit

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	faudit "authlab/flows/audit"
	"authlab/views/ui"
)

// Action is what the user asked for; the root model performs it.
type Action string

const (
	ActStart  Action = "start"  // URL is the API under test
	ActCancel Action = "cancel" // stop the running audit
	ActExport Action = "export" // write the report as JSON and Markdown
	ActClose  Action = "close"  // leave the screen (esc in the prompt)
)

// ActionMsg asks the root model to act on the audit. RunID is the audit
// on screen when the user asked (0 before the first start).
type ActionMsg struct {
	Action  Action
	RunID   int
	Profile string
	URL     string
}

// KeyMap is the audit screen's keys.
type KeyMap struct {
	Start, Cancel, Export, EditURL key.Binding
	Up, Down                       key.Binding
	Submit, Leave                  key.Binding // in the URL prompt
}

// DefaultKeyMap is the audit screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Start:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run again")),
		Cancel:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c/esc", "cancel")),
		Export:  key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export JSON + Markdown")),
		EditURL: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "change URL")),
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Submit:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "start the audit")),
		Leave:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// Phase is where the audit is.
type Phase int

const (
	Prompt  Phase = iota // asking for the URL
	Running              // cases arriving
	Done                 // the report is in (or the audit stopped: Err)
	Refused              // the profile cannot be audited
)

// Model is the audit screen.
type Model struct {
	ctx      *ui.Context
	keys     KeyMap
	phase    Phase
	id       int
	profile  string
	url      string
	input    ui.Input
	cases    []faudit.Case
	leeway   *faudit.Leeway
	report   *faudit.Report
	step     string // the latest step while running
	requests int    // exchanges seen while running
	err      string
	note     string
	cursor   int
	offset   int
	w, h     int
}

// New builds an empty audit screen.
func New(ctx *ui.Context) *Model {
	in := ui.NewInput("URL", 2048)
	in.Prompt = "URL under test: "
	in.Placeholder = "https://api.example.com/orders"
	return &Model{ctx: ctx, keys: DefaultKeyMap(), input: in}
}

// ID is the audit on screen; messages of other audits are stale.
func (m *Model) ID() int { return m.id }

// Phase reports where the audit is.
func (m *Model) Phase() Phase { return m.phase }

// Profile is the profile on screen.
func (m *Model) Profile() string { return m.profile }

// Report is the finished report, or nil.
func (m *Model) Report() *faudit.Report { return m.report }

// Open shows the URL prompt for profile, prefilled with url.
func (m *Model) Open(profile, url string) tea.Cmd {
	m.profile, m.url = profile, url
	m.reset()
	m.phase = Prompt
	m.input.SetValue(url)
	m.input.CursorEnd()
	return m.input.Focus()
}

// Refuse shows why profile cannot be audited.
func (m *Model) Refuse(profile, why string) {
	m.profile = profile
	m.reset()
	m.phase, m.err = Refused, why
	m.input.Blur()
}

func (m *Model) reset() {
	m.cases, m.leeway, m.report = nil, nil, nil
	m.step, m.err, m.note = "", "", ""
	m.requests, m.cursor, m.offset = 0, 0, 0
}

// Begin marks audit id as started against url.
func (m *Model) Begin(id int, url string) {
	m.reset()
	m.id, m.url, m.phase = id, url, Running
	m.input.Blur()
}

// Step shows what the audit (or the flow getting its token) is doing.
func (m *Model) Step(name, detail string) {
	m.step = name
	if detail != "" {
		m.step += ": " + detail
	}
}

// Exchange counts one request.
func (m *Model) Exchange() { m.requests++ }

// Case adds a case with its verdict, as it finishes; a cursor on the
// newest case follows it.
func (m *Model) Case(c faudit.Case) {
	follow := m.cursor == len(m.cases)-1 || len(m.cases) == 0
	m.cases = append(m.cases, c)
	if follow {
		m.cursor = len(m.cases) - 1
	}
}

// Leeway shows the measured leeway.
func (m *Model) Leeway(l faudit.Leeway) { m.leeway = &l }

// Finish shows the report (its Err when the audit stopped).
func (m *Model) Finish(r *faudit.Report) {
	m.phase, m.step, m.note = Done, "", ""
	m.report = r
	if r == nil {
		m.err = "the audit returned no report"
		return
	}
	m.cases = r.Cases
	m.leeway = r.Leeway
	if r.Err != nil {
		m.err = r.Err.Error()
	}
	m.cursor = ui.Clamp(m.cursor, 0, max(0, len(m.cases)-1))
}

// SetNote shows a one-line note (export paths, errors).
func (m *Model) SetNote(s string) { m.note = s }

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.input.Width = max(10, w-len(m.input.Prompt)-2)
}

// Typing is part of ui.Typer: the URL prompt has focus.
func (m *Model) Typing() bool { return m.phase == Prompt }

func (m *Model) ask(a Action) tea.Cmd {
	msg := ActionMsg{Action: a, RunID: m.id, Profile: m.profile, URL: m.url}
	return func() tea.Msg { return msg }
}

// Update is part of ui.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if m.phase == Prompt {
		if k, ok := msg.(tea.KeyMsg); ok {
			switch {
			case key.Matches(k, m.keys.Submit):
				u := strings.TrimSpace(m.input.Value())
				if u == "" {
					m.note = "give the URL of the API to audit"
					return nil
				}
				m.url = u
				return m.ask(ActStart)
			case key.Matches(k, m.keys.Leave):
				m.input.Blur()
				return m.ask(ActClose)
			}
		}
		return m.input.Update(msg)
	}
	switch msg := msg.(type) {
	case tea.MouseMsg:
		if d := ui.Wheel(msg); d != 0 {
			m.move(d)
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			m.move(-1)
		case key.Matches(msg, m.keys.Down):
			m.move(1)
		case m.phase == Running && key.Matches(msg, m.keys.Cancel):
			return m.ask(ActCancel)
		case m.phase == Done && key.Matches(msg, m.keys.Export):
			if m.report == nil || m.report.Err != nil {
				m.note = "nothing to export: the audit did not finish"
				return nil
			}
			return m.ask(ActExport)
		case m.phase != Running && key.Matches(msg, m.keys.Start):
			if m.phase == Refused {
				return nil
			}
			return m.ask(ActStart)
		case m.phase != Running && m.phase != Refused && key.Matches(msg, m.keys.EditURL):
			return m.Open(m.profile, m.url)
		}
	}
	return nil
}

// Back is part of ui.Backer: esc cancels a running audit first.
func (m *Model) Back() (tea.Cmd, bool) {
	if m.phase == Running {
		return m.ask(ActCancel), true
	}
	return nil, false
}

func (m *Model) move(d int) {
	if len(m.cases) == 0 {
		return
	}
	m.cursor = ui.Clamp(m.cursor+d, 0, len(m.cases)-1)
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	switch m.phase {
	case Prompt:
		return []key.Binding{m.keys.Submit, m.keys.Leave}
	case Running:
		return []key.Binding{m.keys.Up, m.keys.Down, m.keys.Cancel}
	case Done:
		return []key.Binding{m.keys.Up, m.keys.Export, m.keys.Start, m.keys.EditURL}
	}
	return nil
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down},
		{m.keys.Start, m.keys.Cancel, m.keys.Export, m.keys.EditURL},
	}
}

// View is part of ui.Component.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	var b strings.Builder
	line := func(s string) { b.WriteString(ui.Truncate(s, w) + "\n") }
	line(t.Title.Render("Which bad tokens does this API accept?") + t.Subtle.Render(" · profile ") + m.profile)
	switch m.phase {
	case Prompt:
		line("")
		line(m.input.View())
		line("")
		for _, s := range []string{
			"The profile's flow gets a valid token; the URL must answer it and refuse a call",
			"without any token. Then each case is sent once, paced and bounded, to that host",
			"only; forged tokens never go anywhere else. Audit only APIs you may test.",
		} {
			line(t.Subtle.Render(s))
		}
		if m.note != "" {
			line("")
			line(t.Warn.Render(m.note))
		}
		return strings.TrimRight(b.String(), "\n")
	case Refused:
		line("")
		line(t.Error.Render("cannot audit: ") + m.err)
		return strings.TrimRight(b.String(), "\n")
	}
	line(t.Subtle.Render("target ") + m.url)
	status := ""
	switch {
	case m.phase == Running:
		status = t.Accent.Render("running") + t.Subtle.Render(fmt.Sprintf(" · %d cases · %d requests", len(m.cases), m.requests))
		if m.step != "" {
			status += t.Subtle.Render(" · " + m.step)
		}
	case m.err != "":
		status = t.Error.Render(m.err)
	case m.report != nil:
		st := t.Pass
		if m.report.Vulnerable() {
			st = t.Fail
		} else if _, should, _, _, _ := m.report.Counts(); should > 0 {
			st = t.Warn
		}
		status = st.Render(m.report.Summary())
	}
	line(status)
	// the table takes what the header, gauge, detail and note leave
	rows := max(1, m.h-8)
	line(t.Subtle.Render(m.tableHead(w)))
	m.scroll(rows)
	end := min(len(m.cases), m.offset+rows)
	for i := m.offset; i < end; i++ {
		line(m.row(i, w))
	}
	if len(m.cases) == 0 {
		line(t.Subtle.Render("  waiting for the baseline…"))
		end++
	}
	for i := end - m.offset; i < rows; i++ {
		b.WriteString("\n")
	}
	line(m.gauge(w))
	if m.cursor < len(m.cases) {
		c := m.cases[m.cursor]
		line(t.Subtle.Render(c.Name+": ") + ui.Truncate(c.Detail, w-len(c.Name)-2))
	} else {
		line("")
	}
	b.WriteString(ui.Truncate(t.Subtle.Render(m.note), w))
	return b.String()
}

func (m *Model) scroll(rows int) {
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+rows {
		m.offset = m.cursor - rows + 1
	}
	m.offset = ui.Clamp(m.offset, 0, max(0, len(m.cases)-rows))
}

// column widths: case, level, status, verdict; the reference (and, when
// wide, what was sent) take the rest.
const (
	colCase    = 22
	colLevel   = 6
	colStatus  = 6
	colVerdict = 14
)

func (m *Model) sentW(w int) int {
	if w < 110 {
		return 0
	}
	return w - 2 - colCase - colLevel - colStatus - colVerdict - 4 - 26
}

func (m *Model) tableHead(w int) string {
	h := "  " + ui.Pad("CASE", colCase) + " " + ui.Pad("LEVEL", colLevel) + " " + ui.Pad("STATUS", colStatus) + " " + ui.Pad("VERDICT", colVerdict)
	if sw := m.sentW(w); sw > 0 {
		h += " " + ui.Pad("SENT", sw)
	}
	return ui.Truncate(h+" REFERENCE", w)
}

func (m *Model) row(i, w int) string {
	t := m.ctx.Theme
	c := m.cases[i]
	status := "-"
	if c.Status != 0 {
		status = fmt.Sprint(c.Status)
	}
	verdict, st := string(c.Verdict), t.Subtle
	switch {
	case c.Verdict == faudit.Accepted && c.Level == faudit.Must:
		verdict, st = "✗ ACCEPTED", t.Fail
	case c.Verdict == faudit.Accepted || c.ServerError():
		verdict, st = "! "+verdict, t.Warn
	case c.Verdict == faudit.Rejected:
		verdict, st = "✓ rejected", t.Pass
	}
	marker := "  "
	if i == m.cursor {
		marker = "> "
	}
	s := marker + ui.Pad(c.Name, colCase) + " " + ui.Pad(string(c.Level), colLevel) + " " + ui.Pad(status, colStatus) + " " + st.Render(ui.Pad(verdict, colVerdict))
	if sw := m.sentW(w); sw > 0 {
		s += " " + ui.Pad(c.Sent, sw)
	}
	s = ui.Truncate(s+" "+t.Subtle.Render(c.Reference), w)
	if i == m.cursor {
		s = t.Selected.Render(s)
	}
	return s
}

// gaugeMax is the leeway probe's bound (flows/audit's default), the
// gauge's right end.
const gaugeMax = 3600

// gauge draws the leeway on a log scale of seconds past exp, 0 … 1 h, with
// the warning mark at 60 s: "leeway 0s [███│░░░░░░] 1h · 30 s after exp".
func (m *Model) gauge(w int) string {
	t := m.ctx.Theme
	r := m.report
	if m.leeway == nil {
		switch {
		case m.phase == Running:
			return t.Subtle.Render("leeway: measured after the cases (needs a signing key the API trusts)")
		case r != nil && r.Err == nil:
			return t.Subtle.Render(r.LeewayLine())
		}
		return t.Subtle.Render("leeway: not measured")
	}
	l := *m.leeway
	text := fmt.Sprintf("%d s after exp", l.ExpSeconds)
	if l.AtLeast {
		text = fmt.Sprintf("at least %d s after exp (the probe's bound)", l.ExpSeconds)
	}
	st := t.Pass
	if l.ExpSeconds > faudit.MaxAcceptableLeeway {
		st, text = t.Warn, text+fmt.Sprintf(" · over %d s is a warning", faudit.MaxAcceptableLeeway)
	}
	bw := min(40, max(10, w-len("leeway 0s [] 1h · ")-len(text)))
	pos := func(s int64) int {
		return int(math.Round(math.Log1p(float64(max(0, s))) / math.Log1p(gaugeMax) * float64(bw)))
	}
	n := min(bw, pos(l.ExpSeconds))
	mark := min(bw-1, pos(faudit.MaxAcceptableLeeway))
	cells := []rune(strings.Repeat("█", n) + strings.Repeat("░", bw-n))
	cells[mark] = '│'
	bar := st.Render(string(cells[:n])) + t.Subtle.Render(string(cells[n:]))
	if mark < n {
		bar = st.Render(string(cells))
	}
	return ui.Truncate("leeway 0s ["+bar+"] 1h · "+st.Render(text), w)
}
