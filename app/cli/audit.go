package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"authlab/flows"
	"authlab/flows/audit"
	"authlab/flows/mtls"
	"authlab/store"
	"authlab/views/render"
)

type auditFlags struct {
	ff           flowFlags // --call, --token, --json, --timeout and the profile flags
	flow         string
	method, data string
	headers      []string
	signingKey   string
	kid          string
	requireScope string
	maxRequests  int
}

// newAuditCmd is `authlab audit`: which bad tokens does this API accept?
func newAuditCmd(g *globals) *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit --call URL (PROFILE | --token T | flow flags) [flags]",
		Short: "Which bad tokens does this API accept?",
		Long: `Audit the token validation of an API, gateway or middleware.

With a valid token (a profile's flow, the flow flags' flow, or --token) the
URL must answer the valid call and refuse a call without a token (401/403).
Then each case is sent once, paced and bounded (--max-requests, 60 by
default), to the --call host only: stripped, tampered and unsigned tokens,
HS256 keyed with the issuer's public key, embedded jwk and jku keys, kid
path traversal, a blank HMAC secret, the psychic ECDSA signature, an unknown
kid, the token in the query; and, with a key the API trusts (--signing-key
PEM --kid KID, or the mock IdP's mint call when the issuer is an authlab mock
IdP), expired, not yet valid, wrong audience and issuer, missing exp, wrong
typ, long-lived and (with --require-scope) missing scope tokens, plus a
bisection of the expiry leeway (at most 12 requests, up to one hour).

A DPoP-bound token (cnf.jkt) is presented as RFC 9449 asks, every request
with a proof, and five more cases run: the token as Bearer, a proof without
ath, for another URL, replayed, or by another key. They need the key the
token is bound to: the flow's own (a profile or flow flags with --dpop), or
--dpop-key FILE with --token; without it they are skipped.

Exit status: 0 no must-level case was accepted; 1 one was; 2 usage error or
a failed baseline. Nothing minted is written to the store.`,
		Example: `  authlab audit --call http://127.0.0.1:9090/api/hello demo-cc
  authlab audit --call https://api.example.com/orders --token env:TOKEN --signing-key test-key.pem --kid test-1 --json
  authlab audit --call http://127.0.0.1:9090/api/hello --issuer http://127.0.0.1:9090 --client-id demo-cc --client-secret demo-cc-secret --scope api:read`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd, g, &f, args)
		},
	}
	fs := cmd.Flags()
	addFlowFlags(fs, &f.ff, true)
	fs.Lookup("call").Usage = "the URL under test (required); every request goes to its host only"
	fs.Lookup("token").Usage = "a valid access token for --call: a value, - for stdin, env:NAME or file:PATH"
	fs.StringVar(&f.flow, "flow", "", "with flow flags: the OAuth flow that gets the valid token (default client-credentials); with a profile: instead of its kind")
	fs.StringVar(&f.method, "method", http.MethodGet, "request method")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fs.StringVar(&f.data, "data", "", "request body (@FILE reads a file)")
	fs.StringVar(&f.signingKey, "signing-key", "", "a private key the API trusts (PEM or JWK, file or text), for the claims cases and the leeway")
	fs.StringVar(&f.kid, "kid", "", "the kid the API knows --signing-key by")
	fs.StringVar(&f.requireScope, "require-scope", "", "a scope the API requires: adds scope-missing")
	fs.IntVar(&f.maxRequests, "max-requests", audit.DefaultMaxRequests, "at most this many requests to the API")
	return cmd
}

