package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/mtls"
	"authlab/views/render"

	"github.com/spf13/cobra"
)

type mtlsFlags struct {
	url, cert, key, ca        string
	tokenURL, clientID, scope string
	method                    string
	headers                   []string
	asJSON                    bool
	timeout                   time.Duration
}

func newFlowMTLSCmd(g *globals) *cobra.Command {
	f := &mtlsFlags{}
	cmd := &cobra.Command{
		Use:   "mtls",
		Short: "A TLS handshake report with a client certificate, then the HTTP response",
		Long: `Connect to --url with a client certificate and report the handshake: TLS
version, cipher and ALPN; the server's chain (subject, issuer, SANs, expiry);
whether the server asked for a client certificate and which CAs it accepts;
which certificate we sent (subject, SANs, SPIFFE ID, x5t#S256, expiry); then
the HTTP response. Failures are explained: our certificate rejected (unknown
CA, expired, bad certificate), the server's certificate untrusted or expired,
hostname mismatch, a certificate required and none sent.

With --token-url and --client-id, first get a certificate-bound token
(RFC 8705, tls_client_auth client credentials at the mTLS alias), check its
cnf.x5t#S256 against our certificate, and call --url with it.`,
		Example: `  authlab certs init --dir ./certs
  authlab flow mtls --url https://127.0.0.1:9443/api/mtls --cert certs/client.pem --key certs/client-key.pem --ca certs/ca.pem
  authlab flow mtls --url https://127.0.0.1:9443/api/mtls --token-url https://127.0.0.1:9443/mtls/token --client-id demo-mtls \
      --cert certs/client.pem --key certs/client-key.pem --ca certs/ca.pem --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runFlowMTLS(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "https URL to call (required)")
	fl.StringVar(&f.cert, "cert", "", "client certificate PEM (with chain)")
	fl.StringVar(&f.key, "key", "", "client private key PEM")
	fl.StringVar(&f.ca, "ca", "", "CA bundle PEM that signs the server (default: the system roots)")
	fl.StringVar(&f.tokenURL, "token-url", "", "token endpoint (mTLS alias) for a certificate-bound token")
	fl.StringVar(&f.clientID, "client-id", "", "client id for tls_client_auth")
	fl.StringVar(&f.scope, "scope", "", "scope to request with --token-url")
	fl.StringVar(&f.method, "method", http.MethodGet, "HTTP method for --url")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object")
	fl.DurationVar(&f.timeout, "timeout", flows.DefaultTimeout, "per HTTP call")
	return cmd
}

type mtlsOutput struct {
	Flow       string            `json:"flow"`
	OK         bool              `json:"ok"`
	Error      *flows.Error      `json:"error,omitempty"`
	Handshake  *mtls.Report      `json:"handshake,omitempty"`
	BoundToken *mtls.BoundResult `json:"bound_token,omitempty"`
	Checks     []flows.Check     `json:"checks"`
	Exchanges  []exchangeView    `json:"exchanges"`
}

func runFlowMTLS(ctx context.Context, g *globals, f *mtlsFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.url == "" {
		return usageErr("--url is required (https://…)")
	}
	if (f.tokenURL == "") != (f.clientID == "") {
		return usageErr("--token-url and --client-id go together")
	}
	h, err := parseHeaderFlags(f.headers)
	if err != nil {
		return usageErr("%v", err)
	}
	out := &mtlsOutput{Flow: flows.FlowMTLS, Checks: []flows.Check{}, Exchanges: []exchangeView{}}
	if f.tokenURL != "" {
		b, err := mtls.BoundToken(ctx, mtls.BoundOptions{TokenURL: f.tokenURL, ClientID: f.clientID, Scope: f.scope,
			CertFile: f.cert, KeyFile: f.key, CAFile: f.ca, Timeout: f.timeout}, nil)
		if err != nil {
			return usageErr("%v", explainFlags(err, flagFor))
		}
		out.BoundToken = b
		out.Checks = append(out.Checks, b.Checks...)
		for _, e := range b.Exchanges {
			out.Exchanges = append(out.Exchanges, exchangeViewOf(e))
		}
		if b.Error != nil && b.AccessToken == "" {
			out.Error = b.Error
			return printMTLS(g, f, out)
		}
		h.Set("Authorization", "Bearer "+b.AccessToken)
	}
	rep, err := mtls.Run(ctx, mtls.Options{URL: f.url, Method: strings.ToUpper(f.method), CertFile: f.cert, KeyFile: f.key, CAFile: f.ca, Header: h, Timeout: f.timeout}, nil)
	if err != nil {
		return usageErr("%v", explainFlags(err, flagFor))
	}
	out.Handshake = rep
	out.Checks = append(out.Checks, rep.Checks...)
	for _, e := range rep.Exchanges {
		out.Exchanges = append(out.Exchanges, exchangeViewOf(e))
	}
	switch {
	case out.BoundToken != nil && out.BoundToken.Error != nil:
		out.Error = out.BoundToken.Error
	case rep.Error != nil:
		out.Error = rep.Error
	}
	return printMTLS(g, f, out)
}

func printMTLS(g *globals, f *mtlsFlags, out *mtlsOutput) error {
	if out.Error != nil {
		out.Error.Message = out.Error.Explain(flagFor)
	}
	out.OK = out.Error == nil && !flows.AnyFailed(out.Checks)
	if !out.OK && out.Error == nil {
		for _, c := range out.Checks {
			if c.Status == flows.Fail {
				out.Error = &flows.Error{Kind: flows.ErrCheck, Message: c.Name + ": " + c.Detail}
				break
			}
		}
	}
	if f.asJSON {
		if out.Handshake != nil {
			rep := *out.Handshake
			rep.Exchanges = nil // summarised once, at the top level
			out.Handshake = &rep
		}
		if err := writeJSON(g.stdout, out); err != nil {
			return err
		}
	} else {
		printMTLSHuman(g.stdout, out)
	}
	if !out.OK {
		return failErr(out.Error)
	}
	return nil
}

func printMTLSHuman(w io.Writer, out *mtlsOutput) {
	if b := out.BoundToken; b != nil {
		fmt.Fprintf(w, "certificate-bound token (RFC 8705)\n")
		fmt.Fprintf(w, "  our certificate x5t#S256  %s\n", b.CertThumbprint)
		if b.TokenThumbprint != "" {
			fmt.Fprintf(w, "  token cnf.x5t#S256        %s\n", b.TokenThumbprint)
		}
		if b.TokenType != "" {
			fmt.Fprintf(w, "  %s token (%s), expires in %ds\n", b.TokenType, b.Format, b.ExpiresIn)
		}
		fmt.Fprintln(w)
	}
	rep := out.Handshake
	if rep != nil {
		if hs := rep.Handshake; hs != nil {
			alpn := hs.ALPN
			if alpn == "" {
				alpn = "none"
			}
			fmt.Fprintf(w, "%s, %s, ALPN %s, server name %s\n", hs.Version, hs.CipherSuite, alpn, hs.ServerName)
		}
		if len(rep.ServerChain) > 0 {
			trust := "trusted"
			if !rep.ServerVerified {
				trust = "NOT verified"
			}
			fmt.Fprintf(w, "\nserver chain (%s):\n", trust)
			for i, c := range rep.ServerChain {
				fmt.Fprintf(w, "  [%d] %s\n", i, render.Printable(c.Subject))
				printCertLines(w, c, false)
			}
		}
		fmt.Fprintln(w)
		switch {
		case rep.ClientCertRequestUnknown != "":
			fmt.Fprintf(w, "client certificate: unknown whether the server asks for one (%s)\n", rep.ClientCertRequestUnknown)
		case !rep.ClientCertRequested && len(rep.ServerChain) > 0:
			fmt.Fprintf(w, "client certificate: not requested by the server\n")
		case rep.ClientCertRequested:
			fmt.Fprintf(w, "client certificate: requested by the server")
			if len(rep.AcceptableCAs) > 0 {
				fmt.Fprintf(w, "; it accepts certificates issued by:\n")
				for _, ca := range rep.AcceptableCAs {
					fmt.Fprintf(w, "      %s\n", render.Printable(ca))
				}
			} else {
				fmt.Fprintf(w, " (no CA list given)\n")
			}
		}
		if c := rep.ClientCert; c != nil {
			verb := "sent"
			if !rep.ClientCertSent {
				verb = "not sent"
			}
			fmt.Fprintf(w, "  %s %s\n", verb, render.Printable(c.Subject))
			printCertLines(w, *c, true)
		} else if rep.ClientCertRequested {
			fmt.Fprintf(w, "  none sent (no --cert)\n")
		}
		if r := rep.Response; r != nil {
			fmt.Fprintf(w, "\nHTTP %d", r.Status)
			for _, e := range rep.Exchanges {
				fmt.Fprintf(w, " (%d ms)", e.Duration.Milliseconds())
			}
			fmt.Fprintf(w, "\n  %s\n", render.Printable(flows.Snippet([]byte(r.Body), 400)))
		}
	}
	fmt.Fprintln(w)
	for _, c := range out.Checks {
		fmt.Fprintf(w, "%s %s: %s\n", render.Symbol(c.Status), c.Name, render.Printable(c.Detail))
	}
}

func printCertLines(w io.Writer, c mtls.CertInfo, client bool) {
	fmt.Fprintf(w, "      issuer    %s\n", render.Printable(c.Issuer))
	fmt.Fprintf(w, "      SANs      %s\n", render.Printable(c.SANs()))
	if c.SPIFFEID != "" {
		fmt.Fprintf(w, "      SPIFFE ID %s\n", render.Printable(c.SPIFFEID))
	}
	if client {
		fmt.Fprintf(w, "      x5t#S256  %s\n", c.Thumbprint)
	}
	left := fmt.Sprintf("%d days left", c.DaysLeft)
	if c.DaysLeft < 0 || time.Until(c.NotAfter) < 0 {
		left = "EXPIRED"
	} else if time.Until(c.NotAfter) < mtls.ExpiryWarning {
		left += ", expiring soon"
	}
	fmt.Fprintf(w, "      expires   %s (%s)\n", c.NotAfter.Format(time.RFC3339), left)
}
