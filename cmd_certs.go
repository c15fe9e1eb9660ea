package main

import "github.com/spf13/cobra"

func newCertsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Test certificates for mTLS",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "init",
		Short: "Write a test CA, server and client certificates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab certs init (the HMAC/mTLS issue)")
		},
	})
	return cmd
}
