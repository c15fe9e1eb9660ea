package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"authlab/flows"
	"authlab/flows/check"
	"authlab/store"
	"authlab/views/render"
)

// newCheckCmd is `authlab check`: an authorization server's metadata, and
// with a client its behaviour, against FAPI 2.0 or RFC 9700.
func newCheckCmd(g *globals) *cobra.Command {
	var profile, clientProfile string
	var asJSON bool
	var timeout time.Duration
	var pf profileFlags
	cmd := &cobra.Command{
		Use:   "check --issuer URL [--profile fapi2|bcp] [client flags] [--json]",
		Short: "Check an authorization server against FAPI 2.0 or RFC 9700",
		Long: `Check an authorization server's metadata against the FAPI 2.0 Security
Profile (final) or the OAuth 2.0 Security BCP (RFC 9700): PAR, PKCE methods,
the iss response parameter, client authentication methods, signing
algorithms, sender-constrained tokens, grant types, issuer and https.

With a client (--client-id and the flags of authlab flow auth-code, or
--client-profile NAME for a saved profile's client) it also probes
behaviour, as that client: an authorization request without PAR, without
PKCE and with PKCE plain must be refused, and one with a redirect_uri
that is not registered; a code redeemed twice must be refused; the
authorization response must carry iss; a request_uri must live less than
600 s; and the DPoP nonce mechanism (with --dpop). The probes drive the
authorization endpoint without a browser: where it shows a sign-in page,
the items that need a code are skipped ("needs an interactive login").
They send about a dozen requests to the server, each bounded by --timeout.

Each item is pass, warn, fail or skip with what was seen and its section.
Offering something to other clients is a warning; what the profile forbids
the server to do at all is a failure. Exit status: 0 nothing failed, 1 an
item failed, 2 usage error.`,
		Example: `  authlab check --issuer http://127.0.0.1:9090 --profile fapi2
  authlab check --issuer http://127.0.0.1:9090 --client-id demo-jwt --kid demo-jwt-1 \
      --private-key file:testdata/mockidp/demo-jwt.key --fapi2 --json
  authlab check --client-profile my-bank --profile bcp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range checkEndpointFlags() {
				if cmd.Flags().Changed(n) {
					return usageErr("check takes the endpoints from the issuer's metadata: drop --%s", n)
				}
			}
			issuer := pf.issuer
			var probe *flows.Request
			if clientProfile != "" || pf.clientID != "" {
				req, iss, err := checkClient(g, cmd.Flags(), &pf, clientProfile)
				if err != nil {
					return err
				}
				probe = &req
				if issuer == "" {
					issuer = iss
				}
			}
			if issuer == "" {
				return usageErr("check needs --issuer URL")
			}
			rep, err := check.Run(cmd.Context(), check.Options{Issuer: issuer, Profile: profile, Timeout: timeout, Probe: probe})
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
	addProfileFlags(f, &pf) // --issuer and the client flags of authlab flow
	addKidFlag(f, &pf.grant)
	shown := checkClientFlags()
	f.VisitAll(func(fl *pflag.Flag) {
		if !slices.Contains(shown, fl.Name) {
			fl.Hidden = true // other kinds' and grants' profile flags, and the refused endpoints
		}
	})
	f.StringVar(&clientProfile, "client-profile", "", "probe as the client of this saved profile (flags given here override it)")
	f.StringVar(&profile, "profile", check.ProfileFAPI2, "fapi2 (FAPI 2.0 Security Profile) or bcp (RFC 9700)")
	f.BoolVar(&asJSON, "json", false, `print {"profile","issuer","checks":[{"name","status","detail","reference"}]}`)
	f.DurationVar(&timeout, "timeout", flows.DefaultTimeout, "timeout of each HTTP call")
	return cmd
}

// checkEndpointFlags are refused: the check reads the metadata's endpoints.
func checkEndpointFlags() []string {
	return []string{"token-url", "auth-url", "device-url", "introspect-url", "revoke-url", "userinfo-url", "jwks-url"}
}

// checkClientFlags are the profile flags check shows: the issuer and the
// client of an authorization code flow.
func checkClientFlags() []string {
	return []string{"issuer", "client-id", "client-secret", "auth-method", "private-key", "kid", "assertion-aud",
		"dpop", "dpop-key", "dpop-alg", "cert", "key", "ca", "scope", "audience", "resource", "redirect-port",
		"param", "fapi2", "prompt", "login-hint", "acr-values", "max-age", "claims", "ui-locales"}
}

// checkClient is the client the probes act as: the flags, over a saved
// profile with --client-profile. iss is the issuer it names.
func checkClient(g *globals, fs *pflag.FlagSet, pf *profileFlags, name string) (req flows.Request, iss string, err error) {
	var p store.Profile
	if name != "" {
		path, err := g.resolveStorePath()
		if err != nil {
			return req, "", storeErr(err)
		}
		if p, err = store.LoadProfile(path, name); err != nil {
			return req, "", storeErr(err)
		}
		if err := pf.overlay(fs, &p); err != nil {
			return req, "", usageErr("%v", err)
		}
		// A secret not confirmed for its hosts is refused, as authlab run does.
		if err := p.TrustError(); err != nil {
			return req, "", storeErr(err)
		}
	} else if p, err = pf.toProfile("", store.KindAuthCode); err != nil {
		return req, "", usageErr("%v", err)
	}
	if req, err = p.FlowRequest(flows.FlowAuthCode); err != nil {
		return req, "", usageErr("%v", err)
	}
	return req, p.Issuer, nil
}

func profileName(p string) string {
	if p == check.ProfileBCP {
		return check.ProfileTitle(p)
	}
	return "the " + check.ProfileTitle(p)
}

func printCheckReport(g *globals, rep *check.Report) {
	fmt.Fprintf(g.stdout, "%s against %s\n", render.Printable(rep.Issuer), profileName(rep.Profile))
	for _, c := range rep.Checks {
		fmt.Fprintf(g.stdout, "  %-4s %s: %s [%s]\n", strings.ToUpper(string(c.Status)), c.Name, render.Printable(c.Detail), c.Reference)
	}
	fmt.Fprintf(g.stdout, "%d items: %s\n", len(rep.Checks), statusCounts(rep.Checks))
}

// statusCounts is "11 pass, 2 warn, 5 fail, 1 skip", zero counts left out.
func statusCounts(items []check.Item) string {
	n := map[flows.Status]int{}
	for _, c := range items {
		n[c.Status]++
	}
	var parts []string
	for _, st := range []flows.Status{flows.Pass, flows.Warn, flows.Fail, check.Skip} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	return strings.Join(parts, ", ")
}
