package cli

import (
	"authlab/flows/dpop"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"authlab/flows"
	"authlab/flows/har"
	"authlab/flows/oauth"
	"authlab/flows/token"
	"authlab/store"
	"authlab/views/render"
)

// oauthFlowHelp is one line per OAuth flow subcommand.
func oauthFlowHelp(flow string) string {
	return map[string]string{
		flows.FlowClientCredentials: "client_credentials grant (RFC 6749 4.4)",
		flows.FlowAuthCode:          "authorization code + PKCE through a browser and a loopback redirect",
		flows.FlowRefresh:           "refresh_token grant; reports whether the refresh token rotated",
		flows.FlowDevice:            "device authorization grant (RFC 8628): shows a code, polls",
		flows.FlowTokenExchange:     "token exchange (RFC 8693) with --token as the subject token",
		flows.FlowIntrospect:        "ask the introspection endpoint about --token (RFC 7662)",
		flows.FlowRevoke:            "revoke --token (RFC 7009), then confirm it is inactive",
		flows.FlowUserinfo:          "call the userinfo endpoint with --token",
		flows.FlowPassword:          "resource owner password grant (RFC 6749 4.3; RFC 9700 2.4 forbids it) with --username and --password",
		flows.FlowJWTBearer:         "JWT bearer grant (RFC 7523 2.1) with --assertion FILE or an assertion signed by --assertion-key",
	}[flow]
}

// oauthFlowExample is one command line per OAuth flow, against the mock IdP.
func oauthFlowExample(flow string) string {
	const idp = "authlab flow %s --issuer http://127.0.0.1:9090 "
	return fmt.Sprintf(idp, flow) + map[string]string{
		flows.FlowClientCredentials: "--client-id demo-cc --client-secret env:SECRET --scope api:read",
		flows.FlowAuthCode:          "--client-id demo-native --scope \"openid offline_access\"",
		flows.FlowRefresh:           "--client-id demo-web --client-secret env:SECRET --token env:RT",
		flows.FlowDevice:            "--client-id demo-device --scope openid",
		flows.FlowTokenExchange:     "--client-id demo-cc --client-secret env:SECRET --token env:AT --audience api://orders",
		flows.FlowIntrospect:        "--client-id demo-web --client-secret env:SECRET --token - < token.txt",
		flows.FlowRevoke:            "--client-id demo-web --client-secret env:SECRET --token env:AT",
		flows.FlowUserinfo:          "--client-id demo-native --token env:AT",
		flows.FlowPassword:          "--client-id demo-password --client-secret env:SECRET --username alice --password env:PASSWORD",
		flows.FlowJWTBearer:         "--client-id demo-jwt --private-key demo-jwt.key --assertion-key demo-jwt.key --scope api:read",
	}[flow]
}

// newFlowCmd groups one subcommand per flow. The HMAC and mTLS subcommands
// live in hmac.go and mtls.go.
func newFlowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flow NAME [flags]",
		Short: "Run one flow headless",
		Long: `Run one flow headless: client-credentials, auth-code, refresh, device,
token-exchange, introspect, revoke, userinfo, password, jwt-bearer, hmac, mtls.

Human output shows each step with its duration, then the tokens as the
token engine sees them; --json prints one object (flow, ok, error, token,
access_token, id_token, checks, skew, exchanges). Exit status: 0 ok, 1 the
flow or a check failed (the reason is the first line on stderr), 2 usage
or configuration error.`,
		Example: `  authlab flow client-credentials --issuer http://127.0.0.1:9090 --client-id demo-cc --client-secret env:SECRET
  authlab flow auth-code --issuer http://127.0.0.1:9090 --client-id demo-native --scope "openid offline_access"`,
		Args: cobra.NoArgs,
	}
	for _, name := range flows.OAuthFlows() {
		cmd.AddCommand(newOAuthFlowCmd(g, name))
	}
	cmd.AddCommand(newFlowHMACCmd(g), newFlowMTLSCmd(g))
	return cmd
}

// flowFlags are `authlab flow`'s flags: the profile flags (shared with
// `authlab profile add`) plus what only a run needs.
type flowFlags struct {
	pf                 profileFlags
	token              string
	tokenTypeHint      string
	subjectTokenType   string
	actorToken         string
	actorTokenType     string
	requestedTokenType string
	call               string
	timeout, wait      time.Duration
	leeway             time.Duration
	noBrowser          bool
	localhost          bool
	asJSON             bool
	expectJWT          bool
	har                string
	harTokens          bool
	harErr             error
	authz              authzFlags
	grant              grantRunFlags // grantflags.go
}

