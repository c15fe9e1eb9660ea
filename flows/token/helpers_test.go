package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

const testdataDir = "../../testdata/token"

func loadSigner(t testing.TB, name string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s.key: no PEM", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

func b64j(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign builds a compact JWS with the standard library only, so the tests
// do not trust the code under test to produce their inputs.
func sign(t testing.TB, alg string, key any, header, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg}
	for k, v := range header {
		if v == nil {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	input := b64j(t, h) + "." + b64j(t, claims)
	var sig []byte
	var err error
	if alg == "none" {
		return input + "."
	}
	hf, _ := algHash(alg)
	digest := func() []byte { d := hf.New(); d.Write([]byte(input)); return d.Sum(nil) }
	switch k := key.(type) {
	case []byte:
		m := hmac.New(hf.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case *rsa.PrivateKey:
		if alg[:2] == "PS" {
			sig, err = rsa.SignPSS(rand.Reader, k, hf, digest(), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, hf, digest())
		}
	case *ecdsa.PrivateKey:
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, digest())
		if err == nil {
			size := (k.Curve.Params().BitSize + 7) / 8
			sig = make([]byte, 2*size)
			r.FillBytes(sig[:size])
			s.FillBytes(sig[size:])
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	default:
		t.Fatalf("sign: unsupported key %T", key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// jwkJSON renders a public key as a JWK map, independently of ParseJWKS.
func jwkJSON(pub crypto.PublicKey, kid, alg string) map[string]any {
	e := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid}
	if alg != "" {
		m["alg"] = alg
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = e(p.N.Bytes())
		m["e"] = e(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = p.Curve.Params().Name
		b, _ := p.Bytes()
		size := (p.Curve.Params().BitSize + 7) / 8
		m["x"] = e(b[1 : 1+size])
		m["y"] = e(b[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = e(p)
	}
	return m
}

func jwksBytes(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
