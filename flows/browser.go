package flows

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"github.com/pkg/browser"
)

// quietBrowser points pkg/browser's output at io.Discard the first time
// the system browser is opened, not on import: importing flows changes no
// other package's state.
var quietBrowser sync.Once

// OpenBrowser opens u for the user. command is the $BROWSER convention: a
// command that takes the URL (the first entry of a ':'-separated list, its
// "%s" replaced by the URL, or the URL appended), run without a shell and
// with its output discarded. Empty: the system browser (github.com/pkg/browser).
// The browser is never waited for or killed: it may be the user's own.
func OpenBrowser(command, u string) error {
	if strings.TrimSpace(command) == "" {
		// pkg/browser copies the opener's output to these; keep it off our
		// stdout and stderr, where it would corrupt --json or scribble over
		// the console. (Its only knobs are these variables.)
		quietBrowser.Do(func() { browser.Stdout, browser.Stderr = io.Discard, io.Discard })
		return browser.OpenURL(u)
	}
	first, _, _ := strings.Cut(command, ":")
	fields := strings.Fields(first)
	if len(fields) == 0 {
		return fmt.Errorf("$BROWSER %q names no command", command)
	}
	substituted := false
	for i, f := range fields {
		if strings.Contains(f, "%s") {
			fields[i] = strings.ReplaceAll(f, "%s", u)
			substituted = true
		}
	}
	if !substituted {
		fields = append(fields, u)
	}
	cmd := exec.Command(fields[0], fields[1:]...) // nil Stdout/Stderr: the null device
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %v", fields[0], err)
	}
	go func() { _ = cmd.Wait() }() // reap it, whenever it ends
	return nil
}
