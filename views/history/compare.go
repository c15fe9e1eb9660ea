package history

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows/token"
	"authlab/views/render"
	"authlab/views/ui"
)

// Token is one token of a past run as history keeps it: never the token,
// only its fingerprint and, for a JWT, the decoded header and claims (an
// older entry may lack the header).
type Token struct {
	Kind        string // access_token, id_token, refresh_token
	Format      string // jwt or opaque
	Fingerprint string
	Header      map[string]any
	Claims      map[string]any
}

// compare is the history's comparison of two runs: space marks run A, d
// compares it with the selected run B.
type compare struct {
	marked int // index of run A, -1 when none
	note   string
	diff   *token.Diff // the open diff, nil when none
	a, b   int         // the runs diffed
	kinds  []string    // token kinds both runs have decoded
	kind   int
	all    bool // list the fields that are the same too
	offset int  // first line of the diff shown

	mark, compare, next, allKey, back, up, down key.Binding
}

func newCompare() compare {
	return compare{marked: -1,
		mark:    key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		compare: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff")),
		next:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next token")),
		allKey:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "same fields too")),
		back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close diff")),
		up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll")),
		down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll")),
	}
}

func (c *compare) reset() { *c = newCompare() }

func (c *compare) diffHelp() []key.Binding {
	hs := []key.Binding{c.down, c.allKey}
	if len(c.kinds) > 1 {
		hs = append(hs, c.next)
	}
	return hs
}

// Back is part of ui.Backer: esc closes the diff, then drops the mark.
func (m *Model) Back() (tea.Cmd, bool) {
	switch {
	case m.cmp.diff != nil:
		m.cmp.diff, m.cmp.note = nil, ""
		return nil, true
	case m.cmp.marked >= 0:
		m.cmp.marked, m.cmp.note = -1, ""
		return nil, true
	}
	return nil, false
}

// Comparing reports whether the diff of two runs is on show.
func (m *Model) Comparing() bool { return m.cmp.diff != nil }

// compareKey handles the comparison's keys; false leaves k to the list.
func (m *Model) compareKey(k tea.KeyMsg) bool {
	c := &m.cmp
	if c.diff != nil {
		switch {
		case key.Matches(k, c.next) && len(c.kinds) > 1:
			c.kind = (c.kind + 1) % len(c.kinds)
			m.diffRuns()
		case key.Matches(k, c.allKey):
			c.all = !c.all
			c.offset = 0
		case key.Matches(k, c.up):
			c.offset = max(0, c.offset-1)
		case key.Matches(k, c.down):
			c.offset++ // diffView clamps it
		}
		return true
	}
	switch {
	case key.Matches(k, c.mark):
		if len(m.items) == 0 {
			return true
		}
		if c.marked == m.cursor {
			c.marked, c.note = -1, ""
		} else {
			c.marked, c.note = m.cursor, ""
		}
		return true
	case key.Matches(k, c.compare):
		switch {
		case c.marked < 0:
			c.note = "mark a run with space first, then select another and press d"
		case c.marked == m.cursor:
			c.note = "select another run than A to compare with it"
		default:
			c.a, c.b, c.kind, c.all, c.offset = c.marked, m.cursor, 0, false, 0
			c.kinds = commonKinds(m.items[c.a].Decoded, m.items[c.b].Decoded)
			if len(c.kinds) == 0 {
				c.note = "nothing to compare: the two runs have no decoded token (JWT) of the same kind"
				return true
			}
			m.diffRuns()
		}
		return true
	}
	return false
}

// diffRuns compares the current token kind of runs a and b.
func (m *Model) diffRuns() {
	c := &m.cmp
	ta, _ := tokenOf(m.items[c.a].Decoded, c.kinds[c.kind])
	tb, _ := tokenOf(m.items[c.b].Decoded, c.kinds[c.kind])
	c.diff = token.CompareClaims(token.Parts{Header: ta.Header, Claims: ta.Claims}, token.Parts{Header: tb.Header, Claims: tb.Claims}, m.ctx.Now())
	c.note = ""
}

// commonKinds are the token kinds both runs kept claims of, access token first.
func commonKinds(a, b []Token) []string {
	var out []string
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		ta, aok := tokenOf(a, k)
		tb, bok := tokenOf(b, k)
		if aok && bok && ta.Claims != nil && tb.Claims != nil {
			out = append(out, k)
		}
	}
	return out
}

func tokenOf(ts []Token, kind string) (Token, bool) {
	for _, t := range ts {
		if t.Kind == kind {
			return t, true
		}
	}
	return Token{}, false
}

