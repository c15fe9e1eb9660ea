package main

import "github.com/spf13/cobra"

func newProfileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Manage saved profiles",
	}
	return cmd
}
