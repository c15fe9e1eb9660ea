// Package inspect is the token inspector: a tab per token with its header,
// claims (glossary notes, human times), checks, a live expiry bar and a skew
// gauge. It renders from flows types only and does no I/O.
package inspect

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/flows/token"
	"authlab/views/render"
	"authlab/views/ui"
)

// RevealFor is how long a revealed token stays in clear.
const RevealFor = 10 * time.Second

// Token is one tab of the inspector.
type Token struct {
	Label string // "access", "id", "refresh", "pasted"
	Tok   *flows.DecodedToken
	// Raw is the token itself, shown masked unless revealed ("" shows nothing).
	Raw string
	// Received is when the token arrived (start of the expiry bar when there is no iat).
	Received time.Time
}

// Data is everything the inspector shows.
type Data struct {
	Tokens []Token
	Skew   *flows.SkewEstimate
	Leeway time.Duration
}

// KeyMap is the inspector's keys.
type KeyMap struct {
	NextTab, PrevTab, Up, Down, PageUp, PageDown key.Binding
}

// DefaultKeyMap is the inspector's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		NextTab:  key.NewBinding(key.WithKeys("]", "right", "l"), key.WithHelp("]", "next token")),
		PrevTab:  key.NewBinding(key.WithKeys("[", "left", "h"), key.WithHelp("[", "prev token")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", " "), key.WithHelp("pgdn", "page down")),
	}
}

// Model is the inspector.
type Model struct {
	ctx    *ui.Context
	keys   KeyMap
	data   Data
	tab    int
	scroll int
	w, h   int
	// static caches the time-independent lines of each tab (claims table,
	// checks) per width, so a 200-claim token costs nothing per frame.
	static map[int]*tabCache
	cacheW int
	reveal render.Reveal // the tab whose token is in clear
	masked []string      // each tab's Raw masked, hashed once rather than per frame
}

// New builds an empty inspector.
func New(ctx *ui.Context) *Model {
	return &Model{ctx: ctx, keys: DefaultKeyMap()}
}

// SetData replaces what is shown.
func (m *Model) SetData(d Data) {
	m.data = d
	m.tab = ui.Clamp(m.tab, 0, max(0, len(d.Tokens)-1))
	m.scroll = 0
	m.static = nil
	m.masked = make([]string, len(d.Tokens))
	for i, tk := range d.Tokens {
		m.masked[i] = render.MaskToken(tk.Raw)
	}
}

// Data returns what is shown.
func (m *Model) Data() Data { return m.data }

// HasTokens reports whether there is anything to inspect.
func (m *Model) HasTokens() bool { return len(m.data.Tokens) > 0 }

// Selected is the token of the tab on show.
func (m *Model) Selected() (Token, bool) {
	if m.tab < len(m.data.Tokens) {
		return m.data.Tokens[m.tab], true
	}
	return Token{}, false
}

// Reveal shows the selected token in clear until until; it reports false
// when there is no raw token to show.
func (m *Model) Reveal(until time.Time) bool {
	if tk, ok := m.Selected(); !ok || tk.Raw == "" {
		return false
	}
	m.reveal.Show(m.tab, until)
	return true
}

// Hide masks again what Reveal showed.
func (m *Model) Hide() { m.reveal.Hide() }

// Revealed reports whether the selected token is shown in clear.
func (m *Model) Revealed() bool {
	return m.reveal.On(m.tab, m.ctx.Now())
}

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	if w != m.w {
		m.static = nil
	}
	m.w, m.h = w, h
}

// Update handles tab switching and scrolling.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		m.scroll = max(0, m.scroll+ui.Wheel(msg))
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.NextTab):
			if n := len(m.data.Tokens); n > 0 {
				m.tab = (m.tab + 1) % n
				m.scroll = 0
			}
		case key.Matches(msg, m.keys.PrevTab):
			if n := len(m.data.Tokens); n > 0 {
				m.tab = (m.tab + n - 1) % n
				m.scroll = 0
			}
		case key.Matches(msg, m.keys.Up):
			m.scroll = max(0, m.scroll-1)
		case key.Matches(msg, m.keys.Down):
			m.scroll++
		case key.Matches(msg, m.keys.PageUp):
			m.scroll = max(0, m.scroll-m.h+2)
		case key.Matches(msg, m.keys.PageDown):
			m.scroll += max(1, m.h-2)
		}
	}
	return nil
}

