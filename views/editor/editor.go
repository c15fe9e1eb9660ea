// Package editor is the profile form: every field of a profile's kind
// (text, choices that cycle, toggles, JSON, k=v lists), inline validation,
// masked secrets (a stored one only as its placeholder), "fill from
// discovery", and scrolling that keeps the focused field in view.
package editor

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/ui"
)

// Form is the editor's content: field values by key (the store's JSON names;
// secrets under their secret kind: client_secret, hmac_key, api_key).
type Form struct {
	Name   string
	Kind   string
	Fields map[string]string
}

type (
	// SaveMsg asks the root model to save the form (Original is the name it
	// was loaded under, "" for a new profile).
	SaveMsg struct {
		Form     Form
		Original string
	}
	// DiscoverMsg asks the root model to fill endpoints from the issuer.
	DiscoverMsg struct{ Form Form }
	// CancelMsg leaves the editor.
	CancelMsg struct{}
	// ErrorMsg shows a save or discovery error in the form.
	ErrorMsg struct{ Err error }
	// FilledMsg fills fields (from discovery).
	FilledMsg struct{ Fields map[string]string }
)

// storedPrefix starts the placeholder of a secret the store keeps: the
// form never holds the value itself, so there is nothing to reveal.
const storedPrefix = "<stored secret"

func isPlaceholder(v string) bool { return strings.HasPrefix(v, storedPrefix) }

// textual: the field is edited in a text input.
func textual(t ftype) bool { return t != tChoice && t != tToggle }

// Model is the editor.
type Model struct {
	ctx      *ui.Context
	original string
	kind     string
	fields   []field
	inputs   []ui.Input // one per field; choices and toggles leave theirs unused
	values   map[string]string
	focus    int
	offset   int // first form line shown when the form is taller than the screen
	reveal   bool
	errs     map[string]string
	banner   string
	w, h     int
	keys     struct{ next, prev, save, cancel, reveal, discover, change, toggle, dpop key.Binding }
}

// New builds an empty editor.
func New(ctx *ui.Context) *Model {
	m := &Model{ctx: ctx}
	m.keys.next = key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next"))
	m.keys.prev = key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "prev"))
	m.keys.save = key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "save"))
	m.keys.cancel = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	m.keys.reveal = key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "reveal typed"))
	m.keys.discover = key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "discover"))
	m.keys.change = key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "change"))
	m.keys.toggle = key.NewBinding(key.WithKeys(" ", "space"), key.WithHelp("space", "toggle"))
	m.keys.dpop = key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "DPoP on/off"))
	return m
}

// Load shows a form; original is the profile's current name ("" for new).
func (m *Model) Load(f Form, original string) {
	m.original = original
	m.values = map[string]string{}
	for k, v := range f.Fields {
		m.values[k] = v
	}
	m.values["notes"] = escapeNotes(f.Fields["notes"])
	m.values["name"] = f.Name
	m.reveal = false
	m.banner = ""
	m.fields, m.inputs = nil, nil
	m.build(f.Kind)
	m.focus, m.offset = 0, 0
	m.focusInput()
	m.validate()
}

// dpopOn reports whether the form sets DPoP.
func (m *Model) dpopOn() bool { return m.values["dpop"] == "true" && oauthKind(m.kind) }

// build makes the inputs for a kind, keeping values typed so far.
func (m *Model) build(kind string) {
	m.collect()
	m.kind = kind
	m.values["kind"] = kind
	m.fields = fieldsFor(kind, m.dpopOn())
	m.inputs = make([]ui.Input, len(m.fields))
	for i, f := range m.fields {
		ti := ui.NewInput(strings.ToLower(f.label), 4096)
		ti.Prompt = ""
		if textual(f.typ) {
			ti.SetValue(m.values[f.key])
		}
		m.inputs[i] = ti
	}
	m.applyEcho()
	m.resize()
}

func (m *Model) collect() {
	if m.values == nil {
		m.values = map[string]string{}
	}
	for i, f := range m.fields {
		if i < len(m.inputs) && textual(f.typ) {
			m.values[f.key] = m.inputs[i].Value()
		}
	}
}

// applyEcho masks typed secrets (unless revealed); a stored secret's
// placeholder shows as it is.
func (m *Model) applyEcho() {
	for i, f := range m.fields {
		if f.typ != tSecret {
			continue
		}
		if m.reveal || isPlaceholder(m.inputs[i].Value()) {
			m.inputs[i].EchoMode = textinput.EchoNormal
		} else {
			m.inputs[i].EchoMode = textinput.EchoPassword
			m.inputs[i].EchoCharacter = '•'
		}
	}
}