// profileOnlyFlags describe HMAC / API-key profiles or profile metadata:
// registered by addProfileFlags but meaningless for an OAuth flow.
func profileOnlyFlags() []string {
	return []string{"tag", "notes", "scheme", "hmac-key", "key-id", "label", "components",
		"region", "service", "access-key", "api-key", "api-key-header", "api-key-query", "target-url"}
}

func addFlowFlags(fs *pflag.FlagSet, f *flowFlags, withProfile bool) {
	if withProfile {
		addProfileFlags(fs, &f.pf)
		for _, n := range profileOnlyFlags() {
			_ = fs.MarkHidden(n)
		}
	}
	fs.StringVar(&f.token, "token", "", "input token (refresh, introspect, revoke, userinfo, token-exchange subject): a value, - for stdin, env:NAME, file:PATH or raw:VALUE")
	fs.StringVar(&f.tokenTypeHint, "token-type-hint", "", "token_type_hint for introspection / revocation (access_token, refresh_token)")
	fs.StringVar(&f.subjectTokenType, "subject-token-type", "", "token exchange: subject token type (default access_token)")
	fs.StringVar(&f.actorToken, "actor-token", "", "token exchange: actor token (value, env:NAME or file:PATH)")
	fs.StringVar(&f.actorTokenType, "actor-token-type", "", "token exchange: actor token type (default access_token)")
	fs.StringVar(&f.requestedTokenType, "requested-token-type", "", "token exchange: requested token type")
	fs.StringVar(&f.call, "call", "", "after the flow, GET this URL with the access token")
	fs.DurationVar(&f.timeout, "timeout", flows.DefaultTimeout, "timeout of each HTTP call")
	fs.DurationVar(&f.wait, "wait", flows.DefaultWait, "how long to wait for the browser callback or the device approval")
	fs.DurationVar(&f.leeway, "leeway", token.DefaultLeeway, "clock leeway of the token time checks")
	fs.BoolVar(&f.noBrowser, "no-browser", false, "print the authorization URL instead of opening a browser")
	fs.BoolVar(&f.localhost, "localhost", false, "redirect to http://localhost:PORT/callback instead of 127.0.0.1")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object on stdout (see README: JSON output and exit status)")
	addAuthzFlags(fs, &f.authz)
	addGrantRunFlags(fs, &f.grant)
	fs.BoolVar(&f.expectJWT, "expect-jwt", false, "fail unless the access token is a JWT (by default an access token is opaque to the client, and one that only looks like a JWT is a warning)")
}

func newOAuthFlowCmd(g *globals, name string) *cobra.Command {
	var f flowFlags
	cmd := &cobra.Command{
		Use:     name + " [flags]",
		Short:   "The " + name + " flow: " + oauthFlowHelp(name),
		Example: "  " + oauthFlowExample(name),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.pf.toProfile("", store.Kind(name))
			if err != nil {
				return usageErr("%v", err)
			}
			req, err := p.FlowRequest(name)
			if err != nil {
				return usageErr("%v", err)
			}
			if err := f.apply(&req, g); err != nil {
				return err
			}
			return f.harResult(runFlow(cmd.Context(), g, req, f.asJSON, f.assert))
		},
	}
	addFlowFlags(cmd.Flags(), &f, true)
	addHARFlags(cmd.Flags(), &f)
	return cmd
}

// addHARFlags: --har on `authlab flow NAME` and `authlab run`.
func addHARFlags(fs *pflag.FlagSet, f *flowFlags) {
	addKidFlag(fs, &f.pf.grant) // here, not in the profile flags: audit has its own --kid
	fs.StringVar(&f.har, "har", "", "write the run's HTTP exchanges to FILE as HTTP Archive 1.2 (secrets, tokens and codes masked)")
	fs.BoolVar(&f.harTokens, "har-tokens", false, "with --har: keep the tokens the run received (secrets stay masked; the file is then a credential)")
}

// assert applies the run-only expectations to a finished run's result.
func (f *flowFlags) assert(res *flows.Result) {
	if f.expectJWT {
		expectJWT(res)
	}
	if f.har != "" {
		f.harErr = writeHAR(f.har, res, f.harTokens)
	}
}

