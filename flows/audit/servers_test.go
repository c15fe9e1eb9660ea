package audit

// Resource servers for the audit's tests, written on go-jose (not
// golang-jwt, which the audit forges with), so the audit is not checking
// itself. Each has exactly one flaw, left in by hand on top of go-jose's
// checks; "" is the correct server.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testIssuer   = "https://issuer.audit.test"
	testAudience = "https://api.audit.test"
	testScope    = "api:read"
)

// keys is the issuer of the tests: an RSA key (kid k1, signs the tokens)
// and an EC key (kid e1), both in its JWKS.
type keys struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	jwks []byte
	set  jose.JSONWebKeySet
}

var testKeysOnce = sync.OnceValues(func() (*keys, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	k := &keys{rsa: rk, ec: ek}
	k.set = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: rk.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		{Key: ek.Public(), KeyID: "e1", Algorithm: "ES256", Use: "sig"},
	}}
	k.jwks, err = json.Marshal(k.set)
	return k, err
})

func testKeys(t *testing.T) *keys {
	t.Helper()
	k, err := testKeysOnce()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// validToken is what the issuer would hand out: signed with go-jose.
func validToken(t *testing.T, k *keys) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.rsa},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	std := jwt.Claims{Issuer: testIssuer, Subject: "alice", Audience: jwt.Audience{testAudience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: "jti-1"}
	tok, err := jwt.Signed(sig).Claims(std).Claims(map[string]any{"scope": "api:read api:write", "client_id": "c1"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// resource is a resource server with at most one flaw.
type resource struct {
	flaw    string
	leeway  time.Duration
	keys    *keys
	keysDir string // where a kid is read as a file name (kid-path-traversal)
}

var errRefused = errors.New("refused")

func (s *resource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && s.flaw == "token-in-query" {
		tok, ok = r.URL.Query().Get("access_token"), r.URL.Query().Has("access_token")
	}
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	scope, err := s.verify(r.Context(), tok)
	switch {
	case errors.Is(err, errServer):
		w.WriteHeader(http.StatusInternalServerError)
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	case s.flaw != "scope-missing" && !slices.Contains(strings.Fields(scope), testScope):
		w.WriteHeader(http.StatusForbidden)
	default:
		io.WriteString(w, `{"ok":true}`)
	}
}

var errServer = errors.New("server error")

type extra struct {
	Scope string `json:"scope"`
}

// verify checks tok and returns its scope.
func (s *resource) verify(ctx context.Context, tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errRefused
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", errRefused
	}
	var hdr map[string]any
	if json.Unmarshal(hb, &hdr) != nil {
		return "", errRefused
	}
	alg, _ := hdr["alg"].(string)
	kid, _ := hdr["kid"].(string)
	typ, _ := hdr["typ"].(string)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	input := []byte(parts[0] + "." + parts[1])

	var std jwt.Claims
	var ext extra
	unsafe := func() error { // the flaw's way in: claims read without a signature check
		p, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil || json.Unmarshal(p, &std) != nil || json.Unmarshal(p, &ext) != nil {
			return errRefused
		}
		return nil
	}
	hmacOK := func(key []byte) bool {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return hmac.Equal(m.Sum(nil), sig)
	}
	verified := false
	switch {
	case s.flaw == "alg-none" && alg != "none" && strings.EqualFold(alg, "none"):
		// a deny-list that compares with "none" case-sensitively
		verified = unsafe() == nil
	case s.flaw == "server-error" && strings.EqualFold(alg, "none"):
		return "", errServer
	case s.flaw == "signature-stripped" && parts[2] == "" && alg == "RS256": // the alg allow-list holds
		verified = unsafe() == nil
	case s.flaw == "jwk-header-injection" && hdr["jwk"] != nil:
		t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil || t.Headers[0].JSONWebKey == nil {
			return "", errRefused
		}
		verified = t.Claims(t.Headers[0].JSONWebKey.Key, &std, &ext) == nil
	case s.flaw == "jku-injection" && hdr["jku"] != nil:
		key, err := fetchKey(ctx, hdr["jku"].(string), kid)
		if err != nil {
			return "", errRefused
		}
		t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil {
			return "", errRefused
		}
		verified = t.Claims(key, &std, &ext) == nil
	case s.flaw == "hs256-public-key" && alg == "HS256":
		der, _ := x509.MarshalPKIXPublicKey(s.keys.rsa.Public())
		pemKey := strings.TrimRight(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n")
		t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			return "", errRefused
		}
		verified = t.Claims([]byte(pemKey), &std, &ext) == nil
	case s.flaw == "kid-path-traversal" && alg == "HS256":
		key, err := os.ReadFile(filepath.Join(s.keysDir, kid))
		if err != nil {
			return "", errRefused
		}
		verified = hmacOK(key) && unsafe() == nil // go-jose refuses keys this short
	case s.flaw == "blank-hmac-secret" && alg == "HS256":
		verified = hmacOK(nil) && unsafe() == nil
	case s.flaw == "psychic-signature" && alg == "ES256" && len(sig) == 64 && !slices.ContainsFunc(sig, func(b byte) bool { return b != 0 }):
		// CVE-2022-21449: 0 < r, s < n never checked
		verified = unsafe() == nil
	}
	if !verified {
		t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil {
			return "", errRefused
		}
		ks := s.keys.set.Key(t.Headers[0].KeyID)
		switch {
		case len(ks) == 0 && s.flaw == "unknown-kid":
			if unsafe() != nil {
				return "", errRefused
			}
		case len(ks) == 0:
			return "", errRefused
		default:
			err := t.Claims(ks[0].Key, &std, &ext)
			if err != nil && !(s.flaw == "signature-tampered" && alg == "RS256" && len(sig) > 0 && hdr["jwk"] == nil && hdr["jku"] == nil) {
				return "", errRefused
			}
			if err != nil && unsafe() != nil {
				return "", errRefused
			}
		}
	}
	if s.flaw != "wrong-typ" && typ != "at+jwt" {
		return "", errRefused
	}
	exp := jwt.Expected{Issuer: testIssuer, AnyAudience: []string{testAudience}, Time: time.Now()}
	c := std
	switch s.flaw {
	case "wrong-issuer":
		exp.Issuer = ""
	case "wrong-audience":
		if len(c.Audience) > 0 {
			exp.AnyAudience = nil
		}
	case "no-audience":
		if len(c.Audience) == 0 {
			exp.AnyAudience = nil
		}
	case "expired":
		c.Expiry = nil
	case "not-yet-valid":
		c.NotBefore = nil
	case "issued-in-future":
		c.IssuedAt = nil
	}
	if std.Expiry == nil && s.flaw != "missing-exp" {
		return "", errRefused
	}
	if std.Expiry != nil && time.Until(std.Expiry.Time()) > time.Hour && s.flaw != "long-lived" {
		return "", errRefused
	}
	if err := c.ValidateWithLeeway(exp, s.leeway); err != nil {
		return "", errRefused
	}
	return ext.Scope, nil
}

func fetchKey(ctx context.Context, jku, kid string) (any, error) {
	u, err := url.Parse(jku)
	if err != nil || net.ParseIP(u.Hostname()) == nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		return nil, errRefused
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, jku, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&set); err != nil {
		return nil, err
	}
	ks := set.Key(kid)
	if len(ks) == 0 {
		return nil, errRefused
	}
	return ks[0].Key, nil
}

// startResource serves s and the issuer's JWKS on 127.0.0.1.
func startResource(t *testing.T, s *resource) (api, jwksURL string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/api", s)
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(s.keys.jwks) })
	srv := httptest.NewServer(mux) // binds 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL + "/api", srv.URL + "/jwks"
}
