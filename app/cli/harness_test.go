package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runDeadline bounds one in-process run: a regression that reads a device or
// FIFO forever, or waits on a server that never answers, fails the test
// instead of hanging the suite.
const runDeadline = 60 * time.Second

// runAuthlab is the one CLI test harness: it runs the command tree in-process
// against store (a fresh temporary store when empty) with stdin as standard
// input, and returns the exit status and what was printed.
func runAuthlab(t *testing.T, store, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if store == "" {
		store = filepath.Join(t.TempDir(), "authlab.db")
	}
	code, stdout, stderr, ok := runAuthlabBounded(store, stdin, args...)
	if !ok {
		t.Fatalf("authlab %s did not finish within %s", strings.Join(args, " "), runDeadline)
	}
	return code, stdout, stderr
}

// runAuthlabBounded is runAuthlab for goroutines other than the test's
// (which may not call t.Fatal): ok is false when the run outlived
// runDeadline, and the caller reports it from the test goroutine.
func runAuthlabBounded(store, stdin string, args ...string) (code int, stdout, stderr string, ok bool) {
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(append([]string{"--store", store}, args...), strings.NewReader(stdin), &out, &errb)
	}()
	select {
	case code = <-done:
		return code, out.String(), errb.String(), true
	case <-time.After(runDeadline):
		return 0, "", "", false
	}
}

// syncBuffer is a bytes.Buffer safe to read while a timed-out run still writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