func (m *Model) focusInput() {
	for i := range m.inputs {
		if i == m.focus && textual(m.fields[i].typ) {
			m.inputs[i].Focus()
		} else {
			m.inputs[i].Blur()
		}
	}
}

// Typing is part of ui.Typer: keys always go to the form (q, ? type text,
// esc cancels).
func (m *Model) Typing() bool { return true }

// Form is the current content: every field the form shows (name and kind
// apart), so a saver can keep what it does not show.
func (m *Model) Form() Form {
	m.collect()
	f := Form{Name: strings.TrimSpace(m.values["name"]), Kind: m.kind, Fields: map[string]string{}}
	for _, fl := range m.fields {
		v := m.values[fl.key]
		switch fl.typ {
		case tNotes:
			v = unescapeNotes(v)
		case tToggle:
			if v != "true" {
				v = ""
			}
		default:
			v = strings.TrimSpace(v)
		}
		if fl.key != "name" && fl.key != "kind" {
			f.Fields[fl.key] = v
		}
	}
	return f
}

// Errors are the inline validation errors by field key.
func (m *Model) Errors() map[string]string { return m.errs }

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.resize()
}

func (m *Model) resize() {
	for i := range m.inputs {
		m.inputs[i].Width = max(10, m.w-24)
	}
}

func validURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http(s) URL with a host"
	}
	return ""
}

