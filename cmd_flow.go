package main

import "github.com/spf13/cobra"

// newFlowCmd groups one subcommand per flow. The HMAC and mTLS subcommands
// live in cmd_flow_hmac.go and cmd_flow_mtls.go.
func newFlowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flow NAME [flags]",
		Short: "Run one flow headless",
		Long: `Run one flow headless: client-credentials, auth-code, refresh, introspect,
revoke, userinfo, device, token-exchange, hmac, mtls.`,
	}
	for _, name := range []string{"client-credentials", "auth-code", "refresh", "introspect", "revoke", "userinfo", "device", "token-exchange"} {
		cmd.AddCommand(&cobra.Command{
			Use:   name,
			Short: "The " + name + " flow",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return notImplemented("authlab flow " + cmd.Name() + " (the flows issue)")
			},
		})
	}
	cmd.AddCommand(newFlowHMACCmd(g), newFlowMTLSCmd(g))
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
