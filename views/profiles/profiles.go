// Package profiles is the profile list: filter, kind badge, last result and
// age, the import prompt, the selected profile's detail pane (detail.go),
// and the actions on the selected profile (emitted as messages; the root
// model does the work).
package profiles

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/ui"
)

// Row is one profile as the list shows it. The root model builds rows once
// when the store is read, so View never decodes or sorts.
type Row struct {
	Name    string
	Kind    string
	Demo    bool
	LastRun time.Time // zero: never run
	LastOK  bool
	LastErr string
	lower   string
}

// LastRun is the outcome of a profile's latest run.
type LastRun struct {
	At     time.Time
	OK     bool
	Reason string
}

// SetLastRuns fills the last-run columns in place (no refilter, no sort).
func (m *Model) SetLastRuns(runs map[string]LastRun) {
	for i := range m.rows {
		if r, ok := runs[m.rows[i].Name]; ok {
			m.rows[i].LastRun, m.rows[i].LastOK, m.rows[i].LastErr = r.At, r.OK, r.Reason
		}
	}
}

// Action is what the user asked to do with a profile.
type Action string

const (
	ActRun       Action = "run"
	ActNew       Action = "new"
	ActEdit      Action = "edit"
	ActDuplicate Action = "duplicate"
	ActDelete    Action = "delete" // only sent after confirmation
	ActExport    Action = "export"
	ActImport    Action = "import" // Path is the export file to read
	ActHistory   Action = "history"
	ActInspect   Action = "inspect" // open the token inspector
	ActBench     Action = "bench"
	ActAudit     Action = "audit" // audit an API with the profile's token
	ActCheck     Action = "check" // check the profile's issuer (FAPI 2.0, RFC 9700)
	// ActTrust asks which secrets of the profile await confirmation; the
	// root answers with AskTrust. ActConfirmTrust is sent after y.
	ActTrust        Action = "trust"
	ActConfirmTrust Action = "confirm-trust"
)

// ActionMsg asks the root model to act on a profile.
type ActionMsg struct {
	Action Action
	Name   string
	Path   string
}

// KeyMap is the list's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Filter, ClearFilter                     key.Binding
	Run, New, Edit, Duplicate, Delete       key.Binding
	Export, Import, History, Trust          key.Binding
	Confirm, Cancel                         key.Binding
	// Inspect, Bench and Audit open other screens (Bench only when SetBench allows)
	Inspect, Bench, Audit, Check key.Binding
	// Pane shows or hides the selected profile's detail
	Pane key.Binding
}

// DefaultKeyMap is the list's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Run:         key.NewBinding(key.WithKeys("enter", "r"), key.WithHelp("enter", "run")),
		New:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new")),
		Edit:        key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		Duplicate:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "duplicate")),
		Delete:      key.NewBinding(key.WithKeys("d", "delete"), key.WithHelp("d", "delete")),
		Export:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export")),
		Import:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import")),
		History:     key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "history")),
		Trust:       key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "trust secrets")),
		Confirm:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		Cancel:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Inspect:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "inspect a token")),
		Bench:       key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "bench")),
		Audit:       key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "audit")),
		Check:       key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "check IdP")),
		Pane:        key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "detail")),
	}
}

// Model is the profile list.
type Model struct {
	ctx      *ui.Context
	keys     KeyMap
	rows     []Row
	shown    []int // indices into rows that pass the filter
	cursor   int   // index into shown
	offset   int   // first visible index into shown
	w, h     int
	filter   ui.Input
	filterOn bool
	confirm  string // profile awaiting delete confirmation
	trust    string // profile whose secrets await a y/n to be trusted
	trustMsg string // which secret goes to which host, as asked
	status   string
	loaded   bool // the store was read (until then the list says so)
	imp      importPrompt
	detail   *Detail // the selected profile's, once the root read it
	paneOn   bool
}

// New builds an empty list, reading until SetRows or SetLoaded.
func New(ctx *ui.Context) *Model {
	ti := ui.NewInput("filter", 128)
	ti.Prompt = "/"
	ti.Placeholder = "filter by name or kind"
	return &Model{ctx: ctx, keys: DefaultKeyMap(), filter: ti, imp: newImportPrompt(), paneOn: true}
}

