// Package testtools finds the outside programs tests run against
// (promtool, pushgateway, pass, curl, hey, ...), for the tests of several
// packages; it imports package testing, so only tests import it.
package testtools

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the variable that turns a missing tool from a skip into a
// failure (CI sets it to 1).
const RequireEnv = "AUTHLAB_REQUIRE_TOOLS"

// Require is the path of the program name. Without it the test is skipped,
// or fails when AUTHLAB_REQUIRE_TOOLS=1.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s not installed (make deps installs it)", name)
		}
		t.Skipf("%s not installed (make deps installs it)", name)
	}
	return p
}
