package mockidp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// TestPasswordGrantWithXOAuth2: golang.org/x/oauth2 as an independent
// client of the password grant.
func TestPasswordGrantWithXOAuth2(t *testing.T) {
	s := mockidptest.New(t)
	conf := &oauth2.Config{ClientID: "demo-password", ClientSecret: "demo-password-secret", Scopes: []string{"openid", "profile"},
		Endpoint: oauth2.Endpoint{TokenURL: s.URL() + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := conf.PasswordCredentialsToken(context.Background(), "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token %+v", tok)
	}
	if _, err := conf.PasswordCredentialsToken(context.Background(), "alice", "wrong"); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("wrong password: %v", err)
	}
	// A client not registered for it: unsupported_grant_type.
	st, m := postToken(t, s, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice"}}, "demo-cc", "demo-cc-secret")
	if st != 400 || m["error"] != "unsupported_grant_type" {
		t.Fatalf("demo-cc: %d %v", st, m)
	}
}

// TestJWTBearerWithXOAuth2: golang.org/x/oauth2/jwt (RS256, aud the token
// endpoint) as an independent client of the jwt-bearer grant.
func TestJWTBearerWithXOAuth2(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "svc-1", Algorithm: "RS256", Use: "sig"}}})
	cfg := mockidp.DefaultConfig()
	cfg.TrustedIssuers = append(cfg.TrustedIssuers, mockidp.TrustedIssuer{Issuer: "svc@example.com", JWKS: jwks, Scopes: []string{"api:read"}})
	cfg.Clients = append(cfg.Clients, mockidp.Client{ID: "jwt-public", Public: true, AuthMethods: []string{mockidp.AuthNone}, GrantTypes: []string{mockidp.GrantJWTBearer}})
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	conf := &jwt.Config{Email: "svc@example.com", Subject: "bob", PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		PrivateKeyID: "svc-1", Scopes: []string{"api:read"}, TokenURL: s.URL() + "/token"}
	// x/oauth2/jwt sends only grant_type and assertion: a transport names
	// the (public) client.
	hc := &http.Client{Transport: addClientID{"jwt-public"}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	tok, err := conf.TokenSource(ctx).Token()
	if err != nil {
		t.Fatal(err)
	}
	claims := decodeClaims(t, tok.AccessToken)
	if claims["sub"] != "bob" || claims["scope"] != "api:read" {
		t.Fatalf("claims %v", claims)
	}
	conf.Scopes = []string{"api:write"} // not allowed for this issuer
	if _, err := conf.TokenSource(ctx).Token(); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Fatalf("scope beyond the issuer's: %v", err)
	}
}

// addClientID adds client_id to token requests (x/oauth2/jwt sends none).
type addClientID struct{ id string }

func (a addClientID) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	f := r.PostForm
	f.Set("client_id", a.id)
	body := f.Encode()
	r2, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	r2.Header = r.Header.Clone()
	return http.DefaultTransport.RoundTrip(r2)
}

// TestFAPI2Mode: metadata and refusals of `authlab idp --fapi2`.
func TestFAPI2Mode(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	resp, err := http.Get(s.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["require_pushed_authorization_requests"] != true {
		t.Errorf("require_pushed_authorization_requests %v", doc["require_pushed_authorization_requests"])
	}
	if m, _ := json.Marshal(doc["token_endpoint_auth_methods_supported"]); string(m) != `["private_key_jwt"]` {
		t.Errorf("auth methods %s", m)
	}
	for k, v := range doc {
		if strings.HasSuffix(k, "_signing_alg_values_supported") {
			for _, a := range v.([]any) {
				if a != "PS256" && a != "ES256" && a != "EdDSA" {
					t.Errorf("%s has %v", k, a)
				}
			}
		}
	}
	// client_secret_basic: refused, naming the rule.
	st, m := postToken(t, s, url.Values{"grant_type": {"client_credentials"}}, "demo-cc", "demo-cc-secret")
	if st != 401 || m["error"] != "invalid_client" || !strings.Contains(m["error_description"].(string), "FAPI 2.0") {
		t.Errorf("basic: %d %v", st, m)
	}
	// The authorization endpoint without PAR: refused by redirect.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {"demo-jwt"}, "redirect_uri": {"http://127.0.0.1:1/callback"}, "state": {"s"}, "scope": {"openid"}}
	resp, err = hc.Get(s.URL() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("no PAR: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
