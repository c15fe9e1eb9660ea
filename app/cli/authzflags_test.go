package cli

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"authlab/internal/testtools"
	"authlab/mockidp/mockidptest"
)

// demoJWTJWK writes the demo-jwt client's published key as a private JWK
// with its registered kid, demo-jwt-1.
func demoJWTJWK(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/mockidp/demo-jwt.key")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	var key any
	if key, err = x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		if key, err = x509.ParseECPrivateKey(blk.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	j, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "demo-jwt-1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "demo-jwt.jwk")
	if err := os.WriteFile(p, j, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkPARRun asserts a --json result of a PAR + RAR run: ok, the token
// response carries authorization_details, each named check passed and the
// request was pushed (201); noPush starts the message when it was not.
func checkPARRun(t *testing.T, out, noPush string, checks ...string) {
	t.Helper()
	var j struct {
		OK        bool           `json:"ok"`
		Token     map[string]any `json:"token"`
		Checks    []struct{ Name, Status string }
		Exchanges []struct {
			Step   string `json:"step"`
			Status int    `json:"status"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if !j.OK || j.Token["authorization_details"] == nil {
		t.Fatalf("result: %s", out)
	}
	passed := map[string]bool{}
	for _, c := range j.Checks {
		passed[c.Name] = passed[c.Name] || c.Status == "pass"
	}
	for _, name := range checks {
		if !passed[name] {
			t.Errorf("no passing %s check: %s", name, out)
		}
	}
	pushed := false
	for _, ex := range j.Exchanges {
		pushed = pushed || (ex.Step == "pushed authorization request" && ex.Status == 201)
	}
	if !pushed {
		t.Errorf("%s: %s", noPush, out)
	}
}

// TestFlowPARRequestObjectJARMRARCLI: --par --request-object
// --response-mode jwt --authorization-details @FILE through the command
// line, $BROWSER being curl (the JARM response rides in the query).
func TestFlowPARRequestObjectJARMRARCLI(t *testing.T) {
	curl := testtools.Require(t, "curl")
	idp := mockidptest.New(t)
	t.Setenv("BROWSER", curl+" -s -o /dev/null -L --max-time 20")
	details := filepath.Join(t.TempDir(), "details.json")
	if err := os.WriteFile(details, []byte(`[{"type":"account_information","actions":["list_accounts"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"flow", "auth-code", "--issuer", idp.Issuer(), "--client-id", "demo-jwt", "--private-key", demoJWTJWK(t),
		"--par", "--request-object", "--response-mode", "jwt", "--authorization-details", "@" + details, "--wait", "30s"}
	code, out, errs := runAuthlab(t, "", "", append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	checkPARRun(t, out, "no PAR exchange", "jarm signature", "jarm aud", "par expires_in", "authorization_details")
	// Human output: the push with expires_in, the request object, the JARM checks.
	code, out, errs = runAuthlab(t, "", "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, s := range []string{"pushed authorization request", "expires_in 60 s", "request object", "oauth-authz-req+jwt", "jarm signature", "granted [account_information]"} {
		if !strings.Contains(out, s) {
			t.Errorf("human output lacks %q:\n%s", s, out)
		}
	}
	// A bad mode is a usage error.
	if code, _, errs := runAuthlab(t, "", "", "flow", "auth-code", "--issuer", idp.Issuer(), "--client-id", "demo-native", "--response-mode", "web_message"); code != 2 || !strings.Contains(errs, "--response-mode") {
		t.Fatalf("bad mode: exit %d %s", code, errs)
	}
}
