package oauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/mtls"
	"authlab/flows/oauth"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// autoBrowser follows the authorization URL like a browser would; the mock
// IdP auto-approves and redirects to the loopback callback.
func autoBrowser(t *testing.T) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		go func() {
			hc := &http.Client{Timeout: 10 * time.Second}
			resp, err := hc.Get(u)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("browser: HTTP %d at %s: %.200s", resp.StatusCode, resp.Request.URL, body)
			}
		}()
		return nil
	}
}

func mustOK(t *testing.T, what string, res *flows.Result) {
	t.Helper()
	if !res.OK || res.Failed() {
		t.Fatalf("%s: ok=%v reason=%q checks=%+v", what, res.OK, res.Reason(), res.Checks)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// writeFile writes a test fixture, failing the test at once if it cannot.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// testKeys writes an EC P-256 key as PKCS#8 PEM, an RSA key as a private JWK
// and an Ed25519 key as PEM, and returns their paths and the public JWKS.
func testKeys(t *testing.T) (ecPEM, rsaJWK, edPEM string, jwks json.RawMessage) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	writePEM := func(name string, k crypto.Signer) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		writeFile(t, p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		return p
	}
	ecPEM = writePEM("ec.pem", ec)
	edPEM = writePEM("ed.pem", ed)
	rsaJWK = filepath.Join(dir, "rsa.jwk")
	priv := map[string]string{"kty": "RSA", "kid": "k-rsa", "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes()),
		"d": b64(rk.D.Bytes()), "p": b64(rk.Primes[0].Bytes()), "q": b64(rk.Primes[1].Bytes())}
	b, _ := json.Marshal(priv)
	writeFile(t, rsaJWK, b)
	ecRaw, _ := ec.PublicKey.Bytes()
	set := map[string]any{"keys": []map[string]string{
		{"kty": "EC", "crv": "P-256", "kid": "k-ec", "x": b64(ecRaw[1:33]), "y": b64(ecRaw[33:])},
		{"kty": "RSA", "kid": "k-rsa", "n": priv["n"], "e": priv["e"]},
		{"kty": "OKP", "crv": "Ed25519", "kid": "k-ed", "x": b64(ed.Public().(ed25519.PublicKey))},
	}}
	jwks, _ = json.Marshal(set)
	return
}

// testConfig is the demo configuration plus clients for the auth methods
// the demo set does not cover with client_credentials.
func testConfig(jwks json.RawMessage, selfSignedThumb string) mockidp.Config {
	cfg := mockidp.DefaultConfig()
	cc := []string{mockidp.GrantClientCreds}
	cfg.Clients = append(cfg.Clients,
		mockidp.Client{ID: "t-jwt", AuthMethods: []string{mockidp.AuthPrivateKeyJWT}, GrantTypes: cc, JWKS: jwks},
		mockidp.Client{ID: "t-sjwt", Secret: "t-sjwt-secret-that-is-long-enough-for-hs256", AuthMethods: []string{mockidp.AuthSecretJWT}, GrantTypes: cc},
		mockidp.Client{ID: "t:special", Secret: "p@ss:w%rd +/=&", AuthMethods: []string{mockidp.AuthBasic}, GrantTypes: cc},
	)
	if selfSignedThumb != "" {
		cfg.Clients = append(cfg.Clients, mockidp.Client{ID: "t-selfsigned", AuthMethods: []string{mockidp.AuthSelfSignedTLS}, GrantTypes: cc, SelfSignedX5tS256: []string{selfSignedThumb}})
	}
	return cfg
}

func TestMockClientCredentialsEveryAuthMethod(t *testing.T) {
	ecPEM, rsaJWK, edPEM, jwks := testKeys(t)
	idp := mockidptest.New(t, mockidp.WithConfig(testConfig(jwks, "")))
	iss := idp.Issuer()
	cases := []struct {
		name string
		req  flows.Request
	}{
		{"client_secret_basic", flows.Request{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", AuthMethod: flows.AuthClientSecretBasic}},
		{"client_secret_basic form-urlencoded", flows.Request{ClientID: "t:special", ClientSecret: "p@ss:w%rd +/=&", AuthMethod: flows.AuthClientSecretBasic}},
		{"client_secret_post", flows.Request{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", AuthMethod: flows.AuthClientSecretPost}},
		{"client_secret_jwt", flows.Request{ClientID: "t-sjwt", ClientSecret: "t-sjwt-secret-that-is-long-enough-for-hs256", AuthMethod: flows.AuthClientSecretJWT}},
		{"private_key_jwt EC PEM", flows.Request{ClientID: "t-jwt", PrivateKey: ecPEM, KeyID: "k-ec"}},
		{"private_key_jwt RSA JWK", flows.Request{ClientID: "t-jwt", PrivateKey: rsaJWK, AuthMethod: flows.AuthPrivateKeyJWT}},
		{"private_key_jwt Ed25519 PEM", flows.Request{ClientID: "t-jwt", PrivateKey: edPEM, KeyID: "k-ed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			req.Flow, req.Issuer, req.Scopes = flows.FlowClientCredentials, iss, []string{"api:read"}
			req.CallURL = iss + "/api/hello"
			var exchanges []flows.Exchange
			res := oauth.Run(context.Background(), req, flows.ObserverFuncs{OnExchange: func(e flows.Exchange) { exchanges = append(exchanges, e) }})
			mustOK(t, c.name, res)
			if res.AccessToken == nil || !res.AccessToken.Verified {
				t.Fatalf("access token not verified: %+v", res.AccessToken)
			}
			if res.Call == nil || res.Call.Status != 200 {
				t.Fatalf("resource call: %+v", res.Call)
			}
			// Nothing secret reaches the observer.
			blob, _ := json.Marshal(exchanges)
			if req.ClientSecret.IsSet() && strings.Contains(string(blob), req.ClientSecret.Reveal()) {
				t.Fatal("client secret in an exchange record")
			}
			if strings.Contains(string(blob), "client_assertion=ey") {
				t.Fatal("client assertion in an exchange record")
			}
		})
	}
}

func TestMockCallWithoutScopeExplainsChallenge(t *testing.T) {
	idp := mockidptest.New(t)
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(),
		ClientID: "demo-cc", ClientSecret: "demo-cc-secret", Scopes: []string{"api:write"}, CallURL: idp.Issuer() + "/api/hello"}, nil)
	if res.OK || res.Err == nil || res.Err.Kind != flows.ErrCheck || res.Call == nil || res.Call.Status != 403 {
		t.Fatalf("err %+v call %+v", res.Err, res.Call)
	}
	if !hasCheck(res.Checks, "resource call", flows.Fail) || !strings.Contains(res.Call.Challenge, "insufficient_scope") {
		t.Fatalf("challenge %q checks %+v", res.Call.Challenge, res.Checks)
	}
}

func TestMockWrongSecretIsOAuthError(t *testing.T) {
	idp := mockidptest.New(t)
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(),
		ClientID: "demo-cc", ClientSecret: "wrong"}, nil)
	if res.OK || res.Err == nil || res.Err.Kind != flows.ErrOAuth || res.Err.OAuthError != "invalid_client" {
		t.Fatalf("want invalid_client, got %+v", res.Err)
	}
	if !strings.Contains(res.Err.Message, "invalid_client") || !strings.Contains(res.Err.Message, string(flows.FieldClientSecret)) {
		t.Fatalf("message %q", res.Err.Message)
	}
}

// selfSigned writes a self-signed client certificate and returns its
// paths and x5t#S256.
func selfSigned(t *testing.T) (certFile, keyFile, thumb string) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "t-selfsigned"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
	return certFile, keyFile, flows.Thumbprint(der)
}

