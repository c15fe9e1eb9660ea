package main

import "github.com/spf13/cobra"

func newFlowMTLSCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "mtls",
		Short: "A TLS handshake report with a client certificate, then the HTTP response",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab flow mtls (the HMAC/mTLS issue)")
		},
	}
}
