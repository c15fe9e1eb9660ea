package main

import "github.com/spf13/cobra"

func newIdpCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "idp",
		Short: "Run the bundled mock OAuth 2.0 / OIDC provider",
		Long: `Run the mock IdP alone (default 127.0.0.1:9090), with demo clients and users,
and an admin API under /_authlab/ for fault injection.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return notImplemented("authlab idp (the mock IdP issue)") },
	}
	f := cmd.Flags()
	f.String("addr", "127.0.0.1:9090", "listen address HOST:PORT")
	f.String("issuer", "", "issuer URL (default derived from --addr)")
	f.String("alg", "RS256", "signing algorithm: RS256, ES256 or EdDSA")
	f.Bool("tls", false, "serve HTTPS with a generated CA and mTLS endpoint aliases")
	f.Bool("login", false, "serve a login + consent page instead of auto-approving")
	f.String("config", "", "JSON file replacing clients, users, lifetimes and algorithms")
	f.Bool("print-config", false, "print the effective configuration and exit")
	f.String("keys", "", "directory for signing keys (default: beside the store)")
	return cmd
}
