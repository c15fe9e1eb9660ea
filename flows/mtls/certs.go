// Package mtls is authlab's mutual-TLS engine: a generator of test
// certificates (`authlab certs init`, the mock IdP's --tls, the demo), loaders
// for client and server TLS configs, a handshake report that says whose
// certificate failed and why, and certificate-bound tokens (RFC 8705).
// It depends on the standard library and authlab/flows only.
package mtls

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"authlab/flows"
)

// SPIFFEID is the URI SAN of the demo SPIFFE client certificate.
const SPIFFEID = "spiffe://authlab.test/client"

// ClientCN is the subject common name of the demo client certificates.
const ClientCN = "demo-mtls"

// Lifetimes of generated certificates. Leaves are renewed by InitCerts when
// they would expire within renewBefore, so a long-running demo never serves
// a certificate that trips the 7-day warning.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// CertSet holds the paths of the PEM files InitCerts wrote or reused.
type CertSet struct {
	Dir string `json:"dir"`

	CACert string `json:"ca_cert"` // the trusted test CA
	CAKey  string `json:"ca_key"`

	ServerCert string `json:"server_cert"` // 127.0.0.1, ::1, localhost
	ServerKey  string `json:"server_key"`

	ClientCert string `json:"client_cert"` // CN=demo-mtls
	ClientKey  string `json:"client_key"`

	SPIFFECert string `json:"spiffe_cert"` // CN=demo-mtls, URI SAN spiffe://authlab.test/client
	SPIFFEKey  string `json:"spiffe_key"`

	ExpiredCert string `json:"expired_cert"` // CN=demo-mtls, expired a day before generation
	ExpiredKey  string `json:"expired_key"`

	UntrustedCACert string `json:"untrusted_ca_cert"` // a second CA nobody trusts
	UntrustedCAKey  string `json:"untrusted_ca_key"`

	UntrustedCert string `json:"untrusted_cert"` // CN=demo-mtls issued by the untrusted CA
	UntrustedKey  string `json:"untrusted_key"`

	// Created lists the files written by this call; empty when everything was reused.
	Created []string `json:"created,omitempty"`
}

// Files returns every certificate and key path, in a stable order.
func (s *CertSet) Files() []string {
	return []string{s.CACert, s.CAKey, s.ServerCert, s.ServerKey, s.ClientCert, s.ClientKey,
		s.SPIFFECert, s.SPIFFEKey, s.ExpiredCert, s.ExpiredKey, s.UntrustedCACert, s.UntrustedCAKey,
		s.UntrustedCert, s.UntrustedKey}
}

// PathsIn returns the CertSet InitCerts would use for dir, without touching disk.
func PathsIn(dir string) *CertSet {
	p := func(name string) string { return filepath.Join(dir, name) }
	return &CertSet{
		Dir:    dir,
		CACert: p("ca.pem"), CAKey: p("ca-key.pem"),
		ServerCert: p("server.pem"), ServerKey: p("server-key.pem"),
		ClientCert: p("client.pem"), ClientKey: p("client-key.pem"),
		SPIFFECert: p("client-spiffe.pem"), SPIFFEKey: p("client-spiffe-key.pem"),
		ExpiredCert: p("client-expired.pem"), ExpiredKey: p("client-expired-key.pem"),
		UntrustedCACert: p("untrusted-ca.pem"), UntrustedCAKey: p("untrusted-ca-key.pem"),
		UntrustedCert: p("client-untrusted.pem"), UntrustedKey: p("client-untrusted-key.pem"),
	}
}

// InitCerts writes (or reuses) the demo certificates in dir: a missing
// directory is created 0700 (an existing one is left as it is) and every
// file is 0600. Existing files are kept when they
// still parse, match their key, chain to the CA in dir and are not about to
// expire, so a restarted IdP keeps its CA and clients keep trusting it.
func InitCerts(dir string, now time.Time) (*CertSet, error) {
	if dir == "" {
		return nil, errors.New("certs: no directory given")
	}
	// Only a directory created here is made 0700: an existing one keeps
	// its mode (a shared 1777 /tmp/x must not become private). The keys
	// are 0600 either way.
	switch st, err := os.Stat(dir); {
	case err == nil && !st.IsDir():
		return nil, fmt.Errorf("certs: %s exists and is not a directory", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("certs: %w", err)
	case err != nil:
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("certs: create %s: %w", dir, err)
		}
	}
	s := PathsIn(dir)
	g := &generator{now: now, set: s}

	ca, err := g.ca(s.CACert, s.CAKey, "authlab test CA")
	if err != nil {
		return nil, err
	}
	if err := g.leaf(ca, s.ServerCert, s.ServerKey, leafSpec{cn: "authlab test server", server: true}); err != nil {
		return nil, err
	}
	if err := g.leaf(ca, s.ClientCert, s.ClientKey, leafSpec{cn: ClientCN}); err != nil {
		return nil, err
	}
	if err := g.leaf(ca, s.SPIFFECert, s.SPIFFEKey, leafSpec{cn: ClientCN, spiffe: true}); err != nil {
		return nil, err
	}
	if err := g.leaf(ca, s.ExpiredCert, s.ExpiredKey, leafSpec{cn: ClientCN, expired: true}); err != nil {
		return nil, err
	}
	bad, err := g.ca(s.UntrustedCACert, s.UntrustedCAKey, "authlab untrusted CA")
	if err != nil {
		return nil, err
	}
	if err := g.leaf(bad, s.UntrustedCert, s.UntrustedKey, leafSpec{cn: ClientCN}); err != nil {
		return nil, err
	}
	return s, nil
}

