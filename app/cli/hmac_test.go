package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"authlab/app/console"
	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/mockidp/mockidptest"
)

const rfcKeyFlag = "base64:uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="

func TestFlowHMACDryRunRFC9421B25(t *testing.T) {
	code, out, errs := runAuthlab(t, "", "", "flow", "hmac", "--key", rfcKeyFlag, "--key-id", "test-shared-secret",
		"--label", "sig-b25", "--components", `"date" "@authority" "content-type"`, "--created", "1618884473",
		"--method", "POST", "--url", "https://example.com/foo?param=Value&Pet=dog",
		"-H", "Date: Tue, 20 Apr 2021 02:07:55 GMT", "-H", "Content-Type: application/json",
		"--data", `{"hello": "world"}`, "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var o hmacOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err, out)
	}
	if o.Signed.Signature != "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=" {
		t.Errorf("signature %s", o.Signed.Signature)
	}
	if !strings.HasSuffix(o.Signed.SignatureBase, `"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`) {
		t.Errorf("base %q", o.Signed.SignatureBase)
	}
	if strings.Contains(out, "uzvJfB4u") {
		t.Error("key printed")
	}
}

func TestFlowHMACDryRunSigV4AndGitHub(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--scheme", "aws-sigv4", "--key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "--access-key", "AKIDEXAMPLE", "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z", "--url", "https://example.amazonaws.com/"},
			"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{[]string{"--scheme", "aws-sigv4", "--key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "--access-key", "AKIDEXAMPLE", "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z", "--url", "https://example.amazonaws.com/", "--method", "POST"},
			"Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{[]string{"--scheme", "github", "--key", "It's a Secret to Everybody", "--data", "Hello, World!", "--url", "https://hooks.example/"},
			"X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
	} {
		code, out, errs := runAuthlab(t, "", "", append([]string{"flow", "hmac", "--dry-run"}, c.args...)...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %q in\n%s%s", c.args, code, c.want, out, errs)
		}
		if strings.Contains(out, "wJalrXUtnFEMI") || strings.Contains(out, "a Secret to") {
			t.Errorf("%v: key printed", c.args)
		}
	}
}

