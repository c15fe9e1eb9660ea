package mockidp_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestWrongSecret(t *testing.T) {
	s := mockidptest.New(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		_, err := (&clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "wrong", TokenURL: s.URL() + "/token", AuthStyle: style}).Token(ctxT(t))
		assertOAuthErr(t, err, 401, "invalid_client", "wrong secret")
	}
	// Unknown client looks the same.
	_, err := (&clientcredentials.Config{ClientID: "nobody", ClientSecret: "x", TokenURL: s.URL() + "/token", AuthStyle: oauth2.AuthStyleInHeader}).Token(ctxT(t))
	assertOAuthErr(t, err, 401, "invalid_client", "")
}

func TestBasicCredentialsAreFormURLDecoded(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.Clients = append(cfg.Clients, mockidp.Client{ID: "odd id:1", Secret: "s%e:c r+t", AuthMethods: []string{mockidp.AuthBasic}, GrantTypes: []string{mockidp.GrantClientCreds}})
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	// postForm encodes id and secret with url.QueryEscape (RFC 6749 2.3.1).
	st, m := postToken(t, s, url.Values{"grant_type": {"client_credentials"}}, "odd id:1", "s%e:c r+t")
	if st != 200 {
		t.Errorf("form-urlencoded Basic credentials: %d %v", st, m)
	}
}

