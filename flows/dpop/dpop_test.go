package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
)

// independentVerify checks a proof by RFC 9449 4.3 with golang-jwt and
// go-jose only, sharing no code with this package's verifier: no
// maintained Go library in the module cache verifies DPoP proofs (zitadel
// oidc v3 signs them, see mockidp's tests, but has no verifier).
func independentVerify(t *testing.T, proof, htm, htu, accessToken string) (jwt.MapClaims, string) {
	t.Helper()
	var jkt string
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(proof, claims, func(tk *jwt.Token) (any, error) {
		if tk.Header["typ"] != "dpop+jwt" {
			return nil, fmt.Errorf("typ %v", tk.Header["typ"])
		}
		raw, err := json.Marshal(tk.Header["jwk"])
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(raw), `"d"`) {
			return nil, errors.New("private jwk")
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		if !k.IsPublic() {
			return nil, errors.New("private jwk")
		}
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, err
		}
		jkt = base64.RawURLEncoding.EncodeToString(tp)
		return k.Key, nil
	}, jwt.WithValidMethods([]string{"ES256", "PS256", "RS256", "EdDSA"}), jwt.WithIssuedAt())
	if err != nil || !tok.Valid {
		t.Fatalf("independent verifier refused the proof: %v", err)
	}
	if claims["htm"] != htm || claims["htu"] != htu {
		t.Fatalf("htm/htu = %v %v, want %s %s", claims["htm"], claims["htu"], htm, htu)
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Fatalf("jti %q too short", jti)
	}
	iat, _ := claims["iat"].(float64)
	if d := time.Since(time.Unix(int64(iat), 0)); d < -time.Minute || d > time.Minute {
		t.Fatalf("iat off by %s", d)
	}
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		if claims["ath"] != base64.RawURLEncoding.EncodeToString(h[:]) {
			t.Fatalf("ath %v is not the token's hash", claims["ath"])
		}
	} else if _, ok := claims["ath"]; ok {
		t.Fatal("ath without an access token")
	}
	return claims, jkt
}

func TestProofVerifiedIndependently(t *testing.T) {
	for _, alg := range Algs() {
		t.Run(alg, func(t *testing.T) {
			k, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg() != alg {
				t.Fatalf("alg %s", k.Alg())
			}
			p, err := k.Proof("post", "https://as.example/token?x=1#frag", "n-1", "")
			if err != nil {
				t.Fatal(err)
			}
			claims, jkt := independentVerify(t, p, "POST", "https://as.example/token", "")
			if claims["nonce"] != "n-1" {
				t.Fatalf("nonce %v", claims["nonce"])
			}
			if jkt != k.JKT() {
				t.Fatalf("jkt %s, key says %s", jkt, k.JKT())
			}
			p2, _ := k.Proof("GET", "https://rs.example/api", "", "at-123")
			c2, _ := independentVerify(t, p2, "GET", "https://rs.example/api", "at-123")
			if c2["jti"] == claims["jti"] {
				t.Fatal("jti repeated")
			}
			// and our own verifier agrees
			checks, jkt2, _ := Verify(p2, VerifyOptions{Method: "GET", URL: "https://rs.example/api?q", AccessToken: "at-123", JKT: k.JKT()})
			if flows.AnyFailed(checks) || jkt2 != k.JKT() {
				t.Fatalf("Verify: %+v", checks)
			}
		})
	}
}

