package run

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"authlab/flows"
	"authlab/views/inspect"
	"authlab/views/render"
	"authlab/views/ui"
)

const tok = "opaque-access-token-0123456789abcdef"

func keyRunes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// A failed-check run with an opaque token and no decoded one: nothing on
// the token tab keeps the clock ticking, so the reveal itself must.
func newScreen(now *time.Time) *Model {
	ctx := &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: func() time.Time { return *now }}
	m := New(ctx)
	m.SetSize(160, 60)
	m.Begin(7, "p", "client-credentials", *now)
	res := &flows.Result{Flow: "client-credentials", OK: true,
		Steps: []flows.StepEvent{{Name: "token request", Done: true, OK: true, Detail: "HTTP 200, got " + tok}},
		Token: flows.NewTokenResponse(map[string]any{"access_token": tok, "token_type": "Bearer"}, *now),
		Exchanges: []flows.Exchange{{Step: "token request", Method: "POST", URL: "http://idp/token", Status: 200,
			ResponseHeaders: http.Header{"Content-Type": {"application/json"}}, ResponseBody: `{"access_token":"` + tok + `","token_type":"Bearer"}`}}}
	m.Finish(res, inspect.Data{})
	return m
}

func TestRevealRawTabEndsOnTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	m := newScreen(&now)
	m.Update(keyRunes("4"))
	if strings.Contains(m.View(), tok) || !strings.Contains(m.View(), render.MaskToken(tok)) {
		t.Fatalf("raw JSON must show the token masked:\n%s", m.View())
	}
	if m.Live() {
		t.Fatal("nothing changes with the clock yet")
	}
	cmd := m.Update(keyRunes("R"))
	if cmd == nil {
		t.Fatal("R must ask the root to keep the clock ticking")
	}
	if a, ok := cmd().(ActionMsg); !ok || a.Action != ActReveal || a.RunID != 7 {
		t.Fatalf("R sent %#v, want ActReveal of run 7", cmd())
	}
	if !strings.Contains(m.View(), tok) || !m.Live() {
		t.Fatal("R must show the token in clear, and the screen be Live until it is masked again")
	}
	// another tab is not revealed by it
	m.Update(keyRunes("2"))
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if strings.Contains(m.View(), tok) {
		t.Error("revealing raw JSON must not reveal the exchange detail")
	}
	m.Update(keyRunes("4"))
	now = now.Add(inspect.RevealFor - time.Millisecond)
	if !strings.Contains(m.View(), tok) {
		t.Error("masked before its time")
	}
	now = now.Add(time.Millisecond)
	if strings.Contains(m.View(), tok) || m.Live() {
		t.Error("still in clear after RevealFor")
	}
}

func TestRevealToggleAndExchangeDetail(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	m := newScreen(&now)
	m.Update(keyRunes("2"))
	if cmd := m.Update(keyRunes("R")); cmd != nil || !strings.Contains(m.View(), "open an exchange") {
		t.Errorf("R on the exchange list must say to open one first:\n%s", m.View())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	m.Update(keyRunes("R"))
	if !strings.Contains(m.View(), `"access_token": "`+tok+`"`) {
		t.Errorf("R must reveal the open exchange:\n%s", m.View())
	}
	m.Update(keyRunes("R")) // again: masked at once
	if strings.Contains(m.View(), tok) {
		t.Error("a second R must mask it again")
	}
	m.Update(keyRunes("5"))
	if !strings.Contains(m.View(), "✓ token request") || strings.Contains(m.View(), tok) || m.tab != TabTimeline {
		t.Errorf("5 must open the timeline tab:\n%s", m.View())
	}
}

func TestDecodedNote(t *testing.T) {
	h, c, ok := decodedNote(`header {"alg":"PS256","typ":"oauth-authz-req+jwt"} claims {"iss":"c","max_age":300}`)
	if !ok || h["alg"] != "PS256" || c["iss"] != "c" || c["max_age"].(interface{ String() string }).String() != "300" {
		t.Fatalf("decodedNote = %v %v %v", h, c, ok)
	}
	for _, bad := range []string{"", "header {", `header {"a":1} claim {}`, "HTTP 201, request_uri x"} {
		if _, _, ok := decodedNote(bad); ok {
			t.Errorf("decodedNote(%q) must not decode", bad)
		}
	}
}

func TestWaitingURLMasksRequestObject(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ctx := &ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: func() time.Time { return now }}
	m := New(ctx)
	m.SetSize(80, 24)
	m.Begin(1, "p", "auth-code", now)
	const obj = "eyJhbGciOiJQUzI1NiJ9.eyJjbGllbnRfaWQiOiJjIn0.cmVxdWVzdC1vYmplY3Q"
	m.WaitBrowser("http://idp/authorize?client_id=c&request=" + obj + "&scope=openid")
	v := strings.ReplaceAll(m.View(), "\n", "")
	if strings.Contains(v, obj) || !strings.Contains(v, "client_id=c&request=eyJhbGci…") || !strings.Contains(v, "y copies it") {
		t.Errorf("the waiting URL must show the request object masked:\n%s", m.View())
	}
	if m.AuthURL() != "http://idp/authorize?client_id=c&request="+obj+"&scope=openid" {
		t.Error("y and o must still get the real URL")
	}
}
