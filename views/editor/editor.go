// Package editor is the profile form: fields per kind, inline validation,
// masked secrets with a reveal toggle, and "fill from discovery".
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

// Kinds in the order the kind field cycles through them.
func Kinds() []string {
	return []string{"client-credentials", "auth-code", "device", "token-exchange", "hmac", "mtls", "api-key"}
}

type field struct {
	key    string
	label  string
	secret bool
	hint   string
}

func fieldsFor(kind string) []field {
	f := []field{{key: "name", label: "Name"}, {key: "kind", label: "Kind", hint: "←/→ to change"}}
	oauth := []field{
		{key: "issuer", label: "Issuer URL", hint: "ctrl+d fills endpoints from discovery"},
		{key: "token_url", label: "Token URL"},
		{key: "client_id", label: "Client ID"},
		{key: "client_secret", label: "Client secret", secret: true, hint: "value, env:NAME or file:PATH"},
		{key: "auth_method", label: "Auth method", hint: "client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, none"},
		{key: "scopes", label: "Scopes", hint: "space separated · ctrl+o: DPoP (sender-constrained tokens)"},
	}
	switch kind {
	case "client-credentials":
		f = append(f, oauth...)
		f = append(f, field{key: "audience", label: "Audience"})
	case "auth-code":
		f = append(f, oauth...)
		f = append(f, field{key: "auth_url", label: "Authorization URL"}, field{key: "redirect_port", label: "Redirect port", hint: "0 = random"})
	case "device":
		f = append(f, oauth...)
		f = append(f, field{key: "device_url", label: "Device auth URL"})
	case "token-exchange":
		f = append(f, oauth...)
		f = append(f, field{key: "audience", label: "Audience"}, field{key: "resource", label: "Resource"})
	case "mtls":
		f = append(f, oauth...)
		f = append(f, field{key: "cert_file", label: "Client cert"}, field{key: "key_file", label: "Client key"}, field{key: "ca_file", label: "CA file"})
	case "hmac":
		f = append(f, field{key: "hmac.scheme", label: "Scheme", hint: "rfc9421, aws-sigv4, stripe, github"},
			field{key: "hmac.key_id", label: "Key ID"}, field{key: "hmac_key", label: "HMAC key", secret: true, hint: "value, env:NAME, file:PATH"},
			field{key: "target_url", label: "Target URL"})
	case "api-key":
		f = append(f, field{key: "target_url", label: "API URL"}, field{key: "api_key_header", label: "Header"},
			field{key: "api_key", label: "API key", secret: true})
	}
	return append(f, field{key: "notes", label: "Notes"})
}

// withDPoP inserts the DPoP settings (RFC 9449) before Notes when on. The
// key is a secret: empty lets the profile keep a key it generates.
func withDPoP(f []field, on bool) []field {
	if !on || len(f) == 0 {
		return f
	}
	d := []field{
		{key: "dpop_alg", label: "DPoP alg", hint: "ES256 (default), PS256, RS256, EdDSA · ctrl+o turns DPoP off"},
		{key: "dpop_key", label: "DPoP key", secret: true, hint: "empty: the profile keeps a key it generates; or PEM/JWK, env:NAME, file:PATH"},
	}
	n := len(f) - 1 // Notes stays last
	return append(append(append([]field{}, f[:n]...), d...), f[n:]...)
}

// oauthKind: the kinds that request tokens, so DPoP applies.
func oauthKind(kind string) bool { return kind != "hmac" && kind != "api-key" }

// dpopOn reports whether the form sets DPoP.
func (m *Model) dpopOn() bool { return m.values["dpop"] == "true" && oauthKind(m.kind) }

// dpopAlgs are the accepted DPoP algorithms.
func dpopAlgs() []string { return []string{"ES256", "PS256", "RS256", "EdDSA"} }

// Model is the editor.
type Model struct {
	ctx      *ui.Context
	original string
	kind     string
	fields   []field
	inputs   []ui.Input
	values   map[string]string
	focus    int
	reveal   bool
	errs     map[string]string
	banner   string
	w, h     int
	keys     struct{ next, prev, save, cancel, reveal, discover, kindL, kindR, dpop key.Binding }
}