func TestProofNeverCarriesPrivateKey(t *testing.T) {
	for _, alg := range Algs() {
		k, _ := Generate(alg)
		p, _ := k.Proof("POST", "https://as.example/token", "", "")
		d, err := Decode(p)
		if err != nil {
			t.Fatal(err)
		}
		jwk, _ := d.Header["jwk"].(map[string]any)
		for _, m := range privateMembers {
			if _, ok := jwk[m]; ok {
				t.Fatalf("%s: header jwk has private member %s", alg, m)
			}
		}
		if _, ok := d.Header["kid"]; ok {
			t.Fatalf("%s: kid in header", alg)
		}
		if s := fmt.Sprintf("%v %+v %#v", k, k, k); strings.Contains(s, "D:") || !strings.Contains(s, k.JKT()) {
			t.Fatalf("%s: key formats as %s", alg, s)
		}
	}
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestLoad(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(ed)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalECPrivateKey(p384)
	jwkBytes, _ := json.Marshal(jose.JSONWebKey{Key: ec, Algorithm: "ES256"})

	cases := []struct {
		name, alg, want, errHas string
		data                    []byte
	}{
		{"ec sec1", "", "ES256", "", pemOf(t, "EC PRIVATE KEY", ecDER)},
		{"rsa pkcs1", "", "RS256", "", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))},
		{"rsa ps256", "PS256", "PS256", "", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))},
		{"ed25519 pkcs8", "", "EdDSA", "", pemOf(t, "PRIVATE KEY", edDER)},
		{"private jwk", "", "ES256", "", jwkBytes},
		{"alg mismatch", "EdDSA", "", "needs an Ed25519 key", pemOf(t, "EC PRIVATE KEY", ecDER)},
		{"p384", "", "", "ES256 needs P-256", pemOf(t, "EC PRIVATE KEY", p384DER)},
		{"bad alg", "HS256", "", "not supported", pemOf(t, "EC PRIVATE KEY", ecDER)},
		{"certificate", "", "", "certificate", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := Load(c.data, c.alg)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err %v, want %q", err, c.errHas)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY-----") {
					t.Fatal("error quotes the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg() != c.want || k.Ephemeral() {
				t.Fatalf("alg %s ephemeral %v", k.Alg(), k.Ephemeral())
			}
			p, _ := k.Proof("POST", "https://as.example/token", "", "")
			if _, jkt := independentVerify(t, p, "POST", "https://as.example/token", ""); jkt != k.JKT() {
				t.Fatal("jkt differs")
			}
		})
	}
}

func TestNoncesBounded(t *testing.T) {
	n := NewNonces(3)
	for i := 0; i < 10; i++ {
		n.Set(fmt.Sprintf("https://h%d.example/token", i), fmt.Sprintf("n%d", i))
	}
	if n.Len() != 3 {
		t.Fatalf("len %d", n.Len())
	}
	if n.Get("https://h9.example/other?x") != "n9" || n.Get("https://h0.example/") != "" {
		t.Fatal("wrong eviction")
	}
	if n.Set("https://h9.example", `bad"nonce`) || n.Set("https://h9.example", strings.Repeat("a", MaxNonceLen+1)) {
		t.Fatal("invalid nonce kept")
	}
	if n.Get("https://H9.example:443x") == "n9" {
		t.Fatal("origin confusion")
	}
}

func resp(status int, body string, hdr ...string) *flows.Response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Add(hdr[i], hdr[i+1])
	}
	return &flows.Response{Status: status, Header: h, Body: []byte(body)}
}

func TestDoRetriesOnceAtASAndResource(t *testing.T) {
	asChallenge := resp(400, `{"error":"use_dpop_nonce","error_description":"x"}`, "DPoP-Nonce", "n1")
	rsChallenge := resp(401, "", "WWW-Authenticate", `Bearer realm="r", DPoP algs="ES256", error="use_dpop_nonce"`, "DPoP-Nonce", "n1")
	for name, ch := range map[string]*flows.Response{"as": asChallenge, "resource": rsChallenge} {
		t.Run(name, func(t *testing.T) {
			n := NewNonces(0)
			var sent []string
			r, retries, err := Do(n, "https://s.example/x", func(nonce string) (*flows.Response, error) {
				sent = append(sent, nonce)
				if nonce == "n1" {
					return resp(200, `{}`, "DPoP-Nonce", "n2"), nil
				}
				return ch, nil
			})
			if err != nil || r.Status != 200 || retries != 1 || strings.Join(sent, ",") != ",n1" {
				t.Fatalf("err %v status %d retries %d sent %q", err, r.Status, retries, sent)
			}
			if n.Get("https://s.example/y") != "n2" {
				t.Fatal("nonce of the success answer not kept")
			}
		})
	}
	t.Run("second challenge reported", func(t *testing.T) {
		calls := 0
		_, retries, err := Do(NewNonces(0), "https://s.example/x", func(nonce string) (*flows.Response, error) {
			calls++
			return resp(400, `{"error":"use_dpop_nonce"}`, "DPoP-Nonce", fmt.Sprintf("n%d", calls)), nil
		})
		var ne *NonceError
		if !errors.As(err, &ne) || calls != 2 || retries != 1 || ne.Nonce != "n1" {
			t.Fatalf("err %v calls %d", err, calls)
		}
		if !strings.Contains(err.Error(), "again on the retry") {
			t.Fatal(err)
		}
	})
	t.Run("other errors are not retried", func(t *testing.T) {
		calls := 0
		Do(NewNonces(0), "https://s.example/x", func(string) (*flows.Response, error) {
			calls++
			return resp(400, `{"error":"invalid_dpop_proof"}`, "DPoP-Nonce", "n"), nil
		})
		Do(NewNonces(0), "https://s.example/x", func(string) (*flows.Response, error) {
			calls++
			return resp(401, "", "WWW-Authenticate", `Bearer error="use_dpop_nonce"`, "DPoP-Nonce", "n"), nil
		})
		if calls != 2 {
			t.Fatalf("calls %d", calls)
		}
	})
}

