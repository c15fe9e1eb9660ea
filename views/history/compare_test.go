package history

import (
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"authlab/views/ui"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func newModel(w, h int, es []Entry) *Model {
	m := New(&ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: func() time.Time { return now }})
	m.SetSize(w, h)
	m.SetEntries("p", es)
	return m
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		switch k {
		case "space":
			m.Update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		case "tab":
			m.Update(tea.KeyMsg{Type: tea.KeyTab})
		default:
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

func run(at time.Time, sub, idSub string) Entry {
	return Entry{Time: at, Flow: "auth-code", OK: true, Decoded: []Token{
		{Kind: "access_token", Format: "jwt", Fingerprint: "aaaa", Header: map[string]any{"alg": "RS256"}, Claims: map[string]any{"sub": sub}},
		{Kind: "id_token", Format: "jwt", Fingerprint: "bbbb", Header: map[string]any{"alg": "RS256"}, Claims: map[string]any{"sub": idSub, "auth_time": float64(at.Unix())}},
		{Kind: "refresh_token", Format: "opaque", Fingerprint: "cccc"},
	}}
}

// TestCompareCyclesTokenKinds: tab moves between the token kinds both runs
// kept claims of (an opaque refresh token is not one of them).
func TestCompareCyclesTokenKinds(t *testing.T) {
	m := newModel(100, 30, []Entry{run(now, "alice", "alice"), run(now.Add(-time.Hour), "alice", "bob")})
	press(m, "space", "j", "d")
	v := m.View()
	if !strings.Contains(v, "Compare access_token") || !strings.Contains(v, "(1/2, tab: next)") || !strings.Contains(v, "Claims: same") {
		t.Fatalf("access token diff:\n%s", v)
	}
	press(m, "tab")
	v = m.View()
	if !strings.Contains(v, "Compare id_token") || !strings.Contains(v, "~ sub") || !strings.Contains(v, "a different subject") || !strings.Contains(v, "~ auth_time") {
		t.Fatalf("id token diff:\n%s", v)
	}
	press(m, "tab")
	if !strings.Contains(m.View(), "Compare access_token") {
		t.Fatal("tab should wrap around to the access token")
	}
}

// TestMarkAndBack: space toggles the mark; esc closes the diff first, then
// drops the mark, then leaves the screen to the root.
func TestMarkAndBack(t *testing.T) {
	m := newModel(100, 30, []Entry{run(now, "a", "a"), run(now.Add(-time.Hour), "b", "b")})
	press(m, "space")
	if !strings.Contains(m.View(), "A✓") {
		t.Fatalf("the marked run should carry A:\n%s", m.View())
	}
	press(m, "space")
	if strings.Contains(m.View(), "A✓") {
		t.Fatal("space again should drop the mark")
	}
	press(m, "space", "j", "d")
	if !m.Comparing() {
		t.Fatal("d should open the diff")
	}
	for i, want := range []bool{true, true, false} {
		if _, done := m.Back(); done != want {
			t.Fatalf("esc %d handled = %v, want %v", i+1, done, want)
		}
	}
	if m.Comparing() || strings.Contains(m.View(), "A✓") {
		t.Fatal("esc should have closed the diff and dropped the mark")
	}
}

// TestDiffScrollsKeepingTitle: a diff taller than the screen scrolls under
// its title and the two runs' lines, and never exceeds the height.
func TestDiffScrollsKeepingTitle(t *testing.T) {
	a, b := run(now, "a", "a"), run(now.Add(-time.Hour), "b", "b")
	for i := range 30 {
		a.Decoded[0].Claims[string(rune('c'+i%20))+strings.Repeat("x", i)] = i
	}
	m := newModel(80, 10, []Entry{a, b})
	press(m, "space", "j", "d")
	first := m.View()
	press(m, "j", "j", "j")
	v := m.View()
	if v == first || len(strings.Split(v, "\n")) != 10 || !strings.HasPrefix(v, "Compare access_token") || !strings.Contains(v, "B  ") {
		t.Fatalf("scrolled diff:\n%s", v)
	}
	press(m, strings.Split(strings.Repeat("j ", 100), " ")...)
	if len(strings.Split(m.View(), "\n")) != 10 {
		t.Fatal("scrolling past the end changed the height")
	}
}
