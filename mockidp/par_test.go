package mockidp_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

const loopRedirect = "http://127.0.0.1:5555/callback"

// demoJWTSigner is the published private key of the demo-jwt client.
func demoJWTSigner(t *testing.T) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile("../testdata/mockidp/demo-jwt.key")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("demo-jwt.key: no PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		return k.(crypto.Signer)
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// requestObject signs claims for demo-jwt; edit may change header and claims.
func requestObject(t *testing.T, s *mockidp.Server, key crypto.Signer, edit func(h map[string]any, c jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": "demo-jwt", "aud": s.Issuer(), "client_id": "demo-jwt", "response_type": "code",
		"redirect_uri": loopRedirect, "scope": "openid", "state": "st", "code_challenge": strings.Repeat("a", 43), "code_challenge_method": "S256",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": rand.Text()}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["typ"] = "oauth-authz-req+jwt"
	tok.Header["kid"] = "demo-jwt-1"
	if edit != nil {
		edit(tok.Header, c)
	}
	if tok.Header["alg"] == "none" {
		str, err := tok.SigningString()
		if err != nil {
			t.Fatal(err)
		}
		return str + "."
	}
	str, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return str
}

func plainParams(client string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {loopRedirect}, "scope": {"openid"},
		"state": {"st"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
}

// push sends a PAR request as demo-web (client_secret_basic).
func push(t *testing.T, s *mockidp.Server, form url.Values, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL()+"/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(form.Get("client_id"), secret)
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// authorize sends an authorization request and returns the status, the
// redirect (if any) and the page.
func authzReq(t *testing.T, s *mockidp.Server, q url.Values) (int, *url.URL, string) {
	t.Helper()
	resp, err := noRedirect().Get(s.URL() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var loc *url.URL
	if l := resp.Header.Get("Location"); l != "" {
		loc, _ = url.Parse(l)
	}
	return resp.StatusCode, loc, string(b)
}

func TestPARRoundTripOneTime(t *testing.T) {
	s := mockidptest.New(t)
	st, m := push(t, s, plainParams("demo-web"), "demo-web-secret")
	uri, _ := m["request_uri"].(string)
	if st != 201 || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || m["expires_in"] != float64(60) {
		t.Fatalf("PAR: %d %v", st, m)
	}
	q := url.Values{"client_id": {"demo-web"}, "request_uri": {uri}}
	code, loc, body := authzReq(t, s, q)
	if code != 302 || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("authorize with request_uri: %d %v %.200s", code, loc, body)
	}
	// One time: the second use is refused.
	if code, _, body := authzReq(t, s, q); code != 400 || !strings.Contains(body, "invalid_request_uri") {
		t.Fatalf("reuse: %d %.200s", code, body)
	}
}

func TestPARNegatives(t *testing.T) {
	s := mockidptest.New(t)
	with := func(k, v string) url.Values {
		f := plainParams("demo-web")
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name   string
		form   url.Values
		secret string
		status int
		err    string
	}{
		{"no client authentication", plainParams("demo-web"), "", 401, "invalid_client"},
		{"wrong secret", plainParams("demo-web"), "nope", 401, "invalid_client"},
		{"request_uri inside", with("request_uri", "urn:ietf:params:oauth:request_uri:x"), "demo-web-secret", 400, "invalid_request"},
		{"unregistered redirect_uri", with("redirect_uri", "https://evil.example/cb"), "demo-web-secret", 400, "invalid_request"},
		{"response_type token", with("response_type", "token"), "demo-web-secret", 400, "unsupported_response_type"},
		{"plain PKCE", with("code_challenge_method", "plain"), "demo-web-secret", 400, "invalid_request"},
		{"unknown response_mode", with("response_mode", "web_message"), "demo-web-secret", 400, "invalid_request"},
		{"unknown scope", with("scope", "admin"), "demo-web-secret", 400, "invalid_scope"},
		{"request object from a client without keys", with("request", "x.y.z"), "demo-web-secret", 400, "invalid_request_object"},
		{"unknown RAR type", with("authorization_details", `[{"type":"crypto_withdrawal"}]`), "demo-web-secret", 400, "invalid_authorization_details"},
		{"RAR not an array", with("authorization_details", `{"type":"payment_initiation"}`), "demo-web-secret", 400, "invalid_authorization_details"},
		{"RAR without type", with("authorization_details", `[{"actions":["read"]}]`), "demo-web-secret", 400, "invalid_authorization_details"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, m := push(t, s, c.form, c.secret)
			if st != c.status || m["error"] != c.err {
				t.Fatalf("got %d %v, want %d %s", st, m, c.status, c.err)
			}
		})
	}
}

func TestRequestURINegatives(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s := mockidptest.New(t, mockidp.WithClock(func() time.Time { return clock() }))
	pushed := func() string {
		_, m := push(t, s, plainParams("demo-web"), "demo-web-secret")
		return m["request_uri"].(string)
	}
	t.Run("another client", func(t *testing.T) {
		code, _, body := authzReq(t, s, url.Values{"client_id": {"demo-native"}, "request_uri": {pushed()}})
		if code != 400 || !strings.Contains(body, "invalid_request_uri") || !strings.Contains(body, "another client") {
			t.Fatalf("%d %.300s", code, body)
		}
	})
	t.Run("not ours", func(t *testing.T) {
		code, _, body := authzReq(t, s, url.Values{"client_id": {"demo-web"}, "request_uri": {"https://example.com/req"}})
		if code != 400 || !strings.Contains(body, "invalid_request_uri") {
			t.Fatalf("%d %.300s", code, body)
		}
	})
	t.Run("request and request_uri", func(t *testing.T) {
		code, _, body := authzReq(t, s, url.Values{"client_id": {"demo-web"}, "request_uri": {pushed()}, "request": {"a.b.c"}})
		if code != 400 || !strings.Contains(body, "invalid_request") {
			t.Fatalf("%d %.300s", code, body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		uri := pushed()
		later := now.Add(61 * time.Second)
		s.SetClock(func() time.Time { return later })
		defer s.SetClock(clock)
		code, _, body := authzReq(t, s, url.Values{"client_id": {"demo-web"}, "request_uri": {uri}})
		if code != 400 || !strings.Contains(body, "invalid_request_uri") {
			t.Fatalf("%d %.300s", code, body)
		}
	})
}

func TestRequirePARAndSignedRequestObject(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	for i := range cfg.Clients {
		switch cfg.Clients[i].ID {
		case "demo-web":
			cfg.Clients[i].RequirePAR = true
		case "demo-native":
			cfg.Clients[i].RequireSignedRequestObject = true
		}
	}
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	code, loc, _ := authzReq(t, s, plainParams("demo-web"))
	if code != 302 || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "require_pushed_authorization_requests") {
		t.Fatalf("unpushed request of a PAR client: %d %v", code, loc)
	}
	code, loc, _ = authzReq(t, s, plainParams("demo-native"))
	if code != 302 || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "require_signed_request_object") {
		t.Fatalf("unsigned request of a JAR client: %d %v", code, loc)
	}
	// Discovery says PAR is required when the whole IdP requires it.
	cfg.RequirePAR = true
	s2 := mockidptest.New(t, mockidp.WithConfig(cfg))
	resp, err := http.Get(s2.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["require_pushed_authorization_requests"] != true || doc["pushed_authorization_request_endpoint"] != s2.Issuer()+"/par" {
		t.Fatalf("discovery %v", doc)
	}
	code, loc, _ = authzReq(t, s2, plainParams("demo-native"))
	if code != 302 || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("global require_pushed_authorization_requests: %d %v", code, loc)
	}
}

func TestRequestObjectNegatives(t *testing.T) {
	s := mockidptest.New(t)
	key := demoJWTSigner(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	replayed := requestObject(t, s, key, nil)
	if code, loc, body := authzReq(t, s, url.Values{"client_id": {"demo-jwt"}, "request": {replayed}}); code != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("valid request object: %d %v %.300s", code, loc, body)
	}
	cases := []struct {
		name string
		obj  string
		want string
	}{
		{"replayed jti", replayed, "jti already used"},
		{"another key", requestObject(t, s, other, nil), "signature is invalid"},
		{"alg none", requestObject(t, s, nil, func(h map[string]any, c jwt.MapClaims) { h["alg"] = "none" }), "signing method none is invalid"},
		{"wrong typ", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { h["typ"] = "JWT" }), "typ JWT"},
		{"wrong iss", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { c["iss"] = "demo-web" }), "iss must be the client_id"},
		{"wrong aud", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { c["aud"] = "https://other.example" }), "aud must be the issuer"},
		{"expired", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "expired"},
		{"no exp", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { delete(c, "exp") }), "no exp"},
		{"lives too long", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { c["exp"] = time.Now().Add(2 * time.Hour).Unix() }), "more than 60 minutes"},
		{"not yet valid", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), "not valid yet"},
		{"unknown kid", requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { h["kid"] = "nope" }), "kid"},
		{"garbage", "not-a-jwt", "invalid_request_object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, loc, body := authzReq(t, s, url.Values{"client_id": {"demo-jwt"}, "request": {c.obj}})
			if code != 400 || loc != nil || !strings.Contains(body, "invalid_request_object") || !strings.Contains(body, c.want) {
				t.Fatalf("%d %v %.400s", code, loc, body)
			}
		})
	}
	// The object's parameters are the ones used: outer ones are ignored.
	obj := requestObject(t, s, key, func(h map[string]any, c jwt.MapClaims) { c["state"] = "inner" })
	code, loc, _ := authzReq(t, s, url.Values{"client_id": {"demo-jwt"}, "request": {obj}, "state": {"outer"}})
	if code != 302 || loc.Query().Get("state") != "inner" {
		t.Fatalf("state from %v", loc)
	}
}

