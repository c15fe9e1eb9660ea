// Package render holds pure renderers — data in, strings out, no I/O — for
// tokens, checks, expiry and clock skew. The CLI's human output, the TUI's
// inspector and `authlab flow` all use them, so they take a width, a colour
// switch and a clock instead of asking the terminal.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"authlab/flows"
	"authlab/flows/token"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Options are what every renderer needs to know about its output.
type Options struct {
	Width   int       // columns; 80 when zero
	Color   bool      // ANSI colours (callers decide: terminal, --no-color, NO_COLOR)
	Now     time.Time // the clock for relative times; never read from the system here
	Loc     *time.Location
	Explain bool    // add glossary notes under claims
	Styles  *Styles // optional, to share one style set; built from Color when nil
}

func (o Options) width() int {
	if o.Width <= 0 {
		return 80
	}
	if o.Width < 30 {
		return 30
	}
	return o.Width
}

func (o Options) styles() *Styles {
	if o.Styles != nil {
		return o.Styles
	}
	return NewStyles(o.Color)
}

// Styles is the renderers' style set. Its renderer has a fixed colour
// profile and background, so nothing ever queries the terminal.
type Styles struct {
	Renderer                    *lipgloss.Renderer
	Title, Key, Dim, Value, Num lipgloss.Style
	Pass, Warn, Fail            lipgloss.Style
	BarUsed, BarLeft, BarEmpty  lipgloss.Style
	plain                       bool // set by NewStyles(false): skip lipgloss entirely
}

// paint renders s in style, or returns it as is without colour (lipgloss
// would only strip what it added, at a cost on every cell).
func (st *Styles) paint(style lipgloss.Style, s string) string {
	if st.plain {
		return s
	}
	return style.Render(s)
}

// NewStyles builds the style set; color false gives plain text.
func NewStyles(color bool) *Styles {
	profile := termenv.Ascii
	if color {
		profile = termenv.ANSI256
	}
	r := lipgloss.NewRenderer(io.Discard, termenv.WithProfile(profile))
	r.SetColorProfile(profile)
	r.SetHasDarkBackground(true)
	c := func(s string) lipgloss.Color { return lipgloss.Color(s) }
	return &Styles{
		Renderer: r,
		Title:    r.NewStyle().Bold(true),
		Key:      r.NewStyle().Foreground(c("75")),
		Dim:      r.NewStyle().Foreground(c("245")),
		Value:    r.NewStyle(),
		Num:      r.NewStyle().Foreground(c("180")),
		Pass:     r.NewStyle().Foreground(c("42")),
		Warn:     r.NewStyle().Foreground(c("214")),
		Fail:     r.NewStyle().Foreground(c("203")).Bold(true),
		BarUsed:  r.NewStyle().Foreground(c("42")),
		BarLeft:  r.NewStyle().Foreground(c("240")),
		BarEmpty: r.NewStyle().Foreground(c("203")),
		plain:    !color,
	}
}

// Relative renders t against now: "in 4m12s", "3h05m ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + token.HumanDuration(d)
	}
	return token.HumanDuration(-d) + " ago"
}

// TimeValue renders a NumericDate: absolute UTC, local when loc is not UTC,
// and relative to now.
func TimeValue(t, now time.Time, loc *time.Location) string {
	s := t.UTC().Format("2006-01-02 15:04:05Z")
	if loc != nil && loc != time.UTC {
		lt := t.In(loc)
		if name, off := lt.Zone(); off != 0 || name != "UTC" {
			s += " (" + lt.Format("15:04:05 MST") + ")"
		}
	}
	return s + " · " + Relative(t, now)
}

var timeClaims = map[string]bool{"exp": true, "nbf": true, "iat": true, "auth_time": true, "updated_at": true}

// claimOrder puts the claims a developer looks at first on top.
var claimOrder = []string{"iss", "sub", "aud", "azp", "client_id", "scope", "scp", "exp", "nbf", "iat", "auth_time", "jti", "nonce", "typ", "cnf", "act", "may_act"}

