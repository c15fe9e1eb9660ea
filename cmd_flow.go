package main

import "github.com/spf13/cobra"

var flowNames = []string{"client-credentials", "auth-code", "refresh", "introspect", "revoke", "userinfo", "device", "token-exchange", "hmac", "mtls"}

func newFlowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flow NAME [flags]",
		Short: "Run one flow headless",
		Long: `Run one flow headless: client-credentials, auth-code, refresh, introspect,
revoke, userinfo, device, token-exchange, hmac, mtls.`,
		ValidArgs: flowNames,
		Args:      cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab flow (the flows issue)")
		},
	}
	return cmd
}

func newRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run PROFILE",
		Short: "Run a saved profile's flow headless",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return notImplemented("authlab run (the flows issue)")
		},
	}
}
