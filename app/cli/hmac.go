package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/flows/mtls"
	"authlab/store"
	"authlab/views/render"

	"github.com/spf13/cobra"
)

type hmacFlags struct {
	scheme, key, keyID, label, components string
	created, expires                      int64
	nonce, tag                            string
	accessKey, region, service, session   string
	at                                    string
	method, url                           string
	headers                               []string
	data                                  string
	dryRun, verify, asJSON, showSecrets   bool
	request, signerBase, ca               string
	tolerance, timeout                    time.Duration
	profile                               string
}

func newFlowHMACCmd(g *globals) *cobra.Command {
	f := &hmacFlags{}
	cmd := &cobra.Command{
		Use:   "hmac",
		Short: "Sign (and send, or verify) an HMAC-signed request",
		Long: `Sign a request with RFC 9421 HTTP Message Signatures (hmac-sha256), AWS
Signature Version 4, or the Stripe / GitHub webhook styles; show exactly what
was signed (signature base, canonical request, string to sign) and the headers
added; then send it (or, with --dry-run, print it and send nothing).

With --verify, check a captured request instead (--request FILE in HTTP/1.1
wire form, or the same flags plus the captured signature headers via -H) and,
on a mismatch, point at the first difference you can act on.

Keys: --key VALUE, env:NAME, file:PATH, hex:HEX or base64:B64, or the key
stored in an hmac profile (--profile NAME, whose settings and URL are the
defaults of the flags). Keys are never printed. Secret header values
(Authorization, Cookie, X-Api-Key, X-Amz-Security-Token) show masked in the
signature base, canonical request and headers, with their length and a short
SHA-256 so two bases still compare; --show-secrets shows them in clear.`,
		Example: `  authlab flow hmac --key env:API_KEY --key-id demo --method POST --url https://127.0.0.1:9090/api/hmac --data '{"hi":1}'
  authlab flow hmac --scheme aws-sigv4 --key env:AWS_SECRET_ACCESS_KEY --access-key AKID --region us-east-1 --service execute-api --url https://api.example.com/ --dry-run
  authlab flow hmac --scheme github --key env:WEBHOOK_SECRET --verify --request captured.http`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runFlowHMAC(cmd.Context(), g, f, cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scheme, "scheme", hmac.SchemeRFC9421, "rfc9421, aws-sigv4, stripe or github")
	fl.StringVar(&f.key, "key", "", "HMAC key / secret access key: a value, env:NAME, file:PATH, hex:…, base64:… or raw:VALUE")
	fl.StringVar(&f.keyID, "key-id", "", "rfc9421 keyid parameter")
	fl.StringVar(&f.label, "label", hmac.DefaultLabel, "rfc9421 signature label (on --verify: which signature to check; default the first)")
	fl.StringVar(&f.components, "components", "", "rfc9421 covered components (default "+hmac.DefaultComponents+"); on --verify: the components you expect")
	fl.Int64Var(&f.created, "created", 0, "rfc9421 created, Unix seconds (default: now)")
	fl.Int64Var(&f.expires, "expires", 0, "rfc9421 expires, Unix seconds")
	fl.StringVar(&f.nonce, "nonce", "", `rfc9421 nonce ("random" for 16 random bytes)`)
	fl.StringVar(&f.tag, "tag", "", "rfc9421 tag parameter")
	fl.StringVar(&f.accessKey, "access-key", "", "aws-sigv4 access key id")
	fl.StringVar(&f.region, "region", "", "aws-sigv4 region, e.g. us-east-1")
	fl.StringVar(&f.service, "service", "", "aws-sigv4 service, e.g. execute-api, s3")
	fl.StringVar(&f.session, "session-token", "", "aws-sigv4 session token (a value or env:NAME)")
	fl.StringVar(&f.at, "time", "", "the clock, RFC 3339 (fixes created, Date, X-Amz-Date, t=; on --verify: the verifier's now)")
	fl.StringVar(&f.method, "method", "", "HTTP method (default GET, or POST with --data)")
	fl.StringVar(&f.url, "url", "", "request URL (on --verify with --request: the scheme and host the request went to)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fl.StringVar(&f.data, "data", "", "request body, or @FILE")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the signed request and send nothing")
	fl.BoolVar(&f.verify, "verify", false, "verify a captured request instead of signing")
	fl.StringVar(&f.request, "request", "", "with --verify: the captured request in HTTP/1.1 wire form (- for stdin)")
	fl.StringVar(&f.signerBase, "signer-base", "", "with --verify: a file with the signature base the signer logged, to diff against")
	fl.DurationVar(&f.tolerance, "tolerance", hmac.DefaultTolerance, "with --verify: allowed age of created / timestamps")
	fl.StringVar(&f.ca, "ca", "", "PEM CA bundle to trust when sending over HTTPS (e.g. the mock IdP's ca.pem)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "show secret header values (Authorization, Cookie, X-Api-Key, X-Amz-Security-Token) in clear in bases, canonical requests and headers, for local debugging; the key is never shown")
	fl.StringVar(&f.profile, "profile", "", "take the key, settings and URL from this hmac profile (flags given here win)")
	fl.DurationVar(&f.timeout, "timeout", flows.DefaultTimeout, "per HTTP call")
	return cmd
}

// hmacOutput is the --json shape (README "JSON output and exit status"), plus the HMAC record.
type hmacOutput struct {
	Flow      string         `json:"flow"`
	OK        bool           `json:"ok"`
	Error     *flows.Error   `json:"error,omitempty"`
	Scheme    string         `json:"scheme"`
	Signed    *hmac.Signed   `json:"signed,omitempty"`
	Request   *requestView   `json:"request,omitempty"`
	Response  *responseView  `json:"response,omitempty"`
	Verify    *hmac.Result   `json:"verify,omitempty"`
	Server    *hmac.LineDiff `json:"server_base_diff,omitempty"`
	Checks    []flows.Check  `json:"checks"`
	Exchanges []exchangeView `json:"exchanges"`
}

type requestView struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers http.Header `json:"headers"`
	Body    string      `json:"body,omitempty"`
}

type responseView struct {
	Status  int         `json:"status"`
	Headers http.Header `json:"headers,omitempty"`
	Body    string      `json:"body,omitempty"`
}

type exchangeView struct {
	Method     string `json:"method"`
	URL        string `json:"url"`
	Status     int    `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

func exchangeViewOf(e flows.Exchange) exchangeView {
	return exchangeView{Method: e.Method, URL: e.URL, Status: e.Status, DurationMS: e.Duration.Milliseconds(), Error: e.Err}
}

// applyProfile fills the flags the user did not set from an hmac profile and
// returns its stored key (resolved; nil without --profile).
func (f *hmacFlags) applyProfile(g *globals, cmd *cobra.Command) (*hmac.Key, error) {
	if f.profile == "" {
		return nil, nil
	}
	path, err := g.resolveStorePath()
	if err != nil {
		return nil, storeErr(err)
	}
	p, err := store.LoadProfile(path, f.profile)
	if err != nil {
		return nil, storeErr(err)
	}
	if p.Kind != store.KindHMAC {
		return nil, usageErr("--profile %s is a %s profile, not an hmac one", p.Name, p.Kind)
	}
	if err := p.TrustError(); err != nil { // a key not confirmed for the target's host
		return nil, storeErr(err)
	}
	fs := cmd.Flags()
	for _, d := range []struct {
		flag      string
		dst       *string
		fromStore string
	}{
		{"scheme", &f.scheme, p.HMAC.Scheme}, {"key-id", &f.keyID, p.HMAC.KeyID}, {"label", &f.label, p.HMAC.Label},
		{"components", &f.components, p.HMAC.Components}, {"region", &f.region, p.HMAC.Region},
		{"service", &f.service, p.HMAC.Service}, {"access-key", &f.accessKey, p.HMAC.AccessKey},
		{"url", &f.url, p.TargetURL},
	} {
		if !fs.Changed(d.flag) && d.fromStore != "" {
			*d.dst = d.fromStore
		}
	}
	sec, ok := p.Secrets[store.HMACKey]
	if !ok || sec.IsZero() {
		return nil, nil
	}
	v, err := sec.Resolve()
	if err != nil {
		return nil, usageErr("profile %s: hmac key: %v", p.Name, err)
	}
	k := hmac.NewKey([]byte(v))
	return &k, nil
}

func runFlowHMAC(ctx context.Context, g *globals, f *hmacFlags, cmd *cobra.Command) error {
	if ctx == nil {
		ctx = context.Background()
	}
	stored, err := f.applyProfile(g, cmd)
	if err != nil {
		return err
	}
	switch f.scheme {
	case hmac.SchemeRFC9421, hmac.SchemeSigV4, hmac.SchemeStripe, hmac.SchemeGitHub:
	default:
		return usageErr("--scheme %q: use rfc9421, aws-sigv4, stripe or github", f.scheme)
	}
	// hmac.ParseKey keeps its diagnostics (which decodings a signer may
	// have used); DefaultKeySource reads files through the capped reader.
	src := hmac.DefaultKeySource()
	var key hmac.Key
	if stored != nil && !cmd.Flags().Changed("key") {
		key = *stored
	} else if key, err = src.ParseKey(f.key); err != nil {
		return usageErr("%v", explainFlags(err, hmacFlagFor))
	}
	now := time.Now
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return usageErr("--time %q: want RFC 3339, like 2015-08-30T12:36:00Z", f.at)
		}
		now = func() time.Time { return t }
	}
	if f.verify {
		return runHMACVerify(g, f, key, now, cmd)
	}
	if f.request != "" || f.signerBase != "" {
		return usageErr("--request and --signer-base go with --verify")
	}
	if f.url == "" {
		return usageErr("--url is required")
	}
	h, err := parseHeaderFlags(f.headers)
	if err != nil {
		return usageErr("%v", err)
	}
	body, err := readData(g, f.data)
	if err != nil {
		return usageErr("%v", err)
	}
	cfg, err := f.signConfig(key, now)
	if err != nil {
		return usageErr("%v", err)
	}
	req := hmac.Request{Config: cfg, Method: f.method, URL: f.url, Header: h, Body: body, DryRun: f.dryRun,
		ShowSecrets: f.showSecrets, Client: flows.ClientOptions{Timeout: f.timeout}}
	if f.ca != "" && !f.dryRun {
		tc, err := mtls.LoadClientTLS("", "", f.ca)
		if err != nil {
			return usageErr("--ca: %v", err)
		}
		req.Client.TLSConfig = tc
	}
	res := hmac.Send(ctx, req, nil)
	explainResult(res, hmacFlagFor)
	if res.Err != nil && res.Err.Kind == flows.ErrConfig {
		return usageErr("%s", res.Err.Message)
	}
	sent := hmac.SentOf(res)
	m := sent.Message
	out := &hmacOutput{Flow: flows.FlowHMAC, Scheme: f.scheme, OK: res.Err == nil, Error: res.Err, Checks: res.Checks, Exchanges: []exchangeView{},
		Signed: sent.Signed, Server: sent.ServerDiff,
		Request: &requestView{Method: m.Method, URL: m.URL.String(), Headers: f.maskHeaders(m.Header), Body: flows.MaskBody(m.Body, m.Header.Get("Content-Type"))}}
	if out.Checks == nil {
		out.Checks = []flows.Check{}
	}
	for _, e := range res.Exchanges {
		out.Exchanges = append(out.Exchanges, exchangeViewOf(e))
	}
	if r := sent.Response; r != nil {
		out.Response = &responseView{Status: r.Status, Headers: flows.MaskHeaders(r.Header), Body: string(r.Body)}
	}
	return printHMAC(g, f, out, m)
}

// signConfig is the signing configuration the flags describe.
func (f *hmacFlags) signConfig(key hmac.Key, now func() time.Time) (hmac.Config, error) {
	session := f.session
	if rest, ok := strings.CutPrefix(session, "raw:"); ok {
		session = rest // a literal token that starts with a prefix
	} else if d := flows.DescribeSecret(session); f.scheme == hmac.SchemeSigV4 && d != "value" && d != "base64" && d != "hex" {
		// env:NAME or file:PATH; base64:/hex: are not decoded, a
		// session token is text.
		b, err := flows.ResolveSecret(session)
		if err != nil {
			return hmac.Config{}, fmt.Errorf("--session-token: %v", err)
		}
		session = string(b)
	}
	return hmac.Config{Scheme: f.scheme, Key: key, Label: f.label, Components: f.components, KeyID: f.keyID, Tag: f.tag,
		Created: f.created, Expires: f.expires, Nonce: f.nonce, AccessKey: f.accessKey, Region: f.region, Service: f.service,
		SessionToken: session, Now: now}, nil
}

func parseHeaderFlags(hs []string) (http.Header, error) {
	h := http.Header{}
	for _, line := range hs {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("-H %q: write headers as 'Name: value'", line)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// hmacMaxBody caps request bodies and raw requests read from a file or
// stdin: far above what a signed API call carries, and an error beyond it
// rather than a silently truncated (so wrongly signed) body.
const hmacMaxBody = 16 << 20

// readStdinCapped reads at most max bytes of stdin, failing when there is more.
func readStdinCapped(g *globals, max int64) ([]byte, error) {
	if g.stdin == nil {
		return nil, errors.New("no stdin")
	}
	b, err := io.ReadAll(io.LimitReader(g.stdin, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("stdin is larger than %d bytes", max)
	}
	return b, nil
}

// readFileOrStdin reads path ("-": stdin), at most max bytes.
func readFileOrStdin(g *globals, path string, max int64) ([]byte, error) {
	if path == "-" {
		return readStdinCapped(g, max)
	}
	return flows.ReadFileCapped(path, max)
}

func readData(g *globals, data string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(data, "@"); ok {
		b, err := readFileOrStdin(g, rest, hmacMaxBody)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return b, nil
	}
	return []byte(data), nil
}

func buildHMACMessage(g *globals, f *hmacFlags) (*hmac.Message, error) {
	if f.url == "" {
		return nil, errors.New("--url is required")
	}
	h, err := parseHeaderFlags(f.headers)
	if err != nil {
		return nil, err
	}
	body, err := readData(g, f.data)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(f.method)
	if method == "" {
		method = http.MethodGet
		if len(body) > 0 {
			method = http.MethodPost
		}
	}
	return hmac.NewMessage(method, f.url, h, body)
}

func runHMACVerify(g *globals, f *hmacFlags, key hmac.Key, now func() time.Time, cmd *cobra.Command) error {
	var m *hmac.Message
	var err error
	if f.request != "" {
		raw, err := readFileOrStdin(g, f.request, hmacMaxBody)
		if err != nil {
			return usageErr("--request: %v", err)
		}
		var base *url.URL
		if f.url != "" {
			if base, err = url.Parse(f.url); err != nil {
				return usageErr("--url: %v", err)
			}
		}
		if m, err = hmac.ParseRawRequest(raw, base); err != nil {
			return usageErr("--request %s: %v", f.request, explainFlags(err, hmacFlagFor))
		}
	} else if m, err = buildHMACMessage(g, f); err != nil {
		return usageErr("%v", explainFlags(err, hmacFlagFor))
	}
	v := &hmac.Verifier{Key: key, Now: now, Tolerance: f.tolerance}
	if id := verifyKeyID(f); id != "" {
		// The key belongs to one key id / access key: a request signed
		// under another is "unknown key", not a confusing mismatch.
		v.Keys = func(got string) (hmac.Key, bool) { return key, got == id }
	}
	if cmd.Flags().Changed("label") {
		v.Label = f.label
	}
	if cmd.Flags().Changed("components") {
		if _, err := hmac.ParseComponents(f.components); err != nil {
			return usageErr("%v", explainFlags(err, hmacFlagFor))
		}
		v.Expected = f.components
	}
	if f.signerBase != "" {
		b, err := flows.ReadFileCapped(f.signerBase, flows.MaxKeyFileSize)
		if err != nil {
			return usageErr("--signer-base: %v", err)
		}
		v.SignerBase = string(b)
	}
	res, err := v.Verify(f.scheme, m)
	if err != nil {
		return usageErr("%v", explainFlags(err, hmacFlagFor))
	}
	shown := res.Masked()
	if f.showSecrets {
		shown = res
	}
	out := &hmacOutput{Flow: flows.FlowHMAC, Scheme: f.scheme, OK: res.OK, Verify: shown, Checks: res.Checks, Exchanges: []exchangeView{}}
	if out.Checks == nil {
		out.Checks = []flows.Check{}
	}
	if !res.OK {
		out.Error = &flows.Error{Kind: flows.ErrCheck, Message: res.Err().Error()}
	}
	return printHMAC(g, f, out, m)
}

func verifyKeyID(f *hmacFlags) string {
	switch f.scheme {
	case hmac.SchemeSigV4:
		return f.accessKey
	case hmac.SchemeRFC9421:
		return f.keyID
	}
	return ""
}

// maskHeaders masks secret request headers unless --show-secrets.
func (f *hmacFlags) maskHeaders(h http.Header) http.Header {
	if f.showSecrets {
		return h
	}
	return flows.MaskHeaders(h)
}

func printHMAC(g *globals, f *hmacFlags, out *hmacOutput, m *hmac.Message) error {
	if f.showSecrets {
		fmt.Fprintln(g.stderr, "warning: --show-secrets: secret header values are shown in clear; do not share this output")
	}
	if f.asJSON {
		if err := writeJSON(g.stdout, out); err != nil {
			return err
		}
		if !out.OK {
			return failErr(out.Error)
		}
		return nil
	}
	w := g.stdout
	if out.Verify != nil {
		printHMACVerify(g, out)
	} else {
		s := out.Signed
		fmt.Fprintf(w, "scheme: %s\n", schemeTitle(s.Scheme))
		section := func(title, body string) {
			if body == "" {
				return
			}
			fmt.Fprintf(w, "\n%s:\n", title)
			for _, l := range strings.Split(body, "\n") {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
		switch s.Scheme {
		case hmac.SchemeRFC9421:
			section("signature base", s.SignatureBase)
		case hmac.SchemeSigV4:
			section("canonical request", s.CanonicalRequest)
			section("string to sign", s.StringToSign)
		case hmac.SchemeStripe:
			section("signed payload (t.body)", flows.Snippet([]byte(s.SignatureBase), 200))
		case hmac.SchemeGitHub:
			fmt.Fprintf(w, "\nsigned: the raw body (%d bytes)\n", len(m.Body))
		}
		fmt.Fprintf(w, "\nheaders added:\n")
		for _, h := range s.Headers {
			fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
		}
		if f.dryRun {
			fmt.Fprintf(w, "\nsigned request (not sent, --dry-run):\n")
			for _, l := range strings.Split(strings.TrimRight(m.Render(f.maskHeaders), "\n"), "\n") {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
		for _, e := range out.Exchanges {
			fmt.Fprintf(w, "\n%s %s → %d (%d ms)\n", e.Method, e.URL, e.Status, e.DurationMS)
		}
		if r := out.Response; r != nil {
			fmt.Fprintf(w, "response body: %s\n", render.Printable(flows.Snippet([]byte(r.Body), 400)))
		}
		for _, c := range out.Checks {
			fmt.Fprintf(w, "%s %s: %s\n", render.Symbol(c.Status), c.Name, render.Printable(c.Detail))
		}
		if d := out.Server; d != nil {
			fmt.Fprintf(w, "\nfirst difference with the server's signature base (line %d): %s\n  ours:   %s\n  server: %s\n", d.Line, render.Printable(d.Message), render.Printable(d.Ours), render.Printable(d.Theirs))
		}
	}
	if !out.OK {
		return failErr(out.Error)
	}
	return nil
}

func printHMACVerify(g *globals, out *hmacOutput) {
	w := g.stdout
	r := out.Verify
	verdict := "VERIFIED"
	if !r.OK {
		verdict = "NOT VERIFIED"
	}
	fmt.Fprintf(w, "%s — %s", verdict, schemeTitle(r.Scheme))
	if r.Label != "" {
		fmt.Fprintf(w, ", label %s", r.Label)
	}
	if r.KeyID != "" {
		fmt.Fprintf(w, ", key %s", r.KeyID)
	}
	fmt.Fprintln(w)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s %s", render.Symbol(c.Status), c.Name)
		if c.Detail != "" {
			fmt.Fprintf(w, ": %s", c.Detail)
		}
		fmt.Fprintln(w)
	}
	if p := r.Problem; p != nil {
		fmt.Fprintf(w, "\nfirst thing to fix (%s", p.Kind)
		if p.Component != "" {
			fmt.Fprintf(w, ", %s", p.Component)
		}
		fmt.Fprintf(w, "): %s\n", p.Message)
	}
	if d := r.SignerBaseDiff; d != nil {
		fmt.Fprintf(w, "\nline %d differs:\n  ours:   %s\n  signer: %s\n", d.Line, d.Ours, d.Theirs)
	}
	printBlock := func(title, body string) {
		if body == "" {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, l := range strings.Split(body, "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if !r.OK || r.Scheme == hmac.SchemeRFC9421 {
		if len(r.Covered) > 0 {
			fmt.Fprintf(w, "\ncovered (%s): %s\n", map[bool]string{true: "Signature-Input", false: "SignedHeaders"}[r.Scheme == hmac.SchemeRFC9421], strings.Join(r.Covered, " "))
		}
		printBlock("our signature base", r.SignatureBase)
		printBlock("our canonical request", r.CanonicalRequest)
		printBlock("our string to sign", r.StringToSign)
	}
}

func schemeTitle(s string) string {
	switch s {
	case hmac.SchemeRFC9421:
		return "RFC 9421 HTTP Message Signatures, hmac-sha256"
	case hmac.SchemeSigV4:
		return "AWS Signature Version 4 (AWS4-HMAC-SHA256)"
	case hmac.SchemeStripe:
		return "Stripe webhook signature (Stripe-Signature t=…,v1=…)"
	case hmac.SchemeGitHub:
		return "GitHub webhook signature (X-Hub-Signature-256)"
	}
	return s
}
