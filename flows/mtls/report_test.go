package mtls

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

func certSet(t *testing.T) *CertSet {
	t.Helper()
	s, err := InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tlsServer starts an HTTPS server on 127.0.0.1 with the set's server
// certificate (or serverCert/serverKey) and the given client-auth policy.
func tlsServer(t *testing.T, s *CertSet, auth tls.ClientAuthType, serverCert, serverKey string) *httptest.Server {
	t.Helper()
	conf, err := s.ServerTLSConfig(auth)
	if err != nil {
		t.Fatal(err)
	}
	if serverCert != "" {
		pair, err := tls.LoadX509KeyPair(serverCert, serverKey)
		if err != nil {
			t.Fatal(err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "anonymous"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		io.WriteString(w, "hello "+cn)
	}))
	srv.TLS = conf
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// issue writes a leaf signed by the set's CA with the given tweaks.
func issue(t *testing.T, s *CertSet, name string, tweak func(*x509.Certificate)) (string, string) {
	t.Helper()
	ca, err := LoadCert(s.CACert)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := LoadKey(s.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	tweak(tmpl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return cp, kp
}

func run(t *testing.T, o Options) *Report {
	t.Helper()
	o.Timeout = 10 * time.Second
	r, err := Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkStatus(r *Report, name string) flows.Status {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

func TestReportRequiredClientCertAccepted(t *testing.T) {
	s := certSet(t)
	srv := tlsServer(t, s, tls.RequireAndVerifyClientCert, "", "")
	r := run(t, Options{URL: srv.URL + "/x", CertFile: s.SPIFFECert, KeyFile: s.SPIFFEKey, CAFile: s.CACert})
	if !r.OK || r.Error != nil {
		t.Fatalf("not ok: %+v %+v", r.Error, r.Checks)
	}
	if r.Response == nil || r.Response.Body != "hello demo-mtls" {
		t.Fatalf("response %+v", r.Response)
	}
	if !r.ClientCertRequested || !r.ClientCertSent || !r.ServerVerified {
		t.Errorf("requested %v sent %v verified %v", r.ClientCertRequested, r.ClientCertSent, r.ServerVerified)
	}
	if len(r.AcceptableCAs) != 1 || r.AcceptableCAs[0] != "CN=authlab test CA,O=authlab" {
		t.Errorf("acceptable CAs %v", r.AcceptableCAs)
	}
	if r.ClientCert.SPIFFEID != SPIFFEID {
		t.Errorf("SPIFFE ID %q", r.ClientCert.SPIFFEID)
	}
	leaf, _ := LoadCert(s.SPIFFECert)
	if r.ClientCert.Thumbprint != flows.Thumbprint(leaf.Raw) {
		t.Error("thumbprint")
	}
	if r.Handshake == nil || r.Handshake.Version != "TLS 1.3" || len(r.ServerChain) != 1 || r.ServerChain[0].IPs[0] != "127.0.0.1" {
		t.Errorf("handshake %+v chain %+v", r.Handshake, r.ServerChain)
	}
	if len(r.Exchanges) != 1 || !r.Exchanges[0].TLS.ClientCertSent {
		t.Errorf("exchange TLS facts %+v", r.Exchanges)
	}
}

func TestReportFailuresExplained(t *testing.T) {
	s := certSet(t)
	require := tlsServer(t, s, tls.RequireAndVerifyClientCert, "", "")
	wrongName, wrongNameKey := issue(t, s, "other-host", func(c *x509.Certificate) { c.IPAddresses = nil; c.DNSNames = []string{"other.test"} })
	byName := tlsServer(t, s, tls.NoClientCert, wrongName, wrongNameKey)
	oldCert, oldKey := issue(t, s, "old-server", func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	expiredServer := tlsServer(t, s, tls.NoClientCert, oldCert, oldKey)

	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"no client cert", Options{URL: require.URL, CAFile: s.CACert}, []string{"requires a client certificate and we sent none", "CN=authlab test CA"}},
		{"untrusted CA", Options{URL: require.URL, CAFile: s.CACert, CertFile: s.UntrustedCert, KeyFile: s.UntrustedKey}, []string{"CN=authlab untrusted CA"}},
		{"expired client cert", Options{URL: require.URL, CAFile: s.CACert, CertFile: s.ExpiredCert, KeyFile: s.ExpiredKey}, []string{"expired"}},
		{"server untrusted", Options{URL: require.URL, CertFile: s.ClientCert, KeyFile: s.ClientKey}, []string{"does not trust", string(flows.FieldCAFile)}},
		{"hostname mismatch", Options{URL: byName.URL, CAFile: s.CACert}, []string{"hostname mismatch", "other.test"}},
		{"server cert expired", Options{URL: expiredServer.URL, CAFile: s.CACert}, []string{"expired"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.o)
			if r.OK || r.Error == nil {
				t.Fatalf("ok, want a failure; checks %+v", r.Checks)
			}
			if r.Error.Kind != flows.ErrTLS {
				t.Errorf("kind %s: %s", r.Error.Kind, r.Error.Message)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Error.Message, w) {
					t.Errorf("message %q lacks %q", r.Error.Message, w)
				}
			}
			if strings.Contains(r.Error.Message, "\n") {
				t.Error("multi-line message")
			}
			if len(r.ServerChain) == 0 {
				t.Error("server chain not captured")
			}
		})
	}
}

func TestReportOptionalAndUnrequested(t *testing.T) {
	s := certSet(t)
	optional := tlsServer(t, s, tls.VerifyClientCertIfGiven, "", "")
	r := run(t, Options{URL: optional.URL, CAFile: s.CACert})
	if !r.OK || r.Response.Body != "hello anonymous" || !r.ClientCertRequested || checkStatus(r, "client certificate") != flows.Warn {
		t.Fatalf("optional without cert: %+v %+v", r.Error, r.Checks)
	}
	plain := tlsServer(t, s, tls.NoClientCert, "", "")
	r = run(t, Options{URL: plain.URL, CAFile: s.CACert, CertFile: s.ClientCert, KeyFile: s.ClientKey})
	if !r.OK || r.ClientCertRequested || r.ClientCertSent || checkStatus(r, "client certificate") != flows.Warn {
		t.Fatalf("unrequested: %+v %+v", r.Error, r.Checks)
	}
}

func TestReportWarnsNearExpiry(t *testing.T) {
	s := certSet(t)
	soonCert, soonKey := issue(t, s, "soon", func(c *x509.Certificate) { c.NotAfter = time.Now().Add(3 * 24 * time.Hour) })
	srv := tlsServer(t, s, tls.RequireAndVerifyClientCert, soonCert, soonKey)
	r := run(t, Options{URL: srv.URL, CAFile: s.CACert, CertFile: soonCert, KeyFile: soonKey})
	if !r.OK {
		t.Fatal(r.Error)
	}
	if checkStatus(r, "client certificate valid") != flows.Warn || checkStatus(r, "server certificate not expiring") != flows.Warn {
		t.Fatalf("no expiry warnings: %+v", r.Checks)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	s := certSet(t)
	for _, o := range []Options{
		{URL: "http://127.0.0.1:1/"},
		{URL: "not a url"},
		{URL: "https://127.0.0.1:1/", CertFile: s.ClientCert},
		{URL: "https://127.0.0.1:1/", CertFile: s.ClientKey, KeyFile: s.ClientCert},
		{URL: "https://127.0.0.1:1/", CAFile: s.ClientKey},
	} {
		if _, err := Run(context.Background(), o, nil); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// flows.ExplainTransportError (used by every flow) words alerts received
// from the server, which crypto/tls reports only as text.
func TestExplainTransportErrorRemoteAlerts(t *testing.T) {
	s := certSet(t)
	srv := tlsServer(t, s, tls.RequireAndVerifyClientCert, "", "")
	u, _ := url.Parse(srv.URL)
	for _, tc := range []struct {
		cert, key, want string
	}{
		{"", "", "requires a client certificate and we sent none"},
		{s.ExpiredCert, s.ExpiredKey, "expired (alert certificate_expired)"},
	} {
		conf, err := s.ClientTLSConfig(tc.cert, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}, Timeout: 5 * time.Second}
		_, err = c.Get(srv.URL)
		if err == nil {
			t.Fatal("handshake succeeded")
		}
		fe := flows.ExplainTransportError("call", u, err, time.Second)
		if fe.Kind != flows.ErrTLS || !strings.Contains(fe.Message, tc.want) {
			t.Errorf("%v => %s %q, want %q", err, fe.Kind, fe.Message, tc.want)
		}
	}
}

// A handshake that stops at the server's certificate (unknown CA) never
// reaches the point where a request for ours would be seen: the report says
// that is unknown and why, not that the server did not ask.
func TestReportClientCertRequestUnknownWhenServerCertRejected(t *testing.T) {
	s := certSet(t)
	require := tlsServer(t, s, tls.RequireAndVerifyClientCert, "", "")
	for _, o := range []Options{
		{URL: require.URL, CertFile: s.ClientCert, KeyFile: s.ClientKey},                            // system roots: unknown CA
		{URL: require.URL, CertFile: s.ClientCert, KeyFile: s.ClientKey, CAFile: s.UntrustedCACert}, // the wrong CA
	} {
		r := run(t, o)
		if r.OK || r.ServerVerified || r.ClientCertRequested {
			t.Fatalf("ok %v verified %v requested %v", r.OK, r.ServerVerified, r.ClientCertRequested)
		}
		if !strings.Contains(r.ClientCertRequestUnknown, "stopped at the server's certificate") {
			t.Errorf("unknown reason %q", r.ClientCertRequestUnknown)
		}
		for _, c := range r.Checks {
			if strings.Contains(c.Detail, "did not ask") {
				t.Errorf("check %s claims what was not knowable: %s", c.Name, c.Detail)
			}
			if c.Name == "client certificate" && (c.Status != flows.Warn || !strings.Contains(c.Detail, "unknown")) {
				t.Errorf("client certificate check %s: %s", c.Status, c.Detail)
			}
		}
	}
	// Once the handshake completes, "not requested" is a fact again.
	plain := tlsServer(t, s, tls.NoClientCert, "", "")
	r := run(t, Options{URL: plain.URL, CAFile: s.CACert, CertFile: s.ClientCert, KeyFile: s.ClientKey})
	if r.ClientCertRequestUnknown != "" {
		t.Errorf("completed handshake reported unknown: %q", r.ClientCertRequestUnknown)
	}
}
