package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"authlab/store"
)

// TestDemoStartsSeedsAndStopsIdP runs `authlab demo` in-process with "q" as
// input: the console starts, the demo profiles are seeded, and quitting
// stops the embedded IdP.
func TestDemoStartsSeedsAndStopsIdP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, stdin: strings.NewReader("q"), noColor: true}
	done := make(chan int, 1)
	go func() { done <- execute([]string{"demo", "--store", path}, g) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("authlab demo did not quit on q")
	}
	var names []string
	if err := store.View(path, func(s *store.Store) error {
		ps, err := s.ListProfiles()
		for _, p := range ps {
			if p.Demo {
				names = append(names, p.Name)
			}
		}
		return err
	}, store.ReadOnly()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"demo-client-credentials", "demo-auth-code-pkce", "demo-auth-code-confidential", "demo-device",
		"demo-token-exchange", "demo-hmac", "demo-mtls", "demo-broken-wrong-secret"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("demo profile %s not seeded (have %v)", want, names)
		}
	}
	m := regexp.MustCompile(`IdP (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the console did not show the IdP's URL; output %q", out.String())
	}
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get(m[1] + "/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Errorf("the IdP at %s still answers after quitting", m[1])
	}
}

// TestConsoleLockedStoreIsOneLine: a store held by another process is a
// clear error before the terminal is touched, not a hang or a blank screen.
func TestConsoleLockedStoreIsOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, stdin: strings.NewReader("q"), noColor: true}
	code := execute([]string{"--store", path}, g)
	if code != exitUsage { // a configuration error, as for `profile list`
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if msg := errb.String(); !strings.Contains(msg, "in use") || strings.Count(msg, "\n") != 1 {
		t.Errorf("stderr = %q, want one line saying the store is in use", msg)
	}
	if out.Len() != 0 {
		t.Errorf("the console wrote to the terminal before failing: %q", out.String())
	}
}

// TestConsoleCorruptStoreIsOneLine: a damaged store is a configuration error
// (exit 2) in one line that names the path once, and the file is untouched.
func TestConsoleCorruptStoreIsOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	content := []byte("this is not a database\n")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, stdin: strings.NewReader("q"), noColor: true}
	code := execute([]string{"--store", path}, g)
	msg := errb.String()
	if code != exitUsage || strings.Count(msg, "\n") != 1 || strings.Count(msg, path) != 1 || !strings.Contains(msg, "not a valid authlab store") {
		t.Fatalf("exit %d, stderr %q; want exit %d and one line naming %s once", code, msg, exitUsage, path)
	}
	if out.Len() != 0 {
		t.Errorf("the console wrote to the terminal before failing: %q", out.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
		t.Error("the corrupt store was modified")
	}
}
