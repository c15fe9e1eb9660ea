package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func TestMockPasswordGrant(t *testing.T) {
	idp := mockidptest.New(t)
	req := flows.Request{Flow: flows.FlowPassword, Issuer: idp.Issuer(), ClientID: "demo-password", ClientSecret: "demo-password-secret",
		Shape: flows.Shape{Username: "bob"}, Password: "bob", Scopes: []string{"openid", "profile"}}
	res := oauth.Run(context.Background(), req, nil)
	mustOK(t, "password", res)
	if !hasCheck(res.Checks, "password grant", flows.Warn) || !strings.Contains(res.Checks[0].Detail, "RFC 9700") {
		t.Errorf("no RFC 9700 warning: %+v", res.Checks)
	}
	if res.IDToken == nil || res.IDToken.Claims["sub"] != "bob" || res.Token.RefreshToken == "" {
		t.Fatalf("id token %+v, refresh %v", res.IDToken, res.Token.RefreshToken != "")
	}
	req.Password = "wrong"
	res = oauth.Run(context.Background(), req, nil)
	if res.Err == nil || res.Err.OAuthError != "invalid_grant" {
		t.Fatalf("wrong password: %+v", res.Err)
	}
	if strings.Contains(res.Err.Message, "wrong\"") || strings.Contains(string(mustJSON(t, res)), `"wrong"`) {
		t.Errorf("password shown: %s", mustJSON(t, res))
	}
	// Without a username: a config error naming both fields.
	req.Username = ""
	if res := oauth.Run(context.Background(), req, nil); res.Err == nil || res.Err.Kind != flows.ErrConfig || !strings.Contains(res.Err.Message, "username") {
		t.Fatalf("no username: %+v", res.Err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMockJWTBearerGrant(t *testing.T) {
	idp := mockidptest.New(t)
	base := flows.Request{Flow: flows.FlowJWTBearer, Issuer: idp.Issuer(), ClientID: "demo-jwt", PrivateKey: demoJWTKey, KeyID: "demo-jwt-1",
		AssertionKey: demoJWTKey, Scopes: []string{"openid", "api:read"}}

	// Signed by authlab: defaults iss = sub = demo-jwt, aud = token endpoint; sub overridden to a user.
	req := base
	req.AssertionClaims = json.RawMessage(`{"sub":"alice"}`)
	res := oauth.Run(context.Background(), req, nil)
	mustOK(t, "jwt-bearer", res)
	if res.AccessToken.Claims["sub"] != "alice" || res.IDToken == nil {
		t.Fatalf("claims %v id %v", res.AccessToken.Claims, res.IDToken != nil)
	}
	if res.Token.RefreshToken != "" {
		t.Error("a refresh token for a jwt-bearer grant")
	}

	// Given as is (signed by golang-jwt), with aud the issuer.
	pemBytes, err := os.ReadFile(demoJWTKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		tok.Header["kid"] = "demo-jwt-1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	req = base
	req.AssertionKey = ""
	req.Assertion = flows.Secret(sign(jwt.MapClaims{"iss": "demo-jwt", "sub": "svc-1", "aud": idp.Issuer(), "exp": now.Add(time.Minute).Unix(), "jti": "j1"}))
	req.Scopes = []string{"api:read"}
	res = oauth.Run(context.Background(), req, nil)
	mustOK(t, "given assertion", res)
	if res.AccessToken.Claims["sub"] != "svc-1" {
		t.Errorf("sub %v", res.AccessToken.Claims["sub"])
	}
	// The same jti again, an untrusted issuer, an expired one: invalid_grant.
	for name, a := range map[string]string{
		"replayed":  req.Assertion.Reveal(),
		"untrusted": sign(jwt.MapClaims{"iss": "stranger", "sub": "x", "aud": idp.Issuer(), "exp": now.Add(time.Minute).Unix()}),
		"expired":   sign(jwt.MapClaims{"iss": "demo-jwt", "sub": "x", "aud": idp.Issuer(), "exp": now.Add(-time.Hour).Unix()}),
		"wrong aud": sign(jwt.MapClaims{"iss": "demo-jwt", "sub": "x", "aud": "https://elsewhere", "exp": now.Add(time.Minute).Unix()}),
	} {
		r := req
		r.Assertion = flows.Secret(a)
		res := oauth.Run(context.Background(), r, nil)
		if res.Err == nil || res.Err.OAuthError != "invalid_grant" {
			t.Errorf("%s: %+v", name, res.Err)
		}
	}
}

// assertionAudAt captures the aud of the client assertion a token request
// carries.
func assertionAudAt(t *testing.T, req flows.Request) any {
	t.Helper()
	var aud any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		parts := strings.Split(r.PostForm.Get("client_assertion"), ".")
		if len(parts) == 3 {
			b, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var c map[string]any
			json.Unmarshal(b, &c)
			aud = c["aud"]
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"opaque","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	req.Flow, req.Endpoints.Token = flows.FlowClientCredentials, srv.URL+"/token"
	res := oauth.Run(context.Background(), req, nil)
	if res.Err != nil {
		t.Fatalf("%+v", res.Err)
	}
	return aud
}

func TestAssertionAudChoices(t *testing.T) {
	base := flows.Request{Issuer: "https://idp.example", ClientID: "c", PrivateKey: demoJWTKey}
	for _, c := range []struct {
		name string
		edit func(*flows.Request)
		want func(tokenURL string) any
	}{
		{"default: the token endpoint", func(*flows.Request) {}, func(u string) any { return u }},
		{"issuer", func(r *flows.Request) { r.AssertionAud = "issuer" }, func(string) any { return "https://idp.example" }},
		{"both", func(r *flows.Request) { r.AssertionAud = "both" }, func(u string) any { return []any{"https://idp.example", u} }},
		{"a URL", func(r *flows.Request) { r.AssertionAud = "https://aud.example/x" }, func(string) any { return "https://aud.example/x" }},
		{"fapi2: the issuer", func(r *flows.Request) { r.FAPI2 = true }, func(string) any { return "https://idp.example" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := base
			c.edit(&req)
			got := assertionAudAt(t, req)
			// The token URL is only known inside; compare by shape.
			switch want := c.want("TOKEN").(type) {
			case string:
				if want == "TOKEN" {
					if s, _ := got.(string); !strings.HasSuffix(s, "/token") {
						t.Fatalf("aud %v", got)
					}
				} else if got != want {
					t.Fatalf("aud %v, want %v", got, want)
				}
			case []any:
				arr, _ := got.([]any)
				if len(arr) != 2 || arr[0] != want[0] || !strings.HasSuffix(arr[1].(string), "/token") {
					t.Fatalf("aud %v", got)
				}
			}
		})
	}
	bad := base
	bad.AssertionAud = "sideways"
	if _, err := oauth.New(bad, oauth.Options{}); err == nil || !strings.Contains(err.Error(), "assertion_aud") {
		t.Fatalf("bad assertion_aud: %v", err)
	}
}

// TestAssertionAudRefusedSaysWhichWasSent: a server that wants the issuer
// only refuses the default (token endpoint) aud; the error names the aud
// sent and the other form, and the suggested form works.
func TestAssertionAudRefusedSaysWhichWasSent(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	for i := range cfg.Clients {
		if cfg.Clients[i].ID == "demo-jwt" {
			cfg.Clients[i].AssertionAud = "issuer"
		}
	}
	idp := mockidptest.New(t, mockidp.WithConfig(cfg))
	req := flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-jwt", PrivateKey: demoJWTKey, KeyID: "demo-jwt-1"}
	res := oauth.Run(context.Background(), req, nil)
	if res.Err == nil || res.Err.OAuthError != "invalid_client" {
		t.Fatalf("want invalid_client, got %+v", res.Err)
	}
	if !strings.Contains(res.Err.Message, `aud was "`+idp.Issuer()+`/token"`) || !strings.Contains(res.Err.Message, "assertion_aud issuer") {
		t.Fatalf("message %q", res.Err.Message)
	}
	req.AssertionAud = "issuer"
	mustOK(t, "issuer aud", oauth.Run(context.Background(), req, nil))
}

func TestKidOverridesThumbprint(t *testing.T) {
	var kid string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(r.PostForm.Get("client_assertion"), ".")[0])
		var m map[string]any
		json.Unmarshal(h, &m)
		kid, _ = m["kid"].(string)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"opaque","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	req := flows.Request{Flow: flows.FlowClientCredentials, Endpoints: flows.Endpoints{Token: srv.URL}, ClientID: "c", PrivateKey: demoJWTKey}
	if res := oauth.Run(context.Background(), req, nil); res.Err != nil || len(kid) != 43 {
		t.Fatalf("PEM default kid %q (want the RFC 7638 thumbprint): %+v", kid, res.Err)
	}
	req.KeyID = "registered-name"
	if res := oauth.Run(context.Background(), req, nil); res.Err != nil || kid != "registered-name" {
		t.Fatalf("kid %q: %+v", kid, res.Err)
	}
}

func TestMockLoginHintACRMaxAgeAndUserClaims(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	for i := range cfg.Users {
		if cfg.Users[i].Username == "bob" {
			cfg.Users[i].Claims = map[string]any{"department": "QA", "sub": "not-replaced"}
		}
	}
	idp := mockidptest.New(t, mockidp.WithConfig(cfg))
	run := func(edit func(*flows.Request)) *flows.Result {
		req := flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-web", ClientSecret: "demo-web-secret",
			Scopes: []string{"openid", "profile"}, Wait: 20 * time.Second}
		edit(&req)
		eng, err := oauth.New(req, oauth.Options{OpenURL: autoBrowser(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return eng.AuthCode(ctx, nil)
	}
	res := run(func(r *flows.Request) {
		r.LoginHint, r.ACRValues, r.MaxAge, r.Prompt, r.UILocales = "bob@example.com", "urn:authlab:acr:mfa", ptr(300), "login", "de"
	})
	mustOK(t, "auth code", res)
	c := res.IDToken.Claims
	if c["sub"] != "bob" || c["acr"] != mockidp.ACRMFA || c["department"] != "QA" {
		t.Fatalf("claims %v", c)
	}
	for _, want := range []string{"id_token acr", "id_token auth_time"} {
		if !hasCheck(res.Checks, want, flows.Pass) {
			t.Errorf("no passing %q: %+v", want, res.Checks)
		}
	}
	for _, p := range []string{"login_hint=bob%40example.com", "max_age=300", "prompt=login", "acr_values=urn"} {
		if !strings.Contains(res.AuthURL, p) {
			t.Errorf("auth URL lacks %s: %s", p, res.AuthURL)
		}
	}
	// An acr the IdP does not offer: it answers its default, a warning.
	res = run(func(r *flows.Request) { r.ACRValues = "urn:other:loa:4" })
	if !hasCheck(res.Checks, "id_token acr", flows.Warn) || res.Failed() {
		t.Errorf("unknown acr: %+v", res.Checks)
	}
}

// TestAuthTimeBeyondMaxAgeFails: auth_time older than max_age fails the
// check (the engine's clock moves ahead of the IdP's).
func TestAuthTimeBeyondMaxAgeFails(t *testing.T) {
	idp := mockidptest.New(t)
	req := flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-web", ClientSecret: "demo-web-secret",
		Scopes: []string{"openid"}, Wait: 20 * time.Second, Shape: flows.Shape{MaxAge: ptr(0)}, Leeway: time.Second,
		Now: func() time.Time { return time.Now().Add(30 * time.Second) }}
	eng, err := oauth.New(req, oauth.Options{OpenURL: autoBrowser(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res := eng.AuthCode(context.Background(), nil)
	if !hasCheck(res.Checks, "id_token auth_time", flows.Fail) {
		t.Fatalf("want a failed auth_time check: %+v", res.Checks)
	}
}

// TestZitadelJWTBearer: the jwt-bearer grant against zitadel/oidc's example
// OP (its JWT Profile grant), with its published service key. zitadel
// wants the issuer as the assertion's aud.
func TestZitadelJWTBearer(t *testing.T) {
	issuer := zitadelOP(t, "http://127.0.0.1/callback")
	// zitadel's published example service key (example/server/service-key1.pem).
	keyFile := filepath.Join("..", "..", "testdata", "oauth", "zitadel-service-key1.pem")
	req := flows.Request{Flow: flows.FlowJWTBearer, Issuer: issuer, ClientID: storage.ServiceUserID, AuthMethod: flows.AuthNone,
		AssertionKey: keyFile, KeyID: storage.ServiceUserKeyID, Shape: flows.Shape{AssertionClaims: json.RawMessage(`{"aud":"` + issuer + `"}`)}, Scopes: []string{"openid"}}
	res := oauth.Run(context.Background(), req, nil)
	if !res.OK || res.Token == nil || res.Token.AccessToken == "" {
		t.Fatalf("zitadel jwt-bearer: %+v %+v", res.Err, res.Checks)
	}
}
