package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTokenEndpoint answers every token request with body (a JSON token
// response) on 127.0.0.1.
func fakeTokenEndpoint(t *testing.T, body map[string]any) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}

// An access token that starts like a JWT but does not decode is opaque to
// the client (RFC 6749 1.4): a warning and exit 0, unless the run asked for
// JWT checks (--expect-jwt, --audience). ID tokens stay strict.
func TestFlowAccessTokenThatOnlyLooksLikeAJWT(t *testing.T) {
	const notAJWT = "eyJhbGciOiJSUzI1NiJ9.not-base64url!.sig" // JOSE header, broken claims
	tokenURL := fakeTokenEndpoint(t, map[string]any{"access_token": notAJWT, "token_type": "Bearer", "expires_in": 300})
	st := filepath.Join(t.TempDir(), "s.db")
	base := []string{"flow", "client-credentials", "--token-url", tokenURL, "--client-id", "c", "--client-secret", "s"}

	code, out, errs := runAuthlab(t, st, "", append(base, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d, want 0 (an opaque access token is fine): %s\n%s", code, errs, out)
	}
	j := decodeFlowJSON(t, out)
	if !j.OK || j.AccessToken == nil || j.AccessToken.Format != "opaque" {
		t.Fatalf("ok %v access_token %+v", j.OK, j.AccessToken)
	}
	var warned bool
	for _, c := range j.Checks {
		if c.Name == "access_token format" {
			warned = c.Status == "warn" && strings.HasPrefix(c.Detail, "looks like a JWT but is not one: ") &&
				strings.Contains(c.Detail, "claims segment") && strings.Contains(c.Detail, "treated as opaque")
		}
	}
	if !warned {
		t.Fatalf("no warning naming the reason: %+v", j.Checks)
	}

	code, out, _ = runAuthlab(t, st, "", base...)
	if code != 0 || !strings.Contains(out, "looks like a JWT but is not one") || !strings.Contains(out, "client-credentials ok") {
		t.Fatalf("human output, exit %d:\n%s", code, out)
	}

	for _, extra := range [][]string{{"--expect-jwt"}, {"--audience", "api://x"}} {
		code, out, errs := runAuthlab(t, st, "", append(append(base, extra...), "--json")...)
		first, _, _ := strings.Cut(errs, "\n")
		if code != 1 || !strings.Contains(first, "access_token format") || !strings.Contains(first, "claims segment") {
			t.Errorf("%v: exit %d, stderr %q, want 1 and the decode error first", extra, code, errs)
		}
		if j := decodeFlowJSON(t, out); j.OK {
			t.Errorf("%v: ok in JSON", extra)
		}
	}

	// --expect-jwt also refuses a plainly opaque token.
	opaqueURL := fakeTokenEndpoint(t, map[string]any{"access_token": "2YotnFZFEjr1zCsicMWpAA", "token_type": "Bearer", "expires_in": 300})
	code, _, errs = runAuthlab(t, st, "", "flow", "client-credentials", "--token-url", opaqueURL, "--client-id", "c", "--client-secret", "s", "--expect-jwt")
	if code != 1 || !strings.Contains(errs, "--expect-jwt") {
		t.Errorf("opaque token with --expect-jwt: exit %d, stderr %q", code, errs)
	}

	// ID tokens are for the client: one that does not decode fails the run.
	idURL := fakeTokenEndpoint(t, map[string]any{"access_token": "2YotnFZFEjr1zCsicMWpAA", "token_type": "Bearer", "expires_in": 300, "id_token": notAJWT})
	code, _, errs = runAuthlab(t, st, "", "flow", "client-credentials", "--token-url", idURL, "--client-id", "c", "--client-secret", "s")
	if first, _, _ := strings.Cut(errs, "\n"); code != 1 || !strings.Contains(first, "id_token format") {
		t.Errorf("broken ID token: exit %d, stderr %q", code, errs)
	}
}

// deepJWT is an unsigned JWT whose "deep" claim nests depth arrays (a
// 26 KB one once gave 200 MB of indented JSON).
func deepJWT(depth int) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims := `{"sub":"x","scope":"a","deep":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
	return enc([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + enc([]byte(claims)) + "."
}

func TestJSONOutputIsLinearInNestingDepth(t *testing.T) {
	raw := deepJWT(9000)
	st := filepath.Join(t.TempDir(), "s.db")
	_, out, _ := runAuthlab(t, st, raw, "token", "inspect", "--json", "-")
	if len(out) > 16*len(raw) || !strings.Contains(out, "nested deeper than 32 levels") {
		t.Fatalf("token inspect --json: %d bytes for a %d-byte token, or no depth marker", len(out), len(raw))
	}
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	_, human, _ := runAuthlab(t, st, raw, "token", "inspect", "-")
	if len(human) > 16*len(raw) {
		t.Fatalf("human output %d bytes", len(human))
	}

	tokenURL := fakeTokenEndpoint(t, map[string]any{"access_token": raw, "token_type": "Bearer", "expires_in": 300})
	_, out, _ = runAuthlab(t, st, "", "flow", "client-credentials", "--token-url", tokenURL, "--client-id", "c", "--client-secret", "s", "--json")
	// The raw token is in "token" once; the decoded claims must not multiply it.
	if len(out) > 16*len(raw) || !strings.Contains(out, "nested deeper than 32 levels") {
		t.Fatalf("flow --json: %d bytes for a %d-byte token, or no depth marker", len(out), len(raw))
	}
}