// harResult is the run's error, or a failed --har write (exit 1) when the
// run itself went well.
func (f *flowFlags) harResult(err error) error {
	if err == nil && f.harErr != nil {
		return failErr(f.harErr)
	}
	return err
}

// writeHAR writes res's exchanges as HAR (0600: it may hold tokens).
func writeHAR(path string, res *flows.Result, tokens bool) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("--har: %v", err)
	}
	if err := har.Write(file, res, har.Options{Tokens: tokens, Version: version}); err != nil {
		file.Close()
		return fmt.Errorf("--har %s: %v", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("--har %s: %v", path, err)
	}
	return nil
}

// expectJWT fails a run whose access token is not a JWT. The engine treats
// an access token as opaque, so one that only looks like a JWT is a warning
// there; --expect-jwt makes that (and a plainly opaque token) a failure.
func expectJWT(res *flows.Result) {
	at := res.AccessToken
	if at == nil || at.Format == string(token.FormatJWS) || at.Format == string(token.FormatJWE) {
		return
	}
	found := false
	for _, cs := range [][]flows.Check{res.Checks, at.Checks} {
		for i, c := range cs {
			if (c.Name == "format" || c.Name == "access_token format") && c.Status != flows.Fail {
				cs[i].Status = flows.Fail
				cs[i].Detail = "--expect-jwt: " + c.Detail
				found = true
			}
		}
	}
	if !found && !flows.AnyFailed(at.Checks) {
		c := flows.Check{Name: "format", Status: flows.Fail, Detail: "--expect-jwt: the access token is " + at.Format + ", not a JWT"}
		at.Checks = append(at.Checks, c)
		c.Name = "access_token format"
		res.AddCheck(c)
	}
}

// apply copies the run-only flags into req.
func (f *flowFlags) apply(req *flows.Request, g *globals) error {
	if f.token != "" {
		v, err := readTokenFlag("--token", f.token, g.stdin)
		if err != nil {
			return err
		}
		req.Token = flows.Secret(v)
	}
	if f.actorToken != "" {
		v, err := readTokenFlag("--actor-token", f.actorToken, g.stdin)
		if err != nil {
			return err
		}
		req.ActorToken = flows.Secret(v)
	}
	req.TokenTypeHint = f.tokenTypeHint
	req.SubjectTokenType = f.subjectTokenType
	req.ActorTokenType = f.actorTokenType
	req.RequestedTokenType = f.requestedTokenType
	req.CallURL = f.call
	req.Timeout = f.timeout
	req.Wait = f.wait
	req.Leeway = f.leeway
	if f.leeway == 0 {
		req.Leeway = -1 // the token engine's "no leeway"
	}
	if err := f.authz.apply(req); err != nil {
		return err
	}
	if err := f.grant.apply(req, g); err != nil {
		return err
	}
	req.NoBrowser = f.noBrowser
	req.UseLocalhost = f.localhost
	req.Browser = os.Getenv("BROWSER")
	if f.harTokens && f.har == "" {
		return usageErr("--har-tokens needs --har FILE")
	}
	if f.timeout <= 0 || f.wait <= 0 || f.leeway < 0 {
		return usageErr("--timeout and --wait must be positive and --leeway not negative")
	}
	return nil
}

// readTokenFlag reads a token flag: "-" is stdin (first line, capped), env:
// and file: references are resolved, anything else is the token itself.
func readTokenFlag(flag, v string, stdin io.Reader) (string, error) {
	if v == "-" {
		if stdin == nil {
			return "", usageErr("%s -: no standard input", flag)
		}
		b, err := io.ReadAll(io.LimitReader(stdin, token.MaxTokenSize+1))
		if err != nil {
			return "", usageErr("%s -: reading stdin: %v", flag, err)
		}
		if len(b) > token.MaxTokenSize {
			return "", usageErr("%s -: more than %d KiB on stdin; is this really a token?", flag, token.MaxTokenSize>>10)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", usageErr("%s -: standard input is empty", flag)
		}
		return s, nil
	}
	if rest, ok := strings.CutPrefix(v, "raw:"); ok {
		return strings.TrimSpace(rest), nil // a literal that starts with env: or file:
	}
	if strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "cmd:") {
		s, err := store.ParseSecret(v).Resolve()
		if err != nil {
			return "", usageErr("%s: %v", flag, err)
		}
		return strings.TrimSpace(s), nil
	}
	return strings.TrimSpace(v), nil
}

