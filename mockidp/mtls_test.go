package mockidp_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/mtls"
	"authlab/mockidp"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tlsIdP starts the IdP over HTTPS with a fresh test CA.
func tlsIdP(t *testing.T, cfg mockidp.Config) (*mockidp.Server, *mtls.CertSet) {
	t.Helper()
	certs, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := certs.ServerTLSConfig(tls.RequestClientCert)
	if err != nil {
		t.Fatal(err)
	}
	s, err := mockidp.New(mockidp.Options{Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartTLS("127.0.0.1:0", conf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, certs
}

func httpsClient(t *testing.T, certs *mtls.CertSet, cert, key string) *http.Client {
	t.Helper()
	conf, err := certs.ClientTLSConfig(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
}

func TestMTLSBoundTokens(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	s, certs := tlsIdP(t, cfg)
	good := httpsClient(t, certs, certs.ClientCert, certs.ClientKey)

	// Discovery advertises the aliases and binding.
	resp, err := good.Get(s.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	aliases, _ := disc["mtls_endpoint_aliases"].(map[string]any)
	if aliases["token_endpoint"] != s.URL()+"/mtls/token" || disc["tls_client_certificate_bound_access_tokens"] != true {
		t.Fatalf("discovery over TLS: %v", disc)
	}

	cc := clientcredentials.Config{ClientID: "demo-mtls", TokenURL: s.URL() + "/mtls/token", AuthStyle: oauth2.AuthStyleInParams, Scopes: []string{"api:read"}}
	tok, err := cc.Token(withClient(t, good))
	if err != nil {
		t.Fatalf("tls_client_auth: %v", err)
	}
	cnf, _ := decodeClaims(t, tok.AccessToken)["cnf"].(map[string]any)
	clientCert, _ := mtls.LoadCert(certs.ClientCert)
	if cnf["x5t#S256"] != flows.Thumbprint(clientCert.Raw) {
		t.Fatalf("cnf = %v, want the client certificate's x5t#S256", cnf)
	}
	call := func(hc *http.Client, path string) (int, string) {
		req, _ := http.NewRequest("GET", s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}
	if st, wa := call(good, "/api/mtls"); st != 200 {
		t.Errorf("/api/mtls with the bound cert: %d %q", st, wa)
	}
	// Same CA, same CN, different certificate: the binding catches it.
	other := httpsClient(t, certs, certs.SPIFFECert, certs.SPIFFEKey)
	if st, wa := call(other, "/api/mtls"); st != 401 || !strings.Contains(wa, "does not match") {
		t.Errorf("/api/mtls with another cert: %d %q, want 401 invalid_token", st, wa)
	}
	noCert := httpsClient(t, certs, "", "")
	if st, wa := call(noCert, "/api/hello"); st != 401 || !strings.Contains(wa, "invalid_token") {
		t.Errorf("bound token without a cert at /api/hello: %d %q", st, wa)
	}
	// A certificate from a CA the IdP does not trust fails client auth.
	untrusted := httpsClient(t, certs, certs.UntrustedCert, certs.UntrustedKey)
	_, err = cc.Token(withClient(t, untrusted))
	assertOAuthErr(t, err, 401, "invalid_client", "does not chain")
	// No certificate at all.
	_, err = cc.Token(withClient(t, noCert))
	assertOAuthErr(t, err, 401, "invalid_client", "certificate")
}

func TestSelfSignedTLSClientAuth(t *testing.T) {
	certs0, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pinned, _ := mtls.LoadCert(certs0.UntrustedCert)
	cfg := mockidp.DefaultConfig()
	cfg.Clients = append(cfg.Clients, mockidp.Client{ID: "pinned", AuthMethods: []string{mockidp.AuthSelfSignedTLS}, GrantTypes: []string{mockidp.GrantClientCreds},
		SelfSignedX5tS256: []string{flows.Thumbprint(pinned.Raw)}})
	s, certs := tlsIdP(t, cfg)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"pinned"}}
	post := func(cert, key string) int {
		hc := httpsClient(t, certs, cert, key)
		resp, err := hc.PostForm(s.URL()+"/mtls/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(certs0.UntrustedCert, certs0.UntrustedKey); st != 200 {
		t.Errorf("pinned certificate: %d", st)
	}
	if st := post(certs.ClientCert, certs.ClientKey); st != 401 {
		t.Errorf("unpinned certificate: %d, want 401", st)
	}
}