func TestResponseModesOfTheIdP(t *testing.T) {
	s := mockidptest.New(t)
	q := plainParams("demo-web")
	q.Set("response_mode", "fragment")
	code, loc, _ := authzReq(t, s, q)
	frag, _ := url.ParseQuery(loc.Fragment)
	if code != 302 || loc.RawQuery != "" || frag.Get("code") == "" || frag.Get("iss") != s.Issuer() {
		t.Fatalf("fragment: %d %v", code, loc)
	}
	q.Set("response_mode", "form_post")
	code, _, body := authzReq(t, s, q)
	if code != 200 || !strings.Contains(body, `action="`+loopRedirect+`"`) || !strings.Contains(body, `name="code"`) || !strings.Contains(body, `name="state" value="st"`) {
		t.Fatalf("form_post: %d %.400s", code, body)
	}
	// An error goes by the requested mode too.
	q.Set("scope", "admin")
	code, _, body = authzReq(t, s, q)
	if code != 200 || !strings.Contains(body, `name="error" value="invalid_scope"`) {
		t.Fatalf("form_post error: %d %.400s", code, body)
	}
	// JARM: a JWT signed with the IdP's key, aud the client, short exp.
	q = plainParams("demo-web")
	q.Set("response_mode", "jwt")
	code, loc, _ = authzReq(t, s, q)
	raw := loc.Query().Get("response")
	if code != 302 || raw == "" || loc.Query().Get("code") != "" {
		t.Fatalf("jwt: %d %v", code, loc)
	}
	keys := jwksKeyfunc(t, s)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, keys, jwt.WithIssuer(s.Issuer()), jwt.WithAudience("demo-web"), jwt.WithExpirationRequired()); err != nil {
		t.Fatalf("JARM response does not verify: %v", err)
	}
	if claims["code"] == "" || claims["state"] != "st" {
		t.Fatalf("JARM claims %v", claims)
	}
	// Unknown modes are refused, by query.
	q.Set("response_mode", "web_message")
	code, loc, _ = authzReq(t, s, q)
	if code != 302 || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("unknown mode: %d %v", code, loc)
	}
}

// jwksKeyfunc verifies with any key of the IdP's JWKS.
func jwksKeyfunc(t *testing.T, s *mockidp.Server) jwt.Keyfunc {
	set := fetchJWKS(t, s)
	return func(tok *jwt.Token) (any, error) {
		var vs jwt.VerificationKeySet
		for _, k := range set.Keys {
			vs.Keys = append(vs.Keys, k.Key)
		}
		return vs, nil
	}
}