// runFlow runs req and prints the outcome; done (optional) sees the result
// before the exit status is decided (`authlab run` records history there).
func runFlow(ctx context.Context, g *globals, req flows.Request, asJSON bool, done func(*flows.Result)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	eng, err := oauth.New(req, oauth.Options{})
	if err != nil {
		return flowErr(err)
	}
	defer eng.Close()
	return reportRun(g, req, asJSON, done, func(obs flows.Observer) *flows.Result { return eng.Run(ctx, obs) })
}

// reportRun runs a flow with an observer that prints its steps, then prints
// the result (human or --json) and maps it to the exit status. Every run of
// `authlab flow` and `authlab run` ends here.
func reportRun(g *globals, req flows.Request, asJSON bool, done func(*flows.Result), run func(flows.Observer) *flows.Result) error {
	color := g.colorEnabled() && flowIsTerminal(g.stdout)
	var mu sync.Mutex // the callback goroutine reports too
	obs := flows.ObserverFuncs{OnStep: func(ev flows.StepEvent) {
		mu.Lock()
		defer mu.Unlock()
		if asJSON {
			// Only what the user must act on, and on stderr: stdout is JSON.
			if ev.Done && ev.AsksUser() {
				fmt.Fprintf(g.stderr, "%s: %s\n", ev.Name, render.Printable(ev.Detail))
			}
			return
		}
		if ev.Done {
			printStep(g.stdout, ev, color)
		}
	}}
	res := run(obs)
	explainResult(res, flagFor)
	if done != nil {
		done(res)
	}
	if res.Failed() {
		res.OK = false // README: ok means completed and no check failed
	}
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return failErr(fmt.Errorf("encoding the result: %v", err))
		}
	} else {
		printResult(g.stdout, res, req, color)
	}
	if res.Failed() {
		code := exitFailed
		if res.Err != nil && res.Err.Kind == flows.ErrConfig {
			code = exitUsage
		}
		return &exitError{code: code, err: errors.New(res.Reason())}
	}
	return nil
}

// flowIsTerminal: colour only for a terminal, decided without querying it.
func flowIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func flowErr(err error) error {
	err = explainFlags(err, flagFor)
	var fe *flows.Error
	if errors.As(err, &fe) && fe.Kind != flows.ErrConfig {
		return failErr(err)
	}
	return usageErr("%v", err)
}

func printStep(w io.Writer, ev flows.StepEvent, color bool) {
	mark := render.Symbol(flows.Pass)
	if !ev.OK {
		mark = render.Symbol(flows.Fail)
	}
	dur := ""
	if ev.Duration > 0 {
		dur = fmt.Sprintf("%8.1f ms", float64(ev.Duration.Microseconds())/1000)
	}
	detail := render.Printable(ev.Detail) // server text: no terminal escapes
	if ev.AsksUser() {
		// The URL or code must stand out and stay copyable.
		fmt.Fprintf(w, "%s %-22s\n    %s\n", mark, ev.Name, detail)
		return
	}
	fmt.Fprintf(w, "%s %-22s %11s  %s\n", mark, ev.Name, dur, oneLine(ev.Detail, 200))
}

