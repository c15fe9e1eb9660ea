package flows

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/pkg/browser"
)

// TestSystemBrowserOutputDiscarded: importing flows leaves pkg/browser's
// output alone; opening the system browser points it at io.Discard, so
// the opener's chatter never reaches --json or the console.
func TestSystemBrowserOutputDiscarded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake opener is xdg-open, what pkg/browser runs on Linux")
	}
	if browser.Stdout != os.Stdout || browser.Stderr != os.Stderr {
		t.Fatal("pkg/browser's output was redirected before any browser was opened")
	}
	t.Cleanup(func() { // as a fresh process has it, for -count=N
		browser.Stdout, browser.Stderr = os.Stdout, os.Stderr
		quietBrowser = sync.Once{}
	})
	dir := t.TempDir()
	opened := filepath.Join(dir, "opened")
	script := "#!/bin/sh\necho opener says hi\necho opener complains >&2\nprintf %s \"$1\" > " + opened + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	const u = "http://127.0.0.1:1/authorize?state=s"
	if err := OpenBrowser(" ", u); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(opened); err != nil || string(b) != u {
		t.Fatalf("the opener got %q (%v), want %q", b, err, u)
	}
	if browser.Stdout != io.Discard || browser.Stderr != io.Discard {
		t.Errorf("pkg/browser's output goes to %v and %v, want io.Discard", browser.Stdout, browser.Stderr)
	}
}
