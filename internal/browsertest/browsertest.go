// Package browsertest starts headless Chromium for tests (through
// chromedp). It serves the tests of several packages (flows/oauth,
// mockidp), so it belongs to none of them; it imports package testing, so
// only tests import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// RequireEnv is the variable that turns a missing browser from a skip into
// a failure (CI sets it to 1).
const RequireEnv = "AUTHLAB_REQUIRE_BROWSER"

// Path finds Chromium on $PATH. Without it the test is skipped, or fails
// when AUTHLAB_REQUIRE_BROWSER=1.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal("chromium not found and " + RequireEnv + "=1 (install the Debian package chromium)")
	}
	t.Skip("chromium not found (set " + RequireEnv + "=1 to fail instead)")
	return ""
}

// Start starts headless Chromium (found as Path finds it) with a throwaway
// profile and returns the context of its first tab; chromedp.NewContext of
// that context opens more tabs in the same browser. The browser stops when
// ctx ends or the test does.
func Start(ctx context.Context, t testing.TB) context.Context {
	t.Helper()
	exe := Path(t)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	bctx, bcancel := chromedp.NewContext(actx)
	// Registered after TempDir's cleanup, so it runs first: the browser is
	// gone before its profile is removed.
	t.Cleanup(func() {
		bcancel()
		acancel()
	})
	if err := chromedp.Do(bctx); err != nil { // launch it now, so a broken install fails here
		t.Fatalf("chromium: %v", err)
	}
	return bctx
}

// WaitText polls expr in tab until it yields a non-empty string. A page that
// navigates while it is polled (a relay page posting on, a form_post page
// submitting itself) destroys the execution context the poll runs in; that
// error says nothing of the page, so the poll starts again, a bounded number
// of times.
func WaitText(tab context.Context, expr string) (string, error) {
	var err error
	for range 20 {
		var text string
		text, err = chromedp.Run(tab, chromedp.Poll[string](expr))
		if err == nil || !strings.Contains(err.Error(), "Cannot find context with specified id") || tab.Err() != nil {
			return text, err
		}
	}
	return "", err
}