// printableLines is render.Printable for each line of a multi-line text.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = render.Printable(l)
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string, n int) string {
	s = render.Printable(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > n { // cut by runes: never split a character
		s = string(r[:n]) + "…"
	}
	return s
}

// printResult is the human view after the steps: the token response, the
// token engine's view of each token, the flow's own checks.
func printResult(w io.Writer, res *flows.Result, req flows.Request, color bool) {
	ro := render.Options{Width: 100, Color: color, Now: time.Now(), Loc: time.Local}
	var skew token.Skew
	if res.Skew != nil {
		if s, ok := res.Skew.Report.(token.Skew); ok {
			skew = s
		}
	}
	if t := res.Token; t != nil {
		fmt.Fprintf(w, "\nToken response: token_type %s", dash(t.TokenType))
		if t.HasExpiresIn {
			fmt.Fprintf(w, ", expires_in %d s", t.ExpiresIn)
		}
		if t.Scope != "" {
			fmt.Fprintf(w, ", scope %q", t.Scope)
		}
		if t.RefreshToken != "" {
			fmt.Fprint(w, ", refresh token")
		}
		fmt.Fprintln(w)
	}
	printDPoP(w, res)
	shown := map[string]bool{}
	for _, tk := range []struct {
		name string
		d    *flows.DecodedToken
	}{{"Access token", res.AccessToken}, {"ID token", res.IDToken}} {
		if tk.d == nil {
			continue
		}
		fmt.Fprintf(w, "\n== %s ==\n", tk.name)
		if rep, ok := tk.d.Report.(*token.Report); ok {
			io.WriteString(w, render.Report(rep, token.Skew{}, ro))
		} else {
			io.WriteString(w, render.Checks(tk.d.Checks, ro))
		}
		for _, c := range tk.d.Checks {
			shown[c.Name] = true
		}
	}
	if res.Introspection != nil {
		b, _ := json.MarshalIndent(res.Introspection, "  ", "  ")
		fmt.Fprintf(w, "\nIntrospection:\n  %s\n", printableLines(string(b)))
	}
	if res.Userinfo != nil {
		b, _ := json.MarshalIndent(res.Userinfo, "  ", "  ")
		fmt.Fprintf(w, "\nUserinfo:\n  %s\n", printableLines(string(b)))
	}
	if c := res.Call; c != nil {
		fmt.Fprintf(w, "\nResource %s answered HTTP %d (%s)\n", render.Printable(render.ShownURL(c.URL)), c.Status, render.Printable(dash(c.ContentType)))
		if c.Challenge != "" {
			fmt.Fprintf(w, "  WWW-Authenticate: %s\n", render.Printable(c.Challenge))
		}
		if c.Body != "" {
			fmt.Fprintf(w, "  %s\n", oneLine(c.Body, 300))
		}
	}
	// The flow's own checks (token checks were shown with their token).
	var own []flows.Check
	for _, c := range res.Checks {
		if strings.HasPrefix(c.Name, "access_token ") || strings.HasPrefix(c.Name, "id_token ") || c.Name == "clock skew" {
			continue
		}
		own = append(own, c)
	}
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlow checks")
		io.WriteString(w, render.Checks(own, ro))
	}
	if skew.Known() {
		lw := req.Leeway // the token engine's convention: 0 default, negative none
		switch {
		case lw == 0:
			lw = token.DefaultLeeway
		case lw < 0:
			lw = 0
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, render.SkewLine(skew, lw, ro))
		fmt.Fprintln(w, render.SkewGauge(skew, lw, ro))
	}
	status := "ok"
	if res.Failed() {
		status = "FAILED: " + res.Reason()
	}
	fmt.Fprintf(w, "\n%s %s in %.1f ms, %d HTTP exchange%s\n", res.Flow, status, float64(res.Duration.Microseconds())/1000, len(res.Exchanges), plural(len(res.Exchanges)))
}

