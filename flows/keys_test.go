package flows

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func testSigners(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"RSA": rk, "EC": ec, "OKP": ed}
}

// A private key read from PEM or from a JWK gets the same RFC 7638 kid as
// its public half, and a JWK keeps its own kid and alg.
func TestParsePrivateKeyPEMAndJWK(t *testing.T) {
	for kty, s := range testSigners(t) {
		want, err := JWKThumbprint(s.Public())
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(s)
		if err != nil {
			t.Fatal(err)
		}
		fromPEM, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err != nil {
			t.Fatalf("%s PEM: %v", kty, err)
		}
		jwk, _ := json.Marshal(jose.JSONWebKey{Key: s, KeyID: "k-" + kty, Algorithm: "X"})
		set, _ := json.Marshal(map[string]any{"keys": []json.RawMessage{json.RawMessage(`{"kty":"FUTURE"}`), jwk}})
		for _, in := range [][]byte{jwk, set} {
			fromJWK, err := ParsePrivateKey(in)
			if err != nil {
				t.Fatalf("%s JWK: %v", kty, err)
			}
			if fromJWK.KeyID != "k-"+kty || fromJWK.Algorithm != "X" {
				t.Errorf("%s: kid %q alg %q", kty, fromJWK.KeyID, fromJWK.Algorithm)
			}
			if got, _ := JWKThumbprint(fromJWK.Key); got != want {
				t.Errorf("%s JWK thumbprint %s, want %s", kty, got, want)
			}
		}
		if got, _ := JWKThumbprint(fromPEM.Key); got != want {
			t.Errorf("%s PEM thumbprint %s, want %s", kty, got, want)
		}
		if _, ok := fromPEM.Key.(crypto.Signer); !ok {
			t.Errorf("%s: %T is not a signer", kty, fromPEM.Key)
		}
	}
}

func TestParsePrivateKeyErrorsNameTheProblem(t *testing.T) {
	rk := testSigners(t)["RSA"].(*rsa.PrivateKey)
	full, _ := json.Marshal(jose.JSONWebKey{Key: rk})
	var m map[string]any
	json.Unmarshal(full, &m)
	secretD := m["d"].(string)
	noPQ := map[string]any{"kty": "RSA", "n": m["n"], "e": m["e"], "d": secretD}
	badPQ := map[string]any{"kty": "RSA", "n": m["n"], "e": m["e"], "d": secretD, "p": m["q"], "q": m["q"]}
	enc := func(v any) []byte { b, _ := json.Marshal(v); return b }
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{enc(map[string]any{"kty": "RSA", "n": m["n"], "e": m["e"]}), `the RSA JWK has no "d" (is it the public half?)`},
		{enc(noPQ), "the RSA JWK: the RSA JWK has no p and q; authlab needs the full private key"},
		{enc(badPQ), "the RSA JWK: invalid RSA private key"},
		{[]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}`), "the JWK Set holds no private key"},
		{[]byte(`{"kty":"RSA","d":"` + secretD + `"`), "not a JWK: invalid JSON at byte"},
		{[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), "the key is encrypted"},
	} {
		_, err := ParsePrivateKey(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
			continue
		}
		if strings.Contains(err.Error(), secretD[:12]) {
			t.Errorf("error echoes the private key: %v", err)
		}
	}
}

func TestParseJWKSetSkipsUnknownKty(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: ec.Public(), KeyID: "e1", Use: "sig"})
	set, err := ParseJWKSet([]byte(`{"keys":[{"kty":"AKP2"},` + string(jwk) + `]}`))
	if err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "e1" || strings.Join(set.Skipped, ",") != `#0 kty "AKP2"` {
		t.Fatalf("%+v %v", set, err)
	}
	// An x5c whose leaf is not the JWK's key is refused (go-jose checks it).
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, other.Public(), other)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(jwk, &m)
	m["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	b, _ := json.Marshal(map[string]any{"keys": []any{m}})
	if _, err := ParseJWKSet(b); err == nil || !strings.Contains(err.Error(), `JWKS key #0 (kid "e1"): invalid JWK, public keys in key and x5c fields do not match`) {
		t.Fatalf("x5c mismatch: %v", err)
	}
}
