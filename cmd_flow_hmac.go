package main

import "github.com/spf13/cobra"

func newFlowHMACCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "hmac",
		Short: "Sign (and send, or verify) an HMAC-signed request",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab flow hmac (the HMAC/mTLS issue)")
		},
	}
}