func orderedKeys(m map[string]any, first []string) []string {
	rank := map[string]int{}
	for i, k := range first {
		rank[k] = i + 1
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		switch {
		case ri != 0 && rj != 0:
			return ri < rj
		case ri != 0 || rj != 0:
			return ri != 0
		}
		return keys[i] < keys[j]
	})
	return keys
}

// valueText renders a JSON value compactly: strings bare, the rest as JSON,
// both made Printable (json.Marshal leaves DEL and C1 controls raw).
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return Printable(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Printable(fmt.Sprint(v))
	}
	return Printable(string(b))
}

// wrap splits s into lines of at most w runes (hard wrap: tokens, URLs and
// JSON have no good break points), preferring spaces when there are some.
func wrap(s string, w int) []string {
	if w < 8 {
		w = 8
	}
	var out []string
	for utf8.RuneCountInString(s) > w {
		r := []rune(s)
		cut := w
		if i := strings.LastIndex(string(r[:w]), " "); i > w/2 {
			cut = utf8.RuneCountInString(string(r[:w])[:i])
			out = append(out, string(r[:cut]))
			s = string(r[cut+1:])
			continue
		}
		out = append(out, string(r[:cut]))
		s = string(r[cut:])
	}
	return append(out, s)
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// table renders key/value rows with wrapped values and optional notes.
func table(keys []string, value func(string) string, note func(string) string, o Options) string {
	st := o.styles()
	// Keys and values come from the token: escape them here, once for
	// every table (header, claims, the TUI inspector).
	labels := make([]string, len(keys))
	kw := 0
	for i, k := range keys {
		labels[i] = Printable(k)
		if n := utf8.RuneCountInString(labels[i]); n > kw {
			kw = n
		}
	}
	if kw > 20 {
		kw = 20
	}
	vw := o.width() - kw - 4
	var b strings.Builder
	for ki, k := range keys {
		name := labels[ki]
		if utf8.RuneCountInString(name) > kw {
			name = string([]rune(name)[:kw-1]) + "…"
		}
		for i, line := range wrap(Printable(value(k)), vw) {
			label := ""
			if i == 0 {
				label = name
			}
			b.WriteString("  " + st.paint(st.Key, pad(label, kw)) + "  " + st.paint(st.Value, line) + "\n")
		}
		if note != nil {
			if n := Printable(note(k)); n != "" {
				for _, line := range wrap(n, vw) {
					b.WriteString("  " + pad("", kw) + "  " + st.paint(st.Dim, line) + "\n")
				}
			}
		}
	}
	return b.String()
}

// Header renders a JOSE header as a key/value table.
func Header(h map[string]any, o Options) string {
	keys := orderedKeys(h, []string{"alg", "typ", "kid", "cty", "enc"})
	var note func(string) string
	if o.Explain {
		note = func(k string) string { s, _ := token.ExplainHeader(k); return s }
	}
	return table(keys, func(k string) string { return valueText(h[k]) }, note, o)
}

// Claims renders a claims table: times as UTC, local and relative; with
// o.Explain, a glossary note under each claim it knows (and under known
// members of nested objects such as cnf.jkt).
func Claims(claims map[string]any, o Options) string {
	keys := orderedKeys(claims, claimOrder)
	value := func(k string) string {
		v := claims[k]
		if timeClaims[k] {
			if t, ok := token.ClaimTime(v); ok {
				return valueText(v) + " = " + TimeValue(t, o.Now, o.Loc)
			}
		}
		return valueText(v)
	}
	var note func(string) string
	if o.Explain {
		note = func(k string) string {
			var parts []string
			if s, ok := token.Explain(k); ok {
				parts = append(parts, s)
			}
			if m, ok := claims[k].(map[string]any); ok {
				for _, sub := range orderedKeys(m, nil) {
					if s, ok := token.Explain(k + "." + sub); ok {
						parts = append(parts, k+"."+sub+": "+s)
					}
				}
			}
			return strings.Join(parts, "; ")
		}
	}
	return table(keys, value, note, o)
}

// Symbol is a check status's mark: ✓ pass, ! warn, ✗ fail.
func Symbol(s flows.Status) string {
	switch s {
	case flows.Pass:
		return "✓"
	case flows.Warn:
		return "!"
	}
	return "✗"
}

func (st *Styles) status(s flows.Status) lipgloss.Style {
	switch s {
	case flows.Pass:
		return st.Pass
	case flows.Warn:
		return st.Warn
	}
	return st.Fail
}

// Checks renders one line per check (details wrapped under it): "✓ exp  expires in 4m12s".
func Checks(cs []flows.Check, o Options) string {
	st := o.styles()
	// Check details quote token values (iss, aud, kid, nonce): escape them.
	cs = printableChecks(cs)
	nw := 0
	for _, c := range cs {
		if n := utf8.RuneCountInString(c.Name); n > nw {
			nw = n
		}
	}
	if nw > 14 {
		nw = 14
	}
	dw := o.width() - nw - 6
	var b strings.Builder
	for _, c := range cs {
		sty := st.status(c.Status)
		for i, line := range wrap(c.Detail, dw) {
			if i == 0 {
				b.WriteString("  " + st.paint(sty, Symbol(c.Status)) + " " + st.paint(st.Key, pad(c.Name, nw)) + "  " + line + "\n")
			} else {
				b.WriteString("    " + pad("", nw) + "  " + line + "\n")
			}
		}
	}
	return b.String()
}

func printableChecks(cs []flows.Check) []flows.Check {
	out := make([]flows.Check, len(cs))
	for i, c := range cs {
		c.Name, c.Detail = Printable(c.Name), Printable(c.Detail)
		out[i] = c
	}
	return out
}

// ExpiryBar renders how much of a token's life is used:
// "[██████░░░░░░] 50% of 1h00m used · expires in 30m00s". Without a start
// (no iat/nbf) it renders the countdown alone.
func ExpiryBar(start, exp time.Time, o Options) string {
	st := o.styles()
	now := o.Now
	if exp.IsZero() {
		return st.paint(st.Warn, "never expires (no exp)")
	}
	var text string
	if now.Before(exp) {
		text = "expires " + Relative(exp, now)
	} else {
		text = "expired " + Relative(exp, now)
	}
	if start.IsZero() || !exp.After(start) {
		if now.Before(exp) {
			return text
		}
		return st.paint(st.Fail, text)
	}
	life := exp.Sub(start)
	used := now.Sub(start)
	frac := float64(used) / float64(life)
	if frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	text = fmt.Sprintf("%3.0f%% of %s used · %s", frac*100, token.HumanDuration(life), text)
	bw := o.width() - utf8.RuneCountInString(text) - 3
	if bw > 40 {
		bw = 40
	}
	if bw < 10 {
		bw = 10
	}
	n := int(frac*float64(bw) + 0.5)
	usedSty := st.BarUsed
	if frac >= 1 {
		usedSty = st.BarEmpty
	} else if frac > 0.8 {
		usedSty = st.Warn
	}
	bar := st.paint(usedSty, strings.Repeat("█", n)) + st.paint(st.BarLeft, strings.Repeat("░", bw-n))
	return "[" + bar + "] " + text
}

// ExpiryBarFor renders the expiry bar of a decoded JWS, starting at iat (or nbf).
func ExpiryBarFor(d *token.Decoded, o Options) string {
	exp, _ := d.Time("exp")
	start, ok := d.Time("iat")
	if !ok {
		start, _ = d.Time("nbf")
	}
	return ExpiryBar(start, exp, o)
}

// SkewLine is the verdict in one line, marked like a check.
func SkewLine(s token.Skew, leeway time.Duration, o Options) string {
	st := o.styles()
	if !s.Known() {
		return st.paint(st.Dim, "clock skew: unknown (pass --issuer to measure it from the IdP's responses)")
	}
	c := s.Check(leeway)
	lines := wrap("clock skew: "+Printable(c.Detail), o.width()-2)
	lines = append(lines, wrap("(from the "+Printable(s.Source)+")", o.width()-2)...)
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(st.paint(st.status(c.Status), Symbol(c.Status)) + " " + l)
			continue
		}
		if strings.HasPrefix(l, "(from the ") || i == len(lines)-1 {
			l = st.paint(st.Dim, l)
		}
		b.WriteString("\n  " + l)
	}
	return b.String()
}

