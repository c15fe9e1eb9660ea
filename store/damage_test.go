package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// The damage test runs each open in a child process: a regression that
// faults on the mapping then fails the test instead of killing the binary.
const (
	damageChildEnv  = "AUTHLAB_STORE_DAMAGE_CHILD"
	damageChildMode = "AUTHLAB_STORE_DAMAGE_MODE"
)

// damageChild does what `profile list/show/export` (mode "read") or
// `profile add` (mode "write") do and prints the error, or "ok".
func damageChild(path, mode string) int {
	var err error
	if mode == "write" {
		err = Update(path, func(s *Store) error { return s.PutProfile(fullProfile("added"), false) })
	} else {
		err = View(path, func(s *Store) error {
			list, err := s.ListProfiles()
			if err != nil {
				return err
			}
			for _, p := range list {
				if _, err := s.GetProfile(p.Name); err != nil {
					return err
				}
			}
			_, err = s.Export(nil, false)
			return err
		})
	}
	if err == nil {
		fmt.Println("ok")
		return 0
	}
	fmt.Println(err)
	if errors.Is(err, ErrCorrupt) {
		return 3
	}
	return 4
}

// damagedStore writes a store big enough to span many pages and returns its
// bytes and the page size and root page of the profiles bucket.
func damagedStore(t *testing.T, path string) (data []byte, pageSize int, used int, profilesRoot uint64) {
	t.Helper()
	err := Update(path, func(s *Store) error {
		for i := 0; i < 300; i++ {
			p := fullProfile(fmt.Sprintf("p%03d", i))
			p.Notes = strings.Repeat("n", 200)
			if err := s.PutProfile(p, false); err != nil {
				return err
			}
		}
		pageSize = s.db.Info().PageSize
		return s.db.View(func(tx *bolt.Tx) error {
			profilesRoot = uint64(tx.Bucket([]byte(bucketProfiles)).Root())
			used = int(tx.Size()) // high-water mark × page size; bbolt grows the file beyond it
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, pageSize, used, profilesRoot
}

func TestDamagedStoreIsOneLineError(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, ps, used, root := damagedStore(t, filepath.Join(dir, "good.db"))
	if used < 8*ps || root < 2 || len(good) < used {
		t.Fatalf("store too small for the test: %d bytes, profiles root %d", len(good), root)
	}
	zeroed := bytes.Clone(good)
	clear(zeroed[int(root)*ps : int(root+1)*ps])
	cases := map[string][]byte{
		"cut-4096":       good[:4096],
		"cut-10000":      good[:10000],
		"cut-half":       good[:used/2],
		"cut-last-page":  good[:used-ps],
		"cut-one-byte":   good[:used-1],
		"zeroed-profile": zeroed,
	}
	for name, content := range cases {
		path := filepath.Join(dir, name+".db")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"read", "write"} {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), damageChildEnv+"="+path, damageChildMode+"="+mode)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			out := strings.TrimSuffix(stdout.String(), "\n")
			if code != 3 || strings.Contains(out, "\n") || !strings.Contains(out, path) || stderr.Len() > 0 {
				t.Errorf("%s (%s): exit %d (%v), want a one-line ErrCorrupt naming the file\nstdout: %s\nstderr: %.600s", name, mode, code, err, out, stderr.String())
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
				t.Errorf("%s (%s): the file was modified", name, mode)
			}
		}
	}
}

func TestTruncatedStoreNamesSizes(t *testing.T) {
	dir := t.TempDir()
	good, ps, used, _ := damagedStore(t, filepath.Join(dir, "good.db"))
	path := filepath.Join(dir, "cut.db")
	if err := os.WriteFile(path, good[:10000], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, ReadOnly())
	want := fmt.Sprintf("store %s is damaged: the file is 10000 bytes but its header says %d; restore a backup or move it away", path, used)
	if !errors.Is(err, ErrCorrupt) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	// A torn first header: bbolt falls back to the second, and so do we.
	torn := bytes.Clone(good)
	torn[pageHeaderSize+20] ^= 0xff
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkHeader(path); err != nil {
		t.Fatalf("one good header: %v", err)
	}
	// Both headers bad: not a bbolt file.
	torn[ps+pageHeaderSize+20] ^= 0xff
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkHeader(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "both of its headers") {
		t.Fatalf("two bad headers: %v", err)
	}
}
