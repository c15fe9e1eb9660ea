package browsertest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// stopper records how Path ended a test instead of ending this one.
type stopper struct {
	testing.TB
	how, msg string
}

func (s *stopper) Fatal(args ...any) { s.stop("fatal", args) }
func (s *stopper) Skip(args ...any)  { s.stop("skip", args) }

func (s *stopper) stop(how string, args []any) {
	s.how = how
	for _, a := range args {
		s.msg += a.(string)
	}
	runtime.Goexit() // as testing does: nothing after the call runs
}

// pathIn runs Path in its own goroutine (Fatal and Skip end it).
func pathIn(t *testing.T) (p string, s *stopper) {
	s = &stopper{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p = Path(s)
	}()
	<-done
	return p, s
}

func TestPathMissingSkipsOrFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireEnv, "")
	if _, s := pathIn(t); s.how != "skip" || !strings.Contains(s.msg, RequireEnv+"=1 to fail") {
		t.Errorf("without %s: %s %q, want a skip", RequireEnv, s.how, s.msg)
	}
	t.Setenv(RequireEnv, "1")
	if _, s := pathIn(t); s.how != "fatal" || !strings.Contains(s.msg, "chromium not found") {
		t.Errorf("with %s=1: %s %q, want a failure", RequireEnv, s.how, s.msg)
	}
}

func TestPathFound(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "chromium-browser")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv(RequireEnv, "1")
	if p, s := pathIn(t); p != exe || s.how != "" {
		t.Errorf("Path = %q (%s %q), want %s", p, s.how, s.msg, exe)
	}
}