type generator struct {
	now time.Time
	set *CertSet
}

type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type leafSpec struct {
	cn      string
	server  bool
	spiffe  bool
	expired bool
}

func (g *generator) ca(certPath, keyPath, cn string) (*issuer, error) {
	if cert, key, err := loadPair(certPath, keyPath); err == nil && cert.IsCA &&
		g.now.Before(cert.NotAfter.Add(-renewBefore)) && !g.now.Before(cert.NotBefore) {
		return &issuer{cert: cert, key: key}, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"authlab"}},
		NotBefore:             g.now.Add(-time.Hour),
		NotAfter:              g.now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("certs: create %s: %w", cn, err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := g.write(certPath, keyPath, der, key); err != nil {
		return nil, err
	}
	return &issuer{cert: cert, key: key}, nil
}

func (g *generator) leaf(ca *issuer, certPath, keyPath string, spec leafSpec) error {
	if cert, _, err := loadPair(certPath, keyPath); err == nil && cert.CheckSignatureFrom(ca.cert) == nil && g.leafStillGood(cert, spec) {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: spec.cn, Organization: []string{"authlab"}},
		NotBefore:    g.now.Add(-time.Hour),
		NotAfter:     g.now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if spec.server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	if spec.spiffe {
		u, _ := url.Parse(SPIFFEID)
		tmpl.URIs = []*url.URL{u}
	}
	if spec.expired {
		tmpl.NotBefore = g.now.Add(-30 * 24 * time.Hour)
		tmpl.NotAfter = g.now.Add(-24 * time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return fmt.Errorf("certs: create %s: %w", filepath.Base(certPath), err)
	}
	return g.write(certPath, keyPath, der, key)
}

func (g *generator) leafStillGood(c *x509.Certificate, spec leafSpec) bool {
	if spec.expired {
		return g.now.After(c.NotAfter)
	}
	if g.now.Before(c.NotBefore) || !g.now.Before(c.NotAfter.Add(-renewBefore)) {
		return false
	}
	if spec.spiffe && (len(c.URIs) != 1 || c.URIs[0].String() != SPIFFEID) {
		return false
	}
	if spec.server && c.VerifyHostname("127.0.0.1") != nil {
		return false
	}
	return true
}

func (g *generator) write(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certs: encode key: %w", err)
	}
	if err := flows.WritePrivateFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})); err != nil {
		return err
	}
	if err := flows.WritePrivateFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return err
	}
	g.set.Created = append(g.set.Created, certPath, keyPath)
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed serial
		// would still yield a valid (if less unique) test certificate.
		return big.NewInt(1)
	}
	return n.Add(n, big.NewInt(1))
}

// loadPair reads a certificate and its private key and checks they match.
func loadPair(certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	cert, key, _, _, err := readPair(certPath, keyPath)
	return cert, key, err
}

// readPair is loadPair that also returns the PEM it read, so LoadKeyPair
// builds its tls.Certificate from the same bytes without reading again.
func readPair(certPath, keyPath string) (cert *x509.Certificate, key crypto.Signer, certPEM, keyPEM []byte, err error) {
	if certPEM, err = flows.ReadFileCapped(certPath, flows.MaxKeyFileSize); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read certificate: %w", err)
	}
	certs, err := parseCerts(certPath, certPEM)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if keyPEM, err = flows.ReadFileCapped(keyPath, flows.MaxKeyFileSize); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read private key: %w", err)
	}
	if key, err = parseKey(keyPath, keyPEM); err != nil {
		return nil, nil, nil, nil, err
	}
	cert = certs[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, nil, nil, fmt.Errorf("%s does not match the key in %s", certPath, keyPath)
	}
	return cert, key, certPEM, keyPEM, nil
}

// LoadCert reads the first certificate of a PEM file.
func LoadCert(path string) (*x509.Certificate, error) {
	certs, err := LoadCerts(path)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// LoadCerts reads every certificate of a PEM file (a chain or a CA bundle).
func LoadCerts(path string) ([]*x509.Certificate, error) {
	data, err := flows.ReadFileCapped(path, flows.MaxKeyFileSize)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	return parseCerts(path, data)
}

// parseCerts decodes every CERTIFICATE block of data, read from path.
func parseCerts(path string, data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: bad certificate: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			return nil, flows.Errorf(flows.ErrConfig, "%s holds a private key, not a certificate (swapped %s and %s?)", path, flows.FieldCertFile, flows.FieldKeyFile)
		}
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block found", path)
	}
	return out, nil
}

// LoadKey reads a PEM private key (PKCS#8, EC or PKCS#1 RSA).
func LoadKey(path string) (crypto.Signer, error) {
	data, err := flows.ReadFileCapped(path, flows.MaxKeyFileSize)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	return parseKey(path, data)
}

// parseKey decodes a PEM private key read from path.
func parseKey(path string, data []byte) (crypto.Signer, error) {
	k, err := flows.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return k, nil
}
