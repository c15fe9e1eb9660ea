package mockidp_test

import (
	"authlab/flows/token/tokentest"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ctxT is a bounded context for one test's HTTP calls.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func endpoint(s *mockidp.Server) oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: s.URL() + "/authorize", TokenURL: s.URL() + "/token", DeviceAuthURL: s.URL() + "/device_authorization"}
}

// noRedirect is a client that stops at the first redirect (the callback).
func noRedirect() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// decodeClaims reads a JWT's payload without verifying it.
func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// callHello calls /api/hello with a bearer token and returns status and WWW-Authenticate.
func callHello(t *testing.T, s *mockidp.Server, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL()+"/api/hello", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func TestClientCredentialsBasicAndPost(t *testing.T) {
	s := mockidptest.New(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:read"}, AuthStyle: style}
		tok, err := cc.Token(ctxT(t))
		if err != nil {
			t.Fatalf("style %v: %v", style, err)
		}
		h := decodeHeader(t, tok.AccessToken)
		if h["typ"] != "at+jwt" || h["alg"] != "RS256" || h["kid"] == "" {
			t.Errorf("header = %v, want typ at+jwt, alg RS256, kid", h)
		}
		c := decodeClaims(t, tok.AccessToken)
		for _, k := range []string{"iss", "sub", "aud", "client_id", "scope", "jti", "iat", "exp"} {
			if c[k] == nil {
				t.Errorf("claim %s missing (RFC 9068): %v", k, c)
			}
		}
		if c["iss"] != s.URL() || c["client_id"] != "demo-cc" || c["scope"] != "api:read" {
			t.Errorf("claims = %v", c)
		}
		if st, _ := callHello(t, s, tok.AccessToken); st != 200 {
			t.Errorf("/api/hello with a fresh token: %d", st)
		}
	}
}

func TestAPIHelloBearerErrors(t *testing.T) {
	s := mockidptest.New(t)
	st, wa := callHello(t, s, "")
	if st != 401 || !strings.HasPrefix(wa, "Bearer") || strings.Contains(wa, "error=") {
		t.Errorf("no token: %d %q, want 401 Bearer without error (RFC 6750 3.1)", st, wa)
	}
	st, wa = callHello(t, s, "not-a-jwt")
	if st != 401 || !strings.Contains(wa, `error="invalid_token"`) {
		t.Errorf("garbage token: %d %q", st, wa)
	}
	cc := clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:write"}}
	tok, err := cc.Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	st, wa = callHello(t, s, tok.AccessToken)
	if st != 403 || !strings.Contains(wa, `error="insufficient_scope"`) || !strings.Contains(wa, `scope="api:read"`) {
		t.Errorf("wrong scope: %d %q", st, wa)
	}
}

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	v := oauth2.GenerateVerifier()
	h := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(h[:])
}

// authorize runs the (auto-approving) authorization request and returns the
// callback URL's query.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirect().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: status %d: %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func TestAuthCodePKCEWithOIDCVerification(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s := mockidptest.New(t, mockidp.WithAlg(alg))
			ctx := ctxT(t)
			provider, err := oidc.NewProvider(ctx, s.URL())
			if err != nil {
				t.Fatal(err)
			}
			conf := oauth2.Config{ClientID: "demo-web", ClientSecret: "demo-web-secret", Endpoint: provider.Endpoint(),
				RedirectURL: "http://127.0.0.1:53124/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email", "api:read"}}
			verifier := oauth2.GenerateVerifier()
			nonce := "n-" + rand.Text()
			q := authorize(t, conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
			if q.Get("state") != "st-1" || q.Get("iss") != s.URL() || q.Get("code") == "" {
				t.Fatalf("callback query = %v, want state, iss (RFC 9207) and code", q)
			}
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: "demo-web", SupportedSigningAlgs: []string{alg}}).Verify(ctx, rawID)
			if err != nil {
				t.Fatalf("go-oidc rejects the ID token: %v", err)
			}
			if idt.Nonce != nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var cl struct {
				Azp      string `json:"azp"`
				AuthTime int64  `json:"auth_time"`
				Email    string `json:"email"`
			}
			idt.Claims(&cl)
			if cl.Azp != "demo-web" || cl.AuthTime == 0 || cl.Email != "alice@example.com" || idt.Subject != "alice" {
				t.Errorf("ID token claims = %+v sub %s", cl, idt.Subject)
			}
			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil || ui.Subject != "alice" || ui.Email != "alice@example.com" {
				t.Errorf("userinfo = %+v, %v", ui, err)
			}
			// Refresh with rotation through x/oauth2's TokenSource.
			old := tok.RefreshToken
			if old == "" {
				t.Fatal("no refresh token")
			}
			tok.Expiry = time.Now().Add(-time.Minute)
			nt, err := conf.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatal(err)
			}
			if nt.RefreshToken == "" || nt.RefreshToken == old || nt.AccessToken == tok.AccessToken {
				t.Errorf("refresh did not rotate: old %q new %q", old, nt.RefreshToken)
			}
		})
	}
}

