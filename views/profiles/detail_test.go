package profiles

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

func paneModel(w, h int) *Model {
	m := New(testCtx())
	m.SetSize(w, h)
	m.SetRows(rows(20))
	return m
}

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// TestPaneBesideOrBelow: beside the list at 120 columns, below it at 80,
// and p hides it (the list takes the room back); every frame keeps its height.
func TestPaneBesideOrBelow(t *testing.T) {
	now := testCtx().Now()
	d := &Detail{Name: "p-0000", Kind: "client-credentials", Issuer: "https://idp.example", ClientID: "cid",
		Token: &TokenSummary{Obtained: now.Add(-time.Minute), ExpiresAt: now.Add(9 * time.Minute)}}
	for _, c := range []struct {
		w, h   int
		beside bool
	}{{120, 30, true}, {80, 21, false}} {
		m := paneModel(c.w, c.h)
		m.SetDetail(d)
		v := m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != c.h {
			t.Fatalf("%dx%d: %d lines", c.w, c.h, len(lines))
		}
		if got := strings.Contains(lines[0], "│ p-0000 · client-credentials"); got != c.beside {
			t.Errorf("%dx%d: pane beside = %v:\n%s", c.w, c.h, got, v)
		}
		if !strings.Contains(v, "issuer    https://idp.example") || !strings.Contains(v, "in 9m00s") {
			t.Errorf("%dx%d: pane content:\n%s", c.w, c.h, v)
		}
		shownWith := strings.Count(v, "p-00")
		m.Update(runes("p"))
		v = m.View()
		if strings.Contains(v, "issuer") || len(strings.Split(v, "\n")) != c.h {
			t.Errorf("%dx%d: p should hide the pane:\n%s", c.w, c.h, v)
		}
		if !c.beside && strings.Count(v, "p-00") <= shownWith {
			t.Errorf("%dx%d: without the pane below, the list should show more rows", c.w, c.h)
		}
		if m.Live() {
			t.Errorf("a hidden pane needs no tick")
		}
	}
}

// TestPaneDropsAnotherProfilesDetail: a late answer for a profile no longer
// selected is not shown, and the pane waits for the selected one.
func TestPaneDropsAnotherProfilesDetail(t *testing.T) {
	m := paneModel(120, 20)
	m.SetDetail(&Detail{Name: "p-0000", Kind: "client-credentials", ClientID: "first"})
	m.Update(runes("j"))
	if v := m.View(); strings.Contains(v, "first") || !strings.Contains(v, "reading p-0001…") {
		t.Errorf("the old detail shows for the new selection:\n%s", v)
	}
	m.SetDetail(&Detail{Name: "p-0000", ClientID: "late"})
	if v := m.View(); strings.Contains(v, "late") {
		t.Errorf("a late detail of another profile shows:\n%s", v)
	}
}

// TestPaneLiveUntilExpiry: the pane asks for ticks only while a cached
// token has yet to expire.
func TestPaneLiveUntilExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := paneModel(120, 20)
	m.ctx.Now = func() time.Time { return now }
	tk := &TokenSummary{Obtained: now.Add(-time.Minute), ExpiresAt: now.Add(time.Second)}
	m.SetDetail(&Detail{Name: "p-0000", Kind: "client-credentials", Token: tk})
	if !m.Live() {
		t.Fatal("a token that has not expired should count down")
	}
	now = now.Add(2 * time.Second)
	if m.Live() || !strings.Contains(m.View(), "expired 1 s ago") {
		t.Errorf("after expiry: live %v\n%s", m.Live(), m.View())
	}
	m.SetDetail(&Detail{Name: "p-0000", Kind: "hmac"})
	if m.Live() {
		t.Error("no token, no tick")
	}
}

// TestPaneEscapesUntrustedText: an imported profile's fields cannot send
// terminal escapes through the pane.
func TestPaneEscapesUntrustedText(t *testing.T) {
	m := paneModel(120, 20)
	m.SetDetail(&Detail{Name: "p-0000", Kind: "client-credentials", Issuer: "https://x\x1b]52;c;aGk=\x07"})
	if v := m.View(); strings.Contains(v, "\x1b") || !strings.Contains(v, `\x1b`) {
		t.Errorf("escape not neutralised:\n%q", v)
	}
}
