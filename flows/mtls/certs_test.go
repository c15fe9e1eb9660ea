package mtls

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func TestInitCertsWritesAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	s, err := InitCerts(dir, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Created) != len(s.Files()) {
		t.Fatalf("first run created %d files, want %d", len(s.Created), len(s.Files()))
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	for _, f := range s.Files() {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	ca, _ := LoadCert(s.CACert)
	before, _ := os.ReadFile(s.CACert)

	// Second run: everything reused, the CA unchanged.
	s2, err := InitCerts(dir, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.Created) != 0 {
		t.Fatalf("second run rewrote %v", s2.Created)
	}
	after, _ := os.ReadFile(s.CACert)
	if string(before) != string(after) {
		t.Fatal("CA changed on reuse")
	}

	// A deleted client cert is regenerated under the same CA.
	os.Remove(s.ClientCert)
	s3, err := InitCerts(dir, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(s3.Created) != 2 {
		t.Fatalf("regenerated %v, want only the client pair", s3.Created)
	}
	c, _ := LoadCert(s.ClientCert)
	if err := c.CheckSignatureFrom(ca); err != nil {
		t.Fatal("regenerated client not signed by the kept CA:", err)
	}

	// Close to leaf expiry the leaves are renewed, the CA kept.
	s4, err := InitCerts(dir, testNow.Add(leafLifetime-renewBefore+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(s4.Created) == 0 {
		t.Fatal("leaves near expiry were not renewed")
	}
	for _, f := range s4.Created {
		if f == s.CACert {
			t.Fatal("CA renewed although it is valid for years")
		}
	}
}

func TestInitCertsContents(t *testing.T) {
	s, err := InitCerts(t.TempDir(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := LoadCAPool(s.CACert)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := LoadCert(s.ServerCert)
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := server.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, CurrentTime: testNow}); err != nil {
			t.Errorf("server cert for %s: %v", host, err)
		}
	}
	clientOpts := x509.VerifyOptions{Roots: pool, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, p := range []string{s.ClientCert, s.SPIFFECert} {
		c, _ := LoadCert(p)
		if c.Subject.CommonName != ClientCN {
			t.Errorf("%s CN = %q", p, c.Subject.CommonName)
		}
		if _, err := c.Verify(clientOpts); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	sp, _ := LoadCert(s.SPIFFECert)
	if len(sp.URIs) != 1 || sp.URIs[0].String() != SPIFFEID {
		t.Errorf("SPIFFE URIs = %v", sp.URIs)
	}
	exp, _ := LoadCert(s.ExpiredCert)
	if _, err := exp.Verify(clientOpts); err == nil {
		t.Error("expired cert verifies")
	}
	if exp.CheckSignatureFrom(mustCert(t, s.CACert)) != nil {
		t.Error("expired cert not from the trusted CA")
	}
	un, _ := LoadCert(s.UntrustedCert)
	if _, err := un.Verify(clientOpts); err == nil {
		t.Error("untrusted cert verifies against the trusted CA")
	}
	if _, err := LoadClientTLS(s.ClientCert, s.SPIFFEKey, s.CACert); err == nil {
		t.Error("mismatched cert and key accepted")
	}
	if _, err := LoadClientTLS(s.ClientKey, s.ClientCert, ""); err == nil {
		t.Error("swapped cert and key accepted")
	}
}

func mustCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	c, err := LoadCert(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Only a directory InitCerts creates is made 0700; an existing one (a
// shared 1777 directory) keeps its mode.
func TestInitCertsLeavesAnExistingDirectorysMode(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	s, err := InitCerts(shared, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(shared); st.Mode()&(os.ModePerm|os.ModeSticky) != 0o777|os.ModeSticky {
		t.Fatalf("existing directory mode became %v, want drwxrwxrwt", st.Mode())
	}
	for _, f := range s.Files() {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", f, st.Mode(), err)
		}
	}
	fresh := filepath.Join(t.TempDir(), "a", "b")
	if _, err := InitCerts(fresh, testNow); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{fresh, filepath.Dir(fresh)} {
		if st, _ := os.Stat(d); st.Mode().Perm() != 0o700 {
			t.Errorf("new directory %s is %v, want 0700", d, st.Mode().Perm())
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := InitCerts(file, testNow); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as the directory: %v", err)
	}
}