func TestNativePublicClientNeedsPKCE(t *testing.T) {
	s := mockidptest.New(t)
	conf := oauth2.Config{ClientID: "demo-native", Endpoint: endpoint(s), RedirectURL: "http://localhost:1234/callback", Scopes: []string{"openid", "offline_access"}}
	q := authorize(t, conf.AuthCodeURL("s"))
	if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "PKCE") || q.Get("state") != "s" {
		t.Errorf("no PKCE for a public client: %v, want invalid_request with state", q)
	}
	v := oauth2.GenerateVerifier()
	q = authorize(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	tok, err := conf.Exchange(ctxT(t), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Errorf("token = %+v, want refresh and id tokens", tok)
	}
	// plain is refused unless configured.
	ch := strings.Repeat("a", 43)
	q = authorize(t, conf.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", ch), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if q.Get("error") != "invalid_request" {
		t.Errorf("plain PKCE: %v, want invalid_request", q)
	}
	cfg := mockidp.DefaultConfig()
	cfg.AllowPlainPKCE = true
	s2 := mockidptest.New(t, mockidp.WithConfig(cfg))
	conf.Endpoint = endpoint(s2)
	q = authorize(t, conf.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", ch), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if _, err := conf.Exchange(ctxT(t), q.Get("code"), oauth2.VerifierOption(ch)); err != nil {
		t.Errorf("plain PKCE when allowed: %v", err)
	}
}

func TestDeviceFlowWithPage(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.Lifetimes.DevicePollInterval = mockidp.Duration(time.Second)
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	conf := oauth2.Config{ClientID: "demo-device", Endpoint: endpoint(s), Scopes: []string{"openid", "api:read"}}
	ctx := ctxT(t)
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != s.URL()+"/device" || len(da.UserCode) != 9 {
		t.Fatalf("device auth = %+v", da)
	}
	// Approve through the HTML page, as a user would: GET sets the CSRF cookie.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := hc.Get(da.VerificationURIComplete)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"user_code": {da.UserCode}, "username": {"bob"}, "password": {"bob"}, "action": {"approve"},
		"csrf_token": {hiddenValue(t, string(page), "csrf_token")}, "login_id": {hiddenValue(t, string(page), "login_id")}}
	resp, err = hc.PostForm(s.URL()+"/device", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "approved") {
		t.Fatalf("device page answer: %s", body)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeClaims(t, tok.AccessToken); c["sub"] != "bob" {
		t.Errorf("sub = %v, want bob", c["sub"])
	}
}

// hiddenValue finds <input type="hidden" name=NAME value="...">.
func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	key := `name="` + name + `" value="`
	i := strings.Index(page, key)
	if i < 0 {
		t.Fatalf("no hidden %s in page", name)
	}
	rest := page[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}

// postToken posts a form to the token endpoint and returns status and JSON.
func postToken(t *testing.T, s *mockidp.Server, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	return postForm(t, s.URL()+"/token", form, user, pass)
}

func postForm(t *testing.T, u string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: not JSON (%d): %s", u, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m
}

func TestDevicePollingErrors(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	s := mockidptest.New(t, mockidp.WithClock(func() time.Time { return clock() }))
	st, da := postForm(t, s.URL()+"/device_authorization", url.Values{"client_id": {"demo-device"}, "scope": {"api:read"}}, "", "")
	if st != 200 {
		t.Fatalf("device_authorization: %d %v", st, da)
	}
	poll := func() (int, string) {
		st, m := postToken(t, s, url.Values{"grant_type": {mockidp.GrantDeviceCode}, "device_code": {da["device_code"].(string)}, "client_id": {"demo-device"}}, "", "")
		e, _ := m["error"].(string)
		return st, e
	}
	if st, e := poll(); st != 400 || e != "authorization_pending" {
		t.Errorf("first poll: %d %s, want 400 authorization_pending", st, e)
	}
	if st, e := poll(); st != 400 || e != "slow_down" {
		t.Errorf("immediate second poll: %d %s, want slow_down", st, e)
	}
	now = now.Add(11 * time.Second)
	if _, e := poll(); e != "authorization_pending" {
		t.Errorf("poll after the interval: %s, want authorization_pending", e)
	}
	now = now.Add(11 * time.Minute)
	if st, e := poll(); st != 400 || e != "expired_token" {
		t.Errorf("poll after expiry: %d %s, want expired_token", st, e)
	}
}

