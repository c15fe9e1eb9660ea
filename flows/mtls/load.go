package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"authlab/flows"
)

// LoadCAPool reads a PEM bundle of CA certificates into a pool.
func LoadCAPool(path string) (*x509.CertPool, error) {
	certs, err := LoadCerts(path)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// LoadKeyPair reads a client or server certificate (chain) and its key and
// checks that they belong together, with a message naming both files.
func LoadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	if certPath == "" || keyPath == "" {
		return tls.Certificate{}, flows.Errorf(flows.ErrConfig, "a certificate needs both %s and %s", flows.FieldCertFile, flows.FieldKeyFile)
	}
	// The capped reader, not tls.LoadX509KeyPair, which would read a
	// swapped-in device or FIFO without limit.
	_, _, certPEM, keyPEM, err := readPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load %s / %s: %w", certPath, keyPath, err)
	}
	return pair, nil
}

// LoadClientTLS builds a client TLS config: cert/key (both or neither) as the
// client certificate, sent whenever the server asks; ca (optional) as the
// only trusted roots instead of the system's.
func LoadClientTLS(cert, key, ca string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cert != "" || key != "" {
		pair, err := LoadKeyPair(cert, key)
		if err != nil {
			return nil, err
		}
		// Always present our certificate when asked. With Certificates, Go
		// silently sends none when the issuer is not among the server's
		// acceptable CAs, which hides exactly the failure being debugged
		// (and breaks self-signed tls_client_auth).
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	if ca != "" {
		pool, err := LoadCAPool(ca)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// ServerTLSConfig is the server side for the mock IdP and tests: the set's
// server certificate, and client certificates checked against its CA with
// the given policy (tls.VerifyClientCertIfGiven serves both plain and mTLS
// clients on one listener; tls.RequireAndVerifyClientCert demands one).
func (s *CertSet) ServerTLSConfig(clientAuth tls.ClientAuthType) (*tls.Config, error) {
	pair, err := LoadKeyPair(s.ServerCert, s.ServerKey)
	if err != nil {
		return nil, err
	}
	pool, err := LoadCAPool(s.CACert)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   clientAuth,
	}, nil
}

// ClientTLSConfig is a client config trusting the set's CA and presenting
// the given certificate pair (empty paths: no client certificate).
func (s *CertSet) ClientTLSConfig(certPath, keyPath string) (*tls.Config, error) {
	return LoadClientTLS(certPath, keyPath, s.CACert)
}