// validate computes inline errors; the store validates again on save.
func (m *Model) validate() {
	m.collect()
	e := map[string]string{}
	val := func(k string) string { return strings.TrimSpace(m.values[k]) }
	name := val("name")
	switch {
	case name == "":
		e["name"] = "required"
	case strings.ContainsAny(name, " /\\\t\n"):
		e["name"] = "no spaces or slashes"
	}
	for _, f := range m.fields {
		v := val(f.key)
		switch {
		case strings.HasSuffix(f.key, "_url") || f.key == "issuer":
			if msg := validURL(v); msg != "" {
				e[f.key] = msg
			}
		case f.typ == tNumber && v != "":
			if n, err := strconv.Atoi(v); err != nil || n < 0 || (f.key == "redirect_port" && n > 65535) {
				e[f.key] = "a whole number, 0 or more"
				if f.key == "redirect_port" {
					e[f.key] = "a port number 0-65535"
				}
			}
		case f.typ == tJSON:
			if msg := JSONProblem(f.key, v); msg != "" {
				e[f.key] = msg
			}
		case f.typ == tChoice && v != "" && f.key != "kind":
			if !contains(f.choices, v) {
				e[f.key] = "one of " + strings.Join(nonEmpty(f.choices), ", ")
			}
		case f.key == "extra_params":
			if _, err := ParseParams(v); err != nil {
				e[f.key] = err.Error()
			}
		case f.key == "tags" && strings.Contains(v, ","):
			e[f.key] = "space separated, no commas"
		}
	}
	if oauthKind(m.kind) {
		if val("issuer") == "" && val("token_url") == "" {
			e["issuer"] = "an issuer or a token URL is required"
		}
		if val("client_id") == "" {
			e["client_id"] = "required"
		}
	}
	if m.kind == "mtls" && (val("cert_file") == "" || val("key_file") == "") {
		e["cert_file"] = "mTLS needs a client certificate and key"
	}
	if m.kind == "api-key" && val("api_key_header") != "" && val("api_key_query") != "" {
		e["api_key_query"] = "a header or a query parameter, not both"
	}
	if m.kind == "hmac" && val("hmac.scheme") == "aws-sigv4" {
		for _, k := range []string{"hmac.region", "hmac.service", "hmac.access_key"} {
			if val(k) == "" {
				e[k] = "aws-sigv4 needs a region, a service and an access key ID"
			}
		}
	}
	if m.kind == "hmac" && val("hmac_key") == "" {
		e["hmac_key"] = "required"
	}
	m.errs = e
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func nonEmpty(list []string) []string {
	var out []string
	for _, x := range list {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (m *Model) index(k string) int {
	for i, f := range m.fields {
		if f.key == k {
			return i
		}
	}
	return -1
}

// firstError is the first bad field in form order, as "label: problem".
func (m *Model) firstError() string {
	for _, f := range m.fields {
		if msg, ok := m.errs[f.key]; ok {
			return f.label + ": " + msg
		}
	}
	return ""
}

// Update handles the form's keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ErrorMsg:
		m.banner = msg.Err.Error()
		return nil
	case FilledMsg:
		for i, f := range m.fields {
			if v := msg.Fields[f.key]; v != "" && textual(f.typ) {
				m.inputs[i].SetValue(v)
			}
		}
		m.validate()
		m.banner = "endpoints filled from discovery"
		return nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return nil
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.cancel):
		return func() tea.Msg { return CancelMsg{} }
	case key.Matches(msg, m.keys.next):
		m.focus = (m.focus + 1) % len(m.fields)
		m.focusInput()
		return nil
	case key.Matches(msg, m.keys.prev):
		m.focus = (m.focus + len(m.fields) - 1) % len(m.fields)
		m.focusInput()
		return nil
	case key.Matches(msg, m.keys.reveal):
		m.reveal = !m.reveal
		m.applyEcho()
		return nil
	case key.Matches(msg, m.keys.dpop):
		m.toggleDPoP()
		return nil
	case key.Matches(msg, m.keys.save):
		m.validate()
		if len(m.errs) > 0 {
			m.banner = "fix the fields marked ✗ first: " + m.firstError()
			return nil
		}
		f, orig := m.Form(), m.original
		return func() tea.Msg { return SaveMsg{Form: f, Original: orig} }
	case key.Matches(msg, m.keys.discover):
		m.collect()
		if strings.TrimSpace(m.values["issuer"]) == "" {
			m.banner = "type an issuer URL first"
			return nil
		}
		m.banner = "discovering…"
		f := m.Form()
		return func() tea.Msg { return DiscoverMsg{Form: f} }
	}
	f := m.fields[m.focus]
	switch f.typ {
	case tChoice:
		d := 0
		switch {
		case msg.Type == tea.KeyLeft:
			d = -1
		case msg.Type == tea.KeyRight, key.Matches(msg, m.keys.toggle):
			d = 1
		}
		if d == 0 {
			return nil
		}
		next := cycle(f.choices, m.values[f.key], d)
		if f.key == "kind" {
			m.build(next)
		} else {
			m.values[f.key] = next
		}
		m.focusInput()
		m.validate()
		return nil
	case tToggle:
		if msg.Type != tea.KeyLeft && msg.Type != tea.KeyRight && msg.Type != tea.KeyEnter && !key.Matches(msg, m.keys.toggle) {
			return nil
		}
		if f.key == "dpop" {
			m.toggleDPoP()
			return nil
		}
		if m.values[f.key] == "true" {
			m.values[f.key] = ""
		} else {
			m.values[f.key] = "true"
		}
		m.validate()
		return nil
	}
	in := &m.inputs[m.focus]
	if f.typ == tSecret && isPlaceholder(in.Value()) {
		// The placeholder is not text to edit: typing replaces the stored
		// secret, deleting removes it (on save).
		switch msg.Type {
		case tea.KeyRunes, tea.KeySpace:
			in.SetValue("")
		case tea.KeyBackspace, tea.KeyDelete, tea.KeyCtrlU, tea.KeyCtrlK, tea.KeyCtrlW:
			in.SetValue("")
			m.banner = f.label + ": the stored secret is removed when you save (esc keeps it)"
			m.applyEcho()
			m.validate()
			return nil
		}
	}
	cmd := in.Update(msg)
	m.applyEcho()
	m.validate()
	return cmd
}

// cycle steps through choices from cur (an unknown cur starts at the first).
func cycle(choices []string, cur string, d int) string {
	for i, c := range choices {
		if c == cur {
			return choices[(i+d+len(choices))%len(choices)]
		}
	}
	return choices[0]
}

// toggleDPoP turns the profile's DPoP on or off, keeping the focused
// field and what was typed in the DPoP fields.
func (m *Model) toggleDPoP() {
	if !oauthKind(m.kind) {
		m.banner = "DPoP applies to OAuth profiles"
		return
	}
	m.collect()
	focused := m.fields[m.focus].key
	if m.dpopOn() {
		m.values["dpop"] = ""
		m.banner = "DPoP off: tokens are requested without proofs"
	} else {
		m.values["dpop"] = "true"
		m.banner = "DPoP on: every token request carries a proof; tokens are bound to the key"
	}
	m.build(m.kind)
	m.focus = max(0, m.index(focused))
	m.focusInput()
	m.validate()
}