// SetLoaded marks the store as read even when reading failed (the root
// model says why), so the list stops saying it is reading.
func (m *Model) SetLoaded() { m.loaded = true }

// SetBench offers bench (the b key) only when the root model can run one.
func (m *Model) SetBench(ok bool) { m.keys.Bench.SetEnabled(ok) }

// SetRows replaces the rows (already in display order) and keeps the
// selection on the same profile when it still exists.
func (m *Model) SetRows(rows []Row) {
	m.loaded = true
	sel := m.Selected()
	m.rows = rows
	for i := range m.rows {
		m.rows[i].lower = strings.ToLower(m.rows[i].Name + " " + m.rows[i].Kind)
	}
	m.refilter()
	if sel != "" {
		m.SelectName(sel)
	}
}

// SetLastRun records a run's outcome on its row in place, without refiltering.
func (m *Model) SetLastRun(name string, at time.Time, ok bool, reason string) {
	for i := range m.rows {
		if m.rows[i].Name == name {
			m.rows[i].LastRun, m.rows[i].LastOK, m.rows[i].LastErr = at, ok, reason
			return
		}
	}
}

// SelectName moves the cursor to the named profile if it is shown.
func (m *Model) SelectName(name string) {
	for i, ri := range m.shown {
		if m.rows[ri].Name == name {
			m.cursor = i
			m.scroll()
			return
		}
	}
}

// Len is how many profiles pass the filter.
func (m *Model) Len() int { return len(m.shown) }

// Selected is the selected profile's name, or "".
func (m *Model) Selected() string {
	if m.cursor < 0 || m.cursor >= len(m.shown) {
		return ""
	}
	return m.rows[m.shown[m.cursor]].Name
}

// SetStatus shows a one-line note under the list (export path, errors).
func (m *Model) SetStatus(s string) { m.status = s }

// Typing is part of ui.Typer: the filter or the import prompt has focus.
func (m *Model) Typing() bool { return m.filterOn || m.imp.on }

// Confirming reports whether a delete awaits y/n.
func (m *Model) Confirming() bool { return m.confirm != "" || m.trust != "" }

// AskTrust shows which secrets of profile name would go where (one line per
// secret, joined) and waits for y/n: y sends ActConfirmTrust.
func (m *Model) AskTrust(name, what string) {
	m.trust, m.trustMsg = name, what
}

func (m *Model) refilter() {
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	m.shown = m.shown[:0]
	for i := range m.rows {
		if q == "" || strings.Contains(m.rows[i].lower, q) {
			m.shown = append(m.shown, i)
		}
	}
	m.cursor = ui.Clamp(m.cursor, 0, max(0, len(m.shown)-1))
	m.scroll()
}

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.filter.Width = max(10, w-4)
	m.imp.input.Width = max(10, w-22)
	m.scroll()
}

// listHeight is the rows shown: less the header, filter/status and count
// lines, and the detail pane when it is below.
func (m *Model) listHeight() int { return max(1, m.h-3-m.paneHeight()) }

func (m *Model) scroll() {
	lh := m.listHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+lh {
		m.offset = m.cursor - lh + 1
	}
	m.offset = ui.Clamp(m.offset, 0, max(0, len(m.shown)-lh))
}

func (m *Model) act(a Action) tea.Cmd {
	name := m.Selected()
	if name == "" && a != ActNew && a != ActInspect {
		return nil
	}
	return func() tea.Msg { return ActionMsg{Action: a, Name: name} }
}

