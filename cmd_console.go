package main

import "github.com/spf13/cobra"

// runConsole starts the TUI; withDemo embeds the mock IdP and seeds demo profiles.
func runConsole(g *globals, withDemo bool) error {
	if withDemo {
		return notImplemented("authlab demo (the TUI issue)")
	}
	return notImplemented("the interactive console (the TUI issue)")
}

func newDemoCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "The console with an embedded mock IdP and demo profiles",
		Long: `Start the mock IdP on a free loopback port, seed demo profiles (once), and open
the console. Quitting stops the IdP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runConsole(g, true) },
	}
}
