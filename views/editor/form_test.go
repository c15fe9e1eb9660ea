package editor

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"authlab/views/ui"
)

func testModel(w, h int) *Model {
	m := New(&ui.Context{Theme: ui.NewTheme(lipgloss.NewRenderer(io.Discard), false), Now: time.Now})
	m.SetSize(w, h)
	return m
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// On a short screen the longest form scrolls: at every field, forwards
// and back, the view fits the height and shows the focused field.
func TestLongFormScrollsToTheFocusedField(t *testing.T) {
	for _, kind := range Kinds() {
		m := testModel(80, 21)
		m.Load(Form{Name: "p", Kind: kind, Fields: map[string]string{"dpop": "true", "claims": "{bad"}}, "p")
		n := len(m.fields)
		for step := 0; step < 2*n; step++ {
			k := tea.KeyMsg{Type: tea.KeyTab}
			if step >= n {
				k = tea.KeyMsg{Type: tea.KeyShiftTab}
			}
			v := m.View()
			lines := strings.Split(v, "\n")
			if len(lines) > 21 {
				t.Fatalf("%s: %d lines at field %d, more than the 21 there are", kind, len(lines), m.focus)
			}
			want := "> " + m.fields[m.focus].label
			if !strings.Contains(v, want) {
				t.Fatalf("%s: focused field %q not in view:\n%s", kind, want, v)
			}
			if msg, ok := m.errs[m.fields[m.focus].key]; ok && !strings.Contains(v, "✗ "+msg[:min(10, len(msg))]) {
				t.Fatalf("%s: the focused field's error is cut off:\n%s", kind, v)
			}
			m.Update(k)
		}
	}
}

// Choices cycle with ←/→ and space; toggles switch with space; neither
// takes typed text.
func TestChoicesAndToggles(t *testing.T) {
	m := testModel(100, 60)
	m.Load(Form{Name: "p", Kind: "auth-code", Fields: map[string]string{"client_id": "c", "issuer": "https://idp.example"}}, "")
	focus := func(key string) {
		t.Helper()
		for i := 0; m.fields[m.focus].key != key; i++ {
			if i > len(m.fields) {
				t.Fatalf("no field %s", key)
			}
			m.Update(tea.KeyMsg{Type: tea.KeyTab})
		}
	}
	focus("response_mode")
	m.Update(tea.KeyMsg{Type: tea.KeyRight})
	if got := m.Form().Fields["response_mode"]; got != "query" {
		t.Errorf("response_mode after → = %q", got)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyLeft})
	m.Update(tea.KeyMsg{Type: tea.KeyLeft})
	if got := m.Form().Fields["response_mode"]; got != "form_post.jwt" {
		t.Errorf("response_mode after ←← = %q (the cycle wraps)", got)
	}
	typeText(m, "zz")
	if got := m.Form().Fields["response_mode"]; got != "form_post.jwt" {
		t.Errorf("typing changed a choice: %q", got)
	}
	focus("par")
	m.Update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	if got := m.Form().Fields["par"]; got != "true" {
		t.Errorf("par after space = %q", got)
	}
	m.Update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	if got := m.Form().Fields["par"]; got != "" {
		t.Errorf("par after space twice = %q", got)
	}
	focus("auth_method")
	m.Update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	if got := m.Form().Fields["auth_method"]; got != "client_secret_basic" {
		t.Errorf("auth_method after space = %q", got)
	}
	if !strings.Contains(m.View(), "‹ client_secret_basic ›") {
		t.Error("the choice is not shown")
	}
}

// A stored secret's placeholder is shown as such; typing replaces it
// (masked), deleting clears it so the save removes the secret.
func TestStoredSecretPlaceholder(t *testing.T) {
	m := testModel(100, 40)
	m.Load(Form{Name: "p", Kind: "password", Fields: map[string]string{"token_url": "https://idp.example/token", "client_id": "c",
		"user_password": "<stored secret>", "client_secret": "<stored secret>"}}, "p")
	if got := strings.Count(m.View(), "<stored secret>"); got != 2 {
		t.Fatalf("%d placeholders shown:\n%s", got, m.View())
	}
	for m.fields[m.focus].key != "user_password" {
		m.Update(tea.KeyMsg{Type: tea.KeyTab})
	}
	typeText(m, "n3w-pass")
	if v := m.View(); strings.Contains(v, "n3w-pass") || !strings.Contains(v, "••••••••") {
		t.Errorf("typed secret not masked:\n%s", v)
	}
	if got := m.Form().Fields["user_password"]; got != "n3w-pass" {
		t.Errorf("typing over the placeholder gave %q", got)
	}
	for m.fields[m.focus].key != "client_secret" {
		m.Update(tea.KeyMsg{Type: tea.KeyShiftTab})
	}
	m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	if got, ok := m.Form().Fields["client_secret"]; !ok || got != "" {
		t.Errorf("backspace on the placeholder gave %q (want empty: remove)", got)
	}
	if !strings.Contains(m.View(), "removed when you save") {
		t.Error("no word that the secret will be removed")
	}
}

// Extra parameters, notes and lists survive the trip through the form's
// one-line fields exactly.
func TestOneLineEncodings(t *testing.T) {
	params := map[string]string{"call_url": "https://api.example/x?a=1&b=2", "q": `say "hi" \ bye`, "empty": "", "p": "login consent"}
	got, err := ParseParams(FormatParams(params))
	if err != nil || !reflect.DeepEqual(got, params) {
		t.Fatalf("params round trip: %v %v (from %q)", got, err, FormatParams(params))
	}
	if m, err := ParseParams("  "); err != nil || m != nil {
		t.Errorf("empty list: %v %v", m, err)
	}
	for _, bad := range []string{"novalue", "=v", `k="open`, `k="a"b`, "k=1 k=2"} {
		if _, err := ParseParams(bad); err == nil {
			t.Errorf("ParseParams(%q) accepted", bad)
		}
	}
	notes := "one\n\ttwo \\n three\\"
	m := testModel(100, 40)
	m.Load(Form{Name: "p", Kind: "api-key", Fields: map[string]string{"notes": notes, "tags": "a b", "extra_params": FormatParams(params)}}, "p")
	f := m.Form()
	if f.Fields["notes"] != notes {
		t.Errorf("notes = %q, want %q", f.Fields["notes"], notes)
	}
	if p, err := ParseParams(f.Fields["extra_params"]); err != nil || !reflect.DeepEqual(p, params) {
		t.Errorf("extra params through the editor: %v %v", p, err)
	}
	m.Load(Form{Name: "p", Kind: "api-key", Fields: map[string]string{"tags": "a,b", "api_key_header": "X-Key", "api_key_query": "key"}}, "p")
	if m.Errors()["tags"] == "" || m.Errors()["api_key_query"] == "" {
		t.Errorf("errors = %v; want tags and api_key_query flagged", m.Errors())
	}
}

func TestJSONProblem(t *testing.T) {
	for _, c := range []struct{ key, v, want string }{
		{"claims", `{"id_token":{}}`, ""},
		{"claims", `[]`, "not a JSON object"},
		{"claims", `{"a":`, "not valid JSON"},
		{"authorization_details", `[{"type":"x"}]`, ""},
		{"authorization_details", `{"type":"x"}`, "not a JSON array"},
		{"assertion_claims", ``, ""},
		{"assertion_claims", `null`, "not a JSON object"},
	} {
		if got := JSONProblem(c.key, c.v); (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("JSONProblem(%s, %s) = %q, want %q", c.key, c.v, got, c.want)
		}
	}
}
