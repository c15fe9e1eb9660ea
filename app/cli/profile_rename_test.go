package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"authlab/mockidp/mockidptest"
	"authlab/store"
)

// runDPoP runs a profile with --json and returns its access token and the
// DPoP key's thumbprint.
func runDPoP(t *testing.T, c *cli, name string, args ...string) (at, jkt string) {
	t.Helper()
	code, out, errs := c.run("", append([]string{"run", name, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("run %s: exit %d %s\n%s", name, code, errs, out)
	}
	var j struct {
		Token struct {
			AccessToken string `json:"access_token"`
		} `json:"token"`
		DPoP *struct {
			JKT string `json:"jkt"`
		} `json:"dpop"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.DPoP == nil || j.DPoP.JKT == "" || j.Token.AccessToken == "" {
		t.Fatalf("run %s: %v %s", name, err, out)
	}
	return j.Token.AccessToken, j.DPoP.JKT
}

// profile rename keeps the secrets, the DPoP key, the cached token and the
// history; nothing answers to the old name.
func TestProfileRenameKeepsEverything(t *testing.T) {
	idp := mockidptest.New(t)
	c := newCLI(t)
	const secret = "demo-dpop-secret"
	c.ok("profile", "add", "api", "--kind", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-dpop", "--client-secret", secret, "--dpop", "--scope", "api:read")
	at1, jkt1 := runDPoP(t, c, "api")

	if out := c.ok("profile", "rename", "api", "api-eu"); !strings.Contains(out, "renamed profile api to api-eu") {
		t.Fatalf("rename said %q", out)
	}
	// The file was compacted: no copy of the secret is left under the old name.
	raw, err := os.ReadFile(c.store)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), secret); n != 1 {
		t.Errorf("the store file holds the client secret %d times, want 1", n)
	}
	if code, _, errs := c.run("", "profile", "show", "api"); code != 2 || !strings.Contains(errs, "not found") {
		t.Fatalf("old name: exit %d %s", code, errs)
	}
	// The cached token answers to the new name, without a request.
	if got := strings.TrimSpace(c.ok("token", "get", "api-eu")); got != at1 {
		t.Fatalf("token get after rename: %q, want the cached token", got)
	}
	if code, _, _ := c.run("", "token", "get", "api"); code == 0 {
		t.Fatal("token get still works under the old name")
	}
	// The same DPoP key signs, and the secret still works (no re-trust).
	if _, jkt2 := runDPoP(t, c, "api-eu"); jkt2 != jkt1 {
		t.Fatalf("DPoP key changed with the rename: %s → %s", jkt1, jkt2)
	}
	err = store.View(c.store, func(s *store.Store) error {
		runs, err := s.History("api-eu", 0)
		if err != nil || len(runs) != 2 || runs[1].Profile != "api-eu" {
			t.Errorf("history of api-eu: %+v %v", runs, err)
		}
		if old, _ := s.History("api", 0); len(old) != 0 {
			t.Errorf("history left under api: %d runs", len(old))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Refusals: one line each, exit 2, nothing changes.
	c.ok("profile", "add", "other", "--kind", "client-credentials", "--token-url", "https://idp.example.com/token")
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"api-eu", "other"}, "already exists"},
		{[]string{"api-eu", "bad name"}, "not a valid name"},
		{[]string{"missing", "new"}, "not found"},
		{[]string{"api-eu"}, "OLD and NEW"},
	} {
		code, _, errs := c.run("", append([]string{"profile", "rename"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.says) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("rename %v: exit %d %q", tc.args, code, errs)
		}
	}
	c.ok("profile", "show", "api-eu")
}

// An unconfirmed (imported) secret stays unconfirmed through a rename and a
// profile set; confirming it under the new name lets it run.
func TestProfileRenameKeepsTrustState(t *testing.T) {
	idp := mockidptest.New(t)
	c := newCLI(t)
	t.Setenv("AUTHLAB_TEST_CC", "demo-cc-secret")
	file := `[{"name":"imp","kind":"client-credentials","issuer":"` + idp.Issuer() + `","client_id":"demo-cc","secrets":{"client_secret":"env:AUTHLAB_TEST_CC"}}]`
	if code, _, errs := c.run(file, "profile", "import", "-"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	c.ok("profile", "rename", "imp", "imp2")
	c.ok("profile", "set", "imp2", "--scope", "api:read")
	code, _, errs := c.run("", "run", "imp2")
	if code != 2 || !strings.Contains(errs, "authlab profile trust imp2") {
		t.Fatalf("run of an unconfirmed secret: exit %d %s", code, errs)
	}
	c.ok("profile", "trust", "imp2", "--yes")
	if code, out, errs := c.run("", "run", "imp2"); code != 0 {
		t.Fatalf("run after trust: exit %d %s %s", code, out, errs)
	}
}

// profile set changes only what it is given: secrets not given stay (and
// keep working), an empty value clears one, no flag at all is an error.
func TestProfileSetChangesOnlyGivenFields(t *testing.T) {
	idp := mockidptest.New(t)
	c := newCLI(t)
	c.ok("profile", "add", "cc", "--kind", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "demo-cc",
		"--client-secret", "demo-cc-secret", "--scope", "api:read", "--tag", "t1", "--notes", "keep me")
	c.ok("profile", "set", "cc", "--scope", "api:read api:write", "--max-age", "30")
	var p map[string]any
	if err := json.Unmarshal([]byte(c.ok("profile", "show", "cc", "--json")), &p); err != nil {
		t.Fatal(err)
	}
	sec, _ := p["secrets"].(map[string]any)
	if p["notes"] != "keep me" || p["client_id"] != "demo-cc" || p["max_age"] != 30.0 || sec["client_secret"] != "<stored secret>" ||
		strings.Join(strSlice(p["scopes"]), " ") != "api:read api:write" || strings.Join(strSlice(p["tags"]), " ") != "t1" {
		t.Fatalf("after set: %v", p)
	}
	if code, out, errs := c.run("", "run", "cc"); code != 0 {
		t.Fatalf("run after set: exit %d %s %s", code, out, errs)
	}
	c.ok("profile", "set", "cc", "--client-secret", "")
	if out := c.ok("profile", "show", "cc", "--json"); strings.Contains(out, "client_secret") {
		t.Fatalf("--client-secret \"\" kept the secret: %s", out)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"cc"}, "at least one field"},
		{[]string{"missing", "--scope", "x"}, "not found"},
		{[]string{"cc", "--response-mode", "web_message"}, "--response-mode"},
		{[]string{"cc", "--auth-method", "magic"}, "--auth-method"},
	} {
		code, _, errs := c.run("", append([]string{"profile", "set"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.says) {
			t.Errorf("set %v: exit %d %q", tc.args, code, errs)
		}
	}
}

func strSlice(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
