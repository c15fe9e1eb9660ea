package run

// The run screen's drawing: the header, the tabs, the waiting screens.

import (
	"fmt"
	"strings"

	"authlab/flows"
	"authlab/views/inspect"
	"authlab/views/render"
	"authlab/views/ui"
)

// dpopLine says how the result's token is bound to the run's DPoP key
// (RFC 9449 6): cnf.jkt of a JWT access token against our key's
// thumbprint, or the token_type when the token says nothing itself.
func dpopLine(t *ui.Theme, r *flows.Result, w int) string {
	d := r.DPoP
	key := d.JKT
	if w < 100 && len(key) > 12 { // the Checks tab names it whole
		key = key[:12] + "…"
	}
	key = d.Alg + " key " + key
	if d.Ephemeral {
		key += " (ephemeral)"
	}
	tt := ""
	if r.Token != nil {
		tt = r.Token.TokenType
	}
	var verdict string
	jkt := ""
	if r.AccessToken != nil {
		cnf, _ := r.AccessToken.Claims["cnf"].(map[string]any)
		jkt, _ = cnf["jkt"].(string)
	}
	switch {
	case jkt != "" && jkt == d.JKT:
		verdict = t.Pass.Render("cnf.jkt = our key ✓")
	case jkt != "":
		verdict = t.Fail.Render("cnf.jkt ≠ our key ✗ (token is bound to " + jkt + ")")
	case r.Token == nil:
		verdict = t.Subtle.Render("no token")
	case !strings.EqualFold(tt, "DPoP"):
		verdict = t.Warn.Render("token_type " + orNone(tt) + ": not DPoP-bound !")
	default:
		verdict = t.Subtle.Render("token_type DPoP (opaque: the server checks the binding)")
	}
	line := "  DPoP " + verdict + t.Subtle.Render(" · "+key)
	if d.NonceRetries > 0 {
		retries := "retries"
		if d.NonceRetries == 1 {
			retries = "retry"
		}
		line += t.Subtle.Render(fmt.Sprintf(" · %d nonce %s", d.NonceRetries, retries))
	}
	return ui.Truncate(line, w)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// View renders the timeline, then the waiting panel or the tabs.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(30, m.w)
	var out []string
	state := ""
	switch {
	case m.running:
		state = t.Accent.Render(m.spin.View() + " running")
	case m.result == nil:
		state = t.Subtle.Render("idle")
	case m.result.Failed():
		state = t.Fail.Render("✗ failed")
	default:
		state = t.Pass.Render("✓ ok")
	}
	title := fmt.Sprintf("%s · %s  ", m.profile, m.flow)
	if m.result != nil && m.result.Duration > 0 {
		state += t.Subtle.Render("  " + ui.Duration(m.result.Duration))
	}
	out = append(out, t.Title.Render(ui.Truncate(title, w-20))+state)

	rows := m.timelineRows()
	first := len(m.steps) - rows
	for _, s := range m.steps[first:] {
		mark := t.Accent.Render(m.spin.View())
		switch {
		case s.done && s.ok:
			mark = t.Pass.Render("✓")
		case s.done:
			mark = t.Fail.Render("✗")
		case !m.running:
			mark = t.Subtle.Render("·")
		}
		line := "  " + mark + " " + ui.Pad(s.name, 22) + " " + ui.Pad(ui.Duration(s.dur), 7)
		if d := m.mask.Text(s.summary); d != "" {
			line += " " + t.Subtle.Render(ui.Truncate(d, max(5, w-36)))
		}
		out = append(out, line)
	}
	if m.dpopRows() > 0 {
		out = append(out, dpopLine(t, m.result, w))
	}
	if m.result != nil && m.result.Err != nil {
		out = append(out, t.Error.Render(ui.Truncate("  "+string(m.result.Err.Kind)+": "+m.mask.Text(m.result.Err.Message), w)))
	}
	if m.running {
		out = append(out, "")
		out = append(out, m.waitingLines(w)...)
		if m.note != "" {
			out = append(out, t.Subtle.Render(ui.Truncate(m.note, w)))
		}
		return strings.Join(out, "\n")
	}
	if m.result == nil {
		return strings.Join(out, "\n")
	}
	// tab bar
	var tabs []string
	for i, n := range tabNames() {
		lbl := fmt.Sprintf("%d %s", i+1, n)
		if Tab(i) == TabChecks && m.result != nil {
			lbl += checkBadge(m.result.Checks)
		}
		if Tab(i) == TabExchanges {
			lbl += fmt.Sprintf(" (%d)", len(m.xs))
		}
		if Tab(i) == m.tab {
			tabs = append(tabs, t.TabOn.Render(lbl))
		} else {
			tabs = append(tabs, t.Tab.Render(lbl))
		}
	}
	out = append(out, ui.Truncate(strings.Join(tabs, "  "), w+60))
	bh := m.bodyHeight()
	var body string
	switch m.tab {
	case TabToken:
		body = m.insp.View()
	case TabExchanges:
		body = m.exch.View()
	case TabChecks:
		lines := inspect.CheckLines(t, m.checks, w)
		if len(lines) == 0 {
			lines = []string{t.Subtle.Render("no checks")}
		}
		body = m.window(lines, bh)
	case TabRaw:
		raw := m.rawMasked
		if m.Revealed() {
			raw = m.raw
		}
		body = m.window(raw, bh)
	case TabTimeline:
		body = m.window(m.timelineLines(w), bh)
	}
	out = append(out, body)
	if m.note != "" {
		out = append(out, t.Subtle.Render(ui.Truncate(m.note, w)))
	}
	return strings.Join(out, "\n")
}

