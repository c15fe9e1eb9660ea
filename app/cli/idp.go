package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"authlab/flows/mtls"
	"authlab/mockidp"

	"github.com/spf13/cobra"
)

// idpFlags are `authlab idp`'s flags.
type idpFlags struct {
	addr, issuer, alg, config, keys string
	tls, login, printConfig         bool
	dpopNonce                       bool
	fapi2                           bool
}

func newIdpCmd(g *globals) *cobra.Command {
	var fl idpFlags
	cmd := &cobra.Command{
		Use:   "idp",
		Short: "Run the bundled mock OAuth 2.0 / OIDC provider",
		Long: `Run the mock IdP alone (default 127.0.0.1:9090), with demo clients and users,
and an admin API under /_authlab/ for fault injection.

Demo clients: demo-cc/demo-cc-secret (client_credentials), demo-web/demo-web-secret
(authorization_code + refresh, loopback redirects /callback on any port),
demo-native (public, PKCE), demo-jwt (private_key_jwt, key in
testdata/mockidp/demo-jwt.key), demo-device (device code), demo-mtls
(tls_client_auth CN=demo-mtls, with --tls). Users alice/alice and bob/bob.
Demo resources: /api/hello takes an access token; /api/key takes the API key
` + mockidp.DemoAPIKey + ` (config: api_key) in the ` + mockidp.APIKeyHeader + ` header or the
` + mockidp.APIKeyQuery + ` query parameter.
See --print-config for everything, and --config FILE to replace it.

Signing keys persist in --keys (default: the store's directory) so a restarted
IdP serves the same JWKS.`,
		Example: `  authlab idp &
  curl -H 'X-API-Key: ` + mockidp.DemoAPIKey + `' http://127.0.0.1:9090/api/key
  authlab flow client-credentials --issuer http://127.0.0.1:9090 --client-id demo-cc \
      --client-secret demo-cc-secret --scope api:read --call http://127.0.0.1:9090/api/hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runIdp(ctx, g, fl, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.addr, "addr", "127.0.0.1:9090", "listen address HOST:PORT")
	f.StringVar(&fl.issuer, "issuer", "", "issuer URL (default derived from --addr)")
	f.StringVar(&fl.alg, "alg", "", "signing algorithm: RS256 (default), ES256 or EdDSA")
	f.BoolVar(&fl.tls, "tls", false, "serve HTTPS with a generated CA and mTLS endpoint aliases")
	f.BoolVar(&fl.login, "login", false, "serve a login + consent page instead of auto-approving")
	f.BoolVar(&fl.dpopNonce, "dpop-nonce", false, "require DPoP server nonces (RFC 9449 8, 9) at the token endpoint and the demo resources (config: dpop_nonce)")
	f.BoolVar(&fl.fapi2, "fapi2", false, "behave as a FAPI 2.0 Security Profile authorization server: PAR required, PKCE S256 only, DPoP or mTLS sender-constrained tokens, private_key_jwt or mTLS client auth, PS256/ES256/EdDSA, codes of at most 60 s, assertion aud = issuer (config: fapi2)")
	f.StringVar(&fl.config, "config", "", "JSON file replacing clients, users, lifetimes and algorithms")
	f.BoolVar(&fl.printConfig, "print-config", false, "print the effective configuration and exit")
	f.StringVar(&fl.keys, "keys", "", "directory for signing keys (default: beside the store)")
	return cmd
}

// runIdp runs the IdP until ctx ends; ready (tests) gets the started server.
func runIdp(ctx context.Context, g *globals, fl idpFlags, ready func(*mockidp.Server)) error {
	cfg := mockidp.DefaultConfig()
	if fl.config != "" {
		c, err := mockidp.LoadConfig(fl.config)
		if err != nil {
			return usageErr("--config: %v", err)
		}
		cfg = c
	}
	if fl.dpopNonce {
		cfg.DPoPNonce = true
	}
	if fl.fapi2 {
		cfg.FAPI2 = true
	}
	if fl.alg != "" {
		switch fl.alg {
		case "RS256", "ES256", "EdDSA":
			cfg.Alg = fl.alg
		default:
			return usageErr("--alg %q: want RS256, ES256 or EdDSA", fl.alg)
		}
	}
	cfg.ApplyFAPI2() // what --fapi2 changes shows in --print-config and the banner
	if fl.printConfig {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(cfg.Redacted())
	}
	host, _, err := net.SplitHostPort(fl.addr)
	if err != nil {
		return usageErr("--addr %q: want HOST:PORT (%v)", fl.addr, err)
	}
	keysDir := fl.keys
	if keysDir == "" {
		store, err := g.resolveStorePath()
		if err != nil {
			return usageErr("%v", err)
		}
		keysDir = filepath.Dir(store)
	}
	srv, err := mockidp.New(mockidp.Options{Issuer: fl.issuer, Config: &cfg, KeysDir: keysDir, Login: fl.login})
	if err != nil {
		return usageErr("%v", err)
	}
	defer srv.Close()
	var certs *mtls.CertSet
	if fl.tls {
		dir, err := defaultCertsDir(g)
		if err != nil {
			return usageErr("%v", err)
		}
		if certs, err = mtls.InitCerts(dir, time.Now()); err != nil {
			return failErr(err)
		}
		conf, err := certs.ServerTLSConfig(tls.RequestClientCert)
		if err != nil {
			return failErr(err)
		}
		err = srv.StartTLS(fl.addr, conf)
		if err != nil {
			return failErr(err)
		}
	} else if err := srv.Start(fl.addr); err != nil {
		return failErr(err)
	}
	iss := srv.Issuer()
	fmt.Fprintf(g.stdout, "authlab mock IdP listening on %s (issuer %s, alg %s)\n", srv.URL(), iss, cfg.Alg)
	fmt.Fprintf(g.stdout, "  discovery  %s/.well-known/openid-configuration\n", iss)
	fmt.Fprintf(g.stdout, "  admin API  %s/_authlab/ (faults, rotate, reset, events)\n", srv.URL())
	fmt.Fprintf(g.stdout, "  keys       %s\n", filepath.Join(keysDir, mockidp.KeysFile))
	if certs != nil {
		fmt.Fprintf(g.stdout, "  TLS certs  %s (trust %s; client cert %s)\n", certs.Dir, certs.CACert, certs.ClientCert)
	}
	if ip := net.ParseIP(host); !(host == "localhost" || (ip != nil && ip.IsLoopback())) {
		// Bound beyond loopback: the admin API needs a token.
		fmt.Fprintf(g.stdout, "  admin token (Authorization: Bearer ...) %s\n", srv.AdminToken())
	}
	fmt.Fprintf(g.stdout, "  try: curl -s -u demo-cc:demo-cc-secret -d grant_type=client_credentials %s/token\n", srv.URL())
	if ready != nil {
		ready(srv)
	}
	<-ctx.Done()
	fmt.Fprintln(g.stdout, "mock IdP stopped")
	return nil
}
