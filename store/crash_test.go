package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// crashChildEnv makes the test binary act as the crash test's writer.
const crashChildEnv = "AUTHLAB_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	if path := os.Getenv(damageChildEnv); path != "" {
		os.Exit(damageChild(path, os.Getenv(damageChildMode)))
	}
	os.Exit(m.Run())
}

// crashChild writes profiles until it is killed, printing each name after
// its write returned. The loop is bounded in case the parent dies first.
func crashChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; i < 100000; i++ {
		p := fullProfile(fmt.Sprintf("crash-%06d", i))
		if err := s.PutProfile(p, false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// History too, so the kill can land in nested-bucket writes.
		if err := s.AddRun(Run{Profile: p.Name, Flow: "client-credentials", OK: true}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// os.Stdout is unbuffered: once this returns, the parent can read it.
		if _, err := fmt.Fprintln(os.Stdout, p.Name); err != nil {
			return 1
		}
	}
	return 0
}

func TestCrashSafety(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	const killAfter = 150
	var reported []string
	deadline := time.After(60 * time.Second)
	for len(reported) < killAfter {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("child exited after %d writes: %s", len(reported), stderr.String())
			}
			reported = append(reported, l)
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("child reported only %d writes in 60s", len(reported))
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Lines written before the kill landed still count as returned writes.
	for l := range lines {
		reported = append(reported, l)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v (%s)", err, stderr.String())
	}

	s, err := Open(path, WithTimeout(5*time.Second))
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer s.Close()
	for _, name := range reported {
		p, err := s.GetProfile(name)
		if err != nil {
			t.Fatalf("profile %s was reported written but is missing: %v", name, err)
		}
		if v, _ := p.Secrets[ClientSecret].Resolve(); v != "cs-value-1" {
			t.Fatalf("profile %s lost its secret", name)
		}
	}
	// bbolt's own consistency check over every page.
	err = s.db.View(func(tx *bolt.Tx) error {
		for cerr := range tx.Check() {
			return cerr
		}
		return nil
	})
	if err != nil {
		t.Fatalf("store check after SIGKILL: %v", err)
	}
	// And it still takes writes.
	if err := s.PutProfile(fullProfile("after-crash"), false); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes reported before SIGKILL, all present", len(reported))
}
