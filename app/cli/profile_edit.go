package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"authlab/store"
)

func newProfileSetCmd(g *globals) *cobra.Command {
	var (
		pf   profileFlags
		az   authzFlags
		kind string
	)
	cmd := &cobra.Command{
		Use:   "set NAME [flags]",
		Short: "Change some fields of a saved profile",
		Long: `Change only the fields whose flags are given; everything else, secrets
included, stays as it is. The flags are those of 'authlab profile add'.
An empty value clears a field (--client-secret "" forgets the secret); a
list flag (--scope, --audience, --param, --tag) replaces the whole list.

A kept secret stays confirmed for the hosts it was confirmed for: when the
change sends it elsewhere, a stored value is dropped and a reference waits
for 'authlab profile trust NAME' (both are reported).`,
		Example: `  authlab profile set corp --scope "read write admin"
  authlab profile set bank --par --response-mode jwt --authorization-details @details.json
  authlab profile set legacy --password env:NEW_PASSWORD
  authlab profile set web --max-age 0 --prompt login`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			fs := cmd.Flags()
			changed := false
			cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) { changed = changed || f.Changed }) // not --store
			if !changed {
				return usageErr("profile set %s: give at least one field to change (see 'authlab profile set --help')", name)
			}
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			var rep store.SaveReport
			err = store.Update(path, func(s *store.Store) error {
				p, err := s.GetProfile(name)
				if err != nil {
					return storeErr(err)
				}
				// Secrets not given again are kept with their confirmation
				// (placeholders) or, when unconfirmed, stay unconfirmed;
				// given ones were typed by the person.
				for k, sec := range p.Secrets {
					if sec.Confirmed() {
						p.Secrets[k] = store.KeepStored()
					}
				}
				if fs.Changed("kind") {
					p.Kind = store.Kind(kind)
				}
				if err := pf.overlay(fs, &p); err != nil {
					return usageErr("profile set %s: %v", name, err)
				}
				src := store.Profile{Name: p.Name, Kind: p.Kind}
				if err := az.fill(&src); err != nil {
					return usageErr("profile set %s: %v", name, err)
				}
				for _, f := range authzFlagFields() {
					if fs.Changed(f.flag) {
						f.copy(&p, &src)
					}
				}
				for k, sec := range p.Secrets {
					if sec.IsZero() {
						delete(p.Secrets, k) // cleared with an empty flag
					}
				}
				if err := p.Validate(); err != nil {
					return usageErr("profile set %s: %s", name, flagNames(err))
				}
				rep, err = s.SaveProfile(p, store.SaveOptions{Replace: true})
				if err != nil {
					return storeErr(err)
				}
				return nil
			})
			var ee *exitError
			if errors.As(err, &ee) {
				return err // usage or store error, already classified
			}
			if err != nil {
				return storeErr(err)
			}
			printNotes(g, rep)
			fmt.Fprintf(g.stdout, "saved profile %s\n", name)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kind, "kind", "", "profile kind: "+kindList())
	addProfileFlags(fs, &pf)
	addKidFlag(fs, &pf.grant)
	addProfileAuthzFlags(fs, &az)
	return cmd
}

func newProfileRenameCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rename OLD NEW",
		Aliases: []string{"mv"},
		Short:   "Rename a profile, keeping its secrets, cached token and history",
		Long: `Give profile OLD the name NEW. Its secrets (with the hosts they were
confirmed for), its DPoP key, cached token and run history go with it, in one
store transaction; nothing is left under OLD. NEW must be a valid name that
no profile has yet.`,
		Example: `  authlab profile rename corp corp-eu
  authlab run corp-eu`,
		Args: exactArgs(2, "OLD and NEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			if err := store.RenameProfile(path, args[0], args[1]); err != nil {
				return storeErr(err)
			}
			fmt.Fprintf(g.stdout, "renamed profile %s to %s\n", args[0], args[1])
			return nil
		},
	}
}

// printGrantSettings shows the DPoP, authorization request, OIDC parameter,
// client assertion and grant fields of a profile with line (printProfile's).
func printGrantSettings(line func(k, v string), p store.Profile) {
	yes := func(k string, v bool) {
		if v {
			line(k, "yes")
		}
	}
	raw := func(k string, v json.RawMessage) {
		var b bytes.Buffer
		if len(v) > 0 && json.Compact(&b, v) == nil {
			line(k, b.String())
		} else if len(v) > 0 {
			line(k, string(v))
		}
	}
	yes("dpop", p.DPoP)
	line("dpop alg", p.DPoPAlg)
	yes("par", p.PAR)
	if p.RequestObject {
		line("request object", "yes (signed with the private key)")
	}
	line("response mode", p.ResponseMode)
	raw("authorization details", p.AuthorizationDetails)
	line("prompt", p.Prompt)
	line("login hint", p.LoginHint)
	line("acr values", p.ACRValues)
	if p.MaxAge != nil {
		line("max age", strconv.Itoa(*p.MaxAge)+" s")
	}
	raw("claims", p.Claims)
	line("ui locales", p.UILocales)
	line("assertion aud", p.AssertionAud)
	line("kid", p.KeyID)
	yes("fapi2", p.FAPI2)
	line("username", p.Username)
	line("assertion file", p.AssertionFile)
	raw("assertion claims", p.AssertionClaims)
}
