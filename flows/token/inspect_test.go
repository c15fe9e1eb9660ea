package token

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) int64 { return t0.Add(d).Unix() }

func fixedNow() time.Time { return t0 }

func baseClaims() map[string]any {
	return map[string]any{
		"iss": "https://idp.test", "sub": "u1", "aud": "api",
		"iat": at(-time.Minute), "nbf": at(-time.Minute), "exp": at(9 * time.Minute),
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func rsaKeys(t *testing.T) StaticKeys {
	b, err := os.ReadFile(filepath.Join(testdataDir, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	ks.Source = "test JWKS"
	return StaticKeys{Set: ks}
}

func findCheck(r *Report, name string) (flows.Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return flows.Check{}, false
}

func clientCert(t *testing.T) *x509.Certificate {
	b, err := os.ReadFile(filepath.Join(testdataDir, "client.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestChecks signs one token per case with the testdata keys and asserts the
// status and wording of one named check.
func TestChecks(t *testing.T) {
	rsa1 := loadSigner(t, "rsa1")
	rsa2 := loadSigner(t, "rsa2")
	ec := loadSigner(t, "ec256")
	ed := loadSigner(t, "ed25519")
	cert := clientCert(t)
	keys := rsaKeys(t)
	rsaHdr := map[string]any{"kid": "rsa1"}
	atHash, _ := HalfHash("RS256", "the-access-token")
	cHash, _ := HalfHash("RS256", "the-code")

	type tc struct {
		name    string
		alg     string
		key     any
		header  map[string]any
		claims  map[string]any
		opts    Options
		check   string
		status  flows.Status
		contain string
	}
	cases := []tc{
		// signature
		{"rs256 ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{}, "signature", flows.Pass, `RS256, verified with kid "rsa1" RSA 2048-bit from test JWKS`},
		{"es256 ok", "ES256", ec, map[string]any{"kid": "ec1"}, baseClaims(), Options{}, "signature", flows.Pass, "EC P-256"},
		{"eddsa ok", "EdDSA", ed, map[string]any{"kid": "ed1"}, baseClaims(), Options{}, "signature", flows.Pass, "Ed25519"},
		{"wrong key", "RS256", rsa2, rsaHdr, baseClaims(), Options{}, "signature", flows.Fail, "does not verify with kid \"rsa1\""},
		{"alg none", "none", nil, nil, baseClaims(), Options{}, "signature", flows.Fail, `alg "none"`},
		{"key confusion", "HS256", []byte("public-key-bytes"), rsaHdr, baseClaims(), Options{}, "signature", flows.Fail, "key confusion"},
		{"alg not allowed", "RS256", rsa1, rsaHdr, baseClaims(), Options{Algs: []string{"ES256"}}, "signature", flows.Fail, "not in the allowed list (ES256)"},
		{"jwk alg disagrees", "RS384", rsa1, rsaHdr, baseClaims(), Options{}, "signature", flows.Fail, "is for alg RS256, but the token says RS384"},
		{"unknown kid", "RS256", rsa1, map[string]any{"kid": "gone"}, baseClaims(), Options{}, "signature", flows.Fail, `signed by kid "gone", but test JWKS has kids rsa1, ec1, ed1 — key rotated?`},
		{"no keys", "RS256", rsa1, rsaHdr, baseClaims(), Options{Keys: nilKeys}, "signature", flows.Warn, "not verified"},
		{"jku warns", "RS256", rsa1, map[string]any{"kid": "rsa1", "jku": "https://evil.test/jwks"}, baseClaims(), Options{}, "header jku", flows.Warn, "did not follow it"},
		{"crit warns", "RS256", rsa1, map[string]any{"kid": "rsa1", "crit": []string{"exp"}}, baseClaims(), Options{}, "header crit", flows.Warn, "crit lists"},
		// iss
		{"iss ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{Issuer: "https://idp.test"}, "iss", flows.Pass, "https://idp.test"},
		{"iss wrong", "RS256", rsa1, rsaHdr, baseClaims(), Options{Issuer: "https://other.test"}, "iss", flows.Fail, `iss is "https://idp.test", expected "https://other.test"`},
		{"iss slash", "RS256", rsa1, rsaHdr, baseClaims(), Options{Issuer: "https://idp.test/"}, "iss", flows.Fail, "trailing slash"},
		// aud
		{"aud ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{Audience: []string{"api"}}, "aud", flows.Pass, "includes api"},
		{"aud list ok", "RS256", rsa1, rsaHdr, with(baseClaims(), "aud", []string{"x", "api"}), Options{Audience: []string{"api"}}, "aud", flows.Pass, "includes api"},
		{"aud wrong", "RS256", rsa1, rsaHdr, with(baseClaims(), "aud", []string{"x", "y"}), Options{Audience: []string{"api"}}, "aud", flows.Fail, `aud is ["x", "y"], expected api`},
		{"aud missing", "RS256", rsa1, rsaHdr, with(baseClaims(), "aud", nil), Options{Audience: []string{"api"}}, "aud", flows.Fail, "no aud claim"},
		// azp
		{"azp ok", "RS256", rsa1, rsaHdr, with(baseClaims(), "aud", []string{"client", "api"}, "azp", "client", "nonce", "n"), Options{Audience: []string{"client"}, Kind: KindID}, "azp", flows.Pass, "client"},
		{"azp other client", "RS256", rsa1, rsaHdr, with(baseClaims(), "aud", []string{"client", "api"}, "azp", "evil"), Options{Audience: []string{"client"}, Kind: KindID}, "azp", flows.Fail, `azp is "evil"`},
		{"azp missing multi-aud", "RS256", rsa1, rsaHdr, with(baseClaims(), "aud", []string{"client", "api"}), Options{Kind: KindID}, "azp", flows.Warn, "2 audiences but no azp"},
		// exp
		{"exp ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{}, "exp", flows.Pass, "expires in 9m00s (at 2026-11-27 12:09:00Z)"},
		{"expired", "RS256", rsa1, rsaHdr, with(baseClaims(), "exp", at(-42*time.Second)), Options{Leeway: 30 * time.Second}, "exp", flows.Fail, "expired 42 s ago (at 2026-11-27 11:59:18Z); leeway 30 s"},
		{"expired within leeway", "RS256", rsa1, rsaHdr, with(baseClaims(), "exp", at(-20*time.Second)), Options{Leeway: 30 * time.Second}, "exp", flows.Warn, "accepted only because of the leeway 30 s"},
		{"exp missing access", "RS256", rsa1, rsaHdr, with(baseClaims(), "exp", nil), Options{Kind: KindAccess}, "exp", flows.Fail, "never expires"},
		{"exp missing unknown", "RS256", rsa1, rsaHdr, with(baseClaims(), "exp", nil), Options{}, "exp", flows.Warn, "never expires"},
		// nbf
		{"nbf ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{}, "nbf", flows.Pass, "valid since 1m00s ago"},
		{"nbf future", "RS256", rsa1, rsaHdr, with(baseClaims(), "nbf", at(2*time.Minute)), Options{}, "nbf", flows.Fail, "not valid for another 2m00s"},
		{"nbf within leeway", "RS256", rsa1, rsaHdr, with(baseClaims(), "nbf", at(10*time.Second)), Options{}, "nbf", flows.Warn, "valid only in 10 s"},
		// iat
		{"iat ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{}, "iat", flows.Pass, "issued 1m00s ago"},
		{"iat future", "RS256", rsa1, rsaHdr, with(baseClaims(), "iat", at(42*time.Second)), Options{Leeway: 30 * time.Second}, "iat", flows.Fail, "issued 42 s in the future (iat 2026-11-27 12:00:42Z); leeway 30 s"},
		{"no leeway", "RS256", rsa1, rsaHdr, with(baseClaims(), "iat", at(time.Second)), Options{Leeway: -1}, "iat", flows.Fail, "leeway 0 s"},
		// lifetime
		{"lifetime ok", "RS256", rsa1, rsaHdr, baseClaims(), Options{Kind: KindAccess}, "lifetime", flows.Pass, "lives 10m00s"},
		{"lifetime long access", "RS256", rsa1, rsaHdr, with(baseClaims(), "exp", at(30*24*time.Hour)), Options{Kind: KindAccess}, "lifetime", flows.Warn, "lives 30d0h"},
		{"lifetime long id", "RS256", rsa1, rsaHdr, with(baseClaims(), "exp", at(30*24*time.Hour)), Options{Kind: KindID}, "lifetime", flows.Pass, "lives 30d0h"},
		{"lifetime negative", "RS256", rsa1, rsaHdr, with(baseClaims(), "iat", at(-time.Minute), "exp", at(-2*time.Minute)), Options{}, "lifetime", flows.Fail, "never valid"},
		// typ
		{"typ at+jwt", "RS256", rsa1, map[string]any{"kid": "rsa1", "typ": "at+jwt"}, baseClaims(), Options{Kind: KindAccess}, "typ", flows.Pass, "RFC 9068"},
		{"typ JWT for access", "RS256", rsa1, map[string]any{"kid": "rsa1", "typ": "JWT"}, baseClaims(), Options{Kind: KindAccess}, "typ", flows.Warn, "RFC 9068 access tokens say at+jwt"},
		{"typ at+jwt as id", "RS256", rsa1, map[string]any{"kid": "rsa1", "typ": "at+jwt"}, baseClaims(), Options{Kind: KindID}, "typ", flows.Fail, "token confusion"},
		{"typ JWT id", "RS256", rsa1, map[string]any{"kid": "rsa1", "typ": "JWT"}, baseClaims(), Options{Kind: KindID}, "typ", flows.Pass, "JWT"},
		// nonce
		{"nonce ok", "RS256", rsa1, rsaHdr, with(baseClaims(), "nonce", "n-123"), Options{Nonce: "n-123"}, "nonce", flows.Pass, "matches"},
		{"nonce wrong", "RS256", rsa1, rsaHdr, with(baseClaims(), "nonce", "n-999"), Options{Nonce: "n-123"}, "nonce", flows.Fail, "does not match"},
		{"nonce missing", "RS256", rsa1, rsaHdr, baseClaims(), Options{Nonce: "n-123"}, "nonce", flows.Fail, "no nonce claim"},
		// at_hash, c_hash
		{"at_hash ok", "RS256", rsa1, rsaHdr, with(baseClaims(), "at_hash", atHash), Options{AccessToken: "the-access-token"}, "at_hash", flows.Pass, "matches the access token"},
		{"at_hash wrong", "RS256", rsa1, rsaHdr, with(baseClaims(), "at_hash", atHash), Options{AccessToken: "another-token"}, "at_hash", flows.Fail, "not issued together"},
		{"c_hash ok", "RS256", rsa1, rsaHdr, with(baseClaims(), "c_hash", cHash), Options{Code: "the-code"}, "c_hash", flows.Pass, "authorization code"},
		{"c_hash wrong", "RS256", rsa1, rsaHdr, with(baseClaims(), "c_hash", cHash), Options{Code: "other"}, "c_hash", flows.Fail, "not issued together"},
		// cnf
		{"cnf ok", "RS256", rsa1, rsaHdr, with(baseClaims(), "cnf", map[string]any{"x5t#S256": flows.Thumbprint(cert.Raw)}), Options{ClientCert: cert}, "cnf", flows.Pass, "bound to your client certificate"},
		{"cnf other cert", "RS256", rsa1, rsaHdr, with(baseClaims(), "cnf", map[string]any{"x5t#S256": "AAAA"}), Options{ClientCert: cert}, "cnf", flows.Fail, "RFC 8705"},
		{"cnf unbound", "RS256", rsa1, rsaHdr, baseClaims(), Options{ClientCertDER: cert.Raw}, "cnf", flows.Warn, "not bound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := sign(t, c.alg, c.key, c.header, c.claims)
			o := c.opts
			o.Now = fixedNow
			switch {
			case o.Keys == nilKeys:
				o.Keys = nil
			case o.Keys == nil:
				o.Keys = keys
			}
			if c.name == "key confusion" {
				// Only the RSA key, no secret: the HS256 token must be refused outright.
				o.Keys = StaticKeys{Set: &KeySet{Keys: keys.Set.Keys[:1], Source: "test JWKS"}}
			}
			rep, err := Inspect(context.Background(), raw, o)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := findCheck(rep, c.check)
			if !ok {
				t.Fatalf("no %q check in %+v", c.check, rep.Checks)
			}
			if got.Status != c.status || !strings.Contains(got.Detail, c.contain) {
				t.Fatalf("%s: got %s %q, want %s containing %q", c.check, got.Status, got.Detail, c.status, c.contain)
			}
			if c.check == "signature" && (got.Status == flows.Pass) != rep.Verified {
				t.Fatalf("Verified=%v but signature check %s", rep.Verified, got.Status)
			}
		})
	}
}

// nilKeys marks a case that must run without any key source.
var nilKeys KeySource = StaticKeys{Set: &KeySet{Source: "sentinel"}}

func TestHMACAndAllowList(t *testing.T) {
	secret := []byte("a-shared-secret-of-32-bytes-long!")
	raw := sign(t, "HS256", secret, nil, baseClaims())
	rep, _ := Inspect(context.Background(), raw, Options{Now: fixedNow, Keys: SecretKeys(secret)})
	if !rep.Verified {
		t.Fatalf("HS256 with the right secret: %+v", rep.Checks)
	}
	// A secret must not verify an RS256 token's signature as HMAC.
	rs := sign(t, "RS256", loadSigner(t, "rsa1"), nil, baseClaims())
	rep, _ = Inspect(context.Background(), rs, Options{Now: fixedNow, Keys: SecretKeys(secret)})
	if c, _ := findCheck(rep, "signature"); rep.Verified || c.Status != flows.Fail || !strings.Contains(c.Detail, "needs a public key") {
		t.Fatalf("RS256 with a secret: %+v", c)
	}
	// A JWK with use=enc is refused for signatures.
	pub := loadSigner(t, "rsa1").Public()
	j := jwkJSON(pub, "rsa1", "")
	j["use"] = "enc"
	ks, err := ParseJWKS(jwksBytes(t, j))
	if err != nil {
		t.Fatal(err)
	}
	rep, _ = Inspect(context.Background(), sign(t, "RS256", loadSigner(t, "rsa1"), map[string]any{"kid": "rsa1"}, baseClaims()), Options{Now: fixedNow, Keys: StaticKeys{Set: ks}})
	if c, _ := findCheck(rep, "signature"); c.Status != flows.Fail || !strings.Contains(c.Detail, `use "enc"`) {
		t.Fatalf("use=enc: %+v", c)
	}
	// PS256 and a PEM key without kid.
	pemBytes, _ := os.ReadFile(filepath.Join(testdataDir, "rsa1.pub"))
	pks, err := ParsePEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ = Inspect(context.Background(), sign(t, "PS256", loadSigner(t, "rsa1"), map[string]any{"kid": "whatever"}, baseClaims()), Options{Now: fixedNow, Keys: StaticKeys{Set: pks}})
	if !rep.Verified {
		t.Fatalf("PS256 with PEM: %+v", rep.Checks)
	}
}

func TestGuessKind(t *testing.T) {
	for _, c := range []struct {
		hdr    map[string]any
		claims map[string]any
		want   Kind
	}{
		{map[string]any{"typ": "at+jwt"}, baseClaims(), KindAccess},
		{nil, with(baseClaims(), "nonce", "x"), KindID},
		{nil, with(baseClaims(), "scope", "a b"), KindAccess},
		{nil, baseClaims(), KindUnknown},
	} {
		d, err := Decode(sign(t, "none", nil, c.hdr, c.claims))
		if err != nil {
			t.Fatal(err)
		}
		if got := GuessKind(d); got != c.want {
			t.Errorf("GuessKind(%v, %v) = %q, want %q", c.hdr, c.claims, got, c.want)
		}
	}
}

func TestOpaqueReport(t *testing.T) {
	rep, err := Inspect(context.Background(), "2YotnFZFEjr1zCsicMWpAA", Options{})
	if err != nil || len(rep.Checks) != 1 || rep.Checks[0].Status != flows.Warn || !strings.Contains(rep.Checks[0].Detail, "introspection") || !rep.OK() {
		t.Fatalf("%+v %v", rep, err)
	}
}
