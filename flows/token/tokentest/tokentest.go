// Package tokentest holds the key and JWE fixtures that tests of several
// packages (token engine, CLI, mock IdP) share, so each builds them one way.
package tokentest

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// LoadPKCS8 reads a PEM PKCS#8 private key fixture, failing the test on any
// problem.
func LoadPKCS8(t testing.TB, path string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		t.Fatalf("%s: %T is not a signing key", path, k)
	}
	return s
}

// EncryptJWE wraps inner in a compact JWE with go-jose, the way an issuer
// that encrypts its tokens would (content type JWT: a nested token).
func EncryptJWE(t testing.TB, inner string, alg jose.KeyAlgorithm, enc jose.ContentEncryption, to any) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: to}, (&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(inner))
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
