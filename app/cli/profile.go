package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"authlab/flows"
	"authlab/store"
	"authlab/views/render"
)

func newProfileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Manage saved profiles",
		Long: `Profiles are saved flow configurations, kept in the store (--store). Secrets
(client secret, HMAC key, private key, API key) are kept beside a profile,
either as a value in the store or as a reference resolved when a flow runs:
env:NAME reads an environment variable, file:PATH reads a file.

Each secret is bound to the hosts (scheme://host:port of the issuer, token
and other endpoints, or target URL) it was entered for. Secrets that come
through 'profile import', or whose profile now names other hosts, are refused
by every run until 'authlab profile trust NAME' confirms where they go.`,
		Example: `  authlab profile add corp --kind client-credentials --issuer https://idp.example.com \
      --client-id api-test --client-secret env:CORP_SECRET --scope "read write"
  authlab profile list
  authlab profile show corp
  authlab profile set corp --scope admin && authlab profile rename corp corp-eu
  authlab profile export -o profiles.json && authlab profile import profiles.json --force`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newProfileListCmd(g), newProfileShowCmd(g), newProfileAddCmd(g),
		newProfileSetCmd(g), newProfileRenameCmd(g), newProfileRmCmd(g), newProfileImportCmd(g), newProfileExportCmd(g), newProfileTrustCmd(g))
	return cmd
}

// storeErr maps a store or validation error to exit status 2 (configuration).
func storeErr(err error) error {
	return &exitError{code: exitUsage, err: err}
}

func newProfileListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List saved profiles",
		Long:  "List every saved profile: name, kind, issuer or first endpoint, tags, last update.",
		Example: `  authlab profile list
  authlab profile list --json | jq -r '.[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			var (
				list   []store.ProfileSummary
				exists bool
			)
			if err := store.View(path, func(s *store.Store) error {
				exists = s.Exists()
				list, err = s.ListProfiles()
				return err
			}); err != nil {
				return storeErr(err)
			}
			w := bufio.NewWriterSize(g.stdout, 64<<10)
			defer w.Flush()
			if asJSON {
				if list == nil {
					list = []store.ProfileSummary{}
				}
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			if len(list) == 0 {
				if !exists {
					fmt.Fprintf(g.stderr, "no profiles yet (store %s does not exist yet); add one with: authlab profile add NAME --kind KIND ...\n", render.Printable(path))
					return nil
				}
				fmt.Fprintln(g.stderr, "no profiles yet; add one with: authlab profile add NAME --kind KIND ...")
				return nil
			}
			rows := make([][5]string, 0, len(list)+1)
			rows = append(rows, [5]string{"NAME", "KIND", "ISSUER/ENDPOINT", "TAGS", "UPDATED"})
			for _, p := range list {
				updated := "-"
				if !p.UpdatedAt.IsZero() {
					updated = p.UpdatedAt.Local().Format("2006-01-02 15:04")
				}
				// Printable: an imported store may hold terminal escapes
				// that predate validation (the store refuses new ones).
				rows = append(rows, [5]string{render.Printable(p.Name), render.Printable(string(p.Kind)),
					dash(render.Printable(p.Endpoint)), dash(render.Printable(strings.Join(p.Tags, ","))), updated})
			}
			writeTable(w, rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON list")
	return cmd
}

// writeTable pads columns to their widest cell, two spaces apart. It is
// text/tabwriter's output without its per-cell allocations, which were a
// third of listing 10,000 profiles.
func writeTable(w *bufio.Writer, rows [][5]string) {
	var width [5]int
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			w.WriteString(c)
			if i < len(r)-1 {
				for n := width[i] - utf8.RuneCountInString(c) + 2; n > 0; n-- {
					w.WriteByte(' ')
				}
			}
		}
		w.WriteByte('\n')
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newProfileShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one profile (secrets masked)",
		Long: `Show every field of a profile. Stored secret values are masked; env: and
