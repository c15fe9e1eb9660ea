package mtls

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
)

// BoundOptions configure a certificate-bound token round trip (RFC 8705):
// tls_client_auth client credentials at the token endpoint (the mTLS
// alias), then the resource, both over the same client certificate.
type BoundOptions struct {
	TokenURL    string // e.g. https://127.0.0.1:9443/mtls/token
	ClientID    string
	Scope       string
	ResourceURL string // optional: called with the token and the same certificate
	CertFile    string
	KeyFile     string
	CAFile      string
	Timeout     time.Duration
}

// BoundResult is the outcome. The access token itself is kept out of JSON.
type BoundResult struct {
	TokenType       string           `json:"token_type,omitempty"`
	ExpiresIn       int64            `json:"expires_in,omitempty"`
	Format          string           `json:"format,omitempty"` // jwt or opaque
	CertThumbprint  string           `json:"cert_x5t#S256"`
	TokenThumbprint string           `json:"cnf_x5t#S256,omitempty"`
	Bound           bool             `json:"bound"`
	Resource        *Response        `json:"resource,omitempty"`
	Checks          []flows.Check    `json:"checks"`
	Exchanges       []flows.Exchange `json:"exchanges"`
	Error           *flows.Error     `json:"error,omitempty"`
	OK              bool             `json:"ok"`
	AccessToken     string           `json:"-"`
}

func (r *BoundResult) check(name string, st flows.Status, detail string) {
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: st, Detail: detail})
}

func (r *BoundResult) fail(name string, e *flows.Error) *BoundResult {
	r.check(name, flows.Fail, e.Message)
	if r.Error == nil {
		r.Error = e
	}
	return r
}

// BoundToken gets a token with tls_client_auth and checks that its
// cnf.x5t#S256 is our certificate's thumbprint, then (optionally) calls the
// resource with the same certificate. Failures are in the result; the error
// return is for unusable options.
func BoundToken(ctx context.Context, o BoundOptions, obs flows.Observer) (*BoundResult, error) {
	if o.TokenURL == "" || o.ClientID == "" {
		return nil, flows.Errorf(flows.ErrConfig, "a certificate-bound token needs %s and %s", flows.FieldTokenURL, flows.FieldClientID)
	}
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, flows.Errorf(flows.ErrConfig, "tls_client_auth needs %s and %s", flows.FieldCertFile, flows.FieldKeyFile)
	}
	conf, err := LoadClientTLS(o.CertFile, o.KeyFile, o.CAFile)
	if err != nil {
		return nil, err
	}
	leaf, err := LoadCert(o.CertFile)
	if err != nil {
		return nil, err
	}
	res := &BoundResult{CertThumbprint: flows.Thumbprint(leaf.Raw), Checks: []flows.Check{}, Exchanges: []flows.Exchange{}}
	rec := flows.NewRecorder(flows.FlowMTLS, obs)
	defer func() { res.Exchanges = append(res.Exchanges, rec.Exchanges()...) }()
	tr := flows.NewTransport(conf)
	defer tr.CloseIdleConnections()
	client := flows.NewClient(flows.ClientOptions{Timeout: o.Timeout, Transport: tr}, rec)

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.ClientID}}
	if o.Scope != "" {
		form.Set("scope", o.Scope)
	}
	resp, err := client.PostForm(ctx, "token (tls_client_auth)", o.TokenURL, form, nil)
	if err != nil {
		return res.fail("token issued", asFlowErr(err)), nil
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if jerr := json.Unmarshal(resp.Body, &tok); jerr != nil {
		return res.fail("token issued", &flows.Error{Kind: flows.ErrProtocol, Status: resp.Status,
			Message: fmt.Sprintf("token endpoint %s answered HTTP %d %s, not JSON (%s)", o.TokenURL, resp.Status, resp.ContentType(), resp.Snippet())}), nil
	}
	if resp.Status != http.StatusOK || tok.AccessToken == "" {
		e := &flows.Error{Kind: flows.ErrOAuth, Status: resp.Status, OAuthError: tok.Error, OAuthDescription: tok.Description,
			Message: fmt.Sprintf("token endpoint %s refused tls_client_auth for %s: HTTP %d %s %s", o.TokenURL, o.ClientID, resp.Status, tok.Error, tok.Description)}
		if tok.Error == "" {
			e.Kind = flows.ErrProtocol
			e.Message = fmt.Sprintf("token endpoint %s answered HTTP %d without an access_token (%s)", o.TokenURL, resp.Status, resp.Snippet())
		}
		return res.fail("token issued", e), nil
	}
	res.AccessToken, res.TokenType, res.ExpiresIn = tok.AccessToken, tok.TokenType, tok.ExpiresIn
	res.check("token issued", flows.Pass, fmt.Sprintf("%s token for %s, expires in %ds", tok.TokenType, o.ClientID, tok.ExpiresIn))

	cnf, format := cnfThumbprint(tok.AccessToken)
	res.Format = format
	switch {
	case format == "opaque":
		res.check("token bound to our certificate", flows.Warn, "the access token is opaque; its cnf.x5t#S256 can only be read by introspection")
	case cnf == "":
		res.fail("token bound to our certificate", &flows.Error{Kind: flows.ErrCheck, Message: "the access token has no cnf.x5t#S256 claim: it is a plain bearer token, not bound to our certificate (RFC 8705 §3)"})
	case cnf != res.CertThumbprint:
		res.TokenThumbprint = cnf
		res.fail("token bound to our certificate", &flows.Error{Kind: flows.ErrCheck, Message: fmt.Sprintf("the token is bound to certificate %s, but ours is %s", cnf, res.CertThumbprint)})
	default:
		res.TokenThumbprint = cnf
		res.Bound = true
		res.check("token bound to our certificate", flows.Pass, "cnf.x5t#S256 = "+cnf)
	}

	if o.ResourceURL != "" {
		h := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
		rr, err := client.Get(ctx, "resource (same certificate)", o.ResourceURL, h)
		if err != nil {
			res.fail("resource accepted the bound token", asFlowErr(err))
		} else {
			res.Resource = &Response{Status: rr.Status, Header: flows.MaskHeaders(rr.Header), Body: string(rr.Body)}
			if rr.Status >= 200 && rr.Status < 300 {
				res.check("resource accepted the bound token", flows.Pass, fmt.Sprintf("HTTP %d", rr.Status))
			} else {
				res.fail("resource accepted the bound token", &flows.Error{Kind: flows.ErrCheck, Status: rr.Status,
					Message: fmt.Sprintf("resource %s answered HTTP %d %s %s", o.ResourceURL, rr.Status, rr.Header.Get("WWW-Authenticate"), rr.Snippet())})
			}
		}
	}
	res.OK = !flows.AnyFailed(res.Checks)
	return res, nil
}

func asFlowErr(err error) *flows.Error {
	var fe *flows.Error
	if errors.As(err, &fe) {
		return fe
	}
	return flows.Wrap(flows.ErrNetwork, err, "%v", err)
}

// cnfThumbprint reads cnf.x5t#S256 from a JWT access token's payload
// without verifying the signature: this checks what the server bound the
// token to, not whether to trust it.
func cnfThumbprint(token string) (thumb, format string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "opaque"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "opaque"
	}
	var claims struct {
		Cnf map[string]any `json:"cnf"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return "", "opaque"
	}
	s, _ := claims.Cnf["x5t#S256"].(string)
	return s, "jwt"
}
