package console

import (
	"strings"
	"testing"
)

// editorFixtureForm is an auth-code profile with most fields set, as
// profileToForm gives it: a stored client secret as its placeholder.
func editorFixtureForm() Form {
	return Form{Name: "demo-auth-code-pkce", Kind: "auth-code", Fields: map[string]string{
		"issuer": "http://127.0.0.1:9090", "client_id": "demo-web", "client_secret": "<stored secret>",
		"auth_method": "client_secret_basic", "scopes": "openid profile offline_access", "redirect_port": "8085",
		"par": "true", "response_mode": "form_post.jwt", "authorization_details": `[{"type":"payment_initiation"}]`,
		"prompt": "login consent", "login_hint": "alice", "max_age": "300", "claims": `{"id_token":{"email":null}}`,
		"dpop": "true", "dpop_alg": "EdDSA", "extra_params": `call_url=http://127.0.0.1:9090/api/hello`,
		"tags": "demo web", "notes": "first line\nsecond line"}}
}

// The editor at both sizes: a new profile saved too early (every missing
// field marked, the banner naming the first), and a long auth-code form
// scrolled to a JSON field typed wrong, the focused field and its error
// in view, lines above and below counted.
func TestGoldenEditorForms(t *testing.T) {
	for _, sz := range sizes {
		for _, c := range []struct {
			name string
			keys []string
			want string
		}{
			{"editor_new_invalid", []string{"n", "ctrl+s"}, "fix the fields"},
			{"editor_auth_code_scrolled", append(append([]string{"e"}, repeat("tab", 20)...), "x", "ctrl+s"), "not valid JSON"},
			{"editor_auth_code_secret", append([]string{"e"}, repeat("tab", 5)...), "never shown"},
		} {
			b := &fakeBackend{rows: fixtureRows(), form: editorFixtureForm()}
			tm := startTea(t, newTestModel(b), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, c.keys[:1]...)
			if c.keys[0] == "e" {
				waitText(t, tm, "Edit demo-auth-code-pkce")
			} else {
				waitText(t, tm, "New profile")
			}
			press(tm, c.keys[1:]...)
			waitText(t, tm, c.want)
			frame := finalModel(t, tm).View()
			golden(t, sizeName(c.name, sz.w, sz.h), frame)
			if !strings.Contains(frame, "ctrl+s save") || !strings.Contains(frame, "esc cancel") {
				t.Errorf("%s: the help line lacks the editor's keys:\n%s", c.name, frame)
			}
		}
	}
}

func repeat(k string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = k
	}
	return out
}