// maskChecks is cs with the known tokens masked in their details.
func maskChecks(mk *render.Masker, cs []flows.Check) []flows.Check {
	out := make([]flows.Check, len(cs))
	for i, c := range cs {
		c.Detail = mk.Text(c.Detail)
		out[i] = c
	}
	return out
}

func checkBadge(cs []flows.Check) string {
	var f, wn int
	for _, c := range cs {
		switch c.Status {
		case flows.Fail:
			f++
		case flows.Warn:
			wn++
		}
	}
	switch {
	case f > 0:
		return fmt.Sprintf(" (%d ✗)", f)
	case wn > 0:
		return fmt.Sprintf(" (%d !)", wn)
	}
	return ""
}

func (m *Model) window(lines []string, h int) string {
	m.scroll = ui.Clamp(m.scroll, 0, max(0, len(lines)-h))
	w := max(30, m.w)
	end := min(len(lines), m.scroll+h)
	out := make([]string, 0, end-m.scroll)
	for _, l := range lines[m.scroll:end] {
		out = append(out, ui.Truncate(l, w))
	}
	return strings.Join(out, "\n")
}

func (m *Model) waitingLines(w int) []string {
	t := m.ctx.Theme
	var out []string
	if m.authURL != "" {
		out = append(out, t.Title.Render("Waiting for the browser"), "Sign in at:")
		// the URL is shown whole, wrapped, so it can be selected and copied;
		// a request object in it is masked (y copies the real URL)
		u := m.mask.URL(m.authURL)
		for len(u) > w {
			out = append(out, u[:w])
			u = u[w:]
		}
		out = append(out, u, t.Subtle.Render("o opens it again · y copies it · x cancels"))
	}
	if d := m.device; d != nil {
		out = append(out, t.Title.Render("Enter this code on another device"))
		out = append(out, t.Big.Render(spaced(d.UserCode)))
		out = append(out, "at "+t.Accent.Render(d.VerificationURI))
		poll := "polling the token endpoint until you approve"
		if d.Interval > 0 {
			poll = fmt.Sprintf("polling every %s", d.Interval)
		}
		if d.Polls > 0 {
			poll += fmt.Sprintf(" · %d polls, last: %s", d.Polls, d.LastPoll)
		}
		if d.SlowDowns > 0 {
			poll += fmt.Sprintf(" · told to slow down %d×", d.SlowDowns)
		}
		out = append(out, t.Subtle.Render(poll+" · x cancels"))
		if m.qr != "" {
			qrLines := strings.Split(strings.TrimRight(m.qr, "\n"), "\n")
			if len(qrLines)+len(out)+len(m.steps)+4 <= m.h {
				out = append(out, qrLines...)
			} else {
				out = append(out, t.Subtle.Render("(enlarge the terminal to see a QR code of the complete URL)"))
			}
		}
	}
	return out
}

// spaced renders a user code with wide spacing so it reads from across a room.
func spaced(s string) string {
	rs := []rune(s)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return "  " + strings.Join(parts, " ")
}