// View renders the selected tab, windowed to the height.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	if len(m.data.Tokens) == 0 {
		return t.Subtle.Render("no token to inspect")
	}
	var lines []string
	// tab bar
	var tabs []string
	for i, tk := range m.data.Tokens {
		lbl := " " + tk.Label + " "
		if i == m.tab {
			tabs = append(tabs, t.TabOn.Render(lbl))
		} else {
			tabs = append(tabs, t.Tab.Render(lbl))
		}
	}
	lines = append(lines, strings.Join(tabs, "│"))
	tk := m.data.Tokens[m.tab]
	lines = append(lines, m.dynamic(tk, w)...)
	// the tab bar and the live lines stay put; the rest scrolls
	fixed := len(lines)
	lines = append(lines, m.staticLines(w)...)

	h := max(1, m.h)
	body := lines[fixed:]
	room := max(0, h-fixed)
	m.scroll = ui.Clamp(m.scroll, 0, max(0, len(body)-room))
	end := min(len(body), m.scroll+room)
	out := append(append([]string{}, lines[:fixed]...), body[m.scroll:end]...)
	return strings.Join(out, "\n")
}

// dynamic lines change every second: header summary, expiry bar, skew gauge.
func (m *Model) dynamic(tk Token, w int) []string {
	t := m.ctx.Theme
	d := tk.Tok
	if d == nil {
		return []string{t.Subtle.Render("(empty)")}
	}
	o := m.opts(w)
	var out []string
	switch d.Format {
	case "opaque":
		out = append(out, ui.Truncate(fmt.Sprintf("opaque token · %d bytes · sha256 %s — introspection can tell more", d.Length, short(d.Fingerprint)), w))
	case "jwe":
		out = append(out, ui.Truncate("encrypted token (JWE) · "+headerLine(d.Header), w))
	default:
		v := t.Fail.Render("✗ signature not verified")
		if d.Verified {
			v = t.Pass.Render("✓ signature verified")
		}
		out = append(out, ui.Truncate(headerLine(d.Header), w-24)+" · "+v)
	}
	if tk.Raw != "" {
		out = append(out, m.rawLines(tk.Raw, m.masked[m.tab], w)...)
	}
	if d.Format != "opaque" && d.Format != "jwe" {
		o.Width = w - 7
		out = append(out, "EXPIRY "+render.ExpiryBar(startOf(d, tk.Received), expOf(d), o))
	}
	if s := m.data.Skew; s != nil {
		sk := token.Skew{Offset: s.Offset, Uncertainty: s.Uncertainty, Source: s.Source, At: m.ctx.Now()}
		if r, ok := s.Report.(token.Skew); ok {
			sk = r
		}
		if sk.Source == "" {
			sk.Source = "IdP's responses"
		}
		o.Width = w - 7
		out = append(out, "SKEW   "+render.SkewGauge(sk, m.leeway(), o))
		o.Width = w
		out = append(out, strings.Split(render.SkewLine(sk, m.leeway(), o), "\n")...)
	}
	return out
}

// rawLines show the token masked, or whole (wrapped) while revealed.
func (m *Model) rawLines(raw, masked string, w int) []string {
	t := m.ctx.Theme
	if !m.Revealed() {
		return []string{ui.Truncate("TOKEN  "+masked+t.Subtle.Render("  (masked)"), w)}
	}
	left := int(m.reveal.Left(m.ctx.Now()).Seconds() + 0.999)
	out := []string{"TOKEN  " + t.Warn.Render(fmt.Sprintf("in clear for %d s", left))}
	r := []rune(render.Printable(raw))
	for len(r) > w {
		out = append(out, string(r[:w]))
		r = r[w:]
	}
	return append(out, string(r))
}

func expOf(d *flows.DecodedToken) time.Time {
	if d.ExpiresAt != nil {
		return *d.ExpiresAt
	}
	t, _ := token.ClaimTime(d.Claims["exp"])
	return t
}

func startOf(d *flows.DecodedToken, received time.Time) time.Time {
	if t, ok := token.ClaimTime(d.Claims["iat"]); ok {
		return t
	}
	if t, ok := token.ClaimTime(d.Claims["nbf"]); ok {
		return t
	}
	return received
}

func (m *Model) opts(w int) render.Options {
	return render.Options{Width: w, Color: m.ctx.Theme.Color, Now: m.ctx.Now(), Loc: time.UTC, Styles: m.ctx.Theme.Render}
}

