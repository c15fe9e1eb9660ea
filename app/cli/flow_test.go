package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"authlab/flows/oauth/oauthtest"
	"authlab/internal/browsertest"
	"authlab/internal/testtools"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	"authlab/store"
)

const demoCCSecret = "demo-cc-secret"

type flowJSON struct {
	Flow  string `json:"flow"`
	OK    bool   `json:"ok"`
	Error *struct {
		Kind             string `json:"kind"`
		Message          string `json:"message"`
		OAuthError       string `json:"oauth_error"`
		OAuthDescription string `json:"oauth_error_description"`
	} `json:"error"`
	Token       map[string]any `json:"token"`
	AccessToken *struct {
		Format string         `json:"format"`
		Header map[string]any `json:"header"`
		Claims map[string]any `json:"claims"`
	} `json:"access_token"`
	Checks []struct{ Name, Status, Detail string } `json:"checks"`
	Skew   *struct {
		OffsetMS float64 `json:"offset_ms"`
		Source   string  `json:"source"`
	} `json:"skew"`
	Exchanges []struct {
		Method     string   `json:"method"`
		URL        string   `json:"url"`
		Status     int      `json:"status"`
		DurationMS *float64 `json:"duration_ms"`
	} `json:"exchanges"`
	Active *bool `json:"active"`
}

func decodeFlowJSON(t *testing.T, out string) flowJSON {
	t.Helper()
	var j flowJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	return j
}

