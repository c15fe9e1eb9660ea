package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// openBounded runs Open in a goroutine so that a regression that blocks
// (opening a FIFO waits for a writer) fails the test instead of hanging it.
func openBounded(t *testing.T, path string, opts ...Option) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		s, err := Open(path, opts...)
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("Open(%s) did not return", path)
		return nil
	}
}

func TestOpenRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for path, what := range map[string]string{fifo: "a named pipe (FIFO)", dir: "a directory", os.DevNull: "a device"} {
		for _, opts := range [][]Option{nil, {ReadOnly()}} {
			err := openBounded(t, path, opts...)
			want := fmt.Sprintf("store %s is %s, not a store file", path, what)
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Open(%s, read-only %v) = %v, want one line starting %q", path, len(opts) > 0, err, want)
			}
		}
	}
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatal("the FIFO was replaced")
	}
}

// Parallel scripts: writers queue behind one that holds the lock longer
// than the old 1 s wait, and every one of them succeeds.
func TestParallelWritersWaitForTheLock(t *testing.T) {
	t.Setenv(TimeoutEnv, "")
	path := filepath.Join(t.TempDir(), "authlab.db")
	holder, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 20
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Update(path, func(s *Store) error { return s.PutProfile(fullProfile(fmt.Sprintf("p%02d", i)), false) })
		}()
	}
	// A slow writer (a big import, a compaction): 1.5 s under the lock.
	time.Sleep(1500 * time.Millisecond)
	holder.Close()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Minute):
		t.Fatal("writers did not finish")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a writer failed: %v", err)
		}
	}
	if err := View(path, func(s *Store) error {
		list, err := s.ListProfiles()
		if err == nil && len(list) != writers {
			err = fmt.Errorf("%d profiles, want %d", len(list), writers)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestLockTimeoutFromTheEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	holder, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	t.Setenv(TimeoutEnv, "200ms")
	start := time.Now()
	err = openBounded(t, path)
	if !errors.Is(err, ErrInUse) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want in use", err)
	}
	if elapsed := time.Since(start); elapsed >= DefaultTimeout {
		t.Errorf("waited %v: %s=200ms was not used", elapsed, TimeoutEnv)
	}
	for _, bad := range []string{"soon", "-1s", "0"} {
		t.Setenv(TimeoutEnv, bad)
		if err := openBounded(t, path); err == nil || !strings.HasPrefix(err.Error(), TimeoutEnv+"=") {
			t.Errorf("%s=%s: %v", TimeoutEnv, bad, err)
		}
	}
}
