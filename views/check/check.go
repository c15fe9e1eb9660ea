// Package check is the Check screen: a profile's issuer measured against
// the FAPI 2.0 Security Profile or the OAuth 2.0 Security BCP (RFC 9700)
// by flows/check, as `authlab check` does: each item pass, warn or fail,
// what was seen and the section it comes from. It does no I/O: the root
// model runs the check and feeds it.
package check

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	fcheck "authlab/flows/check"
	"authlab/views/render"
	"authlab/views/ui"
)

// Action is what the user asked for; the root model performs it.
type Action string

const (
	ActRun    Action = "run"    // check Profile's issuer against Mode
	ActCancel Action = "cancel" // stop the running check
	ActExport Action = "export" // write the report as JSON
)

// ActionMsg asks the root model to act on the check. RunID is the check on
// screen when the user asked.
type ActionMsg struct {
	Action  Action
	RunID   int
	Profile string
	Mode    string // fcheck.ProfileFAPI2 or fcheck.ProfileBCP
}

// KeyMap is the Check screen's keys.
type KeyMap struct {
	FAPI2, BCP, Rerun, Cancel, Export key.Binding
	Up, Down, PageUp, PageDown        key.Binding
}

// DefaultKeyMap is the Check screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		FAPI2:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f/b", "FAPI 2.0/BCP")),
		BCP:      key.NewBinding(key.WithKeys("b")),
		Rerun:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rerun")),
		Cancel:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c/esc", "cancel")),
		Export:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
	}
}

// Phase is where the check is.
type Phase int

const (
	Idle    Phase = iota // nothing asked yet
	Running              // metadata being read
	Done                 // the report is in, or why there is none (Err)
	Refused              // the profile has no issuer to check
)

// Model is the Check screen.
type Model struct {
	ctx     *ui.Context
	keys    KeyMap
	phase   Phase
	id      int
	profile string
	issuer  string
	mode    string
	report  *fcheck.Report
	err     string
	note    string
	cursor  int
	offset  int
	w, h    int
}

// New builds an empty Check screen.
func New(ctx *ui.Context) *Model {
	return &Model{ctx: ctx, keys: DefaultKeyMap(), mode: fcheck.ProfileFAPI2}
}

// ID is the check on screen; messages of other checks are stale.
func (m *Model) ID() int { return m.id }

// Phase reports where the check is.
func (m *Model) Phase() Phase { return m.phase }

// Mode is what the issuer is checked against: fapi2 or bcp.
func (m *Model) Mode() string { return m.mode }

// Report is the finished report, or nil.
func (m *Model) Report() *fcheck.Report { return m.report }

// Open shows profile's issuer, about to be checked against mode (fapi2
// when empty); the root model calls Begin when it starts.
func (m *Model) Open(profile, issuer, mode string) {
	if mode == "" {
		mode = fcheck.ProfileFAPI2
	}
	*m = Model{ctx: m.ctx, keys: m.keys, w: m.w, h: m.h, id: m.id, phase: Idle,
		profile: profile, issuer: issuer, mode: mode}
}

// Refuse shows why profile cannot be checked.
func (m *Model) Refuse(profile, why string) {
	*m = Model{ctx: m.ctx, keys: m.keys, w: m.w, h: m.h, id: m.id, mode: m.mode,
		profile: profile, phase: Refused, err: why}
}

// Begin marks check id of mode as running.
func (m *Model) Begin(id int, mode string) {
	m.id, m.mode, m.phase = id, mode, Running
	m.report, m.err, m.note = nil, "", ""
}

// Finish shows the report, or err when no metadata could be read.
func (m *Model) Finish(r *fcheck.Report, err error) {
	m.phase, m.report, m.note = Done, r, ""
	switch {
	case err != nil:
		m.err = err.Error()
	case r == nil:
		m.err = "the check returned no report"
	}
	m.cursor = ui.Clamp(m.cursor, 0, max(0, m.items()-1))
}

// SetNote shows a one-line note (the export's path, "cancelling…").
func (m *Model) SetNote(s string) { m.note = s }

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

