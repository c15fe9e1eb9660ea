package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "hunter2-very-secret"
	p := fullProfile("x")
	p.Secrets[ClientSecret] = SecretValue(value)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{p, &p, p.Secrets, p.Secrets[ClientSecret]} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
				t.Fatalf("%s of %T prints the secret: %s", verb, v, out)
			}
		}
	}
	b, err := json.Marshal(p)
	var back struct{ Secrets map[string]string }
	json.Unmarshal(b, &back)
	if err != nil || strings.Contains(string(b), value) || back.Secrets["client_secret"] != "<stored secret>" {
		t.Fatalf("JSON: %s %v", b, err)
	}
	if back.Secrets["hmac_key"] != "env:HK" {
		t.Fatalf("JSON should show references: %s", b)
	}
}

func TestSecretResolve(t *testing.T) {
	t.Setenv("AUTHLAB_TEST_SECRET", "from-env")
	t.Setenv("AUTHLAB_TEST_EMPTY", "")
	dir := t.TempDir()
	file := filepath.Join(dir, "s.txt")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, maxSecretFile+1), 0o600)

	for in, want := range map[string]string{"literal": "literal", "env:AUTHLAB_TEST_SECRET": "from-env", "file:" + file: "from-file"} {
		got, err := ParseSecret(in).Resolve()
		if err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for in, want := range map[string]string{
		"env:AUTHLAB_TEST_UNSET_X":  "secret env:AUTHLAB_TEST_UNSET_X: environment variable AUTHLAB_TEST_UNSET_X is not set",
		"file:" + dir + "/missing":  "secret file:" + dir + "/missing: cannot read the file: no such file or directory",
		"file:" + big:               "secret file:" + big + ": the file is larger than 1 MiB",
		"file:" + dir:               "is not a regular file", // a directory or device is never read
		"env:AUTHLAB_TEST_EMPTY":    "secret env:AUTHLAB_TEST_EMPTY: the environment variable is empty",
		"<stored secret: whatever>": "placeholder",
	} {
		_, err := ParseSecret(in).Resolve()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	if err := ParseSecret("env:").check(); err == nil {
		t.Error("env: with no name accepted")
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	p := Profile{Name: "bad name", Kind: "oauth", Issuer: "ftp://x", TokenURL: "https://",
		AuthMethod: "magic", Scopes: []string{"a b"}, RedirectPort: -1, Tags: []string{"a,b"},
		HMAC: HMAC{Scheme: "aws-sigv4"}, ExtraParams: map[string]string{"": "x"},
		Secrets: map[SecretKind]Secret{"password": SecretValue("x"), HMACKey: ParseSecret("env:")}}
	err := p.Validate()
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("%v", err)
	}
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	want := "name kind issuer token_url auth_method scopes[0] redirect_port hmac.region hmac.service hmac.access_key extra_params tags[0] secrets.hmac_key secrets.password"
	if strings.Join(fields, " ") != want {
		t.Fatalf("fields:\n got %s\nwant %s", strings.Join(fields, " "), want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatal("multi-line error")
	}
	for _, k := range Kinds() {
		p := Profile{Name: "ok", Kind: k, Issuer: "https://idp.example.com", CertFile: "c", KeyFile: "k", HMAC: HMAC{Scheme: "github"}}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if err := (&Profile{Name: "m", Kind: KindMTLS}).Validate(); err == nil || !strings.Contains(err.Error(), "cert_file") {
		t.Errorf("mtls without cert: %v", err)
	}
}