func TestMockMTLSClientAuth(t *testing.T) {
	certs, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ssCert, ssKey, thumb := selfSigned(t)
	_, _, _, jwks := testKeys(t)
	idp, err := mockidp.New(mockidp.Options{Config: ptr(testConfig(jwks, thumb))})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := certs.ServerTLSConfig(tls.VerifyClientCertIfGiven)
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.StartTLS("127.0.0.1:0", conf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	for _, c := range []struct {
		name string
		req  flows.Request
	}{
		{"tls_client_auth", flows.Request{ClientID: "demo-mtls", AuthMethod: flows.AuthTLSClient, CertFile: certs.ClientCert, KeyFile: certs.ClientKey}},
		{"self_signed_tls_client_auth", flows.Request{ClientID: "t-selfsigned", AuthMethod: flows.AuthSelfSignedTLS, CertFile: ssCert, KeyFile: ssKey}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			req.Flow, req.Issuer, req.CAFile = flows.FlowClientCredentials, idp.Issuer(), certs.CACert
			res := oauth.Run(context.Background(), req, nil)
			mustOK(t, c.name, res)
			// The mTLS alias was used for the token endpoint (RFC 8705 5).
			var tokenURL string
			for _, e := range res.Exchanges {
				if e.Step == "token request" {
					tokenURL = e.URL
					if e.TLS == nil || !e.TLS.ClientCertSent {
						t.Errorf("no client certificate recorded: %+v", e.TLS)
					}
				}
			}
			if !strings.Contains(tokenURL, "/mtls/token") {
				t.Errorf("token URL %q is not the mTLS alias", tokenURL)
			}
		})
	}
	// demo-mtls tokens are bound to the certificate: the cnf check passes.
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), CAFile: certs.CACert,
		ClientID: "demo-mtls", CertFile: certs.ClientCert, KeyFile: certs.ClientKey}, nil)
	mustOK(t, "bound token", res)
	if !hasCheck(res.Checks, "access_token cnf", flows.Pass) {
		t.Errorf("no passing cnf check: %+v", res.Checks)
	}
	// Without --ca the IdP's CA is unknown: a TLS error that says what to do.
	res = oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret"}, nil)
	if res.Err == nil || res.Err.Kind != flows.ErrTLS || !strings.Contains(res.Err.Message, string(flows.FieldCAFile)) {
		t.Fatalf("want a TLS error naming --ca, got %+v", res.Err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMockAuthCodeRefreshIntrospectRevokeUserinfo(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	for _, c := range []struct {
		name string
		req  flows.Request
	}{
		{"confidential basic", flows.Request{ClientID: "demo-web", ClientSecret: "demo-web-secret"}},
		{"confidential client_secret_jwt", flows.Request{ClientID: "demo-web", ClientSecret: "demo-web-secret", AuthMethod: flows.AuthClientSecretJWT}},
		{"public none, localhost", flows.Request{ClientID: "demo-native", UseLocalhost: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			req.Flow, req.Issuer, req.Wait = flows.FlowAuthCode, iss, 20*time.Second
			req.Scopes = []string{"openid", "profile", "offline_access", "api:read"}
			req.CallURL = iss + "/api/hello"
			req.ExtraParams = map[string][]string{"ui_locales": {"de"}}
			eng, err := oauth.New(req, oauth.Options{OpenURL: autoBrowser(t)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := eng.AuthCode(ctx, nil)
			mustOK(t, "auth code", res)
			for _, want := range []string{"id_token signature", "id_token nonce", "id_token iss", "id_token aud", "id_token at_hash", "resource call"} {
				if !hasCheck(res.Checks, want, flows.Pass) {
					t.Errorf("no passing %q in %+v", want, res.Checks)
				}
			}
			if !strings.Contains(res.AuthURL, "code_challenge_method=S256") || !strings.Contains(res.AuthURL, "ui_locales=de") {
				t.Errorf("auth URL %s", res.AuthURL)
			}
			if c.req.UseLocalhost && !strings.Contains(res.AuthURL, "redirect_uri=http%3A%2F%2Flocalhost%3A") {
				t.Errorf("localhost variant not used: %s", res.AuthURL)
			}
			rt := res.Token.RefreshToken
			if rt == "" {
				t.Fatal("no refresh token")
			}
			ref := eng.Refresh(ctx, rt, nil)
			mustOK(t, "refresh", ref)
			if ref.RefreshRotated == nil || !*ref.RefreshRotated {
				t.Fatalf("mock IdP rotates refresh tokens; rotated=%v", ref.RefreshRotated)
			}
			at := ref.Token.AccessToken
			ui := eng.Userinfo(ctx, at, nil)
			mustOK(t, "userinfo", ui)
			if ui.Userinfo["sub"] != "alice" {
				t.Errorf("userinfo %v", ui.Userinfo)
			}
			if req.ClientSecret.IsSet() { // public clients may not introspect
				in := eng.Introspect(ctx, at, nil)
				mustOK(t, "introspect", in)
				rv := eng.Revoke(ctx, at, nil)
				mustOK(t, "revoke", rv)
				if rv.RevocationConfirmed == nil || !*rv.RevocationConfirmed {
					t.Fatal("revocation not confirmed")
				}
			}
		})
	}
}

func TestMockDeviceFlow(t *testing.T) {
	// The IdP's clock moves when the engine "sleeps", so its interval
	// enforcement sees the polls as spaced out and never says slow_down.
	var offset atomic.Int64
	idp := mockidptest.New(t, mockidp.WithClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }))
	var mu sync.Mutex
	var userCode string
	var slept []time.Duration
	obs := flows.ObserverFuncs{OnStep: func(e flows.StepEvent) {
		if e.Done && e.Name == "device authorization" {
			mu.Lock()
			userCode = strings.TrimPrefix(e.Detail, "user code ")
			mu.Unlock()
		}
	}}
	// The sleeper stands in for the wait between polls; after two polls the
	// user approves, as the /device page would.
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		offset.Add(int64(d))
		if len(slept) == 3 {
			return idp.ApproveDevice(userCode, "alice", true)
		}
		return nil
	}
	eng, err := oauth.New(flows.Request{Flow: flows.FlowDevice, Issuer: idp.Issuer(), ClientID: "demo-device", Scopes: []string{"openid", "api:read"}}, oauth.Options{Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Run(context.Background(), obs)
	mustOK(t, "device", res)
	if res.Device == nil || res.Device.Polls != 3 || res.Device.UserCode == "" {
		t.Fatalf("device %+v", res.Device)
	}
	for _, d := range slept {
		if d != 5*time.Second {
			t.Fatalf("polling intervals %v, want the IdP's 5s", slept)
		}
	}
}

func TestMockTokenExchange(t *testing.T) {
	idp := mockidptest.New(t)
	cc := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret"}, nil)
	mustOK(t, "cc", cc)
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowTokenExchange, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret",
		Token: flows.Secret(cc.Token.AccessToken), Audience: []string{"downstream"}}, nil)
	mustOK(t, "token exchange", res)
	if !hasCheck(res.Checks, "issued_token_type", flows.Pass) {
		t.Fatalf("checks %+v", res.Checks)
	}
	if _, ok := res.AccessToken.Claims["act"].(map[string]any); !ok {
		t.Errorf("exchanged token has no act claim: %v", res.AccessToken.Claims)
	}
}

func TestEngineConcurrentClientCredentials(t *testing.T) {
	idp := mockidptest.New(t)
	eng, err := oauth.New(flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret"}, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				res := eng.ClientCredentials(context.Background(), nil)
				if res.Failed() {
					errs <- res.Reason()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Discovery ran once for the engine; each later run has one exchange
	// (plus the JWKS once).
	res := eng.ClientCredentials(context.Background(), nil)
	if len(res.Exchanges) != 1 {
		t.Fatalf("a warm engine made %d exchanges: %+v", len(res.Exchanges), res.Summaries())
	}
}