// newRunCmd runs a saved profile's flow: history (redacted) is appended
// and the token cached, each with a short store transaction of its own so a
// TUI holding the store elsewhere is not blocked for the whole flow.
func newRunCmd(g *globals) *cobra.Command {
	var f flowFlags
	var flowName string
	cmd := &cobra.Command{
		Use:   "run PROFILE",
		Short: "Run a saved profile's flow headless",
		Long: `Run a saved profile's flow headless. The profile's kind decides the flow;
--flow runs another OAuth flow with the profile's settings (refresh,
introspect, revoke, userinfo). Flags given here override the profile.
The run is appended to the profile's history (claims and fingerprints,
never bearer tokens) and the token is cached in the store.

An api-key profile calls its target URL with the key in its header
(default X-API-Key) or query parameter; an hmac profile signs one request
to its target URL with a fresh nonce. Both run as the console runs them,
and the key never appears in the output, the history or --har.`,
		Example: `  authlab run demo-client-credentials --json
  authlab run demo-auth-code-pkce --flow refresh
  authlab run demo-apikey --har run.har`,
		Args: exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.resolveStorePath()
			if err != nil {
				return storeErr(err)
			}
			if _, err := store.EnsureDPoPKey(path, args[0], dpop.GeneratePEM); err != nil {
				return storeErr(err)
			}
			p, err := store.LoadProfile(path, args[0])
			if err != nil {
				return storeErr(err)
			}
			if err := f.pf.overlay(cmd.Flags(), &p); err != nil {
				return usageErr("%v", err)
			}
			// A secret not confirmed for the hosts it would go to (an
			// import, a changed URL) is refused, in one line, exit 2.
			if err := p.TrustError(); err != nil {
				return storeErr(err)
			}
			name := flowName
			if name == "" {
				name = string(p.Kind)
			}
			if p.Kind == store.KindAPIKey || p.Kind == store.KindHMAC {
				if flowName != "" {
					return usageErr("profile %s is a %s profile: --flow picks an OAuth flow, and it has none", p.Name, p.Kind)
				}
				return f.harResult(runRequestProfile(cmd.Context(), g, path, p, &f))
			}
			if !isOAuthFlow(name) {
				return usageErr("profile %s is a %s profile; authlab run handles OAuth flows (%s) — use authlab flow %s", p.Name, p.Kind, strings.Join(flows.OAuthFlows(), ", "), p.Kind)
			}
			req, err := p.FlowRequest(name)
			if err != nil {
				return usageErr("profile %s: %v", p.Name, err)
			}
			if err := f.apply(&req, g); err != nil {
				return err
			}
			if !req.Token.IsSet() && needsToken(name) {
				tok, err := tokenFromCache(path, p.Name, name)
				if err != nil {
					return usageErr("%s needs --token, and there is no cached one: %v", name, err)
				}
				req.Token = flows.Secret(tok)
			}
			var storeErrMsg error
			err = runFlow(cmd.Context(), g, req, f.asJSON, func(res *flows.Result) {
				f.assert(res)
				storeErrMsg = store.RecordRun(path, p.Name, res)
			})
			if storeErrMsg != nil {
				fmt.Fprintf(g.stderr, "authlab: warning: the run was not recorded: %v\n", storeErrMsg)
			}
			return f.harResult(err)
		},
	}
	addFlowFlags(cmd.Flags(), &f, true)
	addHARFlags(cmd.Flags(), &f)
	cmd.Flags().StringVar(&flowName, "flow", "", "run this OAuth flow instead of the profile's kind")
	return cmd
}

func needsToken(flow string) bool {
	switch flow {
	case flows.FlowRefresh, flows.FlowIntrospect, flows.FlowRevoke, flows.FlowUserinfo, flows.FlowTokenExchange:
		return true
	}
	return false
}

func isOAuthFlow(name string) bool {
	for _, f := range flows.OAuthFlows() {
		if f == name {
			return true
		}
	}
	return false
}

// tokenFromCache picks the input token a flow needs from the profile's
// cached token response: the refresh token for refresh, else the access token.
func tokenFromCache(path, profile, flow string) (string, error) {
	var ct store.CachedToken
	if err := store.View(path, func(s *store.Store) error {
		var err error
		ct, err = s.GetToken(profile)
		return err
	}, store.ReadOnly()); err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(ct.Response, &m); err != nil {
		return "", fmt.Errorf("cached token of %s is unreadable: %v", profile, err)
	}
	field := "access_token"
	if flow == flows.FlowRefresh {
		field = "refresh_token"
	}
	v, _ := m[field].(string)
	if v == "" {
		return "", fmt.Errorf("the cached token response of %s has no %s", profile, field)
	}
	return v, nil
}

// printDPoP shows the DPoP key and each request's proof, decoded (the
// public key is shortened to its type; the private key is never shown).
func printDPoP(w io.Writer, res *flows.Result) {
	d := res.DPoP
	if d == nil {
		return
	}
	kind := "key from the profile or --dpop-key"
	if d.Ephemeral {
		kind = "ephemeral key"
	}
	fmt.Fprintf(w, "\nDPoP: %s %s, jkt %s, nonce retries %d\n", d.Alg, kind, d.JKT, d.NonceRetries)
	for _, ex := range res.Exchanges {
		if ex.DPoP == nil {
			continue
		}
		h := map[string]any{}
		for k, v := range ex.DPoP.Header {
			h[k] = v
		}
		if jwk, ok := h["jwk"].(map[string]any); ok {
			h["jwk"] = fmt.Sprintf("%v %v", jwk["kty"], jwk["crv"])
		}
		hb, _ := json.Marshal(h)
		cb, _ := json.Marshal(ex.DPoP.Claims)
		fmt.Fprintf(w, "  %s %s → %d\n    proof header %s\n    proof claims %s\n", ex.Method, render.Printable(ex.URL), ex.Status, render.Printable(string(hb)), render.Printable(string(cb)))
	}
}