// New builds an empty editor.
func New(ctx *ui.Context) *Model {
	m := &Model{ctx: ctx}
	m.keys.next = key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field"))
	m.keys.prev = key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "prev field"))
	m.keys.save = key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "save"))
	m.keys.cancel = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	m.keys.reveal = key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "reveal secrets"))
	m.keys.discover = key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "fill from discovery"))
	m.keys.kindL = key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "kind"))
	m.keys.kindR = key.NewBinding(key.WithKeys("right"))
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
	m.values["name"] = f.Name
	m.values["kind"] = f.Kind
	m.reveal = false
	m.banner = ""
	m.build(f.Kind)
	m.focus = 0
	m.focusInput()
	m.validate()
}

// build makes the inputs for a kind, keeping values typed so far.
func (m *Model) build(kind string) {
	m.collect()
	m.kind = kind
	m.values["kind"] = kind
	m.fields = withDPoP(fieldsFor(kind), m.dpopOn())
	m.inputs = make([]ui.Input, len(m.fields))
	for i, f := range m.fields {
		ti := ui.NewInput(strings.ToLower(f.label), 4096)
		ti.Prompt = ""
		ti.SetValue(m.values[f.key])
		if f.secret {
			ti.EchoMode = textinput.EchoPassword
			ti.EchoCharacter = '•'
		}
		m.inputs[i] = ti
	}
	m.applyReveal()
	m.resize()
}

func (m *Model) collect() {
	if m.values == nil {
		m.values = map[string]string{}
	}
	for i, f := range m.fields {
		if i < len(m.inputs) && f.key != "kind" {
			m.values[f.key] = m.inputs[i].Value()
		}
	}
}

func (m *Model) applyReveal() {
	for i, f := range m.fields {
		if f.secret {
			if m.reveal {
				m.inputs[i].EchoMode = textinput.EchoNormal
			} else {
				m.inputs[i].EchoMode = textinput.EchoPassword
			}
		}
	}
}

func (m *Model) focusInput() {
	for i := range m.inputs {
		if i == m.focus && m.fields[i].key != "kind" {
			m.inputs[i].Focus()
		} else {
			m.inputs[i].Blur()
		}
	}
}

// Typing is part of ui.Typer: keys always go to the form (q, ? type text,
// esc cancels).
func (m *Model) Typing() bool { return true }

// Form is the current content.
func (m *Model) Form() Form {
	m.collect()
	f := Form{Name: strings.TrimSpace(m.values["name"]), Kind: m.kind, Fields: map[string]string{}}
	for _, fl := range m.fields {
		if fl.key == "name" || fl.key == "kind" {
			continue
		}
		f.Fields[fl.key] = strings.TrimSpace(m.values[fl.key])
	}
	if m.dpopOn() {
		f.Fields["dpop"] = "true"
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
	name := strings.TrimSpace(m.values["name"])
	switch {
	case name == "":
		e["name"] = "required"
	case strings.ContainsAny(name, " /\\\t\n"):
		e["name"] = "no spaces or slashes"
	}
	for _, k := range []string{"issuer", "token_url", "target_url", "auth_url", "device_url"} {
		if msg := validURL(strings.TrimSpace(m.values[k])); msg != "" && m.has(k) {
			e[k] = msg
		}
	}
	oauth := m.kind != "hmac" && m.kind != "api-key"
	if oauth {
		if strings.TrimSpace(m.values["issuer"]) == "" && strings.TrimSpace(m.values["token_url"]) == "" {
			e["issuer"] = "an issuer or a token URL is required"
		}
		if strings.TrimSpace(m.values["client_id"]) == "" {
			e["client_id"] = "required"
		}
	}
	if p := strings.TrimSpace(m.values["redirect_port"]); p != "" && m.has("redirect_port") {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			e["redirect_port"] = "a port number 0-65535"
		}
	}
	if m.kind == "mtls" && (strings.TrimSpace(m.values["cert_file"]) == "" || strings.TrimSpace(m.values["key_file"]) == "") {
		e["cert_file"] = "mTLS needs a client certificate and key"
	}
	if m.kind == "hmac" && strings.TrimSpace(m.values["hmac_key"]) == "" {
		e["hmac_key"] = "required"
	}
	if a := strings.TrimSpace(m.values["dpop_alg"]); a != "" && m.has("dpop_alg") {
		ok := false
		for _, v := range dpopAlgs() {
			ok = ok || strings.EqualFold(v, a)
		}
		if !ok {
			e["dpop_alg"] = "one of " + strings.Join(dpopAlgs(), ", ")
		}
	}
	m.errs = e
}

