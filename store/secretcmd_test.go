package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// An imported cmd: reference runs a program the file's author chose: it is
// refused, without running anything, until a person confirms it.
func TestImportedCommandReferenceRunsOnlyAfterTrust(t *testing.T) {
	s, _ := openTemp(t)
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	script := filepath.Join(dir, "fake-pass")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch '"+ran+"'\necho cmd-secret-Zq7\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ref := "cmd:" + script + " show api/client-secret"
	if _, err := s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://idp.example/token", ref)), false); err != nil {
		t.Fatal(err)
	}
	p, err := s.GetProfile("api")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Secrets[ClientSecret].Ref(); got != ref {
		t.Fatalf("ref %q, want %q", got, ref)
	}
	if v, err := p.Secrets[ClientSecret].Resolve(); !errors.Is(err, ErrUntrusted) || v != "" {
		t.Fatalf("untrusted resolve: %q %v", v, err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("the imported program ran before anyone confirmed it")
	}
	items, err := s.TrustItems("api")
	if err != nil || len(items) != 1 || items[0].Source != ref {
		t.Fatalf("trust items %+v %v", items, err)
	}
	if err := s.ConfirmTrust("api", items); err != nil {
		t.Fatal(err)
	}
	p, _ = s.GetProfile("api")
	if v, err := p.Secrets[ClientSecret].Resolve(); err != nil || v != "cmd-secret-Zq7" {
		t.Fatalf("confirmed resolve: %q %v", v, err)
	}
}

func TestCommandReferenceParsing(t *testing.T) {
	sec := ParseSecret("cmd:pass show api/client-secret")
	if !sec.IsRef() || sec.String() != "cmd:pass show api/client-secret" {
		t.Fatalf("ParseSecret: %v ref=%v", sec, sec.IsRef())
	}
	for _, bad := range []string{"cmd:", "cmd:   ", `cmd:pass "unterminated`} {
		if err := ParseSecret(bad).check(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ParseSecret("cmd:/nonexistent/authlab-helper").Resolve(); err == nil || err.Error() == "" {
		t.Fatal("missing program: no error")
	}
}
