package mtls_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"authlab/flows/mtls"
	"authlab/mockidp"
)

// End to end against the real mock IdP over HTTPS: tls_client_auth at the
// mTLS alias, cnf.x5t#S256 checked, /api/mtls called with the same cert.
func TestBoundTokenAgainstMockIdP(t *testing.T) {
	certs, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := certs.ServerTLSConfig(tls.RequestClientCert)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mockidp.DefaultConfig()
	s, err := mockidp.New(mockidp.Options{Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartTLS("127.0.0.1:0", conf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	opts := mtls.BoundOptions{TokenURL: s.URL() + "/mtls/token", ResourceURL: s.URL() + "/api/mtls", ClientID: "demo-mtls", Scope: "api:read",
		CertFile: certs.ClientCert, KeyFile: certs.ClientKey, CAFile: certs.CACert, Timeout: 10 * time.Second}
	r, err := mtls.BoundToken(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || !r.Bound || r.Resource == nil || r.Resource.Status != 200 {
		t.Fatalf("mock IdP bound token: %+v %+v", r.Error, r.Checks)
	}
	if !strings.Contains(r.Resource.Body, r.CertThumbprint) {
		t.Errorf("resource did not see our certificate: %s", r.Resource.Body)
	}
	// The handshake report against the IdP: it asks for a certificate, and
	// without a token its resource answers 401 after a good handshake.
	rep, err := mtls.Run(context.Background(), mtls.Options{URL: s.URL() + "/api/mtls", CertFile: certs.ClientCert, KeyFile: certs.ClientKey, CAFile: certs.CACert, Timeout: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ClientCertRequested || !rep.ClientCertSent || !rep.ServerVerified || rep.Handshake == nil || rep.Response == nil || rep.Response.Status != 401 {
		t.Fatalf("report: %+v", rep)
	}
	// Another client's certificate (untrusted CA) is refused by the token endpoint.
	opts.CertFile, opts.KeyFile = certs.UntrustedCert, certs.UntrustedKey
	r, _ = mtls.BoundToken(context.Background(), opts, nil)
	if r.OK || r.Error == nil {
		t.Fatalf("untrusted cert got a token: %+v", r)
	}
	t.Logf("untrusted: %s", r.Error.Message)
}