func TestWrongRedirectIsNotFollowed(t *testing.T) {
	s := mockidptest.New(t)
	for _, ru := range []string{"http://evil.example/callback", "http://127.0.0.1:8080/other", "https://127.0.0.1/callback"} {
		conf := oauth2.Config{ClientID: "demo-web", Endpoint: endpoint(s), RedirectURL: ru}
		resp, err := noRedirect().Get(conf.AuthCodeURL("s"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("redirect %s: %d Location %q, want 400 without redirect (RFC 6749 4.1.2.1)", ru, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// The registered loopback redirect with any port is fine (RFC 8252 7.3).
	conf := oauth2.Config{ClientID: "demo-web", Endpoint: endpoint(s), RedirectURL: "http://localhost:61234/callback"}
	if q := authorize(t, conf.AuthCodeURL("s")); q.Get("code") == "" {
		t.Errorf("loopback port: %v", q)
	}
}

// codeFor gets a code for demo-web with an S256 challenge.
func codeFor(t *testing.T, s *mockidp.Server, redirect string) (string, string, oauth2.Config) {
	conf := oauth2.Config{ClientID: "demo-web", ClientSecret: "demo-web-secret", Endpoint: endpoint(s), RedirectURL: redirect, Scopes: []string{"openid", "api:read"}}
	v := oauth2.GenerateVerifier()
	q := authorize(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	return q.Get("code"), v, conf
}

func TestTokenEndpointNegatives(t *testing.T) {
	s := mockidptest.New(t)
	ctx := ctxT(t)
	t.Run("redirect mismatch at token", func(t *testing.T) {
		code, v, conf := codeFor(t, s, "http://127.0.0.1:5000/callback")
		conf.RedirectURL = "http://127.0.0.1:5001/callback"
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		assertOAuthErr(t, err, 400, "invalid_grant", "redirect_uri")
	})
	t.Run("missing verifier", func(t *testing.T) {
		code, _, conf := codeFor(t, s, "http://127.0.0.1/callback")
		_, err := conf.Exchange(ctx, code)
		assertOAuthErr(t, err, 400, "invalid_grant", "code_verifier is missing")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		code, _, conf := codeFor(t, s, "http://127.0.0.1/callback")
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		assertOAuthErr(t, err, 400, "invalid_grant", "does not match")
	})
	t.Run("replayed code revokes", func(t *testing.T) {
		code, v, conf := codeFor(t, s, "http://127.0.0.1/callback")
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := callHello(t, s, tok.AccessToken); st != 200 {
			t.Fatalf("fresh token: %d", st)
		}
		_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		assertOAuthErr(t, err, 400, "invalid_grant", "already used")
		if st, wa := callHello(t, s, tok.AccessToken); st != 401 || !strings.Contains(wa, "revoked") {
			t.Errorf("token from a replayed code: %d %q, want 401 revoked", st, wa)
		}
		st, m := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "demo-web", "demo-web-secret")
		if st != 400 || m["error"] != "invalid_grant" {
			t.Errorf("refresh token from a replayed code: %d %v", st, m)
		}
	})
	t.Run("reused refresh token revokes the family", func(t *testing.T) {
		code, v, conf := codeFor(t, s, "http://127.0.0.1/callback")
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		st, second := postToken(t, s, form, "demo-web", "demo-web-secret")
		if st != 200 {
			t.Fatalf("first refresh: %d %v", st, second)
		}
		st, m := postToken(t, s, form, "demo-web", "demo-web-secret")
		if st != 400 || m["error"] != "invalid_grant" || !strings.Contains(m["error_description"].(string), "family") {
			t.Errorf("reuse: %d %v", st, m)
		}
		// The rotated-in token and its access token die with the family.
		st, m = postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"].(string)}}, "demo-web", "demo-web-secret")
		if st != 400 || m["error"] != "invalid_grant" {
			t.Errorf("newest token after reuse: %d %v", st, m)
		}
		if st, _ := callHello(t, s, second["access_token"].(string)); st != 401 {
			t.Errorf("access token of a revoked family: %d", st)
		}
	})
	t.Run("unsupported grant and bad content type", func(t *testing.T) {
		st, m := postToken(t, s, url.Values{"grant_type": {"password"}}, "demo-cc", "demo-cc-secret")
		if st != 400 || m["error"] != "unsupported_grant_type" {
			t.Errorf("password grant: %d %v", st, m)
		}
		st, m = postToken(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "demo-cc", "demo-cc-secret")
		if st != 400 || m["error"] != "unauthorized_client" {
			t.Errorf("grant not allowed: %d %v", st, m)
		}
	})
}

func TestIntrospectAndRevoke(t *testing.T) {
	s := mockidptest.New(t)
	tok, err := (&clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:read"}}).Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	st, m := postForm(t, s.URL()+"/introspect", url.Values{"token": {tok.AccessToken}}, "", "")
	if st != 401 || m["error"] != "invalid_client" {
		t.Errorf("unauthenticated introspection: %d %v", st, m)
	}
	st, m = postForm(t, s.URL()+"/introspect", url.Values{"token": {tok.AccessToken}}, "demo-web", "demo-web-secret")
	if st != 200 || m["active"] != true || m["client_id"] != "demo-cc" || m["scope"] != "api:read" {
		t.Errorf("introspection: %d %v", st, m)
	}
	if st, _ := postForm(t, s.URL()+"/revoke", url.Values{"token": {tok.AccessToken}}, "demo-cc", "demo-cc-secret"); st != 200 {
		t.Errorf("revoke: %d", st)
	}
	_, m = postForm(t, s.URL()+"/introspect", url.Values{"token": {tok.AccessToken}}, "demo-web", "demo-web-secret")
	if m["active"] != false {
		t.Errorf("after revocation: %v", m)
	}
	if st, _ := postForm(t, s.URL()+"/revoke", url.Values{"token": {"unknown"}}, "demo-cc", "demo-cc-secret"); st != 200 {
		t.Errorf("revoking an unknown token: %d, want 200 (RFC 7009 2.2)", st)
	}
}

func TestStoreCapAndSweep(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s := startIdP(t, mockidp.Options{MaxEntries: 3, Clock: func() time.Time { return clock() }})
	conf := oauth2.Config{ClientID: "demo-web", Endpoint: endpoint(s), RedirectURL: "http://127.0.0.1/callback"}
	for i := 0; i < 3; i++ {
		if q := authorize(t, conf.AuthCodeURL("s")); q.Get("code") == "" {
			t.Fatalf("code %d: %v", i, q)
		}
	}
	if q := authorize(t, conf.AuthCodeURL("s")); q.Get("error") != "temporarily_unavailable" {
		t.Errorf("fourth code with cap 3: %v, want temporarily_unavailable", q)
	}
	now = now.Add(2 * time.Minute) // codes expire after 1 minute and are swept
	if q := authorize(t, conf.AuthCodeURL("s")); q.Get("code") == "" {
		t.Errorf("after expiry sweep: %v", q)
	}
}

func TestClientSecretJWTAndExchangeErrors(t *testing.T) {
	s := mockidptest.New(t)
	mk := func(secret, jti string, exp time.Time) string {
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		pb, _ := json.Marshal(map[string]any{"iss": "demo-web", "sub": "demo-web", "aud": s.URL(), "exp": exp.Unix(), "jti": jti})
		in := hdr + "." + base64.RawURLEncoding.EncodeToString(pb)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	code, v, _ := codeFor(t, s, "http://127.0.0.1/callback")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}, "redirect_uri": {"http://127.0.0.1/callback"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {mk("wrong-secret", "j1", time.Now().Add(time.Minute))}}
	if st, m := postToken(t, s, form, "", ""); st != 401 || m["error"] != "invalid_client" {
		t.Errorf("client_secret_jwt with the wrong secret: %d %v", st, m)
	}
	form.Set("client_assertion", mk("demo-web-secret", "j2", time.Now().Add(time.Minute)))
	if st, m := postToken(t, s, form, "", ""); st != 200 {
		t.Errorf("client_secret_jwt: %d %v", st, m)
	}
	// Token exchange with a subject token that is not ours.
	st, m := postToken(t, s, url.Values{"grant_type": {mockidp.GrantTokenExchange}, "subject_token": {"eyJhbGciOiJub25lIn0.e30."},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}, "demo-cc", "demo-cc-secret")
	if st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("exchange of a foreign token: %d %v", st, m)
	}
}
