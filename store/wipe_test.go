package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

// fileHolds reports which of the values appear anywhere in the store file,
// freed pages included.
func fileHolds(t *testing.T, path string, values ...string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, v := range values {
		if bytes.Contains(raw, []byte(v)) {
			found = append(found, v)
		}
	}
	return found
}

func secretProfile(name, value string) Profile {
	return Profile{Name: name, Kind: KindClientCredentials, TokenURL: "https://idp.example.com/token", ClientID: "c",
		Secrets: map[SecretKind]Secret{ClientSecret: SecretValue(value), APIKey: ParseSecret("env:AK")}}
}

// bbolt frees the pages of deleted values without wiping them: profile rm,
// a replaced or dropped secret and a forgotten token must not stay readable
// in the file.
func TestRemovedSecretsLeaveNoTraceInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	const (
		gone    = "rm-secret-Vb71"
		tok     = "cached-access-token-Lq02"
		refresh = "cached-refresh-token-Lq03"
		kept    = "kept-secret-Hh55"
	)
	err := Update(path, func(s *Store) error {
		for _, p := range []Profile{secretProfile("gone", gone), secretProfile("keep", kept)} {
			if err := s.PutProfile(p, false); err != nil {
				return err
			}
		}
		res := tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": tok, "refresh_token": refresh})
		if err := s.RecordRun("gone", res); err != nil {
			return err
		}
		return s.RecordRun("keep", tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": "keep-at"}))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fileHolds(t, path, gone, tok, refresh); len(got) != 3 {
		t.Fatalf("fixture: the file holds %v before rm", got)
	}
	if err := Update(path, func(s *Store) error { return s.DeleteProfile("gone") }); err != nil {
		t.Fatal(err)
	}
	if got := fileHolds(t, path, gone, tok, refresh); len(got) != 0 {
		t.Fatalf("after rm the file still holds %v", got)
	}
	// Everything else survived the compaction, history sequences included.
	err = Update(path, func(s *Store) error {
		p, err := s.GetProfile("keep")
		if err != nil {
			return err
		}
		if v, _ := p.Secrets[ClientSecret].Resolve(); v != kept || p.TrustError() != nil {
			t.Errorf("kept profile: %q %v", v, p.TrustError())
		}
		if _, err := s.GetToken("keep"); err != nil {
			t.Errorf("kept token: %v", err)
		}
		if err := s.RecordRun("keep", tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": "keep-at-2"})); err != nil {
			return err
		}
		if runs, _ := s.History("keep", 0); len(runs) != 2 {
			t.Errorf("history after compaction: %d runs", len(runs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after compaction: %v %v", fi, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*compact*")); len(m) != 0 {
		t.Fatalf("left temporary files: %v", m)
	}

	// A replaced secret, a secret dropped by profile add --force, and a
	// forgotten cached token go the same way.
	const replaced, dropped = "replaced-secret-Pp10", "dropped-secret-Pp11"
	steps := []struct {
		name  string
		value string
		do    func(s *Store) error
	}{
		{"replace", replaced, func(s *Store) error { return s.PutProfile(secretProfile("keep", "new-secret-Pp12"), true) }},
		{"drop", dropped, func(s *Store) error {
			_, err := s.SaveProfile(Profile{Name: "keep", Kind: KindClientCredentials, TokenURL: "https://idp.example.com/token"}, SaveOptions{Replace: true})
			return err
		}},
	}
	for _, st := range steps {
		if err := Update(path, func(s *Store) error { return s.PutProfile(secretProfile("keep", st.value), true) }); err != nil {
			t.Fatal(err)
		}
		if got := fileHolds(t, path, st.value); len(got) != 1 {
			t.Fatalf("%s fixture: %v", st.name, got)
		}
		if err := Update(path, st.do); err != nil {
			t.Fatal(err)
		}
		if got := fileHolds(t, path, st.value); len(got) != 0 {
			t.Fatalf("%s: the old value is still in the file", st.name)
		}
	}
	err = Update(path, func(s *Store) error {
		return s.PutToken("keep", CachedToken{Flow: "client-credentials", Response: json.RawMessage(`{"access_token":"forget-me-Zz9"}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(path, func(s *Store) error { return s.DeleteToken("keep") }); err != nil {
		t.Fatal(err)
	}
	if got := fileHolds(t, path, "forget-me-Zz9"); len(got) != 0 {
		t.Fatal("a deleted token is still in the file")
	}
}

// A process that waited for the lock while another compacted the store
// (renaming a new file into place) must use the new file, not the old one:
// its changes would be lost, and it would read a removed secret.
func TestOpenAfterCompactionUsesNewFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("watches /proc/self/fd")
	}
	path := filepath.Join(t.TempDir(), "authlab.db")
	if err := Update(path, func(s *Store) error { return s.PutProfile(secretProfile("gone", "s-Wt1"), false) }); err != nil {
		t.Fatal(err)
	}
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	before := fdsOn(t, path)
	opened := make(chan error, 1)
	go func() {
		// Blocks on the lock the first open holds.
		opened <- Update(path, func(s *Store) error {
			if _, err := s.GetProfile("gone"); err == nil {
				t.Error("the waiting open read the old file: the removed profile is there")
			}
			return s.PutProfile(secretProfile("later", "s-Wt2"), false)
		}, WithTimeout(30*time.Second))
	}()
	// Wait (bounded) until the waiting open holds a descriptor of the old file.
	for i := 0; fdsOn(t, path) <= before; i++ {
		if i == 5000 {
			t.Fatal("the second open never opened the file")
		}
		time.Sleep(time.Millisecond)
	}
	if err := first.DeleteProfile("gone"); err != nil { // compacts: a new file at path
		t.Fatal(err)
	}
	first.Close()
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	err = View(path, func(s *Store) error {
		list, err := s.ListProfiles()
		if err != nil || len(list) != 1 || list[0].Name != "later" {
			t.Errorf("after both: %+v %v (a write went to the replaced file)", list, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fdsOn counts this process's open descriptors of path.
func fdsOn(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.TrimSuffix(l, " (deleted)") == path {
			n++
		}
	}
	return n
}