// Update handles keys for the list.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if m.imp.on {
		return m.imp.update(msg)
	}
	switch msg := msg.(type) {
	case tea.MouseMsg:
		if d := ui.Wheel(msg); d != 0 {
			m.move(d)
		}
		return nil
	case tea.KeyMsg:
		if m.trust != "" {
			switch {
			case key.Matches(msg, m.keys.Confirm):
				name := m.trust
				m.trust, m.trustMsg = "", ""
				return func() tea.Msg { return ActionMsg{Action: ActConfirmTrust, Name: name} }
			case key.Matches(msg, m.keys.Cancel):
				m.trust, m.trustMsg = "", ""
				m.status = "not confirmed: runs keep refusing those secrets"
			}
			return nil
		}
		if m.confirm != "" {
			switch {
			case key.Matches(msg, m.keys.Confirm):
				name := m.confirm
				m.confirm = ""
				return func() tea.Msg { return ActionMsg{Action: ActDelete, Name: name} }
			case key.Matches(msg, m.keys.Cancel):
				m.confirm = ""
				m.status = "delete cancelled"
			}
			return nil
		}
		if m.filterOn {
			switch msg.Type {
			case tea.KeyEsc:
				m.filterOn = false
				m.filter.Blur()
				m.filter.SetValue("")
				m.refilter()
				return nil
			case tea.KeyEnter:
				m.filterOn = false
				m.filter.Blur()
				return nil
			case tea.KeyUp, tea.KeyDown:
				// fall through to navigation below
			default:
				old := m.filter.Value()
				var cmd tea.Cmd
				cmd = m.filter.Update(msg)
				if m.filter.Value() != old {
					m.cursor, m.offset = 0, 0
					m.refilter()
				}
				return cmd
			}
		}
		switch {
		case key.Matches(msg, m.keys.Up):
			m.move(-1)
		case key.Matches(msg, m.keys.Down):
			m.move(1)
		case key.Matches(msg, m.keys.PageUp):
			m.move(-m.listHeight())
		case key.Matches(msg, m.keys.PageDown):
			m.move(m.listHeight())
		case key.Matches(msg, m.keys.Top):
			m.move(-len(m.shown))
		case key.Matches(msg, m.keys.Bottom):
			m.move(len(m.shown))
		case key.Matches(msg, m.keys.Filter):
			m.filterOn = true
			return m.filter.Focus()
		case key.Matches(msg, m.keys.ClearFilter):
			if m.filter.Value() != "" {
				m.filter.SetValue("")
				m.refilter()
			}
		case key.Matches(msg, m.keys.Run):
			return m.act(ActRun)
		case key.Matches(msg, m.keys.New):
			return m.act(ActNew)
		case key.Matches(msg, m.keys.Edit):
			return m.act(ActEdit)
		case key.Matches(msg, m.keys.Duplicate):
			return m.act(ActDuplicate)
		case key.Matches(msg, m.keys.Export):
			return m.act(ActExport)
		case key.Matches(msg, m.keys.Import):
			return m.StartImport()
		case key.Matches(msg, m.keys.Inspect):
			return m.act(ActInspect)
		case key.Matches(msg, m.keys.Bench):
			return m.act(ActBench)
		case key.Matches(msg, m.keys.Audit):
			return m.act(ActAudit)
		case key.Matches(msg, m.keys.Check):
			return m.act(ActCheck)
		case key.Matches(msg, m.keys.History):
			return m.act(ActHistory)
		case key.Matches(msg, m.keys.Pane):
			m.paneOn = !m.paneOn
			m.scroll()
		case key.Matches(msg, m.keys.Delete):
			if n := m.Selected(); n != "" {
				m.confirm = n
			}
		case key.Matches(msg, m.keys.Trust):
			if n := m.Selected(); n != "" {
				return func() tea.Msg { return ActionMsg{Action: ActTrust, Name: n} }
			}
		}
	}
	return nil
}

func (m *Model) move(d int) {
	if len(m.shown) == 0 {
		return
	}
	m.cursor = ui.Clamp(m.cursor+d, 0, len(m.shown)-1)
	m.scroll()
}

// badge is the short kind label shown in the list.
func badge(kind string) string {
	switch kind {
	case "client-credentials":
		return "CC"
	case "auth-code":
		return "CODE"
	case "device":
		return "DEVICE"
	case "token-exchange":
		return "EXCH"
	case "hmac":
		return "HMAC"
	case "mtls":
		return "MTLS"
	case "api-key":
		return "KEY"
	}
	return strings.ToUpper(ui.Truncate(kind, 6))
}

