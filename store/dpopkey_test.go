package store

import (
	"errors"
	"path/filepath"
	"testing"
)

// A DPoP profile gets one key of its own, once: the second run finds it.
func TestEnsureDPoPKeyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	if err := Update(path, func(s *Store) error {
		return s.PutProfile(Profile{Name: "d", Kind: KindClientCredentials, TokenURL: "https://idp.example.com/token", ClientID: "c", DPoP: true}, false)
	}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	gen := func(alg string) ([]byte, error) {
		calls++
		return []byte("-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n"), nil
	}
	for i, want := range []bool{true, false} {
		created, err := EnsureDPoPKey(path, "d", gen)
		if err != nil || created != want {
			t.Fatalf("call %d: created=%v err=%v, want %v", i, created, err, want)
		}
	}
	p, err := LoadProfile(path, "d")
	if err != nil || p.Secrets[DPoPKey].IsZero() || calls != 1 {
		t.Fatalf("key kept: %v, %d generations, err %v", !p.Secrets[DPoPKey].IsZero(), calls, err)
	}
	if err := p.TrustError(); err != nil {
		t.Fatalf("a generated key needs no confirmation: %v", err)
	}
	// A profile without DPoP is left alone; a failing generator says why.
	if err := Update(path, func(s *Store) error {
		return s.PutProfile(Profile{Name: "plain", Kind: KindClientCredentials, TokenURL: "https://idp.example.com/token", ClientID: "c"}, false)
	}); err != nil {
		t.Fatal(err)
	}
	if created, err := EnsureDPoPKey(path, "plain", gen); created || err != nil || calls != 1 {
		t.Fatalf("plain profile: %v %v", created, err)
	}
	if err := Update(path, func(s *Store) error {
		return s.PutProfile(Profile{Name: "d2", Kind: KindClientCredentials, TokenURL: "https://idp.example.com/token", ClientID: "c", DPoP: true}, false)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDPoPKey(path, "d2", func(string) ([]byte, error) { return nil, errors.New("no entropy") }); err == nil {
		t.Fatal("a failing generator was not reported")
	}
}