func runAudit(cmd *cobra.Command, g *globals, f *auditFlags, args []string) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if f.ff.call == "" {
		return usageErr("audit needs --call URL: the API to audit")
	}
	u, err := url.Parse(f.ff.call)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("--call %q is not an http(s) URL", f.ff.call)
	}
	if f.maxRequests <= 0 {
		return usageErr("--max-requests must be positive")
	}
	cfg := audit.Config{URL: f.ff.call, Method: strings.ToUpper(f.method), Header: http.Header{},
		RequireScope: f.requireScope, MaxRequests: f.maxRequests, Timeout: f.ff.timeout}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return usageErr("-H %q: want 'Name: value'", h)
		}
		cfg.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if f.data != "" {
		cfg.Body = []byte(f.data)
		if name, ok := strings.CutPrefix(f.data, "@"); ok {
			if cfg.Body, err = readCapped(g, name, 1<<20); err != nil {
				return usageErr("--data %s: %v", f.data, err)
			}
		}
	}
	req, runFlow, err := auditRequest(cmd, g, f, args)
	if err != nil {
		return err
	}
	if req.CertFile != "" || req.CAFile != "" {
		var conf *tls.Config
		if conf, err = mtls.LoadClientTLS(req.CertFile, req.KeyFile, req.CAFile); err != nil {
			return usageErr("%v", err)
		}
		cfg.TLSConfig = conf
	}
	cfg.JWKSURL = req.Endpoints.JWKS
	if !audit.IsLoopbackHost(u.Hostname()) {
		fmt.Fprintf(g.stderr, "authlab: warning: %s is not a loopback address; the audit sends up to %d requests with forged tokens to it: audit only APIs you may test\n",
			render.Printable(u.Host), f.maxRequests)
	}
	if !runFlow {
		cfg.Token = string(req.Token)
	}
	if err := auditSigner(g, f, &cfg); err != nil {
		return err
	}
	// Only what the user must act on (a browser URL, a device code)
	// reaches stderr while the flow gets the valid token.
	obs := flows.ObserverFuncs{OnStep: func(ev flows.StepEvent) {
		if ev.Done && ev.AsksUser() {
			fmt.Fprintf(g.stderr, "%s: %s\n", ev.Name, render.Printable(ev.Detail))
		}
	}}
	rep := audit.RunFlow(ctx, cfg, audit.Source{Request: req}, obs)
	var fe *audit.FlowError
	if errors.As(rep.Err, &fe) {
		explainResult(fe.Result, flagFor)
		return usageErr("%v", fe)
	}
	if rep.Err != nil {
		// A failed baseline is exit 2 (README); with --json the baseline
		// statuses still go to stdout.
		explainFlags(rep.Err, flagFor)
		var be *audit.BaselineError
		if f.ff.asJSON && errors.As(rep.Err, &be) {
			_ = tokWriteJSON(g.stdout, rep)
		}
		return usageErr("%v", rep.Err)
	}
	if f.ff.asJSON {
		if err := tokWriteJSON(g.stdout, rep); err != nil {
			return failErr(err)
		}
	} else {
		printAudit(g.stdout, rep)
	}
	if rep.Vulnerable() {
		var names []string
		for _, c := range rep.Cases {
			if c.Level == audit.Must && c.Verdict == audit.Accepted {
				names = append(names, c.Name)
			}
		}
		return failErr(fmt.Errorf("the API accepted must-level bad tokens: %s", strings.Join(names, ", ")))
	}
	return nil
}

// auditRequest builds the flow request the valid token comes from, exactly
// as `authlab run` (a profile) or `authlab flow` (flow flags) do. run says
// whether its flow must run for the token, or req.Token is the valid token.
func auditRequest(cmd *cobra.Command, g *globals, f *auditFlags, args []string) (req flows.Request, run bool, err error) {
	var p store.Profile
	name := f.flow
	switch {
	case len(args) == 1:
		path, err := g.resolveStorePath()
		if err != nil {
			return req, false, storeErr(err)
		}
		if p, err = store.LoadProfile(path, args[0]); err != nil {
			return req, false, storeErr(err)
		}
		if err := f.ff.pf.overlay(cmd.Flags(), &p); err != nil {
			return req, false, usageErr("%v", err)
		}
		if name == "" {
			name = string(p.Kind)
		}
	case f.ff.token == "" && f.ff.pf.issuer == "" && f.ff.pf.tokenURL == "":
		return req, false, usageErr("audit needs a valid token: a PROFILE, --token T, or flow flags (--issuer, --client-id, ...)")
	case f.ff.token != "" && f.ff.pf.issuer == "" && f.ff.pf.tokenURL == "":
		// --token alone: no flow, no profile
		req = flows.Request{Timeout: f.ff.timeout, Endpoints: flows.Endpoints{JWKS: f.ff.pf.jwksURL}, CertFile: f.ff.pf.cert, KeyFile: f.ff.pf.key, CAFile: f.ff.pf.ca}
		v, err := readTokenFlag("--token", f.ff.token, g.stdin)
		req.Token = flows.Secret(v)
		if err == nil && f.ff.pf.dpopKey != "" {
			err = auditDPoPKey(&req, f.ff.pf.dpopKey, f.ff.pf.dpopAlg)
		}
		return req, false, err
	default:
		if name == "" {
			name = flows.FlowClientCredentials
		}
		if p, err = f.ff.pf.toProfile("", store.Kind(name)); err != nil {
			return req, false, usageErr("%v", err)
		}
	}
	if !isOAuthFlow(name) {
		return req, false, usageErr("audit gets its valid token from an OAuth flow (%s); %s is not one: give --token", strings.Join(flows.OAuthFlows(), ", "), name)
	}
	if req, err = p.FlowRequest(name); err != nil {
		return req, false, usageErr("%v", err)
	}
	call := f.ff.call
	f.ff.call = "" // the flow itself calls nothing: --call is the API under test
	err = f.ff.apply(&req, g)
	f.ff.call = call
	if err != nil {
		return req, false, err
	}
	issues := name == flows.FlowClientCredentials || name == flows.FlowAuthCode || name == flows.FlowDevice
	switch {
	case issues && req.Token.IsSet():
		return req, false, nil // --token is the valid token; the flags only name the issuer
	case issues, name == flows.FlowRefresh || name == flows.FlowTokenExchange:
		if !issues && !req.Token.IsSet() {
			return req, false, usageErr("the %s flow needs --token (its input)", name)
		}
		return req, true, nil
	case !req.Token.IsSet():
		return req, false, usageErr("the %s flow issues no token: give the valid one with --token", name)
	}
	return req, false, nil
}