// markLine is the line between the list and the details: which run is A,
// or what the last compare key needs.
func (m *Model) markLine(w int) string {
	t := m.ctx.Theme
	c := &m.cmp
	switch {
	case c.note != "":
		return t.Warn.Render(ui.Truncate(c.note, w))
	case c.marked >= 0 && c.marked < len(m.items):
		return t.Accent.Render(ui.Truncate("A = run of "+stamp(m.items[c.marked])+": select another run and press d to compare", w))
	}
	return ""
}

func stamp(e Entry) string { return e.Time.UTC().Format("2006-01-02 15:04:05Z") }

var marks = map[token.Change]string{token.Same: " ", token.Added: "+", token.Removed: "-", token.Changed: "~"}

// diffView shows the two runs, the header and claims side by side (+ only
// in B, - only in A, ~ changed), then what the differences mean.
func (m *Model) diffView(w int) string {
	t := m.ctx.Theme
	c := &m.cmp
	ea, eb := m.items[c.a], m.items[c.b]
	kind := c.kinds[c.kind]
	ta, _ := tokenOf(ea.Decoded, kind)
	tb, _ := tokenOf(eb.Decoded, kind)
	title := "Compare " + kind + " of two runs of " + m.profile
	if len(c.kinds) > 1 {
		title += fmt.Sprintf(" (%d/%d, tab: next)", c.kind+1, len(c.kinds))
	}
	out := []string{t.Title.Render(ui.Truncate(title, w))}
	for _, r := range []struct {
		name string
		e    Entry
		tk   Token
	}{{"A", ea, ta}, {"B", eb, tb}} {
		out = append(out, ui.Truncate(fmt.Sprintf("%s  %s  %-18s sha256:%s", t.Accent.Render(r.name), stamp(r.e), r.e.Flow, ui.ShortFP(r.tk.Fingerprint)), w))
	}
	if c.diff.ClaimsOnly {
		out = append(out, t.Warn.Render(ui.Truncate("history kept no header for "+missingHeader(ta, tb)+": claims compared only", w)))
	}
	parts := []string{"header", "claims"}
	if c.diff.ClaimsOnly {
		parts = parts[1:]
	}
	for _, part := range parts {
		out = append(out, "")
		out = append(out, m.partLines(part, w)...)
	}
	var notes []string
	for _, f := range c.diff.Differences() {
		if f.Meaning != "" {
			// the meanings are the point: wrapped, never cut
			wrapped := t.R.NewStyle().Width(max(10, w-4)).Render(render.Printable(f.Meaning))
			for i, l := range strings.Split(wrapped, "\n") {
				indent := "  "
				if i > 0 {
					indent = "    "
				}
				notes = append(notes, indent+strings.TrimRight(l, " "))
			}
		}
	}
	if len(notes) > 0 {
		out = append(out, "", t.Title.Render("What it means"))
		out = append(out, notes...)
	}
	// the title and the two runs stay; the rest scrolls
	fixed := 3
	if m.h > 0 && len(out) > m.h {
		c.offset = ui.Clamp(c.offset, 0, len(out)-m.h)
		out = append(out[:fixed:fixed], out[fixed+c.offset:fixed+c.offset+m.h-fixed]...)
	} else {
		c.offset = 0
	}
	return strings.Join(out, "\n")
}

func missingHeader(a, b Token) string {
	switch {
	case a.Header == nil && b.Header == nil:
		return "A or B"
	case a.Header == nil:
		return "A"
	}
	return "B"
}

// partLines is one part's table: name, A's value, B's value.
func (m *Model) partLines(part string, w int) []string {
	t := m.ctx.Theme
	c := &m.cmp
	name := strings.ToUpper(part[:1]) + part[1:]
	var fs []token.FieldDiff
	same := true
	for _, f := range c.diff.Fields {
		if f.Part != part {
			continue
		}
		if f.Change != token.Same {
			same = false
		}
		if f.Change != token.Same || c.all {
			fs = append(fs, f)
		}
	}
	if same && !c.all {
		return []string{t.Subtle.Render(name + ": same")}
	}
	nameW := 4
	for _, f := range fs {
		nameW = max(nameW, min(16, len(f.Name)))
	}
	valW := max(8, (w-nameW-6)/2)
	out := []string{t.Subtle.Render(ui.Truncate(ui.Pad(name, nameW+2)+"  "+ui.Pad("A", valW)+" B", w))}
	for _, f := range fs {
		st := t.Subtle
		switch f.Change {
		case token.Added:
			st = t.Pass
		case token.Removed:
			st = t.Fail
		case token.Changed:
			st = t.Warn
		}
		line := st.Render(marks[f.Change]) + " " + ui.Pad(render.Printable(f.Name), nameW) + "  " +
			ui.Pad(cell(f.AText, f.Change == token.Added), valW) + " " + cell(f.BText, f.Change == token.Removed)
		out = append(out, ui.Truncate(line, w))
	}
	return out
}

func cell(s string, absent bool) string {
	if absent {
		return "(absent)"
	}
	return render.Printable(s)
}
