package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"authlab/flows"
)

// Probe names for `authlab bench probe NAME`.
const (
	ProbeRevocation = "revocation"
	ProbeJWKS       = "jwks"
	ProbeMTLS       = "mtls"
	ProbeIssuance   = "issuance"
)

// Revocation check methods.
const (
	ViaIntrospection = "introspection"
	ViaCall          = "call"
)

// RevocationConfig tunes the revocation propagation probe.
type RevocationConfig struct {
	Via     []string      // ViaIntrospection and/or ViaCall; default: what is configured
	CallURL string        // the protected resource for ViaCall
	Every   time.Duration // poll period (default 250ms)
	Timeout time.Duration // give up after this long (default 60s)
}

// RevocationResult is how long a revoked token stayed usable.
type RevocationResult struct {
	Refused bool          `json:"refused"`
	Via     string        `json:"via,omitempty"` // the check that saw the refusal first
	After   time.Duration `json:"-"`             // from the revocation answer to the first refusal
	AfterMS float64       `json:"after_ms"`
	Polls   int           `json:"polls"`
	Errors  int           `json:"errors"` // polls that neither accepted nor refused
	Detail  string        `json:"detail"`
}

// ProbeRevocation gets a token (--token, else client credentials), checks
// that it is accepted, revokes it and polls until it is refused or the bound
// passes. A token refused from the start proves nothing and is an error.
func (s *Setup) ProbeRevocation(ctx context.Context, cfg RevocationConfig) (*RevocationResult, error) {
	if cfg.Every <= 0 {
		cfg.Every = 250 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if len(cfg.Via) == 0 {
		if s.Endpoints.Introspect != "" || s.Request.Issuer != "" {
			cfg.Via = append(cfg.Via, ViaIntrospection)
		}
		if cfg.CallURL != "" {
			cfg.Via = append(cfg.Via, ViaCall)
		}
	}
	if len(cfg.Via) == 0 {
		return nil, flows.Errorf(flows.ErrConfig, "revocation probe: nothing to poll; needs an introspection endpoint (%s or %s) or %s URL", flows.FieldIssuer, flows.FieldIntrospectURL, flows.FieldCallURL)
	}
	if slices.Contains(cfg.Via, ViaCall) && cfg.CallURL == "" {
		return nil, flows.Errorf(flows.ErrConfig, "revocation probe: polling a resource needs %s URL", flows.FieldCallURL)
	}
	tokens, err := s.TokenSource()
	if err != nil {
		return nil, err
	}
	tok, err := tokens.Get(ctx)
	if err != nil {
		return nil, err
	}
	client := s.Client()
	e, err := s.engine(s.FlowRequest(flows.FlowIntrospect, tok)) // validation wants the token
	if err != nil {
		return nil, err
	}
	// check answers true when the token is refused, false when accepted.
	check := func(via string) (bool, error) {
		switch via {
		case ViaIntrospection:
			res := e.Introspect(ctx, tok.Reveal(), nil)
			if res.Active == nil {
				return false, fmt.Errorf("introspection: %s", res.Reason())
			}
			return !*res.Active, nil
		case ViaCall:
			resp, err := client.Get(ctx, "call", cfg.CallURL, http.Header{"Authorization": {"Bearer " + tok.Reveal()}})
			if err != nil {
				return false, err
			}
			switch {
			case resp.Status/100 == 2:
				return false, nil
			case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
				return true, nil
			}
			return false, fmt.Errorf("call: %s answered HTTP %d %s", cfg.CallURL, resp.Status, resp.Snippet())
		}
		return false, flows.Errorf(flows.ErrConfig, "revocation probe: unknown check %q (introspection or call)", via)
	}
	for _, via := range cfg.Via {
		refused, err := check(via)
		if err != nil {
			return nil, fmt.Errorf("before revoking: %w", err)
		}
		if refused {
			return nil, fmt.Errorf("before revoking: the %s already refuses the token, so the probe cannot measure anything", via)
		}
	}
	if res := e.Revoke(ctx, tok.Reveal(), nil); !res.OK {
		return nil, fmt.Errorf("revocation: %s", res.Reason())
	}
	revoked := time.Now()
	out := &RevocationResult{}
	deadline := revoked.Add(cfg.Timeout)
	pause := time.NewTimer(0)
	<-pause.C
	for {
		for _, via := range cfg.Via {
			out.Polls++
			refused, err := check(via)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				out.Errors++
				out.Detail = "last error: " + err.Error()
				continue
			}
			if refused {
				out.Refused, out.Via, out.After = true, via, time.Since(revoked)
				out.AfterMS = ms(out.After)
				out.Detail = fmt.Sprintf("the %s refused the token %s after revocation", via, FormatDuration(out.After))
				return out, nil
			}
		}
		if time.Now().Add(cfg.Every).After(deadline) {
			out.After = time.Since(revoked)
			out.AfterMS = ms(out.After)
			out.Detail = fmt.Sprintf("the token was still accepted %s after revocation (%d polls of %s); gave up", FormatDuration(out.After), out.Polls, strings.Join(cfg.Via, " and "))
			return out, nil
		}
		pause.Reset(cfg.Every)
		select {
		case <-pause.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// KeyChange records a change in the key ids a JWKS served.
type KeyChange struct {
	Fetch   int      `json:"fetch"` // 1-based fetch number
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// JWKSWatch tracks key ids across fetches; an Op from JWKSOp feeds it.
type JWKSWatch struct {
	mu      sync.Mutex
	fetches int
	current []string
	Changes []KeyChange
}

// KeyIDs returns the key ids of the last successful fetch.
func (w *JWKSWatch) KeyIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.current)
}

// History returns the changes seen so far (the first fetch is not a change).
func (w *JWKSWatch) History() []KeyChange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.Changes)
}