file: references are shown as they are (they are not secrets).`,
		Example: `  authlab profile show corp
  authlab profile show corp --json`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			p, err := store.LoadProfile(path, args[0])
			if err != nil {
				return storeErr(err)
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(p.Redacted())
			}
			return printProfile(g.stdout, p)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the profile as JSON (secrets masked)")
	return cmd
}

func printProfile(out io.Writer, p store.Profile) error {
	unconfirmed := map[store.SecretKind]bool{}
	for k, s := range p.Secrets {
		unconfirmed[k] = !s.Confirmed()
	}
	p = p.Redacted() // a password in a URL saved before they were refused
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	// Every value goes through render.Printable: profile text can come from
	// an imported file, and must not reach the terminal as escapes.
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", render.Printable(k), render.Printable(v))
		}
	}
	list := func(k string, vs []string) { line(k, strings.Join(vs, " ")) }
	line("name", p.Name)
	line("kind", string(p.Kind))
	line("issuer", p.Issuer)
	line("token url", p.TokenURL)
	line("target url", p.TargetURL)
	line("auth url", p.AuthURL)
	line("device url", p.DeviceURL)
	line("introspect url", p.IntrospectURL)
	line("revoke url", p.RevokeURL)
	line("userinfo url", p.UserinfoURL)
	line("jwks url", p.JWKSURL)
	line("client id", p.ClientID)
	line("auth method", p.AuthMethod)
	list("scopes", p.Scopes)
	list("audience", p.Audience)
	list("resource", p.Resource)
	if p.RedirectPort != 0 {
		line("redirect port", fmt.Sprint(p.RedirectPort))
	}
	line("cert", p.CertFile)
	line("key", p.KeyFile)
	line("ca", p.CAFile)
	line("hmac scheme", p.HMAC.Scheme)
	line("hmac key id", p.HMAC.KeyID)
	line("hmac label", p.HMAC.Label)
	line("hmac components", p.HMAC.Components)
	line("aws region", p.HMAC.Region)
	line("aws service", p.HMAC.Service)
	line("aws access key", p.HMAC.AccessKey)
	line("api key header", p.APIKeyHeader)
	line("api key query", p.APIKeyQuery)
	printGrantSettings(line, p)
	for _, k := range slices.Sorted(maps.Keys(p.ExtraParams)) {
		line("param "+k, p.ExtraParams[k])
	}
	line("tags", strings.Join(p.Tags, ","))
	line("notes", p.Notes)
	if p.Demo {
		line("demo", "yes")
	}
	for _, k := range store.SecretKinds() {
		if s, ok := p.Secrets[k]; ok {
			v := s.String()
			if unconfirmed[k] {
				v += " (not confirmed for these hosts: authlab profile trust " + p.Name + ")"
			}
			line(strings.ReplaceAll(string(k), "_", " "), v)
		}
	}
	if !p.CreatedAt.IsZero() {
		line("created", p.CreatedAt.Local().Format(time.RFC3339))
	}
	if !p.UpdatedAt.IsZero() {
		line("updated", p.UpdatedAt.Local().Format(time.RFC3339))
	}
	return tw.Flush()
}

func newProfileAddCmd(g *globals) *cobra.Command {
	var (
		pf    profileFlags
		az    authzFlags
		kind  string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME --kind KIND [flags]",
		Short: "Save a profile",
		Long: `Save a profile under NAME. KIND is one of client-credentials, auth-code, device,
token-exchange, hmac, mtls, api-key, password, jwt-bearer. The flags are the
same as 'authlab flow': a profile keeps the authorization request's shape
(--par, --request-object, signed with --private-key, --response-mode,
--authorization-details), the OIDC parameters (--prompt, --max-age, --claims,
...), client assertion settings (--assertion-aud, --kid, --fapi2), DPoP and
the password and jwt-bearer grant inputs (--username, --password,
--assertion, --assertion-key, --assertion-claims).

