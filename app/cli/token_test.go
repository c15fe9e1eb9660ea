package cli

import (
	"authlab/flows/token/tokentest"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const tokTestdata = "../../testdata/token"

func tokB64(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokSignRS256 signs with testdata/token/rsa1.key using only the standard library
// (no JWT library: the fixture must not depend on what it tests).
func tokSignRS256(t *testing.T, header, claims map[string]any) string {
	k := tokentest.LoadPKCS8(t, filepath.Join(tokTestdata, "rsa1.key"))
	h := map[string]any{"alg": "RS256", "kid": "rsa1"}
	for k, v := range header {
		h[k] = v
	}
	input := tokB64(t, h) + "." + tokB64(t, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func tokFixture(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(tokTestdata, "rs256.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestTokenInspectHuman(t *testing.T) {
	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--jwks", filepath.Join(tokTestdata, "jwks.json"), "--explain", tokFixture(t))
	if code != 0 || errOut != "" {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Header", "alg  RS256", "Claims", "issuer: who created", "✓ signature  RS256, verified with kid \"rsa1\"", "% of ", "expires in"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes in output that is not a terminal")
	}
}

func TestTokenInspectStdinAndJSON(t *testing.T) {
	code, out, _ := runAuthlab(t, "", tokFixture(t)+"\n", "token", "inspect", "--jwks", filepath.Join(tokTestdata, "jwks.json"), "--json", "--aud", "https://api.example.test", "--iss", "https://idp.example.test")
	if code != 0 {
		t.Fatalf("code %d: %s", code, out)
	}
	var got struct {
		OK       bool `json:"ok"`
		Verified bool `json:"verified"`
		Token    struct {
			Format string         `json:"format"`
			Header map[string]any `json:"header"`
			Claims map[string]any `json:"claims"`
		} `json:"token"`
		Checks []struct{ Name, Status, Detail string } `json:"checks"`
		Skew   any                                     `json:"skew"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !got.OK || !got.Verified || got.Token.Format != "jws" || got.Token.Header["kid"] != "rsa1" || got.Token.Claims["exp"] != 4102444800.0 || got.Skew != nil {
		t.Fatalf("%+v", got)
	}
	names := map[string]string{}
	for _, c := range got.Checks {
		names[c.Name] = c.Status
	}
	if names["aud"] != "pass" || names["iss"] != "pass" || names["signature"] != "pass" {
		t.Fatalf("checks %v", names)
	}
}

func TestTokenInspectFailures(t *testing.T) {
	jwks := filepath.Join(tokTestdata, "jwks.json")
	expired := tokSignRS256(t, nil, map[string]any{"sub": "x", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-90 * time.Second).Unix()})
	code, _, errOut := runAuthlab(t, "", "", "token", "inspect", "--jwks", jwks, "--leeway", "30s", expired)
	if code != 1 || !strings.HasPrefix(errOut, "authlab: check exp failed: expired 1m3") || !strings.Contains(errOut, "leeway 30 s") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("expired: code %d, stderr %q", code, errOut)
	}
	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--jwks", jwks, "--json", "eyJhbGciOiJSUzI1NiJ9.e30+.c2ln")
	if code != 1 || !strings.Contains(errOut, "claims segment: bad base64url byte '+'") || !strings.Contains(out, `"kind": "check"`) {
		t.Fatalf("malformed: %d %q %s", code, errOut, out)
	}
	code, _, errOut = runAuthlab(t, "", "", "token", "inspect", "--key", filepath.Join(tokTestdata, "rsa2.pub"), tokFixture(t))
	if code != 1 || !strings.Contains(errOut, "check signature failed") {
		t.Fatalf("wrong key: %d %q", code, errOut)
	}
	// A file argument is read, not taken as an opaque token.
	code, out, _ = runAuthlab(t, "", "", "token", "inspect", "--jwks", jwks, "--json", filepath.Join(tokTestdata, "rs256.jwt"))
	if code != 0 || !strings.Contains(out, `"verified": true`) {
		t.Fatalf("file argument: %d %s", code, out)
	}
	// Opaque tokens are not failures.
	code, out, _ = runAuthlab(t, "", "", "token", "inspect", "2YotnFZFEjr1zCsicMWpAA")
	if code != 0 || !strings.Contains(out, "Opaque token") || !strings.Contains(out, "introspection") {
		t.Fatalf("opaque: %d %s", code, out)
	}
}

func TestTokenInspectUsage(t *testing.T) {
	tok := tokFixture(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--issuer", "https://x", "--key", "k", tok}, "give one of --issuer, --jwks and --key"},
		{[]string{"--kind", "refresh", tok}, `--kind "refresh"`},
		{[]string{"--alg", "XS256", tok}, `--alg "XS256"`},
		{[]string{"--jwks", "/nonexistent/jwks.json", tok}, "--jwks"},
		{[]string{"--jwks", filepath.Join(tokTestdata, "rsa1.key"), tok}, ""},
		{[]string{"--key", "env:AUTHLAB_TEST_UNSET_VAR", tok}, "env:AUTHLAB_TEST_UNSET_VAR: the environment variable is not set"},
		{[]string{"--key", "file:/nonexistent/secret", tok}, "--key file:/nonexistent/secret: no such file or directory"},
		{[]string{"--cert", filepath.Join(tokTestdata, "rsa1.pub"), tok}, "no PEM CERTIFICATE"},
		{[]string{"--leeway", "-5s", tok}, "--leeway"},
		{[]string{"-"}, "no token on stdin"},
	} {
		code, _, errOut := runAuthlab(t, "", "", append([]string{"token", "inspect"}, c.args...)...)
		if c.want == "" { // a private key PEM as --jwks is fine: its public half is used
			if code != 0 {
				t.Errorf("%v: code %d %q", c.args, code, errOut)
			}
			continue
		}
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: code %d, stderr %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestTokenInspectSecretAndIssuer(t *testing.T) {
	secret := "a-shared-secret-of-32-bytes-long!"
	input := tokB64(t, map[string]any{"alg": "HS256"}) + "." + tokB64(t, map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(input))
	hs := input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	t.Setenv("AUTHLAB_TEST_HS", secret)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{secretFile, "file:" + secretFile, "env:AUTHLAB_TEST_HS", "base64:" + base64.StdEncoding.EncodeToString([]byte(secret)), secret} {
		code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--key", key, hs)
		if code != 0 || !strings.Contains(out, "verified with shared secret (33 bytes)") {
			t.Fatalf("--key %s: %d %q %s", key[:5], code, errOut, out)
		}
		if strings.Contains(out, secret) {
			t.Fatal("the secret was printed")
		}
	}

	// An issuer on 127.0.0.1: discovery, JWKS, and skew from its Date headers.
	jwks, err := os.ReadFile(filepath.Join(tokTestdata, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Write([]byte(`{"issuer":"` + srv.URL + `","jwks_uri":"` + srv.URL + `/jwks"}`))
		case "/jwks":
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tok := tokSignRS256(t, nil, map[string]any{"iss": srv.URL, "sub": "x", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--issuer", srv.URL, "--json", tok)
	if code != 0 {
		t.Fatalf("issuer: %d %q %s", code, errOut, out)
	}
	var got struct {
		Skew struct {
			OffsetMS      int64  `json:"offset_ms"`
			UncertaintyMS int64  `json:"uncertainty_ms"`
			Source        string `json:"source"`
			Verdict       string `json:"verdict"`
		} `json:"skew"`
		Exchanges []struct {
			URL    string `json:"url"`
			Status int    `json:"status"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// Same machine, same clock: the estimate must contain zero.
	if got.Skew.Source == "" || abs64(got.Skew.OffsetMS) > got.Skew.UncertaintyMS || !strings.Contains(got.Skew.Verdict, "within the 1m00s leeway") {
		t.Fatalf("skew %+v", got.Skew)
	}
	if len(got.Exchanges) != 2 || got.Exchanges[1].URL != srv.URL+"/jwks" || got.Exchanges[1].Status != 200 {
		t.Fatalf("exchanges %+v", got.Exchanges)
	}
	code, out, _ = runAuthlab(t, "", "", "token", "inspect", "--issuer", srv.URL, tok)
	if code != 0 || !strings.Contains(out, "clock skew: the IdP's clock") || !strings.Contains(out, "behind ") {
		t.Fatalf("human skew line: %s", out)
	}
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// BenchmarkTokenInspectCmd is the in-process cost of the command (flag
// parsing, key file, inspection, rendering), without process start-up.
func BenchmarkTokenInspectCmd(b *testing.B) {
	for b.Loop() {
		var out, errb bytes.Buffer
		g := &globals{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
		if code := execute([]string{"token", "inspect", "--jwks", filepath.Join(tokTestdata, "jwks.json"), filepath.Join(tokTestdata, "rs256.jwt")}, g); code != 0 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
}

// tokFlat joins the words of the human output, so assertions do not depend
// on where the renderer wraps a line.
func tokFlat(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestTokenInspectDecryptKey(t *testing.T) {
	rsa1 := tokentest.LoadPKCS8(t, filepath.Join(tokTestdata, "rsa1.key"))
	jwe := tokentest.EncryptJWE(t, tokFixture(t), jose.RSA_OAEP_256, jose.A256GCM, rsa1.Public())
	jwks := filepath.Join(tokTestdata, "jwks.json")

	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--jwks", jwks, "--decrypt-key", filepath.Join(tokTestdata, "rsa1.key"), jwe)
	if code != 0 || errOut != "" {
		t.Fatalf("code %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"Encrypted token (JWE, alg RSA-OAEP-256, enc A256GCM), decrypted; the JWT inside:",
		"✓ decrypt decrypted the JWE (alg RSA-OAEP-256, enc A256GCM) with the RSA 2048-bit private key", "Claims", "sub user-42", `✓ signature RS256, verified with kid "rsa1"`} {
		if !strings.Contains(tokFlat(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// JSON: the nested JWT is the token, the JWE's header is beside it.
	ecJWK, err := json.Marshal(jose.JSONWebKey{Key: rsa1, KeyID: "enc"})
	if err != nil {
		t.Fatal(err)
	}
	jwkFile := filepath.Join(t.TempDir(), "recipient.jwk")
	if err := os.WriteFile(jwkFile, ecJWK, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runAuthlab(t, "", jwe, "token", "inspect", "--jwks", jwks, "--decrypt-key", jwkFile, "--json", "-")
	var got struct {
		OK       bool `json:"ok"`
		Verified bool `json:"verified"`
		Token    struct {
			Format string         `json:"format"`
			Claims map[string]any `json:"claims"`
		} `json:"token"`
		JWE struct {
			Format string         `json:"format"`
			Header map[string]any `json:"header"`
		} `json:"jwe"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("code %d, %v: %s", code, err, out)
	}
	if !got.OK || !got.Verified || got.Token.Format != "jws" || got.Token.Claims["sub"] != "user-42" || got.JWE.Format != "jwe" || got.JWE.Header["enc"] != "A256GCM" {
		t.Fatalf("%+v", got)
	}

	// Without a key the token is named as encrypted; that is not a failure.
	code, out, _ = runAuthlab(t, "", "", "token", "inspect", jwe)
	if code != 0 || !strings.Contains(out, "Encrypted token (JWE)") || !strings.Contains(out, "encrypted token (JWE, alg RSA-OAEP-256, enc A256GCM)") {
		t.Fatalf("no key: %d\n%s", code, out)
	}

	// The wrong private key: one line naming the problem.
	code, _, errOut = runAuthlab(t, "", "", "token", "inspect", "--decrypt-key", filepath.Join(tokTestdata, "rsa2.key"), jwe)
	if code != 1 || !strings.HasPrefix(errOut, "authlab: check decrypt failed: encrypted token (JWE, alg RSA-OAEP-256, enc A256GCM): does not decrypt with the RSA 2048-bit private key") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("wrong key: code %d, stderr %q", code, errOut)
	}

	// Keys that cannot decrypt are usage errors that never quote the key.
	pub, err := os.ReadFile(filepath.Join(tokTestdata, "rsa1.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: rsa1.Public()})
	pubJWKFile := filepath.Join(t.TempDir(), "pub.jwk")
	if err := os.WriteFile(pubJWKFile, pubJWK, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(tokTestdata, "rsa1.pub"):    "no PEM private key found",
		filepath.Join(tokTestdata, "ed25519.key"): "an Ed25519 key signs but cannot decrypt",
		pubJWKFile:  `the RSA JWK has no "d" (is it the public half?)`,
		"/dev/zero": "/dev/zero is not a regular file",
	} {
		code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--decrypt-key", path, jwe)
		if code != 2 || !strings.Contains(errOut, "--decrypt-key") || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: code %d, stderr %q, want 2 and %q", path, code, errOut, want)
		}
		if strings.Contains(errOut+out, string(pub[30:60])) || strings.Contains(errOut+out, string(pubJWK[20:40])) {
			t.Errorf("%s: key material echoed: %q", path, errOut)
		}
	}
}

func TestTokenInspectX5CWithCA(t *testing.T) {
	rsa1 := tokentest.LoadPKCS8(t, filepath.Join(tokTestdata, "rsa1.key"))
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corp Token CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "issuer-signing"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, rsa1.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := tokSignRS256(t, map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(leafDER)}},
		map[string]any{"sub": "x", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})

	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--ca", caFile, tok)
	if code != 0 || !strings.Contains(tokFlat(out), "✓ x5c chain CN=issuer-signing chains to CN=Corp Token CA in CA file "+caFile) ||
		!strings.Contains(tokFlat(out), "from the x5c leaf certificate CN=issuer-signing") {
		t.Fatalf("--ca: code %d, stderr %q\n%s", code, errOut, out)
	}
	code, out, _ = runAuthlab(t, "", "", "token", "inspect", "--ca", caFile, "--jwks", filepath.Join(tokTestdata, "jwks.json"), "--json", tok)
	if code != 0 || !strings.Contains(out, `"name": "x5c key"`) {
		t.Fatalf("--ca --jwks: %d %s", code, out)
	}
	// Without --ca the system roots do not know the CA, and the message says how to trust it.
	code, _, errOut = runAuthlab(t, "", "", "token", "inspect", tok)
	if code != 1 || !strings.Contains(errOut, "check x5c chain failed: the chain does not lead to a CA in the system roots (--ca FILE trusts a private CA)") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("system roots: code %d, stderr %q", code, errOut)
	}
	code, _, errOut = runAuthlab(t, "", "", "token", "inspect", "--ca", filepath.Join(tokTestdata, "rsa1.key"), tok)
	if code != 2 || !strings.Contains(errOut, "--ca: CA bundle:") {
		t.Fatalf("bad --ca: code %d, stderr %q", code, errOut)
	}
}