func (w *JWKSWatch) observe(kids []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fetches++
	slices.Sort(kids)
	if w.fetches > 1 && !slices.Equal(kids, w.current) {
		c := KeyChange{Fetch: w.fetches}
		for _, k := range kids {
			if !slices.Contains(w.current, k) {
				c.Added = append(c.Added, k)
			}
		}
		for _, k := range w.current {
			if !slices.Contains(kids, k) {
				c.Removed = append(c.Removed, k)
			}
		}
		w.Changes = append(w.Changes, c)
	}
	w.current = kids
}

// JWKSOp fetches the JWK Set at url and checks it holds keys; the key ids go
// to the returned watch.
func (s *Setup) JWKSOp(jwksURL string) (Op, *JWKSWatch) {
	w := &JWKSWatch{}
	c := s.Client()
	return func(ctx context.Context) Outcome {
		resp, err := c.Get(ctx, "jwks", jwksURL, nil)
		o := HTTPOutcome(resp, err)
		if !o.OK {
			return o
		}
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(resp.Body, &set); err != nil {
			return Outcome{Status: resp.Status, Err: flows.Errorf(flows.ErrProtocol, "jwks: not a JWK Set: %v; body %s", err, resp.Snippet())}
		}
		if len(set.Keys) == 0 {
			return Outcome{Status: resp.Status, Err: flows.Errorf(flows.ErrProtocol, "jwks: the JWK Set has no keys")}
		}
		kids := make([]string, 0, len(set.Keys))
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		w.observe(kids)
		return o
	}, w
}

// HandshakeOp opens a new TLS connection to target per call, with the
// client certificate, and measures the handshake alone. It then sends one
// HEAD request and reads the first byte: under TLS 1.3 a server rejects a
// client certificate only after the handshake, on that first read.
func (s *Setup) HandshakeOp(target string) (Op, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, flows.Errorf(flows.ErrConfig, "mtls probe: %q is not an https:// URL", target)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	conf := &tls.Config{}
	if s.TLS != nil {
		conf = s.TLS.Clone()
	}
	conf.ServerName = u.Hostname()
	conf.ClientSessionCache = nil // a resumed session would skip the certificate
	timeout := s.Request.Timeout
	if timeout <= 0 {
		timeout = flows.DefaultTimeout
	}
	path := u.RequestURI()
	return func(ctx context.Context) Outcome {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		d := net.Dialer{}
		raw, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return Outcome{Err: flows.ExplainTransportError("mtls handshake", u, err, timeout)}
		}
		defer raw.Close()
		conn := tls.Client(raw, conf)
		t0 := time.Now()
		err = conn.HandshakeContext(ctx)
		lat := time.Since(t0)
		if err != nil {
			return Outcome{Latency: lat, Err: flows.ExplainTransportError("mtls handshake", u, err, timeout)}
		}
		if dl, ok := ctx.Deadline(); ok {
			conn.SetDeadline(dl)
		}
		fmt.Fprintf(conn, "HEAD %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: authlab-bench\r\n\r\n", path, u.Host)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return Outcome{Latency: lat, Err: flows.ExplainTransportError("mtls handshake", u, err, timeout)}
		}
		resp.Body.Close()
		return Outcome{OK: true, Status: resp.StatusCode, Latency: lat}
	}, nil
}

