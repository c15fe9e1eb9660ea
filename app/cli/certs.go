package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"authlab/flows/mtls"

	"github.com/spf13/cobra"
)

// defaultCertsDir is the `certs` directory beside the store file; the mock
// IdP's --tls and the demo use the same place so they share one CA.
func defaultCertsDir(g *globals) (string, error) {
	store, err := g.resolveStorePath()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(store), "certs"), nil
}

func newCertsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Test certificates for mTLS",
	}
	var dir string
	var asJSON bool
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Write a test CA, server and client certificates",
		Long: `Write (or reuse, when still valid) a test CA, a server certificate for
127.0.0.1, ::1 and localhost, and client certificates with CN=demo-mtls: a
plain one, one with the SPIFFE ID spiffe://authlab.test/client, an expired
one, and one issued by a second CA that nothing trusts. Files are PEM, 0600,
in the directory (default: "certs" beside the store file); a directory that
does not exist is created 0700, an existing one keeps its mode.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				d, err := defaultCertsDir(g)
				if err != nil {
					return usageErr("%v", err)
				}
				dir = d
			}
			set, err := mtls.InitCerts(dir, time.Now())
			if err != nil {
				return failErr(err)
			}
			if asJSON {
				return writeJSON(g.stdout, set)
			}
			state := "reused existing certificates in"
			if len(set.Created) > 0 {
				state = fmt.Sprintf("wrote %d files in", len(set.Created))
			}
			fmt.Fprintf(g.stdout, "%s %s\n", state, set.Dir)
			rows := [][2]string{
				{"CA (trusted)", set.CACert},
				{"server cert (127.0.0.1, ::1, localhost)", set.ServerCert},
				{"server key", set.ServerKey},
				{"client cert (CN=demo-mtls)", set.ClientCert},
				{"client key", set.ClientKey},
				{"SPIFFE client cert (" + mtls.SPIFFEID + ")", set.SPIFFECert},
				{"SPIFFE client key", set.SPIFFEKey},
				{"expired client cert", set.ExpiredCert},
				{"expired client key", set.ExpiredKey},
				{"untrusted CA", set.UntrustedCACert},
				{"client cert from the untrusted CA", set.UntrustedCert},
				{"its key", set.UntrustedKey},
			}
			for _, r := range rows {
				fmt.Fprintf(g.stdout, "  %-50s %s\n", r[0], r[1])
			}
			fmt.Fprintf(g.stdout, "try: authlab flow mtls --url https://127.0.0.1:PORT/ --ca %s --cert %s --key %s\n", set.CACert, set.ClientCert, set.ClientKey)
			return nil
		},
	}
	initCmd.Flags().StringVar(&dir, "dir", "", `directory for the PEM files (default: "certs" beside the store)`)
	initCmd.Flags().BoolVar(&asJSON, "json", false, "print the paths as JSON")
	cmd.AddCommand(initCmd)
	return cmd
}