func TestTokenExchangeActClaim(t *testing.T) {
	s := mockidptest.New(t)
	ctx := ctxT(t)
	subj, err := (&clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:read", "api:write"}}).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// x/oauth2 lets EndpointParams override grant_type: RFC 8693 through it.
	te := clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:read"},
		EndpointParams: url.Values{"grant_type": {mockidp.GrantTokenExchange}, "subject_token": {subj.AccessToken},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {"https://downstream.example"}}}
	tok, err := te.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := decodeClaims(t, tok.AccessToken)
	act, _ := c["act"].(map[string]any)
	if act["sub"] != "demo-cc" || c["aud"] != "https://downstream.example" || c["scope"] != "api:read" {
		t.Errorf("exchanged claims = %v", c)
	}
	if tok.Extra("issued_token_type") != "urn:ietf:params:oauth:token-type:access_token" {
		t.Errorf("issued_token_type = %v", tok.Extra("issued_token_type"))
	}
}

// demoJWTKey loads the demo-jwt client's private key from testdata.
func demoJWTKey(t *testing.T) *ecdsa.PrivateKey {
	return tokentest.LoadPKCS8(t, "../testdata/mockidp/demo-jwt.key").(*ecdsa.PrivateKey)
}

// assertion signs an ES256 client assertion with claims.
func assertion(t *testing.T, k *ecdsa.PrivateKey, claims map[string]any) string {
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"demo-jwt-1","typ":"JWT"}`))
	pb, _ := json.Marshal(claims)
	in := hdr + "." + base64.RawURLEncoding.EncodeToString(pb)
	h := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestPrivateKeyJWT(t *testing.T) {
	s := mockidptest.New(t)
	k := demoJWTKey(t)
	now := time.Now()
	claims := func(exp time.Time, jti string) map[string]any {
		return map[string]any{"iss": "demo-jwt", "sub": "demo-jwt", "aud": s.URL() + "/token", "exp": exp.Unix(), "iat": now.Unix(), "jti": jti}
	}
	jti := rand.Text()
	cc := clientcredentials.Config{ClientID: "demo-jwt", TokenURL: s.URL() + "/token", AuthStyle: oauth2.AuthStyleInParams, Scopes: []string{"api:read"},
		EndpointParams: url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion(t, k, claims(now.Add(time.Minute), jti))}}}
	if _, err := cc.Token(ctxT(t)); err != nil {
		t.Fatalf("private_key_jwt via x/oauth2: %v", err)
	}
	// The same assertion again: jti is single use.
	_, err := cc.Token(ctxT(t))
	assertOAuthErr(t, err, 401, "invalid_client", "jti")
	// Expired.
	cc.EndpointParams.Set("client_assertion", assertion(t, k, claims(now.Add(-time.Minute), rand.Text())))
	_, err = cc.Token(ctxT(t))
	assertOAuthErr(t, err, 401, "invalid_client", "expired")
	// Wrong audience.
	c := claims(now.Add(time.Minute), rand.Text())
	c["aud"] = "https://elsewhere.example/token"
	cc.EndpointParams.Set("client_assertion", assertion(t, k, c))
	_, err = cc.Token(ctxT(t))
	assertOAuthErr(t, err, 401, "invalid_client", "aud")
}

// assertOAuthErr checks an x/oauth2 error's status, code and description.
func assertOAuthErr(t *testing.T, err error, status int, code, descPart string) {
	t.Helper()
	re, ok := err.(*oauth2.RetrieveError)
	if !ok {
		t.Fatalf("error = %v (%T), want an OAuth error %s", err, err, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code || !strings.Contains(re.ErrorDescription, descPart) {
		t.Errorf("got %d %s %q, want %d %s containing %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code, descPart)
	}
}

// withClient makes x/oauth2 use hc.
func withClient(t *testing.T, hc *http.Client) context.Context {
	return context.WithValue(ctxT(t), oauth2.HTTPClient, hc)
}
