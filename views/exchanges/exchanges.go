// Package exchanges lists the HTTP calls of a run and shows one in detail:
// request and response headers and pretty JSON bodies, secrets already
// masked by the recording client, scrollable. Tokens the run received are
// masked here too (render.Masker) unless the user reveals the open one.
package exchanges

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/views/render"
	"authlab/views/ui"
)

// KeyMap is the exchanges view's keys.
type KeyMap struct {
	Up, Down, Open, Back, PageUp, PageDown key.Binding
}

// DefaultKeyMap is the exchanges view's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:     key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back to list")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", " "), key.WithHelp("pgdn", "page down")),
	}
}

// Model is the exchange list and detail.
type Model struct {
	ctx    *ui.Context
	keys   KeyMap
	items  []flows.Exchange
	cursor int
	detail bool
	scroll int
	w, h   int
	lines  []string // rendered detail, cached while open
	// linesClear: lines were rendered revealed
	linesClear bool
	mask       *render.Masker
	reveal     render.Reveal // the open exchange at this cursor shows its tokens in clear
}

// New builds an empty list.
func New(ctx *ui.Context) *Model {
	return &Model{ctx: ctx, keys: DefaultKeyMap(), mask: render.NewMasker()}
}

// SetMasker sets what masks the tokens shown (the run's known values).
func (m *Model) SetMasker(mk *render.Masker) {
	if mk == nil {
		mk = render.NewMasker()
	}
	m.mask, m.lines = mk, nil
}

// Reveal shows the open exchange's tokens in clear until until; it
// reports false when no exchange is open.
func (m *Model) Reveal(until time.Time) bool {
	if !m.detail || m.cursor >= len(m.items) {
		return false
	}
	m.reveal.Show(m.cursor, until)
	m.lines = nil
	return true
}

// Hide masks again what Reveal showed.
func (m *Model) Hide() { m.reveal.Hide(); m.lines = nil }

// Revealed reports whether the open exchange shows its tokens in clear.
func (m *Model) Revealed() bool {
	return m.detail && m.reveal.On(m.cursor, m.ctx.Now())
}

// masker is nil (mask nothing) while the open exchange is revealed.
func (m *Model) masker() *render.Masker {
	if m.Revealed() {
		return nil
	}
	return m.mask
}

// SetItems replaces the exchanges (keeps the cursor in range).
func (m *Model) SetItems(xs []flows.Exchange) {
	m.items = xs
	m.cursor = ui.Clamp(m.cursor, 0, max(0, len(xs)-1))
	if m.detail {
		m.lines = nil
	}
}

// Selected is the exchange under the cursor.
func (m *Model) Selected() (flows.Exchange, bool) {
	if m.cursor < len(m.items) {
		return m.items[m.cursor], true
	}
	return flows.Exchange{}, false
}

// InDetail reports whether the detail is open (esc goes back to the list).
func (m *Model) InDetail() bool { return m.detail }

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	if w != m.w {
		m.lines = nil
	}
	m.w, m.h = w, h
}

// Update handles navigation.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		d := ui.Wheel(msg)
		if m.detail {
			m.scroll = max(0, m.scroll+d)
		} else if d != 0 {
			// the list moves one row per notch
			m.cursor = ui.Clamp(m.cursor+d/ui.WheelStep, 0, max(0, len(m.items)-1))
		}
	case tea.KeyMsg:
		if m.detail {
			switch {
			case key.Matches(msg, m.keys.Back):
				m.detail = false
			case key.Matches(msg, m.keys.Up):
				m.scroll = max(0, m.scroll-1)
			case key.Matches(msg, m.keys.Down):
				m.scroll++
			case key.Matches(msg, m.keys.PageUp):
				m.scroll = max(0, m.scroll-m.h+1)
			case key.Matches(msg, m.keys.PageDown):
				m.scroll += max(1, m.h-1)
			}
			return nil
		}
		switch {
		case key.Matches(msg, m.keys.Up):
			m.cursor = max(0, m.cursor-1)
		case key.Matches(msg, m.keys.Down):
			m.cursor = ui.Clamp(m.cursor+1, 0, max(0, len(m.items)-1))
		case key.Matches(msg, m.keys.Open):
			if len(m.items) > 0 {
				m.detail, m.scroll, m.lines = true, 0, nil
			}
		}
	}
	return nil
}