func (m *Model) items() int {
	if m.report == nil {
		return 0
	}
	return len(m.report.Checks)
}

func (m *Model) ask(a Action, mode string) tea.Cmd {
	msg := ActionMsg{Action: a, RunID: m.id, Profile: m.profile, Mode: mode}
	return func() tea.Msg { return msg }
}

// Update is part of ui.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		if d := ui.Wheel(msg); d != 0 {
			m.move(d)
		}
	case tea.KeyMsg:
		if m.phase == Refused {
			return nil
		}
		switch {
		case key.Matches(msg, m.keys.Up):
			m.move(-1)
		case key.Matches(msg, m.keys.Down):
			m.move(1)
		case key.Matches(msg, m.keys.PageUp):
			m.move(-m.rows())
		case key.Matches(msg, m.keys.PageDown):
			m.move(m.rows())
		case m.phase == Running && key.Matches(msg, m.keys.Cancel):
			return m.ask(ActCancel, m.mode)
		case m.phase == Running:
		case key.Matches(msg, m.keys.FAPI2):
			return m.ask(ActRun, fcheck.ProfileFAPI2)
		case key.Matches(msg, m.keys.BCP):
			return m.ask(ActRun, fcheck.ProfileBCP)
		case key.Matches(msg, m.keys.Rerun):
			return m.ask(ActRun, m.mode)
		case key.Matches(msg, m.keys.Export):
			if m.report == nil {
				m.note = "nothing to export: the check did not finish"
				return nil
			}
			return m.ask(ActExport, m.mode)
		}
	}
	return nil
}

// Back is part of ui.Backer: esc cancels a running check first.
func (m *Model) Back() (tea.Cmd, bool) {
	if m.phase == Running {
		return m.ask(ActCancel, m.mode), true
	}
	return nil, false
}

func (m *Model) move(d int) {
	if n := m.items(); n > 0 {
		m.cursor = ui.Clamp(m.cursor+d, 0, n-1)
	}
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	switch m.phase {
	case Running:
		return []key.Binding{m.keys.Cancel}
	case Done:
		return []key.Binding{m.keys.FAPI2, m.keys.Rerun, m.keys.Export, m.keys.Up}
	}
	return nil
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown},
		{m.keys.FAPI2, m.keys.Rerun, m.keys.Cancel, m.keys.Export},
	}
}

// ---- view ----

// fixed lines: title, issuer, summary, table head; below the table a
// blank, the selected item's name, its detail (detailLines), its
// reference, the note.
const (
	headLines   = 4
	detailLines = 3
	footLines   = 1 + 1 + detailLines + 1 + 1
)

// rows is how many items the table shows at once.
func (m *Model) rows() int { return max(1, m.h-headLines-footLines) }

// View is part of ui.Component.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	var out []string
	add := func(s string) { out = append(out, ui.Truncate(s, w)) }
	add(t.Title.Render("Check "+m.profile) + t.Subtle.Render(" · against the ") + fcheck.ProfileTitle(m.mode))
	if m.phase == Refused {
		add("")
		add(t.Error.Render("cannot check: ") + m.err)
		return strings.Join(out, "\n")
	}
	add(t.Subtle.Render("issuer ") + render.Printable(m.issuer))
	switch {
	case m.phase == Running:
		add(t.Accent.Render("reading the metadata…"))
	case m.err != "":
		add(t.Error.Render("✗ " + m.err))
	case m.report != nil:
		add(m.summary())
	default:
		add("")
	}
	add(t.Subtle.Render(m.head(w)))
	rows := m.rows()
	m.scroll(rows)
	end := min(m.items(), m.offset+rows)
	for i := m.offset; i < end; i++ {
		add(m.row(i, w))
	}
	for i := end - m.offset; i < rows; i++ {
		out = append(out, "")
	}
	out = append(out, "")
	out = append(out, m.detail(w)...)
	add(t.Subtle.Render(m.note))
	return strings.Join(out, "\n")
}