func TestFlowHMACVerifyRoundTripAndMismatch(t *testing.T) {
	dir := t.TempDir()
	// Sign with --dry-run, cut the rendered request out, verify it back.
	code, _, errs := runAuthlab(t, "", "", "flow", "hmac", "--key", "env:AUTHLAB_TEST_HMAC", "--key-id", "k", "--time", "2026-11-27T04:00:00Z",
		"--method", "PUT", "--url", "https://api.example.com/v1/items/7", "--data", `{"qty":3}`, "-H", "Content-Type: application/json", "--dry-run")
	if code != 2 || !strings.Contains(errs, "env:AUTHLAB_TEST_HMAC") {
		t.Fatalf("unset env key: exit %d %s", code, errs)
	}
	t.Setenv("AUTHLAB_TEST_HMAC", "round-trip-secret")
	code, out, errs := runAuthlab(t, "", "", "flow", "hmac", "--key", "env:AUTHLAB_TEST_HMAC", "--key-id", "k", "--time", "2026-11-27T04:00:00Z",
		"--method", "PUT", "--url", "https://api.example.com/v1/items/7", "--data", `{"qty":3}`, "-H", "Content-Type: application/json", "--dry-run")
	if code != 0 {
		t.Fatal(errs)
	}
	if strings.Contains(out, "round-trip-secret") {
		t.Fatal("key printed")
	}
	_, raw, ok := strings.Cut(out, "signed request (not sent, --dry-run):\n")
	if !ok {
		t.Fatal(out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(raw, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	req := filepath.Join(dir, "req.http")
	os.WriteFile(req, []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	code, out, errs = runAuthlab(t, "", "", "flow", "hmac", "--verify", "--key", "env:AUTHLAB_TEST_HMAC", "--request", req, "--time", "2026-11-27T04:01:00Z")
	if code != 0 || !strings.Contains(out, "VERIFIED") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	// The body changed after signing: the digest is the first thing to fix.
	tampered := strings.Replace(strings.Join(lines, "\n"), `{"qty":3}`, `{"qty":9}`, 1)
	os.WriteFile(req, []byte(tampered), 0o600)
	code, out, errs = runAuthlab(t, "", "", "flow", "hmac", "--verify", "--key", "env:AUTHLAB_TEST_HMAC", "--request", req, "--time", "2026-11-27T04:01:00Z", "--json")
	var o hmacOutput
	json.Unmarshal([]byte(out), &o)
	if code != 1 || o.Verify == nil || o.Verify.Problem.Kind != hmac.ProblemBodyDigest {
		t.Fatalf("tampered: exit %d %s %s", code, out, errs)
	}
	// Ten minutes later the untouched request is stale.
	os.WriteFile(req, []byte(strings.Join(lines, "\n")), 0o600)
	code, _, errs = runAuthlab(t, "", "", "flow", "hmac", "--verify", "--key", "env:AUTHLAB_TEST_HMAC", "--request", req, "--time", "2026-11-27T04:10:00Z")
	if code != 1 || !strings.Contains(errs, "tolerance") {
		t.Fatalf("stale: exit %d %s", code, errs)
	}
}

func TestFlowHMACSendToDemoResource(t *testing.T) {
	v := hmac.NewDemoVerifier(time.Now)
	mux := http.NewServeMux()
	mux.Handle("/api/hmac", v.Handler(hmac.SchemeRFC9421))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	args := []string{"flow", "hmac", "--key", hmac.DemoSecret, "--key-id", hmac.DemoKeyID, "--nonce", "fixed-nonce-1",
		"--url", srv.URL + "/api/hmac", "--data", `{"hi":1}`, "--json"}
	code, out, errs := runAuthlab(t, "", "", args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var o hmacOutput
	json.Unmarshal([]byte(out), &o)
	if len(o.Exchanges) != 1 || o.Exchanges[0].Status != 200 || strings.Contains(out, hmac.DemoSecret) {
		t.Fatalf("output %s", out)
	}
	// The same nonce again: the server refuses the replay, and says why.
	code, _, errs = runAuthlab(t, "", "", args...)
	if code != 1 || !strings.Contains(errs, "already used") {
		t.Fatalf("replay: exit %d %s", code, errs)
	}
	// Wrong key: the server's base equals ours, so the key is the suspect.
	code, out, errs = runAuthlab(t, "", "", "flow", "hmac", "--key", "not-the-demo-key", "--key-id", hmac.DemoKeyID, "--url", srv.URL+"/api/hmac")
	if code != 1 || !strings.Contains(out, "✗ server accepted the signature") || !strings.Contains(errs, "signature mismatch") {
		t.Fatalf("wrong key: exit %d\n%s%s", code, out, errs)
	}
}

func TestFlowHMACUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--scheme", "md5", "--key", "k", "--url", "https://x/"},
		{"--key", "k"},
		{"--url", "https://x/"},
		{"--key", "k", "--url", "https://x/", "-H", "no colon"},
		{"--key", "k", "--url", "https://x/", "--components", `"@method" "@method"`},
		{"--key", "k", "--url", "https://x/", "--time", "yesterday"},
		{"--key", "hex:xyz", "--url", "https://x/"},
		{"--scheme", "aws-sigv4", "--key", "k", "--url", "https://x/"},
	} {
		code, _, errs := runAuthlab(t, "", "", append([]string{"flow", "hmac", "--dry-run"}, args...)...)
		if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// An hmac profile's stored key, key id and URL sign a request the mock IdP's
// /api/hmac accepts; the key shows nowhere; a flag given wins over the profile.
func TestFlowHMACFromProfile(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	code, _, errs := runAuthlab(t, st, "", "profile", "add", "sig", "--kind", "hmac", "--scheme", "rfc9421",
		"--hmac-key", hmac.DemoSecret, "--key-id", hmac.DemoKeyID, "--token-url", idp.URL()+"/api/hmac")
	if code != 0 {
		t.Fatalf("profile add: exit %d: %s", code, errs)
	}
	code, out, errs := runAuthlab(t, st, "", "flow", "hmac", "--profile", "sig", "--nonce", "random", "--method", "POST", "--data", `{"hi":1}`, "--json")
	if code != 0 || !strings.Contains(out, `"status": 200`) {
		t.Fatalf("signed from the profile: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, hmac.DemoSecret) {
		t.Fatal("the stored key reached the output")
	}
	code, _, errs = runAuthlab(t, st, "", "flow", "hmac", "--profile", "sig", "--key", "not-the-demo-key", "--nonce", "random", "--method", "POST", "--data", `{"hi":1}`)
	if code != 1 {
		t.Fatalf("--key over the profile's key: exit %d, want 1 (rejected): %s", code, errs)
	}
	code, _, errs = runAuthlab(t, st, "", "flow", "hmac", "--profile", "nope")
	if code != 2 || !strings.Contains(errs, "nope") {
		t.Fatalf("missing profile: exit %d: %s", code, errs)
	}
}

// consoleEvents is the console's run observer, reduced to collecting.
type consoleEvents struct{ flows.ObserverFuncs }

func (consoleEvents) AuthURL(string)                   {}
func (consoleEvents) Device(flows.DeviceAuthorization) {}

// The command line and the console sign and send through one hmac.Send: for
// the same profile they report the same checks and error, accepted and
// rejected, and the same signature-base diff (none here: with a wrong key
// the server's base equals ours).
func TestFlowHMACSameChecksAsTheConsole(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	for _, p := range []struct{ name, key string }{{"good", hmac.DemoSecret}, {"wrong", "not-the-demo-key"}} {
		if code, _, errs := runAuthlab(t, st, "", "profile", "add", p.name, "--kind", "hmac", "--scheme", "rfc9421",
			"--hmac-key", p.key, "--key-id", hmac.DemoKeyID, "--token-url", idp.URL()+"/api/hmac"); code != 0 {
			t.Fatalf("profile add %s: exit %d: %s", p.name, code, errs)
		}
	}
	backend := &console.StoreBackend{Path: st}
	for _, c := range []struct {
		profile string
		code    int
		status  flows.Status
	}{{"good", 0, flows.Pass}, {"wrong", 1, flows.Fail}} {
		code, out, errs := runAuthlab(t, st, "", "flow", "hmac", "--profile", c.profile, "--nonce", "random", "--json")
		var o hmacOutput
		if err := json.Unmarshal([]byte(out), &o); err != nil || code != c.code {
			t.Fatalf("%s: exit %d (%v)\n%s%s", c.profile, code, err, out, errs)
		}
		res := backend.Run(context.Background(), console.RunRequest{Profile: c.profile}, consoleEvents{})
		if len(o.Checks) != 1 || len(res.Checks) != 1 || o.Checks[0].Name != hmac.CheckAccepted ||
			o.Checks[0].Name != res.Checks[0].Name || o.Checks[0].Status != c.status || res.Checks[0].Status != c.status {
			t.Fatalf("%s: CLI checks %+v, console checks %+v", c.profile, o.Checks, res.Checks)
		}
		if (o.Error == nil) != (res.Err == nil) || (o.Error != nil && o.Error.Message != res.Err.Message) {
			t.Errorf("%s: CLI error %+v, console error %+v", c.profile, o.Error, res.Err)
		}
		sent := hmac.SentOf(res)
		if sent == nil || len(res.Exchanges) != 1 || len(o.Exchanges) != 1 {
			t.Fatalf("%s: console record %+v, %d / %d exchanges", c.profile, sent, len(res.Exchanges), len(o.Exchanges))
		}
		if (o.Server == nil) != (sent.ServerDiff == nil) {
			t.Errorf("%s: base diff CLI %+v, console %+v", c.profile, o.Server, sent.ServerDiff)
		}
	}
}

// The engine names the setting it misses; the command line names the flag
// that sets it, in the words it always used.
func TestFlowMessagesNameFlags(t *testing.T) {
	code, _, errs := runAuthlab(t, "", "", "flow", "client-credentials", "--client-id", "c", "--client-secret", "s")
	if code != 2 || strings.TrimSpace(errs) != "authlab: client-credentials: give --issuer (for discovery) or the endpoint URLs it needs (--token-url)" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runAuthlab(t, "", "", "flow", "hmac", "--scheme", "aws-sigv4", "--key", "k", "--url", "https://x/", "--dry-run")
	if code != 2 || !strings.Contains(errs, "aws-sigv4: no access key id (--access-key)") {
		t.Fatalf("sigv4 without access key: exit %d, stderr %q", code, errs)
	}
}

// TestFlowHMACMasksSecretHeadersInBases: the SigV4 canonical request and the
// RFC 9421 signature base show x-amz-security-token, Authorization, Cookie
// and X-Api-Key masked (length and hash), in human and JSON output, unless
// --show-secrets.
func TestFlowHMACMasksSecretHeadersInBases(t *testing.T) {
	const session, bearer, cookie, apiKey = "live-session-token-1", "live-bearer-token-2", "live-cookie-3", "live-api-key-4"
	sigv4 := []string{"flow", "hmac", "--dry-run", "--scheme", "aws-sigv4", "--key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"--access-key", "AKIDEXAMPLE", "--region", "us-east-1", "--service", "service", "--time", "2015-08-30T12:36:00Z",
		"--url", "https://example.amazonaws.com/", "--session-token", session}
	rfc := []string{"flow", "hmac", "--dry-run", "--key", rfcKeyFlag, "--key-id", "k", "--url", "https://api.example/x",
		"--components", `"@method" "authorization" "cookie" "x-api-key"`,
		"-H", "Authorization: Bearer " + bearer, "-H", "Cookie: s=" + cookie, "-H", "X-Api-Key: " + apiKey}
	for _, c := range []struct {
		args    []string
		secrets []string
		want    string
	}{
		{sigv4, []string{session}, "x-amz-security-token:" + flows.Masked + " (20 bytes, sha256:"},
		{rfc, []string{bearer, cookie, apiKey}, `"x-api-key": ` + flows.Masked + " (14 bytes, sha256:"},
	} {
		for _, asJSON := range []bool{false, true} {
			args := c.args
			if asJSON {
				args = append(append([]string(nil), args...), "--json")
			}
			code, out, errs := runAuthlab(t, "", "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, s := range c.secrets {
				if strings.Contains(out, s) || strings.Contains(errs, s) {
					t.Errorf("json=%v: %q shown:\n%s", asJSON, s, out)
				}
			}
			if w := c.want; asJSON {
				if b, _ := json.Marshal(w); !strings.Contains(out, string(b[1:len(b)-1])) {
					t.Errorf("json: no masked line %q:\n%s", w, out)
				}
			} else if !strings.Contains(out, w) {
				t.Errorf("no masked line %q:\n%s", w, out)
			}
			code, out, errs = runAuthlab(t, "", "", append(args, "--show-secrets")...)
			if code != 0 || !strings.Contains(out, c.secrets[0]) || !strings.Contains(errs, "--show-secrets") {
				t.Errorf("--show-secrets json=%v: exit %d, %q not shown:\n%s%s", asJSON, code, c.secrets[0], out, errs)
			}
		}
	}
}
