// Command authlab is a terminal developer console for API authentication:
// OAuth 2.0 / OIDC flows, token inspection, HMAC and mTLS, a mock IdP, and a
// TUI over all of it. The command tree lives in app/cli.
package main

import (
	"os"

	"authlab/app/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
