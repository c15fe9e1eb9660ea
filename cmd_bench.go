package main

import "github.com/spf13/cobra"

func newBenchCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "bench [PROFILE]",
		Short: "Repeat a flow under load and report auth SLIs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab bench (the bench issue)")
		},
	}
}
