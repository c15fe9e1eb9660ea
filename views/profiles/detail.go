package profiles

import (
	"strconv"
	"strings"
	"time"

	"authlab/views/render"
	"authlab/views/ui"
)

// Detail is what the pane shows of the selected profile. It holds no
// secret and no token: a secret is named by where it comes from, the cached
// token by its fingerprint and times.
type Detail struct {
	Name, Kind string
	Issuer     string
	// Endpoints are the URLs set explicitly (or the request URL of an hmac
	// or api-key profile), label first.
	Endpoints  []Field
	ClientID   string
	AuthMethod string
	Scopes     string
	// Settings are kind-specific lines: HMAC scheme and key id, the
	// api-key header, DPoP, the client certificate file.
	Settings []Field
	// Secrets name each configured secret and its source ("stored",
	// "env:NAME", "file:PATH", "cmd:PROGRAM …"), never its value.
	Secrets []Field
	Last    *RunSummary   // nil: never run
	Token   *TokenSummary // nil: no cached token
	Err     string        // why the detail could not be read
}

// Field is one labelled line of the pane.
type Field struct{ Label, Value string }

// RunSummary is a profile's latest run with its checks counted.
type RunSummary struct {
	At               time.Time
	Flow             string
	OK               bool
	Reason           string // why it failed, or the first failed check
	Pass, Warn, Fail int
}

// TokenSummary is the cached token response of a profile, without the
// token: which flow got it, when, when it expires and its fingerprint.
type TokenSummary struct {
	Flow        string
	Obtained    time.Time
	ExpiresAt   time.Time // zero: the response said nothing of expiry
	Fingerprint string    // SHA-256 of the access token, hex
	Refresh     bool      // a refresh token is cached too
}

// SetDetail shows d in the pane when it is the selected profile's (a late
// answer for another profile is dropped); nil clears the pane.
func (m *Model) SetDetail(d *Detail) {
	if d != nil && d.Name != m.Selected() {
		return
	}
	m.detail = d
}

// PaneOn reports whether the detail pane is shown (p toggles it).
func (m *Model) PaneOn() bool { return m.paneOn }

// Live is part of ui.Ticker: the pane counts down a token that has not
// expired yet.
func (m *Model) Live() bool {
	if !m.paneOn || m.detail == nil || m.detail.Name != m.Selected() || m.detail.Token == nil || m.detail.Token.ExpiresAt.IsZero() {
		return false
	}
	return m.ctx.Now().Before(m.detail.Token.ExpiresAt)
}

// paneBeside: at 100 columns or more the pane goes beside the list, else
// below it.
func (m *Model) paneBeside() bool { return m.w >= 100 }

// paneWidth is the pane's width beside the list (0 below or off).
func (m *Model) paneWidth() int {
	if !m.paneOn || !m.paneBeside() {
		return 0
	}
	return max(36, m.w*2/5)
}

// paneHeight is the pane's height below the list (0 beside or off); it
// leaves the list at least three rows, else it is not shown.
func (m *Model) paneHeight() int {
	if !m.paneOn || m.paneBeside() {
		return 0
	}
	ph := min(10, m.h/2)
	if m.h-3-ph < 3 {
		return 0
	}
	return ph
}

const labelW = 9

