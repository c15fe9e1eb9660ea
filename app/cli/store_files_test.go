package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO given as --store is refused in one line (exit 2) instead of
// blocking until someone writes to it.
func TestStoreThatIsAFIFOIsRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "store.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, args := range [][]string{
		{"profile", "list"},
		{"profile", "add", "p", "--kind", "client-credentials", "--token-url", "https://idp.test/token", "--client-id", "c"},
	} {
		code, _, errs := runAuthlab(t, fifo, "", args...)
		if code != 2 || !strings.Contains(errs, "is a named pipe (FIFO), not a store file") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}