// SkewGauge draws the offset on a scale of ±2×leeway, with the leeway marked:
// "behind ──────|─────┼──●──|────── ahead".
func SkewGauge(s token.Skew, leeway time.Duration, o Options) string {
	st := o.styles()
	if !s.Known() {
		return ""
	}
	if leeway <= 0 {
		leeway = time.Second
	}
	w := o.width() - len("behind  ahead") - 2
	if w > 41 {
		w = 41
	}
	if w%2 == 0 {
		w--
	}
	span := 2 * leeway
	pos := func(d time.Duration) int {
		if d < -span {
			d = -span
		}
		if d > span {
			d = span
		}
		return int(float64(d+span)/float64(2*span)*float64(w-1) + 0.5)
	}
	cells := []rune(strings.Repeat("─", w))
	lo, hi := pos(s.Offset-s.Uncertainty), pos(s.Offset+s.Uncertainty)
	for i := lo; i <= hi; i++ {
		cells[i] = '═'
	}
	cells[pos(-leeway)] = '|'
	cells[pos(leeway)] = '|'
	cells[pos(0)] = '┼'
	cells[pos(s.Offset)] = '●'
	sty := st.status(s.Check(leeway).Status)
	var b strings.Builder
	b.WriteString("behind ")
	for _, r := range cells {
		if r == '●' || r == '═' {
			b.WriteString(st.paint(sty, string(r)))
		} else {
			b.WriteString(st.paint(st.Dim, string(r)))
		}
	}
	b.WriteString(" ahead")
	return b.String()
}

