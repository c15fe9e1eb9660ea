package mockidp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// fetchJWKS reads the IdP's JWKS document as a go-jose key set.
func fetchJWKS(t *testing.T, s *mockidp.Server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(s.URL() + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("JWKS: %d %v", resp.StatusCode, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("go-jose rejects the JWKS: %v\n%s", err, b)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() || k.Use != "sig" || k.KeyID == "" || k.Algorithm == "" {
			t.Errorf("JWKS key %+v: want a valid public signing key with kid and alg", k)
		}
	}
	return set
}

// verifyBoth verifies tok with go-jose and with golang-jwt against the
// JWKS, the way two independent relying parties would, and checks that
// they read the same claims.
func verifyBoth(t *testing.T, s *mockidp.Server, set jose.JSONWebKeySet, alg, typ, tok string) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("go-jose cannot parse the %s token: %v", typ, err)
	}
	h := jws.Signatures[0].Header
	if h.Algorithm != alg || h.ExtraHeaders["typ"] != typ {
		t.Errorf("header alg %q typ %v, want %s and %s", h.Algorithm, h.ExtraHeaders["typ"], alg, typ)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 || keys[0].Algorithm != alg {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("go-jose rejects the %s %s token: %v", alg, typ, err)
	}
	var fromJose map[string]any
	if err := json.Unmarshal(payload, &fromJose); err != nil {
		t.Fatal(err)
	}

	parsed, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		ks := set.Key(kid)
		if len(ks) != 1 {
			return nil, jwt.ErrTokenUnverifiable
		}
		return ks[0].Key, nil
	}, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(s.Issuer()), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("golang-jwt rejects the %s %s token: %v", alg, typ, err)
	}
	fromJWT := map[string]any(parsed.Claims.(jwt.MapClaims))
	if !reflect.DeepEqual(fromJose, fromJWT) {
		t.Errorf("the libraries read different claims:\n%v\n%v", fromJose, fromJWT)
	}

	// A changed signature must fail both, or the checks above prove nothing.
	i := strings.LastIndexByte(tok, '.') + 1
	flip := byte('A')
	if tok[i] == 'A' {
		flip = 'B'
	}
	bad := tok[:i] + string(flip) + tok[i+1:]
	if j, err := jose.ParseSignedCompact(bad, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}); err == nil {
		if _, err := j.Verify(keys[0]); err == nil {
			t.Error("go-jose accepts an altered signature")
		}
	}
	if _, err := jwt.Parse(bad, func(*jwt.Token) (any, error) { return keys[0].Key, nil }, jwt.WithValidMethods([]string{alg})); err == nil {
		t.Error("golang-jwt accepts an altered signature")
	}
}

// Every token the IdP issues, on its fast signing path, verifies with
// go-jose and golang-jwt against the JWKS it publishes.
func TestIssuedTokensVerifyWithGoJoseAndGolangJWT(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s := mockidptest.New(t, mockidp.WithAlg(alg))
			set := fetchJWKS(t, s)
			if len(set.Keys) != 3 {
				t.Fatalf("JWKS has %d keys, want one per algorithm", len(set.Keys))
			}
			ctx := ctxT(t)

			cc, err := ccToken(t, s)
			if err != nil {
				t.Fatal(err)
			}
			verifyBoth(t, s, set, alg, "at+jwt", cc.AccessToken)

			conf := oauth2.Config{ClientID: "demo-web", ClientSecret: "demo-web-secret", Endpoint: endpoint(s),
				RedirectURL: "http://127.0.0.1:53124/callback", Scopes: []string{"openid", "profile", "api:read"}}
			verifier := oauth2.GenerateVerifier()
			q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			idt, _ := tok.Extra("id_token").(string)
			verifyBoth(t, s, set, alg, "at+jwt", tok.AccessToken)
			verifyBoth(t, s, set, alg, "JWT", idt)

			tok.Expiry = time.Now().Add(-time.Minute) // force the refresh
			nt, err := conf.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatal(err)
			}
			verifyBoth(t, s, set, alg, "at+jwt", nt.AccessToken)
			if idt, _ := nt.Extra("id_token").(string); idt != "" {
				verifyBoth(t, s, set, alg, "JWT", idt)
			}
		})
	}
}
