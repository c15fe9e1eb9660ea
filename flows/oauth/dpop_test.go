package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/oauth"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func dpopCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ccDPoP(iss string) flows.Request {
	return flows.Request{Flow: flows.FlowClientCredentials, Issuer: iss, ClientID: "demo-dpop", ClientSecret: "demo-dpop-secret",
		DPoP: true, CallURL: iss + "/api/hello"}
}

func checkNamed(res *flows.Result, name string) *flows.Check {
	for i := range res.Checks {
		if res.Checks[i].Name == name {
			return &res.Checks[i]
		}
	}
	return nil
}

func TestDPoPClientCredentialsAndCall(t *testing.T) {
	for _, alg := range dpop.Algs() {
		t.Run(alg, func(t *testing.T) {
			s := mockidptest.New(t)
			req := ccDPoP(s.Issuer())
			req.DPoPAlg = alg
			res := oauth.Run(dpopCtx(t), req, nil)
			mustOK(t, "client credentials with DPoP", res)
			if res.DPoP == nil || res.DPoP.Alg != alg || res.DPoP.JKT == "" || res.DPoP.NonceRetries != 0 {
				t.Fatalf("dpop info %+v", res.DPoP)
			}
			if c := checkNamed(res, "cnf.jkt"); c == nil || c.Status != flows.Pass || !strings.Contains(c.Detail, res.DPoP.JKT) {
				t.Fatalf("cnf.jkt check %+v", c)
			}
			if c := checkNamed(res, "dpop token_type"); c == nil || c.Status != flows.Pass {
				t.Fatalf("token_type check %+v", c)
			}
			// Every exchange with a proof shows it decoded, without private members.
			proofs := 0
			for _, ex := range res.Exchanges {
				if ex.DPoP == nil {
					continue
				}
				proofs++
				jwk, _ := ex.DPoP.Header["jwk"].(map[string]any)
				if ex.DPoP.Header["typ"] != "dpop+jwt" || jwk == nil || jwk["d"] != nil || ex.DPoP.Claims["htm"] != ex.Method {
					t.Fatalf("proof view %+v", ex.DPoP)
				}
				if strings.Contains(ex.URL, "/api/") {
					if ex.DPoP.Claims["ath"] == nil || !strings.HasPrefix(ex.RequestHeaders.Get("Authorization"), "DPoP ") {
						t.Fatalf("resource call without ath or DPoP scheme: %+v %v", ex.DPoP.Claims, ex.RequestHeaders)
					}
				}
			}
			if proofs != 2 {
				t.Fatalf("%d proofs, want token request and call", proofs)
			}
			b, _ := json.Marshal(res)
			var out struct {
				DPoP map[string]any `json:"dpop"`
			}
			json.Unmarshal(b, &out)
			if out.DPoP["jkt"] != res.DPoP.JKT || out.DPoP["alg"] != alg || out.DPoP["nonce_retries"] != float64(0) {
				t.Fatalf("json dpop %v", out.DPoP)
			}
		})
	}
}