// Report renders a whole inspection: header, claims, checks, expiry bar and
// skew line. skew may be unknown (zero).
func Report(r *token.Report, skew token.Skew, o Options) string {
	st := o.styles()
	o.Styles = st
	d := r.Token
	var b strings.Builder
	switch d.Format {
	case token.FormatOpaque:
		fmt.Fprintf(&b, "%s\n  length %d bytes, sha256 %s\n  not a JWT: ask the issuer's introspection endpoint what it means (authlab flow introspect)\n",
			st.paint(st.Title, "Opaque token"), d.Length, d.Fingerprint)
		if d.Hint != "" {
			b.WriteString("  " + st.paint(st.Warn, "hint: "+Printable(d.Hint)) + "\n")
		}
	case token.FormatJWE:
		b.WriteString(st.paint(st.Title, "Encrypted token (JWE)") + " — protected header:\n")
		b.WriteString(Header(d.Header, o))
	default:
		b.WriteString(st.paint(st.Title, "Header") + "\n")
		b.WriteString(Header(d.Header, o))
		b.WriteString("\n" + st.paint(st.Title, "Claims") + "\n")
		b.WriteString(Claims(d.Claims, o))
	}
	if len(r.Checks) > 0 {
		b.WriteString("\n" + st.paint(st.Title, "Checks") + "\n")
		b.WriteString(Checks(r.Checks, o))
	}
	if d.Format == token.FormatJWS {
		b.WriteString("\n" + ExpiryBarFor(d, o) + "\n")
	}
	if skew.Known() {
		b.WriteString(SkewLine(skew, r.Leeway, o) + "\n")
		b.WriteString(SkewGauge(skew, r.Leeway, o) + "\n")
	}
	return b.String()
}
