package main

import "github.com/spf13/cobra"

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Work with tokens",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "inspect [TOKEN|-]",
		Short: "Decode, verify and check a token; show expiry and clock skew",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab token inspect (the token engine issue)")
		},
	})
	return cmd
}