func TestDPoPNonceRetryASAndResource(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.DPoPNonce = true
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	writeECKey(t, keyFile)
	req := ccDPoP(s.Issuer())
	req.DPoP, req.DPoPKey = false, keyFile
	res := oauth.Run(dpopCtx(t), req, nil)
	mustOK(t, "with server nonces", res)
	// The token endpoint asks once; the resource shares its origin, so the
	// nonce learnt there serves the call too.
	if res.DPoP.NonceRetries != 1 {
		t.Fatalf("nonce retries %d, want 1", res.DPoP.NonceRetries)
	}
	// A fresh engine with the same key calls the resource: it asks for a nonce itself.
	call := req
	call.Flow, call.CallURL = flows.FlowCall, ""
	eng, err := oauth.New(call, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	cr := eng.Call(dpopCtx(t), s.Issuer()+"/api/hello", res.Token.AccessToken, nil)
	mustOK(t, "resource call with nonce retry", cr)
	if cr.DPoP.NonceRetries != 1 || cr.Call.Status != 200 {
		t.Fatalf("resource nonce retries %d status %d", cr.DPoP.NonceRetries, cr.Call.Status)
	}
}

// writeECKey writes a fresh P-256 key as SEC 1 PEM.
func writeECKey(t *testing.T, path string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(k)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDPoPNonceStormReported(t *testing.T) {
	s := mockidptest.New(t)
	s.SetFaults(mockidp.Faults{DPoPNonceStorm: true})
	res := oauth.Run(dpopCtx(t), ccDPoP(s.Issuer()), nil)
	if res.OK || res.Err == nil || res.Err.OAuthError != "use_dpop_nonce" || !strings.Contains(res.Err.Message, "again on the retry") {
		t.Fatalf("storm: ok=%v err=%+v", res.OK, res.Err)
	}
	tokenRequests := 0
	for _, ex := range res.Exchanges {
		if strings.HasSuffix(ex.URL, "/token") {
			tokenRequests++
		}
	}
	if tokenRequests != 2 {
		t.Fatalf("%d token requests, want exactly two (one retry, no loop)", tokenRequests)
	}
}

func TestDPoPBearerOnlyWarns(t *testing.T) {
	s := mockidptest.New(t)
	s.SetFaults(mockidp.Faults{DPoPBearerOnly: true})
	req := ccDPoP(s.Issuer())
	req.ClientID, req.ClientSecret = "demo-cc", "demo-cc-secret"
	res := oauth.Run(dpopCtx(t), req, nil)
	if !res.OK {
		t.Fatalf("bearer-only: %v", res.Err)
	}
	if c := checkNamed(res, "dpop token_type"); c == nil || c.Status != flows.Warn || !strings.Contains(c.Detail, "not sender-constrained") {
		t.Fatalf("check %+v", c)
	}
	// The Bearer token is sent as Bearer.
	for _, ex := range res.Exchanges {
		if strings.Contains(ex.URL, "/api/") && (ex.DPoP != nil || !strings.HasPrefix(ex.RequestHeaders.Get("Authorization"), "Bearer ")) {
			t.Fatalf("call of a bearer token: %v", ex.RequestHeaders)
		}
	}
}

func TestDPoPAuthCodeSendsJKTAndRefreshes(t *testing.T) {
	s := mockidptest.New(t)
	dir := t.TempDir()
	// A key from a file: the refresh must use the same key (public client).
	keyFile := filepath.Join(dir, "dpop.jwk")
	os.WriteFile(keyFile, []byte(`{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), 0o600)
	req := flows.Request{Flow: flows.FlowAuthCode, Issuer: s.Issuer(), ClientID: "demo-native", Scopes: []string{"openid", "offline_access"},
		DPoPKey: keyFile, Wait: 20 * time.Second}
	eng, err := oauth.New(req, oauth.Options{OpenURL: autoBrowser(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res := eng.AuthCode(dpopCtx(t), nil)
	mustOK(t, "auth code with DPoP", res)
	if !strings.Contains(res.AuthURL, "dpop_jkt="+eng.DPoPKey().JKT()) || eng.DPoPKey().Alg() != "EdDSA" {
		t.Fatalf("authorization URL without dpop_jkt: %s", res.AuthURL)
	}
	ref := eng.Refresh(dpopCtx(t), res.Token.RefreshToken, nil)
	mustOK(t, "refresh with the same key", ref)
	// Another key cannot use the bound refresh token.
	other := req
	other.DPoPKey, other.DPoP, other.Flow = "", true, flows.FlowRefresh
	other.Token = flows.Secret(ref.Token.RefreshToken)
	bad := oauth.Run(dpopCtx(t), other, nil)
	if bad.OK || bad.Err.OAuthError != "invalid_dpop_proof" {
		t.Fatalf("refresh with another key: %+v", bad.Err)
	}
}

// A server that binds the token to some other key: the check fails naming both.
func TestDPoPCnfMismatchFails(t *testing.T) {
	other, _ := dpop.Generate("ES256")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("DPoP") == "" {
			http.Error(w, "no proof", 400)
			return
		}
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
		c := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","exp":` + jsonInt(time.Now().Add(time.Hour).Unix()) + `,"cnf":{"jkt":"` + other.JKT() + `"}}`))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": h + "." + c + ".", "token_type": "DPoP", "expires_in": 3600})
	}))
	defer srv.Close()
	req := flows.Request{Flow: flows.FlowClientCredentials, Endpoints: flows.Endpoints{Token: srv.URL + "/token"}, ClientID: "c", ClientSecret: "s", DPoP: true}
	res := oauth.Run(dpopCtx(t), req, nil)
	c := checkNamed(res, "cnf.jkt")
	if c == nil || c.Status != flows.Fail || !strings.Contains(c.Detail, other.JKT()) || !strings.Contains(c.Detail, res.DPoP.JKT) || !res.Failed() {
		t.Fatalf("cnf.jkt check %+v", c)
	}
	if u, _ := url.Parse(srv.URL); hits.Load() != 1 || u == nil {
		t.Fatal("unexpected requests")
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// BenchmarkTokenRequestDPoP is one client-credentials request against the
// mock IdP, one at a time, without and with a DPoP proof: the proof's
// share of a token request (the mock IdP verifies it, too).
func BenchmarkTokenRequestDPoP(b *testing.B) {
	idp := mockidptest.New(b)
	for _, alg := range []string{"", "ES256", "EdDSA"} {
		name := alg
		if name == "" {
			name = "bearer"
		}
		b.Run(name, func(b *testing.B) {
			req := flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret",
				DPoP: alg != "", DPoPAlg: alg}
			eng, err := oauth.New(req, oauth.Options{SkipInspect: true})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			ctx := context.Background()
			if res := eng.ClientCredentials(ctx, nil); res.Failed() {
				b.Fatal(res.Reason())
			}
			for b.Loop() {
				if res := eng.ClientCredentials(ctx, nil); res.Failed() {
					b.Fatal(res.Reason())
				}
			}
		})
	}
}
