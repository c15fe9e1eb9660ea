package oauthtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// TLSCase is an HTTPS issuer that fails the handshake in one way.
type TLSCase struct {
	Name, What string
	Issuer     string
	CAFile     string // what the client should pass as --ca ("" for none)
	server     *http.Server
}

// Close stops the case's server.
func (c *TLSCase) Close() { c.server.Close() }

// selfSigned writes a self-signed certificate (its own CA) for names.
func selfSigned(dir, name string, notBefore, notAfter time.Time, dns []string, ips []net.IP) (tls.Certificate, string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "authlab test " + name},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: dns, IPAddresses: ips, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	path := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, path, nil
}

// StartTLSCases starts one HTTPS issuer per TLS failure, writing
// certificates to dir: untrusted CA, hostname mismatch, expired
// certificate, client certificate required.
func StartTLSCases(dir string) ([]*TLSCase, error) {
	now := time.Now()
	loop := []net.IP{net.IPv4(127, 0, 0, 1)}
	good, goodCA, err := selfSigned(dir, "good", now.Add(-time.Hour), now.Add(24*time.Hour), []string{"localhost"}, loop)
	if err != nil {
		return nil, err
	}
	other, otherCA, err := selfSigned(dir, "other-host", now.Add(-time.Hour), now.Add(24*time.Hour), []string{"idp.example.com"}, nil)
	if err != nil {
		return nil, err
	}
	expired, expiredCA, err := selfSigned(dir, "expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour), []string{"localhost"}, loop)
	if err != nil {
		return nil, err
	}
	specs := []struct {
		name, what string
		cert       tls.Certificate
		ca         string
		clientAuth tls.ClientAuthType
	}{
		{"untrusted-ca", "TLS: issuer certificate from an unknown CA (no --ca)", good, "", tls.NoClientCert},
		{"hostname-mismatch", "TLS: certificate for another host name", other, otherCA, tls.NoClientCert},
		{"expired-cert", "TLS: expired server certificate", expired, expiredCA, tls.NoClientCert},
		{"client-cert-required", "TLS: server demands a client certificate we did not send", good, goodCA, tls.RequireAnyClientCert},
	}
	var out []*TLSCase
	for _, sp := range specs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		c := &TLSCase{Name: sp.name, What: sp.what, CAFile: sp.ca, Issuer: "https://" + ln.Addr().String()}
		iss := c.Issuer
		mux := http.NewServeMux()
		mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "token_endpoint": iss + "/token"})
		})
		conf := &tls.Config{Certificates: []tls.Certificate{sp.cert}, ClientAuth: sp.clientAuth, MinVersion: tls.VersionTLS13}
		c.server = &http.Server{Handler: mux, TLSConfig: conf, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
		c.server.ErrorLog = quietLogger()
		go c.server.Serve(tls.NewListener(ln, conf))
		out = append(out, c)
	}
	if len(out) != len(specs) {
		return nil, fmt.Errorf("started %d of %d TLS cases", len(out), len(specs))
	}
	return out, nil
}

// quietLogger drops the server's handshake error logs: the failures are
// the point of these servers.
func quietLogger() *log.Logger { return log.New(io.Discard, "", 0) }
