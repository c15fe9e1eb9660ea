package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"authlab/flows"
	"authlab/flows/check"
	"authlab/views/render"
)

// newCheckCmd is `authlab check`: an authorization server's metadata
// against FAPI 2.0 or RFC 9700.
func newCheckCmd(g *globals) *cobra.Command {
	var issuer, profile string
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check --issuer URL [--profile fapi2|bcp] [--json]",
		Short: "Check an authorization server against FAPI 2.0 or RFC 9700",
		Long: `Check an authorization server's metadata against the FAPI 2.0 Security
Profile (final) or the OAuth 2.0 Security BCP (RFC 9700): PAR, PKCE methods,
the iss response parameter, client authentication methods, signing
algorithms, sender-constrained tokens, grant types, issuer and https. Each
item is pass, warn or fail with what was seen and its section. Offering
something to other clients is a warning; what the profile forbids the
server to do at all is a failure. Exit status: 0 nothing failed, 1 an item
failed, 2 usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if issuer == "" {
				return usageErr("check needs --issuer URL")
			}
			rep, err := check.Run(cmd.Context(), check.Options{Issuer: issuer, Profile: profile, Timeout: timeout})
			if err != nil {
				if e, ok := err.(*flows.Error); ok && e.Kind == flows.ErrConfig {
					return usageErr("%s", e.Explain(flagFor))
				}
				return failErr(err)
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return failErr(err)
				}
			} else {
				printCheckReport(g, rep)
			}
			if rep.Failed() {
				var names []string
				for _, c := range rep.Checks {
					if c.Status == flows.Fail {
						names = append(names, c.Name)
					}
				}
				return failErr(fmt.Errorf("%s does not meet %s: %s", issuer, profileName(rep.Profile), strings.Join(names, ", ")))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&issuer, "issuer", "", "the authorization server's issuer URL")
	f.StringVar(&profile, "profile", check.ProfileFAPI2, "fapi2 (FAPI 2.0 Security Profile) or bcp (RFC 9700)")
	f.BoolVar(&asJSON, "json", false, `print {"profile","issuer","checks":[{"name","status","detail","reference"}]}`)
	f.DurationVar(&timeout, "timeout", flows.DefaultTimeout, "timeout of each HTTP call")
	return cmd
}

func profileName(p string) string {
	if p == check.ProfileBCP {
		return "RFC 9700 (OAuth 2.0 Security BCP)"
	}
	return "the FAPI 2.0 Security Profile"
}

func printCheckReport(g *globals, rep *check.Report) {
	fmt.Fprintf(g.stdout, "%s against %s\n", render.Printable(rep.Issuer), profileName(rep.Profile))
	for _, c := range rep.Checks {
		fmt.Fprintf(g.stdout, "  %-4s %s: %s [%s]\n", strings.ToUpper(string(c.Status)), c.Name, render.Printable(c.Detail), c.Reference)
	}
}