func (m *Model) has(k string) bool {
	for _, f := range m.fields {
		if f.key == k {
			return true
		}
	}
	return false
}

// Update handles the form's keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ErrorMsg:
		m.banner = msg.Err.Error()
		return nil
	case FilledMsg:
		m.collect()
		for k, v := range msg.Fields {
			if v != "" && m.has(k) {
				m.values[k] = v
			}
		}
		m.build(m.kind)
		m.focusInput()
		m.validate()
		m.banner = "endpoints filled from discovery"
		return nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.cancel):
			return func() tea.Msg { return CancelMsg{} }
		case key.Matches(msg, m.keys.next):
			m.focus = (m.focus + 1) % len(m.inputs)
			m.focusInput()
			return nil
		case key.Matches(msg, m.keys.prev):
			m.focus = (m.focus + len(m.inputs) - 1) % len(m.inputs)
			m.focusInput()
			return nil
		case key.Matches(msg, m.keys.reveal):
			m.reveal = !m.reveal
			m.applyReveal()
			return nil
		case key.Matches(msg, m.keys.dpop):
			m.toggleDPoP()
			return nil
		case key.Matches(msg, m.keys.save):
			m.validate()
			if len(m.errs) > 0 {
				m.banner = "fix the fields marked ✗ first"
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
		if m.fields[m.focus].key == "kind" {
			ks := Kinds()
			idx := 0
			for i, k := range ks {
				if k == m.kind {
					idx = i
				}
			}
			switch {
			case key.Matches(msg, m.keys.kindL):
				m.build(ks[(idx+len(ks)-1)%len(ks)])
			case key.Matches(msg, m.keys.kindR), msg.Type == tea.KeySpace:
				m.build(ks[(idx+1)%len(ks)])
			}
			m.focusInput()
			m.validate()
			return nil
		}
		var cmd tea.Cmd
		cmd = m.inputs[m.focus].Update(msg)
		m.validate()
		return cmd
	}
	return nil
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
	m.focus = 0
	for i, f := range m.fields {
		if f.key == focused {
			m.focus = i
		}
	}
	m.focusInput()
	m.validate()
}

// View renders the form with inline errors and hints.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(40, m.w)
	title := "New profile"
	if m.original != "" {
		title = "Edit " + m.original
	}
	out := []string{t.Title.Render(title)}
	for i, f := range m.fields {
		label := ui.Pad(f.label, 18)
		val := m.inputs[i].View()
		if f.key == "kind" {
			val = "‹ " + m.kind + " ›"
		}
		mark := "  "
		if i == m.focus {
			mark = t.Accent.Render("> ")
			label = t.Key.Render(label)
		}
		line := mark + label + " " + val
		out = append(out, line)
		if msg, ok := m.errs[f.key]; ok {
			out = append(out, "  "+ui.Pad("", 18)+" "+t.Fail.Render(ui.Truncate("✗ "+msg, w-22)))
		} else if i == m.focus && f.hint != "" {
			out = append(out, "  "+ui.Pad("", 18)+" "+t.Subtle.Render(ui.Truncate(f.hint, w-22)))
		}
	}
	if m.banner != "" {
		out = append(out, "", t.Warn.Render(ui.Truncate(m.banner, w)))
	}
	if len(out) > m.h && m.h > 0 {
		// keep the focused field visible on short terminals
		start := ui.Clamp(m.focus+1-m.h/2, 0, len(out)-m.h)
		out = out[start : start+m.h]
	}
	return strings.Join(out, "\n")
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.save, m.keys.next, m.keys.reveal, m.keys.discover, m.keys.cancel}
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.next, m.keys.prev, m.keys.kindL}, {m.keys.save, m.keys.reveal, m.keys.discover, m.keys.dpop, m.keys.cancel}}
}