Secrets (--client-secret, --hmac-key, --private-key, --api-key, --dpop-key,
--password, --assertion-key) take a value, which is kept in the store (file
mode 0600), or a reference resolved each run: env:NAME or file:PATH. Prefer
references: a value on the command line is visible to other local users in
the process list.

An existing profile is an error unless --force replaces it (all of it).
A secret given as its placeholder ("<stored secret>") keeps the stored one,
but only for the hosts it was confirmed for: if the new URLs send it
elsewhere, a stored value is dropped and a reference waits for
'authlab profile trust NAME'.`,
		Example: `  authlab profile add corp --kind client-credentials --issuer https://idp.example.com \
      --client-id api-test --client-secret env:CORP_SECRET --scope "read write" --tag prod
  authlab profile add web --kind auth-code --auth-url https://idp/authorize --token-url https://idp/token \
      --client-id spa --auth-method none --redirect-port 8085 --param prompt=consent
  authlab profile add sig --kind hmac --scheme rfc9421 --hmac-key file:./hmac.key --key-id k1 \
      --target-url https://api.example.com/orders
  authlab profile add aws --kind hmac --scheme aws-sigv4 --access-key AKIDEXAMPLE \
      --hmac-key env:AWS_SECRET_ACCESS_KEY --region eu-west-1 --service execute-api
  authlab profile add gw --kind mtls --cert client.pem --key client.key --ca ca.pem
  authlab profile add bank --kind auth-code --issuer https://idp.example.com --client-id demo-jwt \
      --private-key file:./client.jwk --par --request-object --response-mode jwt \
      --authorization-details @details.json --max-age 300
  authlab profile add legacy --kind password --issuer https://idp.example.com --client-id app \
      --client-secret env:APP_SECRET --username alice --password env:ALICE_PASSWORD`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind == "" {
				return usageErr("profile add: --kind is required (one of %s)", kindList())
			}
			p, err := pf.toProfile(args[0], store.Kind(kind))
			if err == nil {
				err = az.fill(&p)
			}
			if err != nil {
				return usageErr("profile add: %v", err)
			}
			if err := p.Validate(); err != nil {
				return usageErr("profile add %s: %s", args[0], flagNames(err))
			}
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			var rep store.SaveReport
			if err := store.Update(path, func(s *store.Store) (err error) {
				rep, err = s.SaveProfile(p, store.SaveOptions{Replace: force})
				return err
			}); err != nil {
				return storeErr(err)
			}
			printNotes(g, rep)
			verb := "added"
			if force {
				verb = "saved"
			}
			fmt.Fprintf(g.stdout, "%s profile %s (%s)\n", verb, p.Name, p.Kind)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kind, "kind", "", "profile kind: "+kindList())
	fs.BoolVar(&force, "force", false, "replace an existing profile of the same name")
	addProfileFlags(fs, &pf)
	addKidFlag(fs, &pf.grant)
	addProfileAuthzFlags(fs, &az)
	return cmd
}

func kindList() string {
	var s []string
	for _, k := range store.Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func newProfileRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove", "delete"},
		Short:   "Delete a profile with its secrets, cached token and history",
		Example: `  authlab profile rm corp`,
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			if err := store.Update(path, func(s *store.Store) error { return s.DeleteProfile(args[0]) }); err != nil {
				return storeErr(err)
			}
			fmt.Fprintf(g.stdout, "removed profile %s\n", args[0])
			return nil
		},
	}
}

func newProfileImportCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Import profiles from a JSON file (- reads stdin)",
		Long: `Import the profiles of an export file (or a JSON list of profiles). Every
profile is checked first and every problem is reported with its field name;
on any problem nothing is imported. Existing names are an error unless
--force replaces them. A secret written as a placeholder ("<stored secret...>")
keeps the value already stored for that profile, if any.

