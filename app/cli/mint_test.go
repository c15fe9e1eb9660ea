package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"authlab/mockidp/mockidptest"
)

func mintIdPJWKS(t *testing.T, iss string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(iss + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

// TestTokenMintIdPVerifies: a token the mock IdP mints verifies with its
// JWKS under golang-jwt and go-jose, with the defaults and the flags' claims.
func TestTokenMintIdPVerifies(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	code, out, errs := runAuthlab(t, "", "", "token", "mint", "--idp", iss, "--set", "sub=alice", "--set", "n=12345678901234567890",
		"--set", `aud=["a","b"]`, "--set", "scope=api:read", "--exp", "+10m", "--header", "x-test=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	tok := strings.TrimSpace(out)
	set := mintIdPJWKS(t, iss)

	// golang-jwt, keyed by kid from the JWKS
	var claims jwt.MapClaims
	parsed, err := jwt.ParseWithClaims(tok, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		ks := set.Key(kid)
		if len(ks) == 0 {
			return nil, jwt.ErrTokenUnverifiable
		}
		return ks[0].Key, nil
	}, jwt.WithIssuer(iss), jwt.WithAudience("a"), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithJSONNumber())
	if err != nil || !parsed.Valid {
		t.Fatalf("golang-jwt: %v", err)
	}
	if parsed.Header["typ"] != "at+jwt" || parsed.Header["x-test"] != json.Number("1") && parsed.Header["x-test"] != float64(1) {
		t.Errorf("header %v", parsed.Header)
	}
	if claims["sub"] != "alice" || claims["n"] != json.Number("12345678901234567890") || claims["jti"] == nil {
		t.Errorf("claims %v", claims)
	}
	exp, _ := claims.GetExpirationTime()
	if d := time.Until(exp.Time); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("exp in %s, want 10m", d)
	}

	// go-jose
	jt, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	ks := set.Key(jt.Headers[0].KeyID)
	if len(ks) == 0 {
		t.Fatalf("kid %q not in the JWKS", jt.Headers[0].KeyID)
	}
	var std josejwt.Claims
	if err := jt.Claims(ks[0].Key, &std); err != nil {
		t.Fatalf("go-jose: %v", err)
	}
	if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: iss, AnyAudience: []string{"b"}, Time: time.Now()}, 0); err != nil {
		t.Fatalf("go-jose claims: %v", err)
	}

	// An expired token on request, and the IdP's resource refuses it.
	code, out, _ = runAuthlab(t, "", "", "token", "mint", "--idp", iss, "--set", "aud="+iss+"/api", "--set", "scope=api:read", "--exp", "-1h", "--json")
	var j struct {
		Token  string         `json:"token"`
		Claims map[string]any `json:"claims"`
		Header map[string]any `json:"header"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Header["alg"] != "RS256" {
		t.Fatalf("exit %d: %s", code, out)
	}
	if exp, _ := j.Claims["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) > -59*time.Minute {
		t.Errorf("exp %v, want an hour ago", j.Claims["exp"])
	}
	req, _ := http.NewRequest("GET", iss+"/api/hello", nil)
	req.Header.Set("Authorization", "Bearer "+j.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("expired minted token at /api/hello: %d", resp.StatusCode)
	}
}

func TestTokenMintKey(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	path := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	code, out, errs := runAuthlab(t, "", "", "token", "mint", "--key", path, "--kid", "k1", "--iss", "https://idp.test", "--typ", "at+jwt",
		"--claims", `{"sub":"bob","aud":"api"}`, "--nbf", "-1m")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	tok := strings.TrimSpace(out)
	var claims jwt.MapClaims
	p, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return &k.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("https://idp.test"), jwt.WithAudience("api"), jwt.WithExpirationRequired())
	if err != nil || p.Header["kid"] != "k1" || p.Header["typ"] != "at+jwt" || claims["jti"] == nil || claims["nbf"] == nil {
		t.Fatalf("golang-jwt: %v, header %v, claims %v", err, p.Header, claims)
	}
	jt, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || jt.Claims(&k.PublicKey, &josejwt.Claims{}) != nil {
		t.Fatalf("go-jose: %v", err)
	}

	// An HMAC secret signs HS256 and is never echoed.
	code, out, errs = runAuthlab(t, "", "", "token", "mint", "--key", "secret:s3cr3t-value", "--set", "sub=x", "--json")
	if code != 0 || strings.Contains(out+errs, "s3cr3t-value") || !strings.Contains(out, `"alg": "HS256"`) {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
}

func TestTokenMintUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "mint"}, "exactly one of --key"},
		{[]string{"token", "mint", "--key", "secret:x", "--idp", "http://127.0.0.1:1"}, "exactly one of --key"},
		{[]string{"token", "mint", "--key", "secret:x", "--set", "novalue"}, "want k=v"},
		{[]string{"token", "mint", "--key", "secret:x", "--exp", "tomorrow"}, "--exp"},
		{[]string{"token", "mint", "--key", "secret:x", "--alg", "RS256"}, "cannot be signed with an HMAC secret"},
		{[]string{"token", "mint", "--key", "/nonexistent/key.pem"}, "--key"},
		{[]string{"token", "mint", "--key", "secret:x", "--claims", "[1]"}, "not a JSON object"},
		{[]string{"token", "mint", "--idp", "http://127.0.0.1:9", "--kid", "k"}, "--kid"},
	} {
		code, _, errs := runAuthlab(t, "", "", tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", tc.args, code, errs, tc.want)
		}
	}
}