// auditDPoPKey names the key a --token is DPoP-bound to (--dpop-key: a
// path, env:NAME or file:PATH, holding PEM or a private JWK), as a
// profile's DPoP key is named.
func auditDPoPKey(req *flows.Request, v, alg string) error {
	data, err := store.ParseSecret(v).Resolve()
	if err != nil {
		return usageErr("--dpop-key: %v", err)
	}
	if t := strings.TrimSpace(data); strings.HasPrefix(t, "-----BEGIN") || strings.HasPrefix(t, "{") {
		req.DPoPKeyData = flows.Secret(data)
	} else {
		req.DPoPKey = t
	}
	req.DPoP, req.DPoPAlg = true, alg
	return nil
}

// auditSigner takes --signing-key for the claims cases; without it
// audit.RunFlow asks the token's issuer to mint when it is an authlab mock
// IdP.
func auditSigner(g *globals, f *auditFlags, cfg *audit.Config) error {
	if f.signingKey == "" {
		if f.kid != "" {
			return usageErr("--kid names the kid of --signing-key; give --signing-key too")
		}
		return nil
	}
	key, err := readSigningKey(g, "--signing-key", f.signingKey)
	if err != nil {
		return err
	}
	cfg.Signer = audit.KeySigner{Key: key, Kid: f.kid}
	return nil
}

// printAudit is the human report: a table, the details that matter, the
// leeway and a one-line summary.
func printAudit(w io.Writer, rep *audit.Report) {
	fmt.Fprintf(w, "Audit of %s\n", render.Printable(rep.Target))
	fmt.Fprintf(w, "baseline: valid token HTTP %d, no token HTTP %d\n", rep.Baseline.Status, rep.Baseline.NoTokenStatus)
	if rep.Signer != "" {
		fmt.Fprintf(w, "claims cases signed by %s\n", render.Printable(rep.Signer))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tLEVEL\tSENT\tSTATUS\tVERDICT\tREFERENCE")
	for _, c := range rep.Cases {
		status := "-"
		if c.Status != 0 {
			status = fmt.Sprint(c.Status)
		}
		verdict := string(c.Verdict)
		switch {
		case c.Verdict == audit.Accepted && c.Level == audit.Must:
			verdict = "ACCEPTED " + render.Symbol(flows.Fail)
		case c.Verdict == audit.Accepted || c.ServerError():
			verdict += " " + render.Symbol(flows.Warn)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Level, oneLine(c.Sent, 70), status, verdict, c.Reference)
	}
	tw.Flush()
	var notes []string
	for _, c := range rep.Cases {
		if c.Verdict != audit.Rejected {
			notes = append(notes, fmt.Sprintf("  %s: %s", c.Name, oneLine(c.Detail, 200)))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(notes, "\n"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, rep.LeewayLine())
	fmt.Fprintln(w, rep.Summary())
}
