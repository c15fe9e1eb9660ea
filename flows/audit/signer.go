package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/token"
)

// Signer signs claims with a key the API under test trusts: the claims
// cases (expired, wrong audience, ...) need tokens whose only fault is the
// claim changed.
type Signer interface {
	// Sign signs claims; typ is the typ header ("" for none), alg the valid
	// token's, a hint the signer may ignore when its key cannot sign it.
	Sign(ctx context.Context, alg, typ string, claims map[string]any) (string, error)
	// Describe names the key, without secret material.
	Describe() string
}

// KeySigner signs with a private key (PEM or JWK), e.g. --signing-key.
type KeySigner struct {
	Key token.MintKey
	Kid string // the kid the API knows the key by
}

func (k KeySigner) Sign(_ context.Context, _, typ string, claims map[string]any) (string, error) {
	return token.Mint(token.MintOptions{Claims: claims, Typ: typ, Kid: k.Kid, Key: k.Key})
}

func (k KeySigner) Describe() string {
	kid := k.Kid
	if kid == "" {
		kid = k.Key.Kid
	}
	if kid == "" {
		return "the given signing key (" + k.Key.DefaultAlg() + ")"
	}
	return fmt.Sprintf("the given signing key (kid %q, %s)", kid, k.Key.DefaultAlg())
}

// IdPSigner has a running authlab mock IdP sign with its current key,
// through its admin call POST /_authlab/mint.
type IdPSigner struct {
	Issuer     string
	AdminToken string        // needed only when the IdP is not on loopback
	Timeout    time.Duration // per call; flows.DefaultTimeout when zero
	Transport  http.RoundTripper
}

// MintCall is one call of the mock IdP's mint endpoint (its body is
// mockidp.MintRequest).
type MintCall struct {
	Claims map[string]any `json:"claims"`
	Header map[string]any `json:"header,omitempty"` // extra header parameters
	Alg    string         `json:"alg,omitempty"`    // RS256, ES256, EdDSA; "" the IdP's
	Typ    *string        `json:"typ,omitempty"`    // nil: at+jwt; "": none
	// Defaults asks the IdP to add iss, iat, exp and jti when missing.
	Defaults bool `json:"defaults,omitempty"`
}

// MintResponse is what the mock IdP's mint call answers.
type MintResponse struct {
	Token  string `json:"token"`
	Alg    string `json:"alg"`
	Kid    string `json:"kid"`
	Issuer string `json:"issuer"`
}

func (s IdPSigner) Sign(ctx context.Context, alg, typ string, claims map[string]any) (string, error) {
	switch alg {
	case "RS256", "ES256", "EdDSA":
	default:
		alg = "" // the IdP's own
	}
	r, err := s.MintWith(ctx, MintCall{Claims: claims, Alg: alg, Typ: &typ})
	if err != nil {
		return "", err
	}
	return r.Token, nil
}

// MintWith calls the IdP's mint endpoint. The call is not recorded: its
// answer is a signed token.
func (s IdPSigner) MintWith(ctx context.Context, call MintCall) (*MintResponse, error) {
	if call.Claims == nil {
		call.Claims = map[string]any{}
	}
	body, err := json.Marshal(call)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(s.Issuer, "/") + "/_authlab/mint"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "mint: bad IdP URL %q: %v", s.Issuer, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	}
	c := flows.NewClient(flows.ClientOptions{Timeout: s.Timeout, Transport: s.Transport}, nil)
	resp, err := c.Do(req, "mint")
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("mint: %s answered HTTP %d (%s); is it an authlab mock IdP, and reachable on loopback or with its admin token?", endpoint, resp.Status, resp.Snippet())
	}
	var out MintResponse
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.Token == "" {
		return nil, fmt.Errorf("mint: %s answered no token (%s)", endpoint, resp.Snippet())
	}
	return &out, nil
}

func (s IdPSigner) Describe() string {
	return "the authlab mock IdP at " + s.Issuer + " (its current key, via /_authlab/mint)"
}

// ProbeIdPSigner returns an IdPSigner when issuer is an authlab mock IdP on
// loopback that mints (one unrecorded call), else nil and why not.
func ProbeIdPSigner(ctx context.Context, issuer string, timeout time.Duration) (Signer, string) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, "the token has no usable iss"
	}
	if !IsLoopbackHost(u.Hostname()) {
		return nil, "the issuer " + issuer + " is not an authlab mock IdP on loopback"
	}
	s := IdPSigner{Issuer: issuer, Timeout: timeout}
	if _, err := s.MintWith(ctx, MintCall{Claims: map[string]any{"sub": "authlab-audit-probe"}}); err != nil {
		return nil, "the issuer " + issuer + " does not mint (not an authlab mock IdP?)"
	}
	return s, ""
}

// IsLoopbackHost reports whether host (no port) is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