// View renders only the visible window of rows.
func (m *Model) View() string {
	t := m.ctx.Theme
	if !m.loaded {
		return t.Subtle.Render("reading profiles…")
	}
	now := m.ctx.Now()
	var b strings.Builder
	full := max(20, m.w)
	w := full
	if pw := m.paneWidth(); pw > 0 {
		w = full - pw - 3 // the pane and its " │ " separator
	}
	nameW := max(10, w-8-8-6-2-2)
	errW := 0
	if w >= 100 {
		// wide lists: room for the last error
		nameW = max(10, w/3)
		errW = w - nameW - 8 - 8 - 6 - 2 - 5
	}
	head := ui.Pad("KIND", 8) + " " + ui.Pad("PROFILE", nameW) + " " + ui.Pad("LAST", 6) + " " + ui.Pad("AGE", 5)
	if errW > 0 {
		head += " " + ui.Pad("NOTE", errW)
	}
	b.WriteString(t.Subtle.Render(ui.Truncate(head, w)))
	b.WriteByte('\n')
	lh := m.listHeight()
	if len(m.shown) == 0 {
		if len(m.rows) == 0 {
			b.WriteString(t.Subtle.Render("  no profiles yet — n creates one, or run `authlab demo`"))
		} else {
			b.WriteString(t.Subtle.Render("  no profile matches the filter"))
		}
		b.WriteByte('\n')
		lh--
	}
	end := min(len(m.shown), m.offset+lh)
	for i := m.offset; i < end; i++ {
		r := &m.rows[m.shown[i]]
		last := "-     "
		lastStyle := t.Subtle
		if !r.LastRun.IsZero() {
			if r.LastOK {
				last, lastStyle = "✓ ok  ", t.Pass
			} else {
				last, lastStyle = "✗ fail", t.Fail
			}
		}
		name := r.Name
		if r.Demo {
			name += " (demo)"
		}
		marker := "  "
		if i == m.cursor {
			marker = "> "
		}
		line := marker + t.Badge.Render(ui.Pad(badge(r.Kind), 6)) + " " +
			ui.Pad(name, nameW) + " " + lastStyle.Render(last) + " " + ui.Pad(ui.Age(now, r.LastRun), 5)
		if errW > 0 && r.LastErr != "" && !r.LastOK {
			line += " " + t.Subtle.Render(ui.Truncate(r.LastErr, errW))
		}
		if i == m.cursor {
			line = t.Selected.Render(line)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for i := end - m.offset; i < lh; i++ {
		b.WriteByte('\n')
	}
	m.withPane(&b, w, lh)
	w = full
	switch {
	case m.trust != "":
		b.WriteString(t.Warn.Render(ui.Truncate("Send "+m.trustMsg+"? y to confirm, n to keep refusing", w)))
	case m.confirm != "":
		b.WriteString(t.Warn.Render(ui.Truncate("Delete profile "+m.confirm+"? y to delete, n to keep", w)))
	case m.filterOn || m.filter.Value() != "":
		b.WriteString(m.filter.View())
	case m.status != "":
		b.WriteString(t.Subtle.Render(ui.Truncate(m.status, w)))
	}
	b.WriteByte('\n')
	if m.imp.on {
		// the prompt takes the count line's place
		b.WriteString(m.imp.input.View())
	} else {
		b.WriteString(t.Subtle.Render(countLine(m.cursor, len(m.shown), len(m.rows))))
	}
	return b.String()
}

func countLine(cur, shown, total int) string {
	if shown == 0 {
		return "0 profiles"
	}
	s := strconv.Itoa(cur+1) + "/" + strconv.Itoa(shown)
	if shown != total {
		s += " (of " + strconv.Itoa(total) + ")"
	}
	return s
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	if m.imp.on {
		return m.imp.help()
	}
	if m.confirm != "" || m.trust != "" {
		return []key.Binding{m.keys.Confirm, m.keys.Cancel}
	}
	if m.filterOn {
		return []key.Binding{m.keys.ClearFilter, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply"))}
	}
	return []key.Binding{m.keys.Run, m.keys.Filter, m.keys.New, m.keys.Edit, m.keys.Delete, m.keys.Pane, m.keys.Bench}
}

// NavHelp is part of ui.Navigator.
func (m *Model) NavHelp() []key.Binding { return []key.Binding{m.keys.Inspect, m.keys.Bench} }

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown, m.keys.Top, m.keys.Bottom},
		{m.keys.Run, m.keys.New, m.keys.Edit, m.keys.Duplicate, m.keys.Delete, m.keys.Audit, m.keys.Check},
		{m.keys.Filter, m.keys.ClearFilter, m.keys.Export, m.keys.Import, m.keys.History, m.keys.Trust, m.keys.Pane},
	}
}
