package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"authlab/flows"
	"authlab/flows/audit"
	"authlab/flows/token"
)

type tokenMintFlags struct {
	claims, exp, nbf, iat string
	alg, kid, typ, iss    string
	key, idp, adminToken  string
	set, header           []string
	json                  bool
	timeout               time.Duration
}

// newTokenMintCmd is `authlab token mint`: sign a JWT with chosen claims and
// headers, with a key or by a running authlab mock IdP.
func newTokenMintCmd(g *globals) *cobra.Command {
	var f tokenMintFlags
	cmd := &cobra.Command{
		Use:   "mint (--key PEM|JWK|secret:VALUE | --idp URL) [flags]",
		Short: "Sign a JWT with chosen claims and headers",
		Long: `Sign a JWT with chosen claims and headers and print it.

--key is a PEM private key or a private JWK (a file, or the text itself), or
secret:VALUE for HS256. --idp URL has a running authlab mock IdP sign it with
its current key (POST /_authlab/mint: loopback, or --admin-token).

Defaults: iss the IdP (with --idp; else --iss), iat now, exp in 5 minutes, a
fresh jti. --set k=v parses numbers and JSON values; --exp, --nbf and --iat
take +5m / -1h (from now), a Unix time or RFC 3339. Nothing minted is
written to the store.`,
		Example: `  authlab token mint --idp http://127.0.0.1:9090 --set sub=alice --set scope="api:read" --exp -1h
  authlab token mint --key signing.pem --kid k1 --iss https://idp.test --set aud=api://orders --typ at+jwt
  authlab token mint --key secret:s3cr3t --claims @claims.json --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenMint(cmd.Context(), g, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.claims, "claims", "", "claims as a JSON object, or @FILE")
	fl.StringArrayVar(&f.set, "set", nil, "claim k=v (repeatable; numbers and JSON values parsed)")
	fl.StringVar(&f.exp, "exp", "", "exp: +5m, -1h, a Unix time or RFC 3339 (default +5m)")
	fl.StringVar(&f.nbf, "nbf", "", "nbf: +DURATION, -DURATION, a Unix time or RFC 3339")
	fl.StringVar(&f.iat, "iat", "", "iat: +DURATION, -DURATION, a Unix time or RFC 3339 (default now)")
	fl.StringVar(&f.iss, "iss", "", "iss (default: the IdP with --idp)")
	fl.StringVar(&f.alg, "alg", "", "signature algorithm (default: the key's; with --idp RS256, ES256 or EdDSA)")
	fl.StringVar(&f.kid, "kid", "", "kid header (default: the JWK's kid; with --idp always the IdP key's)")
	fl.StringVar(&f.typ, "typ", "", "typ header, e.g. at+jwt or JWT (default none; with --idp at+jwt)")
	fl.StringArrayVar(&f.header, "header", nil, "extra header k=v (repeatable; JSON values parsed)")
	fl.StringVar(&f.key, "key", "", "signing key: PEM or JWK (file or text), or secret:VALUE")
	fl.StringVar(&f.idp, "idp", "", "URL of a running authlab mock IdP that signs it")
	fl.StringVar(&f.adminToken, "admin-token", "", "the mock IdP's admin token (needed only off loopback): a value or env:NAME")
	fl.BoolVar(&f.json, "json", false, "print the token with its decoded header and claims as JSON")
	fl.DurationVar(&f.timeout, "timeout", flows.DefaultTimeout, "timeout of the --idp call")
	return cmd
}

// mintValue parses a --set / --header value: JSON when it parses (kept
// verbatim, so integers keep their digits), else a string.
func mintValue(v string) any {
	if json.Valid([]byte(v)) {
		return json.RawMessage(v)
	}
	return v
}

func mintPairs(flag string, pairs []string, into map[string]any) error {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return usageErr("%s %q: want k=v", flag, p)
		}
		into[k] = mintValue(v)
	}
	return nil
}

// mintClaims assembles the claims from --claims, --set and the time flags.
func mintClaims(g *globals, f *tokenMintFlags, now time.Time) (map[string]any, error) {
	claims := map[string]any{}
	if f.claims != "" {
		raw := []byte(f.claims)
		if name, ok := strings.CutPrefix(f.claims, "@"); ok {
			b, err := readCapped(g, name, 64<<10)
			if err != nil {
				return nil, usageErr("--claims %s: %v", f.claims, err)
			}
			raw = b
		}
		c, err := token.DecodeClaims(raw)
		if err != nil {
			return nil, usageErr("--claims: not a JSON object: %v", err)
		}
		claims = c
	}
	if err := mintPairs("--set", f.set, claims); err != nil {
		return nil, err
	}
	if f.iss != "" {
		claims["iss"] = f.iss
	}
	for _, t := range []struct{ flag, claim, v string }{{"--exp", "exp", f.exp}, {"--nbf", "nbf", f.nbf}, {"--iat", "iat", f.iat}} {
		if t.v == "" {
			continue
		}
		n, err := token.ParseMintTime(t.v, now)
		if err != nil {
			return nil, usageErr("%s %v", t.flag, err)
		}
		claims[t.claim] = n
	}
	return claims, nil
}

// readCapped reads a file (or stdin for "-") up to n bytes.
func readCapped(g *globals, name string, n int64) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = g.stdin
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, tokPathErr(err)
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("larger than %d KiB", n>>10)
	}
	return b, nil
}

// readSigningKey reads --key / --signing-key: secret:VALUE, PEM or JWK text,
// or a file holding either. Errors never quote the key.
func readSigningKey(g *globals, flag, v string) (token.MintKey, error) {
	if strings.HasPrefix(v, "secret:") {
		k, err := token.ParseMintKey(v, nil)
		if err != nil {
			return k, usageErr("%s: %v", flag, err)
		}
		return k, nil
	}
	data := []byte(v)
	if t := strings.TrimSpace(v); !strings.HasPrefix(t, "-----BEGIN") && !strings.HasPrefix(t, "{") {
		b, err := readCapped(g, v, 64<<10)
		if err != nil {
			return token.MintKey{}, usageErr("%s %s: %v", flag, v, err)
		}
		data = b
	}
	k, err := token.ParseMintKey("", data)
	if err != nil {
		return k, usageErr("%s: %v", flag, err)
	}
	return k, nil
}

func runTokenMint(ctx context.Context, g *globals, f *tokenMintFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	switch {
	case (f.key == "") == (f.idp == ""):
		return usageErr("token mint needs exactly one of --key (PEM, JWK or secret:VALUE) or --idp URL")
	case f.idp != "" && f.kid != "":
		return usageErr("--kid: with --idp the IdP's current key names the kid")
	}
	now := time.Now()
	claims, err := mintClaims(g, f, now)
	if err != nil {
		return err
	}
	hdr := map[string]any{}
	if err := mintPairs("--header", f.header, hdr); err != nil {
		return err
	}
	var tok string
	if f.idp != "" {
		admin, err := readTokenFlag("--admin-token", f.adminToken, g.stdin)
		if err != nil {
			return err
		}
		s := audit.IdPSigner{Issuer: strings.TrimRight(f.idp, "/"), AdminToken: admin, Timeout: f.timeout}
		var typ *string
		if f.typ != "" {
			typ = &f.typ
		}
		r, err := s.MintWith(ctx, audit.MintCall{Claims: claims, Header: hdr, Alg: f.alg, Typ: typ, Defaults: true})
		if err != nil {
			return failErr(err)
		}
		tok = r.Token
	} else {
		key, err := readSigningKey(g, "--key", f.key)
		if err != nil {
			return err
		}
		token.MintDefaults(claims, "", now)
		tok, err = token.Mint(token.MintOptions{Claims: claims, Header: hdr, Alg: f.alg, Kid: f.kid, Typ: f.typ, Key: key})
		if err != nil {
			return usageErr("%v", err)
		}
	}
	if !f.json {
		fmt.Fprintln(g.stdout, tok)
		return nil
	}
	d, err := token.Decode(tok)
	if err != nil {
		return failErr(fmt.Errorf("the minted token does not decode: %v", err))
	}
	return tokWriteJSON(g.stdout, map[string]any{"token": tok, "header": d.Header, "claims": d.Claims, "fingerprint": d.Fingerprint})
}
