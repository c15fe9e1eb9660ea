package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFlagValuesNeverEchoed: a PEM passed where a path is expected
// (`--key "$(cat key.pem)"`), or a literal secret given to a key flag, is
// never echoed; the message says what the value looked like.
func TestKeyFlagValuesNeverEchoed(t *testing.T) {
	const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretbody"
	pemKey := "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n"
	pub, err := os.ReadFile(filepath.Join(tokTestdata, "rsa1.pub"))
	if err != nil {
		t.Fatal(err)
	}
	crt := filepath.Join(tokTestdata, "client.crt")
	tok := tokFixture(t)
	for _, c := range []struct {
		args   []string
		secret string
		want   string
	}{
		{[]string{"flow", "client-credentials", "--token-url", "http://127.0.0.1:9/token", "--client-id", "c", "--cert", crt, "--key", pemKey}, body, "looks like a PEM private key, not a path"},
		{[]string{"flow", "mtls", "--url", "https://127.0.0.1:9/", "--cert", crt, "--key", pemKey}, body, "looks like a PEM private key, not a path"},
		{[]string{"flow", "client-credentials", "--token-url", "http://127.0.0.1:9/token", "--client-id", "c", "--auth-method", "private_key_jwt", "--private-key", "s3cr3t-not-a-key-" + body}, body, "not a file path"},
		{[]string{"token", "inspect", "--key", string(pub), tok}, "MIIB", "--key: the value looks like a PEM public key, not a path; pass it as file:PATH or through env:NAME"},
		{[]string{"token", "inspect", "--jwks", `{"keys":[{"kty":"oct","k":"` + body + `"}]}`, tok}, body, "looks like a JWK Set"},
	} {
		code, out, errs := runAuthlab(t, "", "", c.args...)
		if code != 2 || strings.Contains(out+errs, c.secret) || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, want 2, %q and no value in\n%s%s", c.args[:2], code, c.want, out, errs)
		}
	}
	// The hint works: the same public key through env:NAME verifies.
	t.Setenv("AUTHLAB_TEST_PUB", string(pub))
	if code, out, errs := runAuthlab(t, "", "", "token", "inspect", "--key", "env:AUTHLAB_TEST_PUB", tok); code != 0 || strings.Contains(out+errs, "MIIB") {
		t.Errorf("--key env:NAME holding a PEM key: exit %d\n%s%s", code, out, errs)
	}
}

// TestRawPrefixPassesALiteralThatLooksLikeAReference: raw:VALUE is VALUE byte
// for byte, so a secret or token that starts with env: or file: can be given.
func TestRawPrefixPassesALiteralThatLooksLikeAReference(t *testing.T) {
	v, err := readTokenFlag("--token", "raw:env:NOT_A_VARIABLE", nil)
	if err != nil || v != "env:NOT_A_VARIABLE" {
		t.Fatalf("raw: token = %q, %v", v, err)
	}
	code, out, errs := runAuthlab(t, "", "", "flow", "hmac", "--dry-run", "--scheme", "github", "--key", "raw:env:UNSET_SECRET_VAR",
		"--data", "Hello, World!", "--url", "https://hooks.example/")
	if code != 0 || strings.Contains(out+errs, "UNSET_SECRET_VAR") {
		t.Errorf("--key raw:env:…: exit %d\n%s%s", code, out, errs)
	}
}