The file's author chose its URLs and references, so env: and file:
references and kept stored secrets are not sent anywhere until you confirm
them with 'authlab profile trust NAME' (a reference already confirmed for the
same hosts stays confirmed). A kept stored value whose profile now names
other hosts is dropped.`,
		Example: `  authlab profile import profiles.json
  authlab profile export | ssh other-host authlab profile import - --force`,
		Args: exactArgs(1, "FILE|-"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			var data []byte
			if src != "-" {
				// Regular files only, capped: /dev/zero or a FIFO fail at once.
				var err error
				if data, err = flows.ReadFileCapped(src, store.MaxImportSize); err != nil {
					return usageErr("profile import: %v", err)
				}
			} else {
				src = "stdin"
				var err error
				data, err = io.ReadAll(io.LimitReader(g.stdin, store.MaxImportSize+1))
				if err != nil {
					return usageErr("profile import %s: %v", src, err)
				}
				if len(data) > store.MaxImportSize {
					return usageErr("profile import %s: larger than %d MiB", src, store.MaxImportSize>>20)
				}
			}
			ps, err := store.ParseImport(data)
			if err != nil {
				return usageErr("profile import %s: %v", src, err)
			}
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			var rep store.SaveReport
			if err := store.Update(path, func(s *store.Store) (err error) {
				rep, err = s.ImportProfilesReport(ps, force)
				return err
			}); err != nil {
				return storeErr(fmt.Errorf("profile import %s: %w (nothing was imported)", src, err))
			}
			fmt.Fprintf(g.stdout, "imported %d profile%s from %s\n", len(ps), plural(len(ps)), src)
			printNotes(g, rep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace existing profiles of the same names")
	return cmd
}

// printNotes tells the person, on stderr, which secrets a save dropped or
// left waiting for confirmation.
func printNotes(g *globals, rep store.SaveReport) {
	for _, n := range rep.Notes() {
		fmt.Fprintf(g.stderr, "authlab: %s\n", render.Printable(n))
	}
}

func newProfileTrustCmd(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "trust NAME",
		Short: "Confirm which secret of a profile may go to which host",
		Long: `Show each secret of a profile (the env: variable, the file: path, or the
stored value, never shown) and the hosts a run sends it to, and ask for a
confirmation (y/N) on standard input. Runs refuse secrets of imported
profiles, and of profiles whose URLs changed, until they are confirmed here
(or in the console).

