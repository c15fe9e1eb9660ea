package mtls

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within fails the test when f does not return in time, so a regression
// (reading /dev/zero or a FIFO forever) fails instead of hanging the suite.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("did not return within 5s")
		return nil
	}
}

func TestLoadersRefuseDevicesAndFIFOs(t *testing.T) {
	s, err := InitCerts(filepath.Join(t.TempDir(), "certs"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(big, make([]byte, 1<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/dev/zero", fifo, big} {
		want := bad + " is not a regular file"
		if bad == big {
			want = bad + " is larger than 1048576 bytes"
		}
		cases := map[string]func() error{
			"cert": func() error { _, err := LoadClientTLS(bad, s.ClientKey, ""); return err },
			"key":  func() error { _, err := LoadClientTLS(s.ClientCert, bad, ""); return err },
			"ca":   func() error { _, err := LoadClientTLS("", "", bad); return err },
		}
		for name, f := range cases {
			err := within(t, f)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("--%s %s: err = %v, want %q", name, bad, err, want)
			}
		}
	}
	// The real pair still loads.
	if _, err := LoadClientTLS(s.ClientCert, s.ClientKey, s.CACert); err != nil {
		t.Fatal(err)
	}
}