// IssuanceResult is the token issuance latency of one grant.
type IssuanceResult struct {
	Grant   string  `json:"grant"`
	Report  *Report `json:"report,omitempty"`
	Skipped string  `json:"skipped,omitempty"` // why the grant was not measured
}

// ProbeIssuance measures n sequential token requests for each grant the
// configuration supports without a user: client credentials, token exchange
// (with a client credentials token as the subject) and refresh (when a
// refresh token is at hand). Interactive grants are listed as skipped.
func (s *Setup) ProbeIssuance(ctx context.Context, n int) ([]IssuanceResult, error) {
	if n <= 0 {
		n = 50
	}
	supported := func(grant string) bool {
		return s.Meta == nil || len(s.Meta.GrantTypes) == 0 || slices.Contains(s.Meta.GrantTypes, grant)
	}
	measure := func(grant string, op Op) IssuanceResult {
		rep, err := Run(ctx, Config{Requests: n, Concurrency: 1, Duration: time.Minute}, op)
		if err != nil {
			return IssuanceResult{Grant: grant, Skipped: err.Error()}
		}
		return IssuanceResult{Grant: grant, Report: rep}
	}
	var out []IssuanceResult
	cc, err := s.engine(s.FlowRequest(flows.FlowClientCredentials, ""))
	if err != nil {
		return nil, err
	}
	first := cc.ClientCredentials(ctx, nil)
	if !first.OK {
		return nil, fmt.Errorf("client credentials: %s", first.Reason())
	}
	// Issuance latency through the engine, as `authlab flow` sees it.
	out = append(out, measure(flows.FlowClientCredentials, func(ctx context.Context) Outcome { return OutcomeOf(cc.ClientCredentials(ctx, nil)) }))

	const teGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
	if supported(teGrant) && first.Token != nil && first.Token.AccessToken != "" {
		op, err := s.FlowOpWithToken(flows.FlowTokenExchange, flows.Secret(first.Token.AccessToken))
		if err != nil {
			out = append(out, IssuanceResult{Grant: flows.FlowTokenExchange, Skipped: err.Error()})
		} else {
			out = append(out, measure(flows.FlowTokenExchange, op))
		}
	} else {
		out = append(out, IssuanceResult{Grant: flows.FlowTokenExchange, Skipped: "not offered by the server"})
	}
	refresh := s.Request.Token
	if first.Token != nil && first.Token.RefreshToken != "" {
		refresh = flows.Secret(first.Token.RefreshToken)
	}
	if supported("refresh_token") && refresh.IsSet() {
		s2 := *s
		s2.Request = s.FlowRequest(flows.FlowRefresh, refresh)
		op, err := s2.RefreshOp()
		if err != nil {
			out = append(out, IssuanceResult{Grant: flows.FlowRefresh, Skipped: err.Error()})
		} else {
			out = append(out, measure(flows.FlowRefresh, op))
		}
	} else {
		out = append(out, IssuanceResult{Grant: flows.FlowRefresh, Skipped: "no refresh token at hand (pass one with --token)"})
	}
	out = append(out,
		IssuanceResult{Grant: flows.FlowAuthCode, Skipped: "interactive (needs a browser)"},
		IssuanceResult{Grant: flows.FlowDevice, Skipped: "interactive (needs a user)"})
	return out, nil
}

// FlowOpWithToken is FlowOp with an input token (token exchange's subject).
func (s *Setup) FlowOpWithToken(flow string, tok flows.Secret) (Op, error) {
	e, err := s.engine(s.FlowRequest(flow, tok))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) Outcome { return OutcomeOf(e.Run(ctx, nil)) }, nil
}