// value renders a field's value as the form shows it.
func (m *Model) value(i int) string {
	t := m.ctx.Theme
	f := m.fields[i]
	switch f.typ {
	case tChoice:
		v := m.values[f.key]
		if v == "" {
			v = t.Subtle.Render(f.unset)
		}
		return "‹ " + v + " ›"
	case tToggle:
		if m.values[f.key] == "true" {
			return "[x] on"
		}
		return "[ ] off"
	}
	return m.inputs[i].View()
}

// hint is the line under the focused field.
func (m *Model) hint(i int) string {
	f := m.fields[i]
	if f.typ == tSecret && isPlaceholder(m.inputs[i].Value()) {
		return "stored, never shown · type to replace · backspace removes"
	}
	return f.hint
}

// View renders the form with inline errors and hints; a form taller than
// the screen scrolls to keep the focused field (and its hint) in view.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(40, m.w)
	title := "New profile"
	if m.original != "" {
		title = "Edit " + m.original
	}
	head := t.Title.Render(title) + t.Subtle.Render(" · field "+strconv.Itoa(m.focus+1)+"/"+strconv.Itoa(len(m.fields)))
	var body []string
	start, end := 0, 0 // the focused field's lines, its section heading included
	for i, f := range m.fields {
		if i == m.focus {
			start = len(body)
		}
		if f.section != "" && (i == 0 || m.fields[i-1].section != f.section) {
			body = append(body, "  "+t.Subtle.Render("── "+f.section+" ──"))
		}
		label := ui.Pad(f.label, 18)
		mark := "  "
		if i == m.focus {
			mark = t.Accent.Render("> ")
			label = t.Key.Render(label)
		}
		body = append(body, mark+label+" "+m.value(i))
		if msg, ok := m.errs[f.key]; ok {
			body = append(body, "  "+ui.Pad("", 18)+" "+t.Fail.Render(ui.Truncate("✗ "+msg, w-22)))
		} else if h := m.hint(i); i == m.focus && h != "" {
			body = append(body, "  "+ui.Pad("", 18)+" "+t.Subtle.Render(ui.Truncate(h, w-22)))
		}
		if i == m.focus {
			end = len(body)
		}
	}
	var foot []string
	if m.banner != "" {
		foot = []string{"", t.Warn.Render(ui.Truncate(m.banner, w))}
	}
	out := []string{head}
	room := m.h - 1 - len(foot)
	if m.h > 0 && len(body) > room && room >= 3 {
		// A line above and below says what is cut off; at the top the
		// line above is not needed.
		rows := room - 2
		if start < m.offset {
			m.offset = start
		}
		if end > m.offset+rows {
			m.offset = end - rows
		}
		m.offset = ui.Clamp(m.offset, 0, len(body)-rows)
		var above []string
		if m.offset > 0 {
			above = []string{t.Subtle.Render("  ↑ " + strconv.Itoa(m.offset) + " more lines")}
		} else {
			rows++
		}
		below := ""
		if n := len(body) - m.offset - rows; n > 0 {
			below = t.Subtle.Render("  ↓ " + strconv.Itoa(n) + " more lines")
		}
		body = append(append(above, body[m.offset:m.offset+rows]...), below)
	} else {
		m.offset = 0
	}
	out = append(append(out, body...), foot...)
	return strings.Join(out, "\n")
}

// ShortHelp is part of ui.Component: the keys of the focused field first.
func (m *Model) ShortHelp() []key.Binding {
	hs := []key.Binding{m.keys.save, m.keys.next, m.keys.prev}
	if len(m.fields) > 0 {
		switch f := m.fields[m.focus]; {
		case f.typ == tChoice:
			hs = append(hs, m.keys.change)
		case f.typ == tToggle:
			hs = append(hs, m.keys.toggle)
		case f.typ == tSecret:
			hs = append(hs, m.keys.reveal)
		case f.key == "issuer":
			hs = append(hs, m.keys.discover)
		}
	}
	return append(hs, m.keys.cancel)
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.next, m.keys.prev, m.keys.change, m.keys.toggle}, {m.keys.save, m.keys.reveal, m.keys.discover, m.keys.dpop, m.keys.cancel}}
}
