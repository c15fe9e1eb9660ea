package token

import (
	"authlab/flows/token/tokentest"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"authlab/flows"
)

func inspectT(t testing.TB, raw string, o Options) *Report {
	t.Helper()
	if o.Now == nil {
		o.Now = fixedNow
	}
	rep, err := Inspect(context.Background(), raw, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustCheck(t testing.TB, r *Report, name string, st flows.Status, substr string) flows.Check {
	t.Helper()
	c, ok := findCheck(r, name)
	if !ok {
		t.Fatalf("no %q check in %+v", name, r.Checks)
	}
	if c.Status != st || !strings.Contains(c.Detail, substr) {
		t.Fatalf("%s = %s %q, want %s containing %q", name, c.Status, c.Detail, st, substr)
	}
	return c
}

func TestJWERoundTrip(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1").(*rsa.PrivateKey)
	ec := loadSigner(t, "ec256").(*ecdsa.PrivateKey)
	inner := sign(t, "RS256", rsa1, map[string]any{"kid": "rsa1", "typ": "at+jwt"}, with(baseClaims(), "scope", "api:read"))
	for _, c := range []struct {
		alg  jose.KeyAlgorithm
		enc  jose.ContentEncryption
		priv crypto.PrivateKey
		pub  any
	}{
		{jose.RSA_OAEP_256, jose.A256GCM, rsa1, &rsa1.PublicKey},
		{jose.RSA_OAEP, jose.A128CBC_HS256, rsa1, &rsa1.PublicKey},
		{jose.ECDH_ES, jose.A256GCM, ec, &ec.PublicKey},
		{jose.ECDH_ES_A128KW, jose.A128GCM, ec, &ec.PublicKey},
		{jose.ECDH_ES_A256KW, jose.A128CBC_HS256, ec, &ec.PublicKey},
	} {
		t.Run(string(c.alg)+"/"+string(c.enc), func(t *testing.T) {
			raw := tokentest.EncryptJWE(t, inner, c.alg, c.enc, c.pub)
			rep := inspectT(t, raw, Options{Keys: rsaKeys(t), DecryptKey: c.priv})
			want := fmt.Sprintf("decrypted the JWE (alg %s, enc %s) with the ", c.alg, c.enc)
			mustCheck(t, rep, "decrypt", flows.Pass, want)
			mustCheck(t, rep, "signature", flows.Pass, `verified with kid "rsa1"`)
			if !rep.OK() || !rep.Verified || rep.Kind != KindAccess || rep.JWE == nil || rep.JWE.Format != FormatJWE ||
				rep.Token.Format != FormatJWS || rep.Token.String("scope") != "api:read" || rep.JWE.HeaderString("enc") != string(c.enc) {
				t.Fatalf("report %+v", rep)
			}
		})
	}
	// A private JWK read with ParseDecryptKey works as well as a PEM key.
	jwk, err := json.Marshal(jose.JSONWebKey{Key: ec, KeyID: "enc-1", Use: "enc"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseDecryptKey(jwk)
	if err != nil {
		t.Fatal(err)
	}
	rep := inspectT(t, tokentest.EncryptJWE(t, inner, jose.ECDH_ES_A256KW, jose.A256GCM, &ec.PublicKey), Options{DecryptKey: key})
	mustCheck(t, rep, "decrypt", flows.Pass, "EC P-256 private key")
	mustCheck(t, rep, "signature", flows.Warn, "not verified: no key given")
}

func TestJWEWithoutKeyIsNamed(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1").(*rsa.PrivateKey)
	raw := tokentest.EncryptJWE(t, sign(t, "RS256", rsa1, nil, baseClaims()), jose.RSA_OAEP_256, jose.A256GCM, &rsa1.PublicKey)
	rep := inspectT(t, raw, Options{Keys: rsaKeys(t)})
	mustCheck(t, rep, "format", flows.Warn, "encrypted token (JWE, alg RSA-OAEP-256, enc A256GCM)")
	if !rep.OK() || rep.Token.Format != FormatJWE || rep.JWE != nil || rep.Token.Claims != nil || len(rep.Checks) != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestJWEWrongKey(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1").(*rsa.PrivateKey)
	rsa2 := loadSigner(t, "rsa2").(*rsa.PrivateKey)
	ec := loadSigner(t, "ec256").(*ecdsa.PrivateKey)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inner := sign(t, "RS256", rsa1, nil, baseClaims())
	toRSA := tokentest.EncryptJWE(t, inner, jose.RSA_OAEP_256, jose.A256GCM, &rsa1.PublicKey)
	toEC := tokentest.EncryptJWE(t, inner, jose.ECDH_ES_A128KW, jose.A128GCM, &ec.PublicKey)
	secret := make([]byte, 16)
	rand.Read(secret)
	dir := tokentest.EncryptJWE(t, inner, jose.DIRECT, jose.A128GCM, secret)
	for _, c := range []struct {
		name, raw string
		key       crypto.PrivateKey
		want      string
	}{
		{"another RSA key", toRSA, rsa2, "does not decrypt with the RSA 2048-bit private key: it was encrypted to another key, or altered"},
		{"EC key for RSA-OAEP", toRSA, ec, "alg RSA-OAEP-256 needs the recipient's RSA private key, but the key given is EC P-256 private key"},
		{"RSA key for ECDH-ES", toEC, rsa1, "needs the recipient's EC private key"},
		{"other curve", toEC, p384, "encrypted to a P-256 key, but the key given is EC P-384"},
		{"dir", dir, rsa1, "alg dir is not one authlab decrypts (RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW)"},
		{"altered", toRSA[:len(toRSA)-4] + "AAAA", rsa1, "does not decrypt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := inspectT(t, c.raw, Options{Keys: rsaKeys(t), DecryptKey: c.key})
			d := mustCheck(t, rep, "decrypt", flows.Fail, c.want)
			if rep.OK() || rep.JWE != nil || rep.Token.Format != FormatJWE || len(rep.Checks) != 1 || strings.Count(d.Detail, "\n") != 0 {
				t.Fatalf("report %+v", rep)
			}
		})
	}
	// RSA1_5 is refused by name, before any decryption is tried.
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA1_5","enc":"A128GCM"}`))
	rep := inspectT(t, hdr+".AAAA.AAAA.AAAA.AAAA", Options{DecryptKey: rsa1})
	mustCheck(t, rep, "decrypt", flows.Fail, "RSA1_5 is refused: it is open to padding-oracle attacks")
}

func TestJWEContentNotAJWT(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1").(*rsa.PrivateKey)
	raw := tokentest.EncryptJWE(t, `{"sub":"u1"}`, jose.RSA_OAEP, jose.A128GCM, &rsa1.PublicKey)
	rep := inspectT(t, raw, Options{DecryptKey: rsa1})
	mustCheck(t, rep, "decrypt", flows.Fail, "decrypted with the RSA 2048-bit private key, but the content is not a signed JWT")
}

func TestParseDecryptKey(t *testing.T) {
	pemOf := func(k crypto.Signer) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	rsa1 := loadSigner(t, "rsa1").(*rsa.PrivateKey)
	ec := loadSigner(t, "ec256").(*ecdsa.PrivateKey)
	for _, in := range [][]byte{pemOf(rsa1), pemOf(ec)} {
		if _, err := ParseDecryptKey(in); err != nil {
			t.Errorf("%v", err)
		}
	}
	pub, _ := json.Marshal(jose.JSONWebKey{Key: &ec.PublicKey})
	priv, _ := json.Marshal(jose.JSONWebKey{Key: ec})
	var m map[string]any
	json.Unmarshal(priv, &m)
	d := m["d"].(string)
	m["d"] = d[:len(d)-4] // a truncated private part
	broken, _ := json.Marshal(m)
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{pub, `the EC JWK has no "d" (is it the public half?)`},
		{broken, `the EC JWK: the EC P-256 "d" must be 32 bytes`},
		{pemOf(loadSigner(t, "ed25519")), "an Ed25519 key signs but cannot decrypt"},
		{[]byte(`{"kty":"oct","k":"c2VjcmV0"}`), "symmetric (oct) key is for dir encryption"},
		{[]byte(`{"kty":"EC", "d": 12}`), `member "d" is a JSON number`},
		{[]byte("not a key"), "no PEM private key found"},
	} {
		_, err := ParseDecryptKey(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseDecryptKey(%.30s…) = %v, want %q", c.in, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), d[:8]) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error echoes key material or spans lines: %v", err)
		}
	}
}

// testCA issues certificates for the x5c tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t testing.TB, name string, parent *testCA) *testCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(len(name)) + 1), Subject: pkix.Name{CommonName: name},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	ca := &testCA{key: k}
	ca.cert = ca.issue(t, tmpl, parent, &k.PublicKey)
	return ca
}

func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate, parent *testCA, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	signer, parentCert := ca.key, tmpl
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (ca *testCA) leaf(t testing.TB, name string, pub crypto.PublicKey, notAfter time.Time) *x509.Certificate {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name},
		NotBefore: t0.Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	return ca.issue(t, tmpl, ca, pub)
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func x5c(certs ...*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	return out
}

func TestX5CValidChain(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1")
	root := newCA(t, "Test Root", nil)
	inter := newCA(t, "Test Issuing CA", root)
	leaf := inter.leaf(t, "token-signer", rsa1.Public(), t0.Add(time.Hour))
	tok := sign(t, "RS256", rsa1, map[string]any{"kid": "rsa1", "x5c": x5c(leaf, inter.cert)}, baseClaims())
	o := Options{Roots: root.pool(), RootsName: "CA file root.pem"}

	// No other key: the trusted leaf's key verifies the signature.
	rep := inspectT(t, tok, o)
	mustCheck(t, rep, "x5c chain", flows.Pass, "CN=token-signer chains to CN=Test Root in CA file root.pem (valid until 2026-11-27 13:00:00Z)")
	mustCheck(t, rep, "signature", flows.Pass, "RS256, verified with RSA 2048-bit from the x5c leaf certificate CN=token-signer")
	if _, ok := findCheck(rep, "x5c key"); ok || !rep.OK() {
		t.Fatalf("report %+v", rep)
	}
	// With the issuer's keys too, the leaf must hold the key that verified.
	o.Keys = rsaKeys(t)
	rep = inspectT(t, tok, o)
	mustCheck(t, rep, "signature", flows.Pass, `verified with kid "rsa1"`)
	mustCheck(t, rep, "x5c key", flows.Pass, "the leaf certificate CN=token-signer holds the key that verified the signature")
	if !rep.OK() {
		t.Fatalf("report %+v", rep.Checks)
	}
	// Expired leaf: the chain no longer verifies, in words that say when.
	rep = inspectT(t, tok, Options{Roots: root.pool(), Now: func() time.Time { return t0.Add(2 * time.Hour) }})
	mustCheck(t, rep, "x5c chain", flows.Fail, "CN=token-signer is outside its validity (2026-11-27 11:00:00Z to 2026-11-27 13:00:00Z, now 2026-11-27 14:00:00Z)")
}

func TestX5CUnknownCA(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1")
	root := newCA(t, "Test Root", nil)
	other := newCA(t, "Someone Else", nil)
	leaf := root.leaf(t, "token-signer", rsa1.Public(), t0.Add(time.Hour))
	tok := sign(t, "RS256", rsa1, map[string]any{"x5c": x5c(leaf)}, baseClaims())

	rep := inspectT(t, tok, Options{Roots: other.pool(), RootsName: "CA file other.pem"})
	mustCheck(t, rep, "x5c chain", flows.Fail, "the chain does not lead to a CA in CA file other.pem: CN=token-signer is issued by CN=Test Root, which is not trusted; trust the issuing CA")
	// An untrusted chain is never a key source.
	mustCheck(t, rep, "signature", flows.Warn, "not verified: no key given")
	if rep.OK() || rep.Verified {
		t.Fatalf("report %+v", rep.Checks)
	}
	// The system roots do not know a test CA either. With the issuer's own
	// keys verifying the signature that is a warning, and the leaf still
	// has to hold that key.
	rep = inspectT(t, tok, Options{Keys: rsaKeys(t)})
	mustCheck(t, rep, "x5c chain", flows.Warn, `does not lead to a CA in the system roots: CN=token-signer is issued by CN=Test Root, which is not trusted; trust the issuing CA, or verifiers that rely on x5c reject the token; the signature was verified with kid "rsa1" RSA 2048-bit from test JWKS regardless`)
	mustCheck(t, rep, "signature", flows.Pass, "verified")
	mustCheck(t, rep, "x5c key", flows.Pass, "holds the key that verified")
	if !rep.OK() {
		t.Fatalf("report %+v", rep.Checks)
	}
	other2 := root.leaf(t, "someone-else", loadSigner(t, "ec256").Public(), t0.Add(time.Hour))
	rep = inspectT(t, sign(t, "RS256", rsa1, map[string]any{"x5c": x5c(other2)}, baseClaims()), Options{Keys: rsaKeys(t)})
	mustCheck(t, rep, "x5c key", flows.Fail, "holds EC P-256, but the signature was verified with")

	// Entries that are not certificates are named.
	for entry, want := range map[any]string{
		strings.TrimRight(base64.RawURLEncoding.EncodeToString(leaf.Raw), "=") + "_-": "x5c #0 is not standard base64",
		base64.StdEncoding.EncodeToString([]byte("not DER")):                          "x5c #0 is not a DER certificate",
		42: "x5c #0 is a number, not a base64 DER certificate",
	} {
		rep := inspectT(t, sign(t, "RS256", rsa1, map[string]any{"x5c": []any{entry}}, baseClaims()), Options{Roots: root.pool()})
		mustCheck(t, rep, "x5c chain", flows.Fail, want)
	}
	rep = inspectT(t, sign(t, "RS256", rsa1, map[string]any{"x5c": "MIIB"}, baseClaims()), Options{})
	mustCheck(t, rep, "x5c chain", flows.Fail, `x5c is a string ("MIIB"); it must be a non-empty array`)
}

func TestX5CLeafKeyIsNotTheVerifyingKey(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1")
	root := newCA(t, "Test Root", nil)
	// The chain is valid, but its leaf holds the EC key while rsa1 signed.
	leaf := root.leaf(t, "someone-else", loadSigner(t, "ec256").Public(), t0.Add(time.Hour))
	tok := sign(t, "RS256", rsa1, map[string]any{"kid": "rsa1", "x5c": x5c(leaf)}, baseClaims())
	rep := inspectT(t, tok, Options{Roots: root.pool(), Keys: rsaKeys(t)})
	mustCheck(t, rep, "x5c chain", flows.Pass, "chains to CN=Test Root")
	mustCheck(t, rep, "x5c key", flows.Fail, `the leaf certificate CN=someone-else holds EC P-256, but the signature was verified with kid "rsa1" RSA 2048-bit from test JWKS: the chain vouches for a different key`)
	if rep.OK() {
		t.Fatal("a leaf that does not hold the signing key must fail")
	}
	// Without other keys the leaf's EC key cannot verify an RS256 signature.
	rep = inspectT(t, tok, Options{Roots: root.pool()})
	mustCheck(t, rep, "signature", flows.Fail, "no RSA key for alg RS256 in the x5c leaf certificate CN=someone-else")
}

// rfc7638 computes a thumbprint from its definition, independently of
// go-jose: the required members in lexicographic order, no whitespace.
func rfc7638(t *testing.T, pub crypto.PublicKey) string {
	e := base64.RawURLEncoding.EncodeToString
	var canon string
	switch p := pub.(type) {
	case *rsa.PublicKey:
		canon = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, e(big.NewInt(int64(p.E)).Bytes()), e(p.N.Bytes()))
	case *ecdsa.PublicKey:
		raw, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (len(raw) - 1) / 2
		canon = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, p.Curve.Params().Name, e(raw[1:1+size]), e(raw[1+size:]))
	case ed25519.PublicKey:
		canon = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, e(p))
	}
	sum := sha256.Sum256([]byte(canon))
	return e(sum[:])
}

func TestThumbprintsMatchGoJose(t *testing.T) {
	keys := map[string]crypto.PublicKey{
		"RSA": loadSigner(t, "rsa1").Public(), "EC P-256": loadSigner(t, "ec256").Public(), "OKP": loadSigner(t, "ed25519").Public(),
	}
	for _, c := range []elliptic.Curve{elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys["EC "+c.Params().Name] = k.Public()
	}
	for name, pub := range keys {
		ks, err := ParseJWKS(jwksBytes(t, jwkJSON(pub, "k", "")))
		if err != nil {
			t.Fatal(err)
		}
		j := jose.JSONWebKey{Key: pub}
		sum, err := j.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		want := rfc7638(t, pub)
		if got := ks.Keys[0].Thumbprint; got != want || base64.RawURLEncoding.EncodeToString(sum) != want {
			t.Errorf("%s: ParseJWKS %s, go-jose %s, RFC 7638 %s", name, got, base64.RawURLEncoding.EncodeToString(sum), want)
		}
	}
}