// summary counts the items: "✗ 3 failed · 2 warnings · 4 passed", and
// the probes that could not be judged.
func (m *Model) summary() string {
	t := m.ctx.Theme
	var pass, warn, fail, other int
	for _, c := range m.report.Checks {
		switch c.Status {
		case flows.Pass:
			pass++
		case flows.Warn:
			warn++
		case flows.Fail:
			fail++
		default:
			other++
		}
	}
	counts := fmt.Sprintf("%d failed · %d warnings · %d passed", fail, warn, pass)
	if other > 0 {
		counts += fmt.Sprintf(" · %d skipped", other)
	}
	switch {
	case fail > 0:
		return t.Fail.Render("✗ does not meet the profile: " + counts)
	case warn > 0:
		return t.Warn.Render("! meets the profile, with warnings: " + counts)
	}
	return t.Pass.Render("✓ meets the profile: " + counts)
}

// column widths: status, name; the detail (when wide) and reference take the rest.
const (
	colStatus = 6
	colName   = 34
	colRef    = 46
)

// detailW is the detail column's width, 0 when the terminal is too narrow.
func detailW(w int) int {
	if w < 110 {
		return 0
	}
	return w - 2 - colStatus - 1 - colName - 1 - 1 - colRef
}

func (m *Model) head(w int) string {
	h := "  " + ui.Pad("STATUS", colStatus) + " " + ui.Pad("ITEM", colName)
	if dw := detailW(w); dw > 0 {
		h += " " + ui.Pad("DETAIL", dw)
	}
	return ui.Truncate(h+" REFERENCE", w)
}

func (m *Model) statusStyle(s flows.Status) (string, func(...string) string) {
	t := m.ctx.Theme
	switch s {
	case flows.Pass:
		return "✓ pass", t.Pass.Render
	case flows.Warn:
		return "! warn", t.Warn.Render
	case flows.Fail:
		return "✗ FAIL", t.Fail.Render
	}
	return "- " + string(s), t.Subtle.Render // skip: a probe that could not be judged
}

func (m *Model) row(i, w int) string {
	t := m.ctx.Theme
	c := m.report.Checks[i]
	label, style := m.statusStyle(c.Status)
	marker := "  "
	if i == m.cursor {
		marker = "> "
	}
	s := marker + style(ui.Pad(label, colStatus)) + " " + ui.Pad(render.Printable(c.Name), colName)
	if dw := detailW(w); dw > 0 {
		s += " " + ui.Pad(ui.Truncate(render.Printable(c.Detail), dw), dw)
	}
	s = ui.Truncate(s+" "+t.Subtle.Render(c.Reference), w)
	if i == m.cursor {
		s = t.Selected.Render(s)
	}
	return s
}

// detail is the selected item in full: its name, its detail wrapped on
// detailLines lines (the last cut), its reference.
func (m *Model) detail(w int) []string {
	t := m.ctx.Theme
	out := make([]string, 0, detailLines+2)
	if m.cursor < m.items() {
		c := m.report.Checks[m.cursor]
		label, style := m.statusStyle(c.Status)
		out = append(out, ui.Truncate("  "+style(label)+" "+t.Title.Render(render.Printable(c.Name)), w))
		lines := wrap(render.Printable(c.Detail), w-4)
		if len(lines) > detailLines {
			lines = lines[:detailLines]
			lines[detailLines-1] = ui.Truncate(lines[detailLines-1]+" …", w-4)
		}
		for _, l := range lines {
			out = append(out, ui.Truncate("    "+l, w))
		}
		for len(out) < 1+detailLines {
			out = append(out, "")
		}
		out = append(out, ui.Truncate("    "+t.Subtle.Render("reference ")+c.Reference, w))
	}
	for len(out) < detailLines+2 {
		out = append(out, "")
	}
	return out
}

func (m *Model) scroll(rows int) {
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+rows {
		m.offset = m.cursor - rows + 1
	}
	m.offset = ui.Clamp(m.offset, 0, max(0, m.items()-rows))
}

// wrap breaks s into lines of at most w cells at spaces (a longer word is
// cut by the caller's Truncate).
func wrap(s string, w int) []string {
	w = max(10, w)
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