// View renders the list or the open exchange.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	if len(m.items) == 0 {
		return t.Subtle.Render("no HTTP exchange yet")
	}
	if m.detail {
		if clear := m.Revealed(); m.lines == nil || m.linesClear != clear {
			m.lines, m.linesClear = Detail(t, m.items[m.cursor], w, m.masker()), clear
		}
		room := max(1, m.h)
		m.scroll = ui.Clamp(m.scroll, 0, max(0, len(m.lines)-room))
		return strings.Join(m.lines[m.scroll:min(len(m.lines), m.scroll+room)], "\n")
	}
	var b strings.Builder
	room := max(1, m.h)
	off := max(0, m.cursor-room+1)
	for i := off; i < len(m.items) && i < off+room; i++ {
		e := m.items[i]
		st := statusStyle(t, e)
		line := fmt.Sprintf("%-6s %s %-7s %s", e.Method, st.Render(statusText(e)), ui.Duration(e.Duration), ui.Truncate(m.mask.URL(e.URL), w-26))
		if e.Step != "" && w >= 100 {
			line = ui.Pad(e.Step, 14) + " " + line
		}
		if i == m.cursor {
			line = t.Selected.Render("> " + line)
		} else {
			line = "  " + line
		}
		if i > off {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	return b.String()
}

func statusText(e flows.Exchange) string {
	if e.Err != "" && e.Status == 0 {
		return "ERR"
	}
	return fmt.Sprintf("%3d", e.Status)
}

func statusStyle(t *ui.Theme, e flows.Exchange) (s interface{ Render(...string) string }) {
	switch {
	case e.Status == 0 || e.Status >= 500:
		return t.Fail
	case e.Status >= 400:
		return t.Warn
	}
	return t.Pass
}

// Detail renders one exchange fully: request line, headers, body,
// response, with the tokens mk masks (nil: in clear).
func Detail(t *ui.Theme, e flows.Exchange, w int, mk *render.Masker) []string {
	var out []string
	out = append(out, t.Title.Render("REQUEST"), ui.Truncate(e.Method+" "+mk.URL(e.URL), w))
	out = append(out, headerLines(e.RequestHeaders, w, mk)...)
	if e.RequestBody != "" {
		out = append(out, "")
		out = append(out, bodyLines(mk.Body(e.RequestBody, e.RequestHeaders.Get("Content-Type")), w, mk)...)
	}
	if e.DPoP != nil {
		out = append(out, "")
		out = append(out, proofLines(t, e.DPoP, w)...)
	}
	out = append(out, "", t.Title.Render(fmt.Sprintf("RESPONSE  %s  %s", statusText(e), ui.Duration(e.Duration))))
	if e.Err != "" {
		out = append(out, t.Error.Render(ui.Truncate(mk.Text(e.Err), w)))
	}
	if e.TLS != nil {
		out = append(out, t.Subtle.Render(ui.Truncate(fmt.Sprintf("TLS %s %s client cert sent: %v", e.TLS.Version, e.TLS.CipherSuite, e.TLS.ClientCertSent), w)))
	}
	out = append(out, headerLines(e.ResponseHeaders, w, mk)...)
	if e.ResponseBody != "" {
		out = append(out, "")
		out = append(out, bodyLines(mk.Body(e.ResponseBody, e.ResponseHeaders.Get("Content-Type")), w, mk)...)
		if e.BodyTruncated {
			out = append(out, t.Subtle.Render("… body truncated"))
		}
	}
	return out
}

// proofLines renders a request's DPoP proof decoded (RFC 9449 4.2): its
// header (typ, alg, the public jwk) and claims (jti, htm, htu, iat, nonce,
// ath). The proof carries no secret; a private JWK member is masked when
// it is decoded.
func proofLines(t *ui.Theme, p *flows.ProofView, w int) []string {
	out := []string{t.Title.Render("DPOP PROOF")}
	for _, part := range []struct {
		name string
		v    map[string]any
	}{{"header", p.Header}, {"claims", p.Claims}} {
		b, err := json.Marshal(part.v)
		if err != nil {
			continue
		}
		out = append(out, t.Subtle.Render(part.name))
		out = append(out, bodyLines(string(b), w, nil)...)
	}
	return out
}

func headerLines(h http.Header, w int, mk *render.Masker) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, ui.Truncate(k+": "+mk.Header(k, v), w))
		}
	}
	return out
}

// bodyLines indents a JSON body (masking its token members with mk) and
// wraps long lines.
func bodyLines(body string, w int, mk *render.Masker) []string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(body), "", "  ") == nil {
		body = buf.String()
	}
	var out []string
	for _, l := range mk.JSONLines(strings.Split(strings.TrimRight(body, "\n"), "\n")) {
		// wrap long lines (tokens) rather than cut them
		for len([]rune(l)) > w {
			r := []rune(l)
			out = append(out, string(r[:w]))
			l = string(r[w:])
		}
		out = append(out, l)
	}
	return out
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	if m.detail {
		return []key.Binding{m.keys.Back, m.keys.Down}
	}
	return []key.Binding{m.keys.Open, m.keys.Down}
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Up, m.keys.Down, m.keys.Open, m.keys.Back, m.keys.PageUp, m.keys.PageDown}}
}