// paneLines renders the pane, w cells wide, at most h lines.
func (m *Model) paneLines(w, h int) []string {
	t := m.ctx.Theme
	if m.Selected() == "" {
		return nil
	}
	d := m.detail
	if d == nil || d.Name != m.Selected() {
		return []string{t.Subtle.Render(ui.Truncate("reading "+m.Selected()+"…", w))}
	}
	now := m.ctx.Now()
	out := []string{t.Title.Render(ui.Truncate(clean(d.Name)+" · "+clean(d.Kind), w))}
	if d.Err != "" {
		return append(out, t.Fail.Render(ui.Truncate("cannot read: "+clean(d.Err), w)))
	}
	line := func(label, value string) {
		if value != "" {
			out = append(out, t.Subtle.Render(ui.Pad(label, labelW))+" "+ui.Truncate(value, max(1, w-labelW-1)))
		}
	}
	// what a person looks at first comes first: at 80x24 the pane is short
	line("issuer", clean(d.Issuer))
	for _, e := range d.Endpoints {
		line(e.Label, clean(e.Value))
	}
	line("client", clean(d.ClientID))
	line("auth", clean(d.AuthMethod))
	if r := d.Last; r != nil {
		mark, st := "✓ ok", t.Pass
		if !r.OK {
			mark, st = "✗ fail", t.Fail
		}
		line("last run", st.Render(mark)+" "+ui.Age(now, r.At)+" ago · "+clean(r.Flow))
		line("checks", checksSummary(r))
		if !r.OK && r.Reason != "" {
			line("reason", clean(r.Reason))
		}
	} else {
		line("last run", t.Subtle.Render("never run"))
	}
	if tk := d.Token; tk != nil {
		line("expires", m.countdown(tk, now))
		fp := "obtained " + ui.Age(now, tk.Obtained) + " ago"
		if tk.Fingerprint != "" {
			fp = "sha256:" + ui.ShortFP(tk.Fingerprint) + " · " + fp
		}
		if tk.Refresh {
			fp += " · +refresh"
		}
		line("token", fp)
	} else if isOAuth(d.Kind) {
		line("token", t.Subtle.Render("none cached"))
	}
	line("scope", clean(d.Scopes))
	for _, s := range d.Settings {
		line(s.Label, clean(s.Value))
	}
	for _, s := range d.Secrets {
		line(s.Label, clean(s.Value))
	}
	if len(out) > h {
		out = out[:h]
	}
	return out
}

// countdown is "in 49m53s · 12:50:00Z [███████░░░]", or "expired …".
func (m *Model) countdown(tk *TokenSummary, now time.Time) string {
	t := m.ctx.Theme
	if tk.ExpiresAt.IsZero() {
		return t.Subtle.Render("unknown (no expires_in)")
	}
	at := tk.ExpiresAt.UTC().Format("15:04:05Z")
	if !now.Before(tk.ExpiresAt) {
		return t.Fail.Render("expired " + render.Relative(tk.ExpiresAt, now) + " · " + at)
	}
	s := render.Relative(tk.ExpiresAt, now) + " · " + at
	if life := tk.ExpiresAt.Sub(tk.Obtained); !tk.Obtained.IsZero() && life > 0 {
		const bw = 10
		left := int(float64(tk.ExpiresAt.Sub(now))/float64(life)*bw + 0.5)
		left = ui.Clamp(left, 0, bw)
		st := t.Pass
		if left <= 2 {
			st = t.Warn
		}
		s += " " + st.Render("["+strings.Repeat("█", left)+strings.Repeat("░", bw-left)+"]")
	}
	return s
}

func checksSummary(r *RunSummary) string {
	if r.Pass+r.Warn+r.Fail == 0 {
		return "none"
	}
	return strconv.Itoa(r.Pass) + " pass · " + strconv.Itoa(r.Warn) + " warn · " + strconv.Itoa(r.Fail) + " fail"
}

func isOAuth(kind string) bool { return kind != "hmac" && kind != "api-key" }

// clean: profile fields can come from an import, claims from a server.
func clean(s string) string { return render.Printable(s) }

// withPane adds the pane to the list drawn so far in b (its header and lh
// rows, listW wide): beside those lines, or below them.
func (m *Model) withPane(b *strings.Builder, listW, lh int) {
	if pw := m.paneWidth(); pw > 0 {
		rows := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		pane := m.paneLines(pw, len(rows))
		sep := m.ctx.Theme.Subtle.Render(" │ ")
		b.Reset()
		for i, r := range rows {
			p := ""
			if i < len(pane) {
				p = pane[i]
			}
			b.WriteString(ui.Pad(r, listW) + sep + p)
			b.WriteByte('\n')
		}
		return
	}
	ph := m.paneHeight()
	if ph == 0 {
		return
	}
	b.WriteString(m.ctx.Theme.Subtle.Render(strings.Repeat("─", max(1, m.w))))
	b.WriteByte('\n')
	pane := m.paneLines(max(20, m.w), ph-1)
	for i := range ph - 1 {
		if i < len(pane) {
			b.WriteString(pane[i])
		}
		b.WriteByte('\n')
	}
}