func TestVerifyNamesTheRule(t *testing.T) {
	k, _ := Generate("ES256")
	good, _ := k.Proof("POST", "https://as.example/token", "", "tok")
	hdr := func(m map[string]any, claims map[string]any) string {
		h, _ := json.Marshal(m)
		c, _ := json.Marshal(claims)
		return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2ln"
	}
	d, _ := Decode(good)
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: k.priv})
	var priv map[string]any
	json.Unmarshal(privJWK, &priv)
	cases := []struct {
		name, proof, check, has string
		o                       VerifyOptions
	}{
		{"typ", hdr(map[string]any{"typ": "JWT", "alg": "ES256", "jwk": d.Header["jwk"]}, d.Claims), "dpop typ", "want dpop+jwt", VerifyOptions{}},
		{"alg none", hdr(map[string]any{"typ": Typ, "alg": "none", "jwk": d.Header["jwk"]}, d.Claims), "dpop alg", "asymmetric", VerifyOptions{}},
		{"private jwk", hdr(map[string]any{"typ": Typ, "alg": "ES256", "jwk": priv}, d.Claims), "dpop jwk", "private key material (d)", VerifyOptions{}},
		{"signature", hdr(d.Header, d.Claims), "dpop signature", "does not verify", VerifyOptions{}},
		{"htm", good, "dpop htm", "request is GET", VerifyOptions{Method: "GET"}},
		{"htu", good, "dpop htu", "htu path", VerifyOptions{URL: "https://as.example/other"}},
		{"htu host", good, "dpop htu", "htu host", VerifyOptions{URL: "https://evil.example/token"}},
		{"ath", good, "dpop ath", "not the hash", VerifyOptions{AccessToken: "other"}},
		{"iat", good, "dpop iat", "old", VerifyOptions{Now: func() time.Time { return time.Now().Add(time.Hour) }}},
		{"jkt", good, "cnf.jkt", "but our key is", VerifyOptions{JKT: "AAAA"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks, _, _ := Verify(c.proof, c.o)
			for _, ch := range checks {
				if ch.Name == c.check {
					if ch.Status != flows.Fail || !strings.Contains(ch.Detail, c.has) {
						t.Fatalf("%s: %s %s", ch.Name, ch.Status, ch.Detail)
					}
					return
				}
			}
			t.Fatalf("no %s check in %+v", c.check, checks)
		})
	}
	if checks, _, _ := Verify(good, VerifyOptions{Method: "post", URL: "HTTPS://AS.example:443/token", AccessToken: "tok", JKT: k.JKT()}); flows.AnyFailed(checks) {
		t.Fatalf("good proof: %+v", checks)
	}
	if !IsProof(good) || IsProof("a.b.c") {
		t.Fatal("IsProof")
	}
}

// BenchmarkProof is the cost a DPoP proof adds to each request.
func BenchmarkProof(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "PS256"} {
		b.Run(alg, func(b *testing.B) {
			k, err := Generate(alg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Proof("POST", "http://127.0.0.1:9090/token", "nonce-value", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
