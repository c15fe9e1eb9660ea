package console

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportRefusesDevicesAndFIFOs: importing /dev/zero or a FIFO fails at
// once with a one-line reason instead of hanging the console.
func TestImportRefusesDevicesAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	b := &StoreBackend{Path: filepath.Join(dir, "authlab.db")}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/zero", fifo, dir} {
		done := make(chan error, 1)
		go func() { _, err := b.Import(p); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != p+" is not a regular file" {
				t.Errorf("Import(%s) err = %v", p, err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("Import(%s): multi-line error %q", p, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("Import(%s) did not return within 5s", p)
		}
	}
}