func (m *Model) leeway() time.Duration {
	if m.data.Leeway > 0 {
		return m.data.Leeway
	}
	return token.DefaultLeeway
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16] + "…"
	}
	return fp
}

func headerLine(h map[string]any) string {
	var parts []string
	for _, k := range []string{"alg", "kid", "typ", "enc"} {
		if v, ok := h[k]; ok {
			parts = append(parts, k+" "+fmt.Sprint(v))
		}
	}
	if len(parts) == 0 {
		return "no header"
	}
	return strings.Join(parts, " · ")
}

// tabCache holds a tab's rendered body: the time claims (relative times,
// re-rendered when the second changes) apart from everything else
// (rendered once per width), so a 200-claim token costs little per second
// and nothing per frame.
type tabCache struct {
	checks     []string
	timeClaims map[string]any // the token's NumericDate claims, split out once
	times      []string
	timesAt    int64
	rest       []string
}

// staticLines are the time claims, the other claims, the checks and the
// header of the selected tab.
func (m *Model) staticLines(w int) []string {
	if m.static == nil || m.cacheW != w {
		m.static = map[int]*tabCache{}
		m.cacheW = w
	}
	c, ok := m.static[m.tab]
	if !ok {
		c = &tabCache{timesAt: -1}
		m.static[m.tab] = c
	}
	tk := m.data.Tokens[m.tab]
	now := m.ctx.Now()
	if c.rest == nil {
		// split the claims once, not on every frame
		times, rest := splitTimes(tk.Tok)
		c.timeClaims = times
		c.checks = CheckSection(m.ctx.Theme, tk.Tok, m.opts(w))
		c.rest = ClaimsAndHeader(m.ctx.Theme, tk.Tok, rest, m.opts(w))
	}
	if c.timesAt != now.Unix() {
		c.timesAt = now.Unix()
		c.times = nil
		if len(c.timeClaims) > 0 {
			o := m.opts(w)
			o.Explain = true
			c.times = append([]string{"", m.ctx.Theme.Title.Render("TIMES")}, lines(render.Claims(c.timeClaims, o))...)
		}
	}
	out := make([]string, 0, len(c.checks)+len(c.times)+len(c.rest))
	return append(append(append(out, c.checks...), c.times...), c.rest...)
}

// splitTimes separates the NumericDate claims (shown relative to now) from the rest.
func splitTimes(d *flows.DecodedToken) (times, rest map[string]any) {
	if d == nil {
		return nil, nil
	}
	times, rest = map[string]any{}, make(map[string]any, len(d.Claims))
	for k, v := range d.Claims {
		if isTimeClaim(k) {
			times[k] = v
		} else {
			rest[k] = v
		}
	}
	return times, rest
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// CheckSection renders a token's checks first: they say why it is rejected.
func CheckSection(t *ui.Theme, d *flows.DecodedToken, o render.Options) []string {
	if d == nil || len(d.Checks) == 0 {
		return nil
	}
	return append([]string{"", t.Title.Render("CHECKS")}, lines(render.Checks(d.Checks, o))...)
}

// ClaimsAndHeader renders the claims table (with glossary notes) and the
// header of a token with the shared renderers.
func ClaimsAndHeader(t *ui.Theme, d *flows.DecodedToken, claims map[string]any, o render.Options) []string {
	var out []string
	if d == nil {
		return out
	}
	o.Explain = true
	if len(claims) > 0 {
		out = append(out, "", t.Title.Render(fmt.Sprintf("CLAIMS (%d)", len(d.Claims))))
		out = append(out, lines(render.Claims(claims, o))...)
	}
	if len(d.Header) > 0 {
		out = append(out, "", t.Title.Render("HEADER"))
		o.Explain = false
		out = append(out, lines(render.Header(d.Header, o))...)
	}
	return out
}

// CheckLines renders checks with ✓ / ! / ✗ and their reasons.
func CheckLines(t *ui.Theme, checks []flows.Check, w int) []string {
	if len(checks) == 0 {
		return nil
	}
	s := render.Checks(checks, render.Options{Width: w, Color: t.Color, Styles: t.Render})
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.NextTab, m.keys.Down}
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.NextTab, m.keys.PrevTab}, {m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown}}
}

// isTimeClaim says which claims are NumericDates shown relative to now.
func isTimeClaim(k string) bool {
	switch k {
	case "exp", "nbf", "iat", "auth_time", "updated_at":
		return true
	}
	return false
}