Read what is listed: a profile file from someone else can name any file on
your machine and any server.`,
		Example: `  authlab profile import team-profiles.json
  authlab profile trust api
  authlab profile trust api --yes   # scripts: confirm without asking`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			var items []store.TrustItem
			if err := store.View(path, func(s *store.Store) (err error) {
				items, err = s.TrustItems(name)
				return err
			}); err != nil {
				return storeErr(err)
			}
			if len(items) == 0 {
				fmt.Fprintf(g.stdout, "profile %s has no secrets to confirm\n", name)
				return nil
			}
			pending := 0
			fmt.Fprintf(g.stdout, "profile %s sends:\n", name)
			for _, it := range items {
				state := "confirmed"
				if !it.Confirmed {
					state = "NOT CONFIRMED"
					pending++
				}
				fmt.Fprintf(g.stdout, "  %s  [%s]\n", render.Printable(it.String()), state)
			}
			if pending == 0 {
				fmt.Fprintf(g.stdout, "every secret of profile %s is already confirmed for these hosts\n", name)
				return nil
			}
			if !yes {
				fmt.Fprint(g.stdout, "Send these secrets to these hosts when the profile runs? [y/N] ")
				answer, _ := bufio.NewReader(io.LimitReader(g.stdin, 256)).ReadString('\n')
				fmt.Fprintln(g.stdout)
				switch strings.ToLower(strings.TrimSpace(answer)) {
				case "y", "yes":
				default:
					return failErr(fmt.Errorf("profile %s: not confirmed, nothing changed (answer y, or pass --yes in a script)", name))
				}
			}
			if err := store.Update(path, func(s *store.Store) error { return s.ConfirmTrust(name, items) }); err != nil {
				return storeErr(err)
			}
			fmt.Fprintf(g.stdout, "confirmed %d secret%s of profile %s\n", len(items), plural(len(items)), name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm without asking (scripts)")
	return cmd
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func newProfileExportCmd(g *globals) *cobra.Command {
	var (
		out            string
		includeSecrets bool
	)
	cmd := &cobra.Command{
		Use:   "export [NAME...]",
		Short: "Export profiles as JSON (all when no NAME)",
		Long: `Write profiles as JSON to stdout or -o FILE. Secret values kept in the store
are replaced by a placeholder naming the flag that sets them; env: and file:
references are written as they are. --include-secrets writes the values
(the file is then created with mode 0600).`,
		Example: `  authlab profile export > profiles.json
  authlab profile export corp web -o two.json
  authlab profile export --include-secrets -o backup.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			var data []byte
			if err := store.View(path, func(s *store.Store) error {
				data, err = s.Export(args, includeSecrets)
				return err
			}); err != nil {
				return storeErr(err)
			}
			if out == "" || out == "-" {
				_, err := g.stdout.Write(data)
				return err
			}
			// A fresh 0600 file renamed into place: an existing file's mode
			// is not kept and a symlink at the path is replaced, not followed.
			if err := flows.WritePrivateFile(out, data); err != nil {
				return failErr(fmt.Errorf("profile export: %w", err))
			}
			fmt.Fprintf(g.stderr, "exported to %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().BoolVar(&includeSecrets, "include-secrets", false, "write stored secret values (handle the file with care)")
	return cmd
}

// exactArgs is cobra.ExactArgs with a message naming the argument.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s needs %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// profileFlags are the flags that describe a profile. `authlab profile add`
// and `authlab flow ...` share them: register with addProfileFlags, build
// with toProfile, or overlay the flags a user set onto a saved profile.
type profileFlags struct {
	issuer, tokenURL, authURL, deviceURL, targetURL  string
	introspectURL, revokeURL, userinfoURL, jwksURL   string
	clientID, clientSecret, authMethod, privateKey   string
	scopes, audience, resource, params, tags         []string
	redirectPort                                     int
	cert, key, ca                                    string
	scheme, hmacKey, keyID, label, components        string
	region, service, accessKey, apiKey, apiKeyHeader string
	apiKeyQuery                                      string
	notes                                            string
	dpop                                             bool
	dpopKey, dpopAlg                                 string
	grant                                            grantProfileFlags // grantflags.go
}

// addProfileFlags registers the profile flags on fs.
func addProfileFlags(fs *pflag.FlagSet, p *profileFlags) {
	fs.StringVar(&p.issuer, "issuer", "", "issuer URL (endpoints found by OIDC / OAuth discovery)")
	fs.StringVar(&p.tokenURL, "token-url", "", "token endpoint")
	fs.StringVar(&p.authURL, "auth-url", "", "authorization endpoint")
	fs.StringVar(&p.deviceURL, "device-url", "", "device authorization endpoint")
	fs.StringVar(&p.targetURL, "target-url", "", "request URL of an hmac or api-key profile")
	fs.StringVar(&p.introspectURL, "introspect-url", "", "introspection endpoint")
	fs.StringVar(&p.revokeURL, "revoke-url", "", "revocation endpoint")
	fs.StringVar(&p.userinfoURL, "userinfo-url", "", "userinfo endpoint")
	fs.StringVar(&p.jwksURL, "jwks-url", "", "JWKS URL (token signature keys)")
	fs.StringVar(&p.clientID, "client-id", "", "client id")
	fs.StringVar(&p.clientSecret, "client-secret", "", "client secret: a value, env:NAME or file:PATH")
	fs.StringVar(&p.authMethod, "auth-method", "", "client authentication: "+strings.Join(store.AuthMethods(), ", "))
	fs.StringVar(&p.privateKey, "private-key", "", "PEM private key for private_key_jwt: a value, env:NAME or file:PATH")
	fs.BoolVar(&p.dpop, "dpop", false, "send DPoP proofs (RFC 9449) with an ephemeral key, for DPoP-bound tokens")
	fs.StringVar(&p.dpopKey, "dpop-key", "", "DPoP proof key (PEM PKCS#8/EC/RSA/Ed25519 or a private JWK): a path, env:NAME or file:PATH; implies --dpop")
	fs.StringVar(&p.dpopAlg, "dpop-alg", "", "DPoP proof algorithm: ES256 (default), PS256, RS256, EdDSA")
	fs.StringArrayVar(&p.scopes, "scope", nil, "scope (repeatable, or several separated by spaces)")
	fs.StringArrayVar(&p.audience, "audience", nil, "audience (repeatable)")
	fs.StringArrayVar(&p.resource, "resource", nil, "resource indicator, RFC 8707 (repeatable)")
	fs.IntVar(&p.redirectPort, "redirect-port", 0, "loopback port of the redirect URI (0 picks a free one)")
	fs.StringVar(&p.cert, "cert", "", "client certificate file (PEM) for mTLS")
	fs.StringVar(&p.key, "key", "", "client private key file (PEM) for mTLS")
	fs.StringVar(&p.ca, "ca", "", "CA bundle file (PEM) to trust for the server")
	fs.StringArrayVar(&p.params, "param", nil, "extra authorization parameter k=v (repeatable)")
	fs.StringSliceVar(&p.tags, "tag", nil, "tag (repeatable or comma separated)")
	fs.StringVar(&p.notes, "notes", "", "free-text notes")
	fs.StringVar(&p.scheme, "scheme", "", "HMAC scheme: "+strings.Join(store.HMACSchemes(), ", "))
	fs.StringVar(&p.hmacKey, "hmac-key", "", "HMAC key (AWS secret access key for aws-sigv4): a value, env:NAME or file:PATH")
	fs.StringVar(&p.keyID, "key-id", "", "HMAC key id (RFC 9421 keyid)")
	fs.StringVar(&p.label, "label", "", "RFC 9421 signature label (default sig1)")
	fs.StringVar(&p.components, "components", "", `RFC 9421 covered components, e.g. '"@method" "@authority" "@path"'`)
	fs.StringVar(&p.region, "region", "", "AWS region (aws-sigv4)")
	fs.StringVar(&p.service, "service", "", "AWS service (aws-sigv4)")
	fs.StringVar(&p.accessKey, "access-key", "", "AWS access key id (aws-sigv4)")
	fs.StringVar(&p.apiKey, "api-key", "", "API key (api-key profiles): a value, env:NAME or file:PATH")
	fs.StringVar(&p.apiKeyHeader, "api-key-header", "", "header that carries the API key (api-key profiles)")
	fs.StringVar(&p.apiKeyQuery, "api-key-query", "", "query parameter that carries the API key instead of a header (api-key profiles)")
	addGrantProfileFlags(fs, &p.grant)
}

// toProfile builds a profile from every flag value. It does not validate:
// call Validate (a flow run without a saved profile may use any Name).
func (p *profileFlags) toProfile(name string, kind store.Kind) (store.Profile, error) {
	out := store.Profile{
		Name: name, Kind: kind, Issuer: p.issuer,
		TokenURL: p.tokenURL, TargetURL: p.targetURL, AuthURL: p.authURL, DeviceURL: p.deviceURL, IntrospectURL: p.introspectURL,
		RevokeURL: p.revokeURL, UserinfoURL: p.userinfoURL, JWKSURL: p.jwksURL,
		ClientID: p.clientID, AuthMethod: p.authMethod,
		Audience: p.audience, Resource: p.resource, RedirectPort: p.redirectPort,
		CertFile: p.cert, KeyFile: p.key, CAFile: p.ca,
		HMAC: store.HMAC{Scheme: p.scheme, KeyID: p.keyID, Label: p.label, Components: p.components,
			Region: p.region, Service: p.service, AccessKey: p.accessKey},
		APIKeyHeader: p.apiKeyHeader, APIKeyQuery: p.apiKeyQuery, Tags: p.tags, Notes: p.notes,
		DPoP: p.dpop || p.dpopKey != "", DPoPAlg: p.dpopAlg,
	}
	if (kind == store.KindHMAC || kind == store.KindAPIKey) && out.TargetURL == "" {
		// --token-url is how these profiles were given their URL before
		// --target-url existed; scripts keep working.
		out.TargetURL, out.TokenURL = out.TokenURL, ""
	}
	for _, s := range p.scopes {
		out.Scopes = append(out.Scopes, strings.Fields(s)...)
	}
	for _, kv := range p.params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return store.Profile{}, fmt.Errorf("--param %q: want k=v", kv)
		}
		if out.ExtraParams == nil {
			out.ExtraParams = map[string]string{}
		}
		out.ExtraParams[k] = v
	}
	for kind, v := range map[store.SecretKind]string{store.ClientSecret: p.clientSecret, store.HMACKey: p.hmacKey,
		store.PrivateKey: p.privateKey, store.APIKey: p.apiKey, store.DPoPKey: p.dpopKey,
		store.Password: p.grant.password, store.AssertionKey: p.grant.assertionKey} {
		if v == "" {
			continue
		}
		if out.Secrets == nil {
			out.Secrets = map[store.SecretKind]store.Secret{}
		}
		out.Secrets[kind] = store.ParseSecret(v)
		if rest, ok := strings.CutPrefix(v, "raw:"); ok && kind == store.Password {
			out.Secrets[kind] = store.SecretValue(rest) // a literal that starts with env: or file:
		}
	}
	if err := p.grant.fill(&out); err != nil {
		return store.Profile{}, err
	}
	return out, nil
}

// overlay copies onto dst only the fields whose flags were set on fs, so
// `authlab run PROFILE --scope x` can override a saved profile.
func (p *profileFlags) overlay(fs *pflag.FlagSet, dst *store.Profile) error {
	src, err := p.toProfile(dst.Name, dst.Kind)
	if err != nil {
		return err
	}
	for _, f := range profileFlagFields() {
		if fs.Changed(f.flag) {
			f.copy(dst, &src)
		}
	}
	return nil
}

type profileFlagField struct {
	flag, field string // flag name, and the JSON field name validation reports
	copy        func(dst, src *store.Profile)
}

func secretCopy(k store.SecretKind) func(dst, src *store.Profile) {
	return func(dst, src *store.Profile) {
		if dst.Secrets == nil {
			dst.Secrets = map[store.SecretKind]store.Secret{}
		}
		dst.Secrets[k] = src.Secrets[k]
	}
}

func profileFlagFields() []profileFlagField {
	return append([]profileFlagField{
		{"issuer", "issuer", func(d, s *store.Profile) { d.Issuer = s.Issuer }},
		{"token-url", "token_url", func(d, s *store.Profile) { d.TokenURL = s.TokenURL }},
		{"auth-url", "auth_url", func(d, s *store.Profile) { d.AuthURL = s.AuthURL }},
		{"device-url", "device_url", func(d, s *store.Profile) { d.DeviceURL = s.DeviceURL }},
		{"target-url", "target_url", func(d, s *store.Profile) { d.TargetURL = s.TargetURL }},
		{"introspect-url", "introspect_url", func(d, s *store.Profile) { d.IntrospectURL = s.IntrospectURL }},
		{"revoke-url", "revoke_url", func(d, s *store.Profile) { d.RevokeURL = s.RevokeURL }},
		{"userinfo-url", "userinfo_url", func(d, s *store.Profile) { d.UserinfoURL = s.UserinfoURL }},
		{"jwks-url", "jwks_url", func(d, s *store.Profile) { d.JWKSURL = s.JWKSURL }},
		{"client-id", "client_id", func(d, s *store.Profile) { d.ClientID = s.ClientID }},
		{"client-secret", "secrets.client_secret", secretCopy(store.ClientSecret)},
		{"auth-method", "auth_method", func(d, s *store.Profile) { d.AuthMethod = s.AuthMethod }},
		{"private-key", "secrets.private_key", secretCopy(store.PrivateKey)},
		{"dpop", "dpop", func(d, s *store.Profile) { d.DPoP = s.DPoP }},
		{"dpop-key", "secrets.dpop_key", func(d, s *store.Profile) { secretCopy(store.DPoPKey)(d, s); d.DPoP = true }},
		{"dpop-alg", "dpop_alg", func(d, s *store.Profile) { d.DPoPAlg = s.DPoPAlg }},
		{"scope", "scopes", func(d, s *store.Profile) { d.Scopes = s.Scopes }},
		{"audience", "audience", func(d, s *store.Profile) { d.Audience = s.Audience }},
		{"resource", "resource", func(d, s *store.Profile) { d.Resource = s.Resource }},
		{"redirect-port", "redirect_port", func(d, s *store.Profile) { d.RedirectPort = s.RedirectPort }},
		{"cert", "cert_file", func(d, s *store.Profile) { d.CertFile = s.CertFile }},
		{"key", "key_file", func(d, s *store.Profile) { d.KeyFile = s.KeyFile }},
		{"ca", "ca_file", func(d, s *store.Profile) { d.CAFile = s.CAFile }},
		{"param", "extra_params", func(d, s *store.Profile) { d.ExtraParams = s.ExtraParams }},
		{"tag", "tags", func(d, s *store.Profile) { d.Tags = s.Tags }},
		{"notes", "notes", func(d, s *store.Profile) { d.Notes = s.Notes }},
		{"scheme", "hmac.scheme", func(d, s *store.Profile) { d.HMAC.Scheme = s.HMAC.Scheme }},
		{"hmac-key", "secrets.hmac_key", secretCopy(store.HMACKey)},
		{"key-id", "hmac.key_id", func(d, s *store.Profile) { d.HMAC.KeyID = s.HMAC.KeyID }},
		{"label", "hmac.label", func(d, s *store.Profile) { d.HMAC.Label = s.HMAC.Label }},
		{"components", "hmac.components", func(d, s *store.Profile) { d.HMAC.Components = s.HMAC.Components }},
		{"region", "hmac.region", func(d, s *store.Profile) { d.HMAC.Region = s.HMAC.Region }},
		{"service", "hmac.service", func(d, s *store.Profile) { d.HMAC.Service = s.HMAC.Service }},
		{"access-key", "hmac.access_key", func(d, s *store.Profile) { d.HMAC.AccessKey = s.HMAC.AccessKey }},
		{"api-key", "secrets.api_key", secretCopy(store.APIKey)},
		{"api-key-header", "api_key_header", func(d, s *store.Profile) { d.APIKeyHeader = s.APIKeyHeader }},
		{"api-key-query", "api_key_query", func(d, s *store.Profile) { d.APIKeyQuery = s.APIKeyQuery }},
	}, grantFlagFields()...)
}

// flagNames rewrites a validation error with flag names instead of JSON
// field names, since the user typed flags.
func flagNames(err error) string {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	byField := map[string]string{"name": "NAME", "kind": "--kind"}
	for _, f := range append(profileFlagFields(), authzFlagFields()...) {
		byField[f.field] = "--" + f.flag
	}
	var parts []string
	for _, f := range ve.Fields {
		name := f.Field
		if i := strings.IndexByte(name, '['); i > 0 { // scopes[2]
			name = name[:i]
		}
		if fl, ok := byField[name]; ok {
			name = fl
		}
		parts = append(parts, name+": "+f.Problem)
	}
	return strings.Join(parts, "; ")
}
