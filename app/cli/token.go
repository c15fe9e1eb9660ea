package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/mtls"
	"authlab/flows/token"
	"authlab/views/render"

	xterm "github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

type tokenInspectFlags struct {
	issuer, jwks, key, iss, nonce, cert, kind string
	decryptKey, ca                            string
	aud, algs                                 []string
	leeway                                    time.Duration
	json, explain                             bool
	timeout                                   time.Duration
	dpop                                      tokDPoPFlags
}

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Work with tokens",
	}
	var f tokenInspectFlags
	inspect := &cobra.Command{
		Use:   "inspect [TOKEN|FILE|-]",
		Short: "Decode, verify and check a token; show expiry and clock skew",
		Long: `Decode a JWT (or say that a token is opaque or encrypted), verify its
signature with keys from an issuer, a JWKS or a key, run the checks a
verifier would (iss, aud, azp, exp, nbf, iat, lifetime, typ, nonce, cnf) and
show expiry and the IdP's clock skew.

The token is the argument (or a file holding it), or stdin with '-' or when
stdin is not a terminal.

--key takes a PEM file (public key, certificate or private key) or an HMAC
secret: a value, env:NAME, file:PATH, base64:VALUE or hex:VALUE.

An encrypted token (JWE, five segments) is named with its alg and enc. With
--decrypt-key (the recipient's RSA or EC private key, PEM or JWK) it is
decrypted (RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW;
A128GCM, A256GCM, A128CBC-HS256) and the JWT inside is checked as usual.

A certificate chain in the token's x5c header is verified against --ca (a PEM
bundle) or the system roots, and its leaf must hold the key that verified the
signature; with no other key given, a trusted leaf's key verifies it.

Exit status: 0 every check passed (warnings allowed); 1 a check failed or the
token is malformed; 2 usage error.`,
		Example: `  authlab token inspect --issuer https://idp.example.com "$TOKEN"
  authlab token inspect --decrypt-key recipient.pem --jwks jwks.json token.jwe
  authlab token inspect --ca corp-ca.pem --json - < token.jwt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenInspect(cmd.Context(), g, &f, args)
		},
	}
	fl := inspect.Flags()
	fl.StringVar(&f.issuer, "issuer", "", "issuer URL: fetch its keys via discovery (also the expected iss, and the skew source)")
	fl.StringVar(&f.jwks, "jwks", "", "JWKS URL or file")
	fl.StringVar(&f.key, "key", "", "PEM key file, or HMAC secret (value, env:NAME, file:PATH, base64:, hex:, raw:VALUE)")
	fl.StringSliceVar(&f.aud, "aud", nil, "expected audience (repeatable; any one must match)")
	fl.StringVar(&f.iss, "iss", "", "expected issuer (default: --issuer)")
	fl.StringVar(&f.nonce, "nonce", "", "expected nonce (ID tokens)")
	fl.DurationVar(&f.leeway, "leeway", token.DefaultLeeway, "clock tolerance for exp, nbf and iat")
	fl.StringSliceVar(&f.algs, "alg", nil, "allowed signature algorithms (repeatable; default: any asymmetric, or HS* with a secret)")
	fl.StringVar(&f.cert, "cert", "", "client certificate PEM, to check cnf.x5t#S256 (RFC 8705)")
	fl.StringVar(&f.decryptKey, "decrypt-key", "", "private key (PEM, or a private JWK) to decrypt an encrypted token (JWE)")
	fl.StringVar(&f.ca, "ca", "", "CA bundle PEM an x5c header chain must lead to (default: the system roots)")
	fl.StringVar(&f.kind, "kind", "", "what the token should be: access or id (default: guessed from typ and claims)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object")
	fl.BoolVar(&f.explain, "explain", false, "explain each claim in plain words")
	fl.DurationVar(&f.timeout, "timeout", flows.DefaultTimeout, "per HTTP call (discovery, JWKS)")
	fl.StringVar(&f.dpop.key, "dpop-key", "", "DPoP key (PEM or JWK) the token's cnf.jkt must name, or a DPoP proof's key")
	fl.StringVar(&f.dpop.jkt, "dpop-jkt", "", "JWK thumbprint the token's cnf.jkt must equal (RFC 9449 6)")
	fl.StringVar(&f.dpop.method, "method", "", "DPoP proof: the request method its htm must match")
	fl.StringVar(&f.dpop.url, "url", "", "DPoP proof: the request URL its htu must match")
	fl.StringVar(&f.dpop.accessToken, "access-token", "", "DPoP proof: the access token its ath must hash")
	cmd.AddCommand(inspect)
	cmd.AddCommand(newTokenMintCmd(g)) // mint.go
	cmd.AddCommand(newTokenGetCmd(g), newTokenDiffCmd(g))
	return cmd
}

func tokIsTerminal(v any) (*os.File, bool) {
	f, ok := v.(*os.File)
	if !ok {
		return nil, false
	}
	st, err := f.Stat()
	return f, err == nil && st.Mode()&os.ModeCharDevice != 0
}

func tokReadArg(g *globals, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		// A path to a file holding the token (like jwt -verify FILE); a
		// JWT itself never names an existing file.
		if _, err := os.Stat(args[0]); err == nil {
			b, err := flows.ReadFileCapped(args[0], token.MaxTokenSize+2)
			if err != nil {
				return "", usageErr("reading the token: %v", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
		return args[0], nil
	}
	if len(args) == 0 {
		if _, tty := tokIsTerminal(g.stdin); tty || g.stdin == nil {
			return "", usageErr("no token: pass it as an argument, or '-' to read stdin")
		}
	}
	b, err := io.ReadAll(io.LimitReader(g.stdin, token.MaxTokenSize+2))
	if err != nil {
		return "", usageErr("reading the token from stdin: %v", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", usageErr("no token on stdin")
	}
	return s, nil
}

// tokLooksLikePath reports whether a --key value was meant as a file: a
// key-file extension, an explicit ./ ../ / ~/ start, or a path separator
// after an existing directory. A literal secret with a "/" (base64 has
// them) stays a secret when no such directory exists.
func tokLooksLikePath(v string) bool {
	// Base64 secrets may start with "/" too; '+' and '=' padding say secret,
	// and a secret must never be echoed back as a missing file's name.
	if strings.ContainsAny(v, "+=") {
		return false
	}
	lower := strings.ToLower(v)
	for _, ext := range []string{".pem", ".key", ".jwk", ".json", ".crt", ".pub"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	for _, p := range []string{"/", "./", "../", "~/", `.\`, `..\`} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	if i := strings.LastIndexAny(v, `/`+string(os.PathSeparator)); i > 0 {
		if st, err := os.Stat(v[:i]); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

func tokIsPEM(b []byte) bool { return strings.Contains(string(b), "-----BEGIN ") }

// keySource builds the key source from --issuer, --jwks or --key.
func tokKeySource(f *tokenInspectFlags, client *flows.Client) (token.KeySource, error) {
	n := 0
	for _, s := range []string{f.issuer, f.jwks, f.key} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return nil, usageErr("give one of --issuer, --jwks and --key")
	}
	switch {
	case f.issuer != "":
		return token.NewJWKS(token.JWKSOptions{Issuer: f.issuer, Client: client}), nil
	case strings.HasPrefix(f.jwks, "https://") || strings.HasPrefix(f.jwks, "http://"):
		return token.NewJWKS(token.JWKSOptions{URL: f.jwks, Client: client}), nil
	case f.jwks != "":
		b, err := flows.ReadFileCapped(f.jwks, flows.MaxKeyFileSize)
		if err != nil {
			return nil, usageErr("--jwks: %v", err)
		}
		var ks *token.KeySet
		if tokIsPEM(b) {
			ks, err = token.ParsePEM(b)
		} else {
			ks, err = token.ParseJWKS(b)
		}
		if err != nil {
			return nil, usageErr("--jwks %s: %s", f.jwks, render.Printable(err.Error()))
		}
		ks.Source = "JWKS file " + f.jwks
		return token.StaticKeys{Set: ks}, nil
	case f.key != "":
		path, isFile := strings.CutPrefix(f.key, "file:")
		if kind := flows.NotAPathKind(f.key); kind != "" && !isFile {
			// A key pasted inline (`--key "$(cat pub.pem)"`): never echoed.
			return nil, usageErr("--key: the value looks like %s, not a path; pass it as file:PATH or through env:NAME", kind)
		}
		if !isFile && !strings.HasPrefix(f.key, "raw:") {
			// A bare value names a file when one exists there (a JWT
			// secret never does), or when it plainly looks like a path.
			_, err := os.Stat(f.key)
			switch {
			case err == nil:
				isFile = true
			case !tokLooksLikePath(f.key) || flows.DescribeSecret(f.key) != "value":
			case errors.Is(err, fs.ErrNotExist):
				return nil, usageErr("--key %s: no such file; for a literal HMAC secret use --key 'value' without a path, or env:/base64:", f.key)
			default:
				isFile = true // unreadable: let the read say why
			}
		}
		if !isFile {
			b, err := flows.ResolveSecret(f.key)
			if err != nil {
				return nil, usageErr("--key: %v", err)
			}
			if tokIsPEM(b) && !strings.HasPrefix(f.key, "raw:") { // env:NAME holding a PEM key
				ks, err := token.ParsePEM(b)
				if err != nil {
					return nil, usageErr("--key %s: %v", flows.DescribeSecret(f.key), err)
				}
				ks.Source = "PEM from " + flows.DescribeSecret(f.key)
				return token.StaticKeys{Set: ks}, nil
			}
			return token.SecretKeys(b), nil
		}
		b, err := flows.ReadFileCapped(path, flows.MaxKeyFileSize)
		if err != nil {
			return nil, usageErr("--key %s: %v", tokKeyShown(f.key), tokPathErr(err))
		}
		if tokIsPEM(b) {
			ks, err := token.ParsePEM(b)
			if err != nil {
				return nil, usageErr("--key %s: %v", path, err)
			}
			ks.Source = "PEM file " + path
			return token.StaticKeys{Set: ks}, nil
		}
		// A file holding a shared secret; editors add a final newline
		// that is never part of the secret.
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(b) == 0 {
			return nil, usageErr("--key %s is empty", path)
		}
		return token.SecretKeys(b), nil
	}
	return nil, nil
}

// tokKeyShown names a --key value in a message: a path (file:PATH, or one
// that plainly looks like a path) as given, anything else by what it looks
// like, since --key also takes secrets.
func tokKeyShown(v string) string {
	if p, ok := strings.CutPrefix(v, "file:"); ok {
		return "file:" + p
	}
	return flows.DisplayPath(v)
}

// tokPathErr drops the "open PATH:" wrapper when the flag already names it.
func tokPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type tokInspectJSON struct {
	Flow      string             `json:"flow"`
	OK        bool               `json:"ok"`
	Error     *flows.Error       `json:"error,omitempty"`
	Token     *token.Decoded     `json:"token,omitempty"`
	Kind      token.Kind         `json:"kind,omitempty"`
	Verified  bool               `json:"verified"`
	KeyID     string             `json:"kid,omitempty"`
	Alg       string             `json:"alg,omitempty"`
	Key       string             `json:"key,omitempty"`
	Checks    []flows.Check      `json:"checks"`
	Skew      *tokSkewJSON       `json:"skew"`
	Exchanges []tokExchangeBrief `json:"exchanges"`
	// JWE is the encrypted token's header when token is the JWT decrypted from it.
	JWE *token.Decoded `json:"jwe,omitempty"`
}

type tokSkewJSON struct {
	token.Skew
	Verdict string `json:"-"`
}

func (s tokSkewJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"offset_ms":      s.Offset.Milliseconds(),
		"uncertainty_ms": s.Uncertainty.Milliseconds(),
		"source":         s.Source,
		"verdict":        s.Verdict,
	})
}

type tokExchangeBrief struct {
	Method     string `json:"method"`
	URL        string `json:"url"`
	Status     int    `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

func runTokenInspect(ctx context.Context, g *globals, f *tokenInspectFlags, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	raw, err := tokReadArg(g, args)
	if err != nil {
		return err
	}
	if dpop.IsProof(raw) { // typ dpop+jwt: checked by RFC 9449's rules, not a token's
		return inspectProof(g, &f.dpop, f.leeway, f.json, raw)
	}
	opts := token.Options{Leeway: f.leeway, Issuer: f.iss, Audience: f.aud, Nonce: f.nonce, Algs: f.algs}
	if f.leeway == 0 {
		opts.Leeway = -1 // an explicit 0 means none
	} else if f.leeway < 0 {
		return usageErr("--leeway must not be negative")
	}
	switch f.kind {
	case "", "unknown":
	case "access", "id":
		opts.Kind = token.Kind(f.kind)
	default:
		return usageErr("--kind %q: use access or id", f.kind)
	}
	for _, a := range f.algs {
		if !tokContains(token.SupportedAlgs(), a) {
			return usageErr("--alg %q: supported are %s", a, strings.Join(token.SupportedAlgs(), ", "))
		}
	}
	if opts.Issuer == "" {
		opts.Issuer = f.issuer
	}
	if f.cert != "" {
		c, err := mtls.LoadCert(f.cert)
		if err != nil {
			return usageErr("--cert: %v", err)
		}
		opts.ClientCert = c
	}
	if f.decryptKey != "" {
		b, err := flows.ReadFileCapped(f.decryptKey, flows.MaxKeyFileSize)
		if err != nil {
			return usageErr("--decrypt-key: %v", err)
		}
		if opts.DecryptKey, err = token.ParseDecryptKey(b); err != nil {
			return usageErr("--decrypt-key %s: %v", f.decryptKey, err)
		}
	}
	if f.ca != "" {
		if opts.Roots, err = mtls.LoadCAPool(f.ca); err != nil {
			return usageErr("--ca: %v", err)
		}
		opts.RootsName = "CA file " + f.ca
	} else {
		opts.RootsName = "the system roots (--ca FILE trusts a private CA)"
	}
	var mu sync.Mutex
	var exchanges []flows.Exchange
	obs := flows.ObserverFuncs{OnExchange: func(ex flows.Exchange) {
		mu.Lock()
		exchanges = append(exchanges, ex)
		mu.Unlock()
	}}
	var client *flows.Client
	if f.issuer != "" || strings.HasPrefix(f.jwks, "http") {
		client = flows.NewClient(flows.ClientOptions{Timeout: f.timeout}, obs)
	}
	if opts.Keys, err = tokKeySource(f, client); err != nil {
		return err
	}

	rep, decErr := token.Inspect(ctx, raw, opts)
	mu.Lock()
	var skews []token.Skew
	briefs := []tokExchangeBrief{}
	for _, ex := range exchanges {
		if s, ok := token.SkewFromExchange(ex); ok {
			skews = append(skews, s)
		}
		briefs = append(briefs, tokExchangeBrief{ex.Method, ex.URL, ex.Status, ex.Duration.Milliseconds(), ex.Err})
	}
	mu.Unlock()
	skew, _ := token.CombineSkew(skews...)
	leeway := f.leeway
	// The skew verdict is reported beside the checks, not as one: it says
	// what will happen to the IdP's tokens, not whether this one is valid.

	if decErr != nil {
		if f.json {
			out := tokInspectJSON{Flow: "token inspect", Error: &flows.Error{Kind: flows.ErrCheck, Message: decErr.Error()}, Checks: []flows.Check{}, Exchanges: briefs}
			if err := tokWriteJSON(g.stdout, out); err != nil {
				return err
			}
		}
		return failErr(errors.New(render.Printable(decErr.Error())))
	}
	if rep.Token != nil {
		c, ok, err := f.dpop.jktCheck(rep.Token.Claims)
		if err != nil {
			return err
		}
		if ok {
			rep.Checks = append(rep.Checks, c)
		}
	}
	if f.json {
		out := tokInspectJSON{Flow: "token inspect", OK: rep.OK(), Token: rep.Token, Kind: rep.Kind, Verified: rep.Verified,
			KeyID: rep.KeyID, Alg: rep.Alg, Key: rep.KeyDesc, Checks: rep.Checks, Exchanges: briefs, JWE: rep.JWE}
		if rep.Checks == nil {
			out.Checks = []flows.Check{}
		}
		if skew.Known() {
			out.Skew = &tokSkewJSON{Skew: skew, Verdict: skew.Verdict(leeway)}
		}
		if c, failed := rep.FirstFailure(); failed {
			out.Error = &flows.Error{Kind: flows.ErrCheck, Message: c.Name + ": " + c.Detail}
		}
		if err := tokWriteJSON(g.stdout, out); err != nil {
			return err
		}
	} else {
		ro := render.Options{Width: 80, Now: rep.Now, Loc: time.Local, Explain: f.explain}
		if file, tty := tokIsTerminal(g.stdout); tty {
			ro.Color = g.colorEnabled()
			if w, _, err := xterm.GetSize(file.Fd()); err == nil && w > 0 {
				ro.Width = w
			}
		}
		if rep.JWE != nil {
			// alg and enc come from the token: printable only, never escapes.
			head := render.Printable(fmt.Sprintf("Encrypted token (JWE, alg %s, enc %s), decrypted; the JWT inside:", rep.JWE.Alg(), rep.JWE.HeaderString("enc")))
			if _, err := io.WriteString(g.stdout, head+"\n\n"); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(g.stdout, render.Report(rep, skew, ro)); err != nil {
			return err
		}
	}
	if c, failed := rep.FirstFailure(); failed {
		return failErr(fmt.Errorf("check %s failed: %s", render.Printable(c.Name), render.Printable(c.Detail)))
	}
	return nil
}

func tokWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func tokContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