func TestFlowClientCredentialsJSON(t *testing.T) {
	idp := mockidptest.New(t)
	t.Setenv("AUTHLAB_TEST_SECRET", demoCCSecret)
	code, out, errs := runAuthlab(t, filepath.Join(t.TempDir(), "s.db"), "", "flow", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-cc", "--client-secret", "env:AUTHLAB_TEST_SECRET", "--scope", "api:read", "--call", idp.Issuer()+"/api/hello", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	j := decodeFlowJSON(t, out)
	if j.Flow != "client-credentials" || !j.OK || j.Error != nil {
		t.Fatalf("flow %q ok %v err %+v", j.Flow, j.OK, j.Error)
	}
	if at, _ := j.Token["access_token"].(string); at == "" || j.AccessToken == nil || j.AccessToken.Format != "jws" || j.AccessToken.Claims["client_id"] != "demo-cc" {
		t.Fatalf("token %v access_token %+v", j.Token, j.AccessToken)
	}
	if j.Skew == nil || j.Skew.Source == "" {
		t.Fatalf("no skew: %s", out)
	}
	if len(j.Exchanges) != 4 { // discovery, token, jwks, resource
		t.Fatalf("exchanges %+v", j.Exchanges)
	}
	for _, e := range j.Exchanges {
		if e.Method == "" || e.URL == "" || e.Status != 200 || e.DurationMS == nil {
			t.Fatalf("exchange %+v", e)
		}
	}
	if len(j.Checks) == 0 {
		t.Fatal("no checks")
	}
	for _, c := range j.Checks {
		if c.Status == "fail" {
			t.Fatalf("failed check %+v", c)
		}
	}
	if strings.Contains(out+errs, demoCCSecret) {
		t.Fatal("the client secret was printed")
	}
}

func TestFlowHumanOutput(t *testing.T) {
	idp := mockidptest.New(t)
	code, out, errs := runAuthlab(t, filepath.Join(t.TempDir(), "s.db"), "", "flow", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-cc", "--client-secret", demoCCSecret, "--scope", "api:read")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "✓ discovery") || !strings.Contains(lines[0], " ms ") || !strings.HasPrefix(lines[1], "✓ token request") {
		t.Fatalf("steps first:\n%s", out)
	}
	for _, want := range []string{"== Access token ==", "Claims", "signature", "clock skew", "client-credentials ok in"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, demoCCSecret) {
		t.Fatal("secret printed")
	}
}

func TestFlowFailureExitStatus(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	code, out, errs := runAuthlab(t, st, "", "flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "demo-cc", "--client-secret", "nope", "--json")
	first, _, _ := strings.Cut(errs, "\n")
	if code != 1 || !strings.HasPrefix(first, "authlab: token request: ") || !strings.Contains(first, "invalid_client") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	j := decodeFlowJSON(t, out)
	if j.OK || j.Error == nil || j.Error.Kind != "oauth" || j.Error.OAuthError != "invalid_client" {
		t.Fatalf("json %+v", j.Error)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"flow", "client-credentials", "--issuer", idp.Issuer()}, "--client-id is required"},
		{[]string{"flow", "client-credentials", "--token-url", "ftp://x", "--client-id", "a"}, "--token-url"},
		{[]string{"flow", "client-credentials", "--client-id", "a"}, "give --issuer"},
		{[]string{"flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "a", "--auth-method", "magic"}, "unknown auth method"},
		{[]string{"flow", "refresh", "--issuer", idp.Issuer(), "--client-id", "demo-web", "--client-secret", "x"}, "needs --token"},
		{[]string{"flow", "introspect", "--issuer", idp.Issuer(), "--client-id", "demo-web", "--token", "-"}, "standard input is empty"},
		{[]string{"flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "a", "--client-secret", "env:AUTHLAB_SURELY_UNSET"}, "AUTHLAB_SURELY_UNSET is not set"},
		{[]string{"flow", "auth-code", "--issuer", idp.Issuer(), "--client-id", "demo-native", "--param", "state=x", "--no-browser"}, "--param state"},
	} {
		code, _, errs := runAuthlab(t, st, "", c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q (want %q)", c.args, code, errs, c.want)
		}
	}
}

func TestFlowTokenFromStdinAndRevoke(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	common := []string{"--issuer", idp.Issuer(), "--client-id", "demo-cc", "--client-secret", demoCCSecret}
	code, out, errs := runAuthlab(t, st, "", "flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "demo-cc", "--client-secret", demoCCSecret, "--json")
	if code != 0 {
		t.Fatalf("cc: %s", errs)
	}
	at := decodeFlowJSON(t, out).Token["access_token"].(string)
	code, out, errs = runAuthlab(t, st, at+"\n", append([]string{"flow", "introspect", "--token", "-", "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("introspect: exit %d %s", code, errs)
	}
	if j := decodeFlowJSON(t, out); j.Active == nil || !*j.Active {
		t.Fatalf("introspect: %s", out)
	}
	code, out, errs = runAuthlab(t, st, at, append([]string{"flow", "revoke", "--token", "-"}, common...)...)
	if code != 0 || !strings.Contains(out, "revocation confirmed") {
		t.Fatalf("revoke: exit %d %s\n%s", code, errs, out)
	}
	// Introspecting a revoked token fails the flow: exit 1, reason first.
	code, _, errs = runAuthlab(t, st, at, append([]string{"flow", "introspect", "--token", "-"}, common...)...)
	if code != 1 || !strings.HasPrefix(errs, "authlab: check active failed: ") {
		t.Fatalf("introspect revoked: exit %d %q", code, errs)
	}
}

func TestRunProfileRecordsHistoryAndCachesToken(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	t.Setenv("AUTHLAB_TEST_SECRET", demoCCSecret)
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "cc", "--kind", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-cc", "--client-secret", "env:AUTHLAB_TEST_SECRET", "--scope", "api:read"); code != 0 {
		t.Fatalf("profile add: %s", errs)
	}
	code, out, errs := runAuthlab(t, st, "", "run", "cc", "--json")
	if code != 0 {
		t.Fatalf("run: exit %d %s", code, errs)
	}
	at := decodeFlowJSON(t, out).Token["access_token"].(string)
	// --flow introspect takes the cached access token.
	code, out, errs = runAuthlab(t, st, "", "run", "cc", "--flow", "introspect", "--json")
	if code != 0 || !decodeFlowJSON(t, out).OK {
		t.Fatalf("run --flow introspect: exit %d %s %s", code, errs, out)
	}
	if code, _, errs := runAuthlab(t, st, "", "run", "nope"); code != 2 || !strings.Contains(errs, "nope") {
		t.Fatalf("unknown profile: %d %q", code, errs)
	}
	var runs []store.Run
	if err := store.View(st, func(s *store.Store) error {
		var err error
		runs, err = s.History("cc", 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("history has %d runs", len(runs))
	}
	b, _ := json.Marshal(runs)
	if strings.Contains(string(b), at) || strings.Contains(string(b), demoCCSecret) {
		t.Fatal("history keeps a bearer token or the secret")
	}
	if !strings.Contains(string(b), "sha256") {
		t.Fatalf("history without token fingerprints: %s", b)
	}
}

// TestMessyCatalogue runs `authlab flow client-credentials` against each
// misbehaviour and checks exit status and first stderr line. With
// AUTHLAB_CATALOGUE=FILE it writes the table (case, exit, first line).
func TestMessyCatalogue(t *testing.T) {
	srv, err := oauthtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := filepath.Join(t.TempDir(), "s.db")
	var table strings.Builder
	table.WriteString("| case | exit | first line of the message |\n|---|---|---|\n")
	for _, c := range oauthtest.Cases() {
		args := []string{"flow", "client-credentials", "--issuer", srv.URL + "/" + c.Name, "--client-id", "c", "--client-secret", "s", "--scope", "api:read"}
		if c.Timeout > 0 {
			args = append(args, "--timeout", c.Timeout.String())
		}
		start := time.Now()
		code, out, errs := runAuthlab(t, st, "", args...)
		first, _, _ := strings.Cut(errs, "\n")
		if c.WantOK {
			if code != 0 {
				t.Errorf("%s: exit %d %q", c.Name, code, errs)
			}
			// The tolerant success says what it tolerated (a warn check), or is clean.
			first = "ok — " + lineFor(out, c.Shows)
		} else if code != 1 || !strings.HasPrefix(first, "authlab: ") {
			t.Errorf("%s: exit %d stderr %q", c.Name, code, errs)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %s", c.Name, d)
		}
		host := strings.TrimPrefix(srv.URL, "http://")
		fmt.Fprintf(&table, "| %s | %d | %s |\n", c.What, code, strings.ReplaceAll(strings.ReplaceAll(first, "|", `\|`), host, "127.0.0.1:PORT"))
	}
	tlsCases, err := oauthtest.StartTLSCases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"untrusted-ca": "pass --ca", "hostname-mismatch": "hostname mismatch", "expired-cert": "expired", "client-cert-required": "requires a client certificate"}
	for _, c := range tlsCases {
		defer c.Close()
		args := []string{"flow", "client-credentials", "--issuer", c.Issuer, "--client-id", "c", "--client-secret", "s"}
		if c.CAFile != "" {
			args = append(args, "--ca", c.CAFile)
		}
		code, _, errs := runAuthlab(t, st, "", args...)
		first, _, _ := strings.Cut(errs, "\n")
		if code != 1 || !strings.Contains(first, want[c.Name]) {
			t.Errorf("%s: exit %d %q", c.Name, code, errs)
		}
		host := strings.TrimPrefix(c.Issuer, "https://")
		fmt.Fprintf(&table, "| %s | %d | %s |\n", c.What, code, strings.ReplaceAll(first, host, "127.0.0.1:PORT"))
	}
	t.Log("\n" + table.String())
	if p := os.Getenv("AUTHLAB_CATALOGUE"); p != "" {
		if err := os.WriteFile(p, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lineFor finds the step or check line named name in human output.
func lineFor(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && strings.HasPrefix(strings.Join(f[1:], " "), name+" ") {
			return strings.Join(f, " ")
		}
	}
	return "(no line for " + name + ")"
}

// TestFlowAuthCodeInChromium runs the auth-code leg in a real headless
// Chromium: $BROWSER is a wrapper that loads the URL; the mock IdP
// auto-approves and redirects to the loopback callback.
func TestFlowAuthCodeInChromium(t *testing.T) {
	chromium := browsertest.Path(t)
	idp := mockidptest.New(t)
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "browser.sh")
	// The flow ends at the callback, possibly before Chromium exits, so the
	// profile lives outside the test's TempDir and the wrapper removes it.
	script := fmt.Sprintf(`#!/bin/sh
profile=$(mktemp -d)
timeout 60 %s --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --disable-component-update --disable-sync --user-data-dir="$profile" --dump-dom "$1" >/dev/null 2>&1
rm -rf "$profile"
`, chromium)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROWSER", wrapper)
	code, out, errs := runAuthlab(t, filepath.Join(dir, "s.db"), "", "flow", "auth-code", "--issuer", idp.Issuer(), "--client-id", "demo-native",
		"--scope", "openid profile api:read", "--wait", "60s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var j struct {
		OK      bool           `json:"ok"`
		Token   map[string]any `json:"token"`
		IDToken struct {
			Claims map[string]any `json:"claims"`
		} `json:"id_token"`
		Checks []struct{ Name, Status string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if !j.OK || j.IDToken.Claims["sub"] != "alice" || j.Token["id_token"] == nil {
		t.Fatalf("result %s", out)
	}
	if !strings.Contains(errs, "browser opened") {
		t.Fatalf("stderr %q", errs)
	}
}

// TestFlowAuthCodeRefreshUserinfoExchangeCLI drives auth-code with $BROWSER
// set to curl (it follows the mock IdP's auto-approve redirect to the
// loopback callback), then refresh, userinfo and token exchange, all
// through the command line.
func TestFlowAuthCodeRefreshUserinfoExchangeCLI(t *testing.T) {
	curl := testtools.Require(t, "curl")
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	t.Setenv("BROWSER", curl+" -s -o /dev/null -L --max-time 20")
	web := []string{"--issuer", idp.Issuer(), "--client-id", "demo-web", "--client-secret", "demo-web-secret"}
	code, out, errs := runAuthlab(t, st, "", append([]string{"flow", "auth-code", "--scope", "openid offline_access api:read", "--param", "ui_locales=de", "--wait", "30s", "--json"}, web...)...)
	if code != 0 {
		t.Fatalf("auth-code: exit %d %s\n%s", code, errs, out)
	}
	j := decodeFlowJSON(t, out)
	rt, _ := j.Token["refresh_token"].(string)
	if rt == "" || j.Token["id_token"] == nil {
		t.Fatalf("token %v", j.Token)
	}
	code, out, errs = runAuthlab(t, st, rt, append([]string{"flow", "refresh", "--token", "-", "--json"}, web...)...)
	if code != 0 || !strings.Contains(out, `"refresh_rotated": true`) {
		t.Fatalf("refresh: exit %d %s\n%s", code, errs, out)
	}
	at := decodeFlowJSON(t, out).Token["access_token"].(string)
	code, out, errs = runAuthlab(t, st, at, "flow", "userinfo", "--issuer", idp.Issuer(), "--token", "-")
	if code != 0 || !strings.Contains(out, `"sub": "alice"`) {
		t.Fatalf("userinfo: exit %d %s\n%s", code, errs, out)
	}
	code, out, errs = runAuthlab(t, st, at, "flow", "token-exchange", "--issuer", idp.Issuer(), "--client-id", "demo-cc", "--client-secret", demoCCSecret,
		"--token", "-", "--audience", "downstream", "--json")
	if code != 0 || !decodeFlowJSON(t, out).OK {
		t.Fatalf("token-exchange: exit %d %s\n%s", code, errs, out)
	}
}

// approver watches stderr for the device prompt and approves the code at
// the mock IdP, as the user at the /device page would.
type approver struct {
	t   *testing.T
	idp interface {
		ApproveDevice(string, string, bool) error
	}
	buf  bytes.Buffer
	done bool
}

func (a *approver) Write(p []byte) (int, error) {
	a.buf.Write(p)
	if _, code, ok := strings.Cut(a.buf.String(), "enter the code "); ok && !a.done {
		code, _, _ = strings.Cut(code, " ")
		a.done = true
		if err := a.idp.ApproveDevice(strings.TrimSpace(code), "alice", true); err != nil {
			a.t.Errorf("approve %q: %v", code, err)
		}
	}
	return len(p), nil
}

func TestFlowDeviceCLI(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.Lifetimes.DevicePollInterval = mockidp.Duration(time.Second)
	idp := mockidptest.New(t, mockidp.WithConfig(cfg))
	var out bytes.Buffer
	ap := &approver{t: t, idp: idp}
	g := &globals{stdout: &out, stderr: ap, stdin: strings.NewReader("")}
	code := execute([]string{"--store", filepath.Join(t.TempDir(), "s.db"), "flow", "device", "--issuer", idp.Issuer(),
		"--client-id", "demo-device", "--scope", "openid api:read", "--wait", "30s", "--json"}, g)
	if code != 0 || !ap.done {
		t.Fatalf("exit %d, stderr %q\n%s", code, ap.buf.String(), out.String())
	}
	var j struct {
		OK     bool `json:"ok"`
		Device struct {
			Polls int `json:"polls"`
		} `json:"device"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || !j.OK || j.Device.Polls < 1 {
		t.Fatalf("%v %s", err, out.String())
	}
}

// TestHelpHidesProfileOnlyFlags: `flow client-credentials --help` and
// `bench --help` do not list the flags that only describe a saved
// profile (api-key, HMAC, bookkeeping), while `profile add --help`, with
// the same flag lines, does.
func TestHelpHidesProfileOnlyFlags(t *testing.T) {
	listed := func(help, name string) bool {
		return regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(name) + `[ =]`).MatchString(help)
	}
	code, add, _ := runAuthlab(t, "", "", "profile", "add", "--help")
	if code != 0 {
		t.Fatalf("profile add --help: exit %d", code)
	}
	for _, n := range profileOnlyFlags() {
		if !listed(add, n) {
			t.Errorf("profile add --help does not list --%s: the check below would prove nothing", n)
		}
	}
	code, flow, _ := runAuthlab(t, "", "", "flow", "client-credentials", "--help")
	if code != 0 || !listed(flow, "client-id") {
		t.Fatalf("flow client-credentials --help: exit %d\n%s", code, flow)
	}
	for _, n := range profileOnlyFlags() {
		if listed(flow, n) {
			t.Errorf("flow client-credentials --help lists the profile-only --%s", n)
		}
	}
	code, bench, _ := runAuthlab(t, "", "", "bench", "--help")
	if code != 0 || !listed(bench, "client-id") {
		t.Fatalf("bench --help: exit %d\n%s", code, bench)
	}
	for _, n := range []string{"tag", "notes", "api-key", "api-key-header", "api-key-query"} {
		if listed(bench, n) {
			t.Errorf("bench --help lists the profile-only --%s", n)
		}
	}
}
