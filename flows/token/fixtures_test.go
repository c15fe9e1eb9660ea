package token

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures and golden files")

// The fixture JWKS and the benchmark token are files (the CLI measurement
// uses them), generated from the testdata keys; this test keeps them in step.
func TestFixtures(t *testing.T) {
	jwks := jwksBytes(t,
		jwkJSON(loadSigner(t, "rsa1").Public(), "rsa1", "RS256"),
		jwkJSON(loadSigner(t, "ec256").Public(), "ec1", "ES256"),
		jwkJSON(loadSigner(t, "ed25519").Public(), "ed1", "EdDSA"),
	)
	path := filepath.Join(testdataDir, "jwks.json")
	tokPath := filepath.Join(testdataDir, "rs256.jwt")
	if *update {
		if err := os.WriteFile(path, append(jwks, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		tok := sign(t, "RS256", loadSigner(t, "rsa1"), map[string]any{"kid": "rsa1", "typ": "at+jwt"}, map[string]any{
			"iss": "https://idp.example.test", "sub": "user-42", "aud": "https://api.example.test",
			"client_id": "demo-client", "scope": "openid profile api.read", "jti": "b1c6c1f4-bench",
			"iat": 1764201600, "nbf": 1764201600, "exp": 4102444800,
		})
		if err := os.WriteFile(tokPath, []byte(tok+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), jwks) {
		t.Fatalf("%s is out of date with the keys; run go test ./flows/token -run TestFixtures -update", path)
	}
	raw, err := os.ReadFile(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := ParseJWKS(got)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Inspect(context.Background(), string(raw), Options{Keys: StaticKeys{Set: ks}})
	if err != nil || !rep.Verified || !rep.OK() {
		t.Fatalf("fixture token does not verify: %v %+v", err, rep)
	}
}
