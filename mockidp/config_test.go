package mockidp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
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

func TestExampleConfigFile(t *testing.T) {
	cfg, err := mockidp.LoadConfig("../testdata/mockidp/config.example.json")
	if err != nil {
		t.Fatal(err)
	}
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	tok, err := (&clientcredentials.Config{ClientID: "orders-svc", ClientSecret: "orders-secret", TokenURL: s.URL() + "/token"}).Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	c := decodeClaims(t, tok.AccessToken)
	if c["aud"] != "https://orders.example" || c["exp"].(float64)-c["iat"].(float64) != 300 || decodeHeader(t, tok.AccessToken)["alg"] != "ES256" {
		t.Errorf("claims %v", c)
	}
	// The public client's tokens are EdDSA (per-client alg), and go-oidc accepts them.
	ctx := ctxT(t)
	p, err := oidc.NewProvider(ctx, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "orders-web", Endpoint: p.Endpoint(), RedirectURL: "http://127.0.0.1:4000/callback", Scopes: []string{"openid"}}
	v := oauth2.GenerateVerifier()
	q := authorize(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	tok, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: "orders-web", SupportedSigningAlgs: []string{"EdDSA"}}).Verify(ctx, raw)
	if err != nil || idt.Subject != "u-carol" {
		t.Errorf("EdDSA ID token: %v %v", idt, err)
	}

	for _, bad := range []string{`{"alg":"HS256"}`, `{"clients":[{"client_id":"x","auth_methods":["client_secret_basic"]}]}`, `{"nope":1}`, `{"default_user":"zed"}`} {
		if _, err := mockidp.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("config %s accepted", bad)
		}
	}
}

func TestDiscoveryDocuments(t *testing.T) {
	s := mockidptest.New(t)
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, err := http.Get(s.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m["issuer"] != s.URL() || m["token_endpoint"] != s.URL()+"/token" || m["authorization_response_iss_parameter_supported"] != true {
			t.Errorf("%s: %v", p, m)
		}
		if _, ok := m["mtls_endpoint_aliases"]; ok {
			t.Errorf("%s: mTLS aliases over plain HTTP", p)
		}
	}
}

func TestEndSession(t *testing.T) {
	s := mockidptest.New(t)
	resp, err := noRedirect().Get(s.URL() + "/end_session?client_id=demo-web&state=x&post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:7777/callback"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://127.0.0.1:7777/callback?state=x" {
		t.Errorf("end_session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = noRedirect().Get(s.URL() + "/end_session?client_id=demo-web&post_logout_redirect_uri=" + url.QueryEscape("http://evil.example/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("unregistered post-logout redirect: %d", resp.StatusCode)
	}
}

func TestEventStreamSSE(t *testing.T) {
	s := mockidptest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/_authlab/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mustCC(t, s)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "data: ") {
			var e mockidp.Event
			if err := json.Unmarshal([]byte(line[6:]), &e); err != nil || e.Endpoint != mockidp.EPToken {
				t.Errorf("SSE data %q: %v", line, err)
			}
			return
		}
	}
	t.Fatal("no SSE event")
}

func TestHandleAddsRouteThroughFaults(t *testing.T) {
	s := mockidptest.New(t)
	s.Handle("GET /api/extra", mockidp.EPAPI, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.BearerClaims(w, r, "api:read", false); ok {
			w.Write([]byte("extra ok"))
		}
	}))
	get := func() int {
		req, _ := http.NewRequest("GET", s.URL()+"/api/extra", nil)
		req.Header.Set("Authorization", "Bearer "+mustCC(t, s))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(); st != 200 {
		t.Errorf("added route: %d", st)
	}
	s.SetFaults(mockidp.Faults{Errors: map[string]mockidp.ErrorFault{mockidp.EPAPI: {Status: 502, Error: "server_error"}}})
	if st := get(); st != 502 {
		t.Errorf("added route under an api fault: %d", st)
	}
}
