// Package cli is authlab's command line: the cobra command tree, flag
// parsing, wiring of store, flows and mock IdP, human and JSON output, and the
// exit-status contract (README "JSON output and exit status"). One file per
// command group; main.go only calls Main.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"authlab/flows"
	"authlab/views/render"
)

// version is set at build time with -ldflags "-X authlab/app/cli.version=...".
var version = "dev"

// Exit statuses (README): 0 ok, 1 flow or check failed, 2 usage or configuration.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// exitError carries an exit status through cobra. Its message is printed on
// stderr as one line unless quiet is set (the command already printed it).
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func failErr(err error) error { return &exitError{code: exitFailed, err: err} }

// globals are the flags every command shares, plus where output goes, so
// tests can run the command tree in-process.
type globals struct {
	storePath string
	noColor   bool
	stdout    io.Writer
	stderr    io.Writer
	stdin     io.Reader
}

// resolveStorePath applies --store, then $AUTHLAB_STORE, then the XDG data dir.
func (g *globals) resolveStorePath() (string, error) {
	if g.storePath != "" {
		return g.storePath, nil
	}
	return defaultStorePath()
}

func defaultStorePath() (string, error) {
	if p := os.Getenv("AUTHLAB_STORE"); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "authlab", "authlab.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a home directory for the store; pass --store PATH: %w", err)
	}
	return filepath.Join(home, ".local", "share", "authlab", "authlab.db"), nil
}

// colorEnabled honours --no-color and NO_COLOR (https://no-color.org).
func (g *globals) colorEnabled() bool {
	return !g.noColor && os.Getenv("NO_COLOR") == ""
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "authlab",
		Short: "A terminal developer console for API authentication",
		Long: `authlab drives OAuth 2.0 / OIDC flows, HMAC-signed requests and mTLS against
any IdP or its bundled mock IdP, shows every HTTP exchange, explains token
claims, counts down expiry and measures clock skew.

Run it without arguments for the interactive console, or use the subcommands
headless (with --json) in scripts and CI.

Exit status: 0 ok; 1 a flow or a check failed; 2 usage or configuration error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsole(g, false)
		},
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetIn(g.stdin)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v (see '%s --help')", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.storePath, "store", "", "store file (default $AUTHLAB_STORE, else $XDG_DATA_HOME/authlab/authlab.db, else ~/.local/share/authlab/authlab.db)")
	pf.BoolVar(&g.noColor, "no-color", false, "no colours in output (also NO_COLOR)")

	root.AddCommand(
		newVersionCmd(g),
		newDemoCmd(g),
		newIdpCmd(g),
		newFlowCmd(g),
		newRunCmd(g),
		newTokenCmd(g),
		newProfileCmd(g),
		newCertsCmd(g),
		newBenchCmd(g),
		newAuditCmd(g), // audit.go
		newSLOCmd(g),   // slo.go
		newCheckCmd(g), // check.go
	)
	return root
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print authlab's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(g.stdout, "authlab %s\n", version)
			return nil
		},
	}
}

// execute runs the command tree and maps errors to exit statuses.
func execute(args []string, g *globals) int {
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	// Engine messages name fields (token_url); on the command line they are
	// flags (--token-url), whichever command the error came through. A
	// command that named them its own way already (flow hmac) is left alone.
	var fe *flows.Error
	if errors.As(err, &fe) && fe.Message == fe.Explain(flows.Field.String) {
		fe.Message = fe.Explain(flagFor)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.quiet {
			// Messages quote servers and tokens: never let them steer the terminal.
			fmt.Fprintf(g.stderr, "authlab: %s\n", render.Printable(ee.err.Error()))
		}
		return ee.code
	}
	// Cobra's own errors (unknown command, bad args) are usage errors.
	fmt.Fprintf(g.stderr, "authlab: %s\n", render.Printable(err.Error()))
	return exitUsage
}

// Main runs authlab with args (without the program name) on the given
// streams and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(args, &globals{stdout: stdout, stderr: stderr, stdin: stdin})
}
