package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"authlab/flows"
	"authlab/flows/token"
)

// Metadata is the part of an OIDC discovery document / RFC 8414 metadata
// the engine uses. Raw keeps the whole document for display.
type Metadata struct {
	Issuer                             string            `json:"issuer"`
	AuthorizationEndpoint              string            `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                      string            `json:"token_endpoint,omitempty"`
	DeviceAuthorizationEndpoint        string            `json:"device_authorization_endpoint,omitempty"`
	IntrospectionEndpoint              string            `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                 string            `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint                   string            `json:"userinfo_endpoint,omitempty"`
	JWKSURI                            string            `json:"jwks_uri,omitempty"`
	TokenEndpointAuthMethods           []string          `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethods               []string          `json:"code_challenge_methods_supported,omitempty"`
	GrantTypes                         []string          `json:"grant_types_supported,omitempty"`
	ScopesSupported                    []string          `json:"scopes_supported,omitempty"`
	AuthorizationResponseISSParameter  bool              `json:"authorization_response_iss_parameter_supported,omitempty"`
	MTLSEndpointAliases                map[string]string `json:"mtls_endpoint_aliases,omitempty"`
	TLSClientCertificateBoundAccessTok bool              `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// AuthzRequestMetadata: PAR, JAR, JARM and RAR (par.go).
	AuthzRequestMetadata
	// OIDC says whether the document came from openid-configuration.
	OIDC bool `json:"-"`
	// Source is the URL the document was read from.
	Source string `json:"-"`
}

// Discovery document paths, OIDC first (OIDC Discovery 4, RFC 8414 3).
const (
	oidcWellKnown  = "/.well-known/openid-configuration"
	oauthWellKnown = "/.well-known/oauth-authorization-server"
)

// discoveryURLs lists where to look for issuer's metadata: OIDC appends to
// the issuer path, RFC 8414 inserts the well-known segment before it.
func discoveryURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("issuer %q is not a URL", withoutUserinfo(issuer))
	}
	path := strings.TrimRight(u.Path, "/")
	oidc := *u
	oidc.Path = path + oidcWellKnown
	oidc.RawQuery, oidc.Fragment = "", ""
	rfc := *u
	rfc.Path = oauthWellKnown + path
	rfc.RawQuery, rfc.Fragment = "", ""
	urls := []string{oidc.String(), rfc.String()}
	if path != "" { // some servers put RFC 8414 metadata after the path too
		alt := *u
		alt.Path = path + oauthWellKnown
		alt.RawQuery, alt.Fragment = "", ""
		urls = append(urls, alt.String())
	}
	return urls, nil
}

// Discover reads the issuer's metadata once; later calls reuse it. A
// failure is not cached, so the next run tries again.
func (e *Engine) Discover(ctx context.Context, obs flows.Observer) (*Metadata, error) {
	r := e.newRun("discovery", obs)
	return e.discover(ctx, r)
}

func (e *Engine) discover(ctx context.Context, r *run) (*Metadata, error) {
	e.mu.Lock()
	m := e.meta
	e.mu.Unlock()
	if m != nil {
		return m, nil
	}
	var meta *Metadata
	err := r.step("discovery", func() (string, error) {
		var err error
		meta, err = fetchMetadata(ctx, r.hc, e.req.Issuer)
		if err != nil {
			return "", err
		}
		return "metadata from " + meta.Source, nil
	})
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.meta == nil {
		e.meta = meta
	}
	meta = e.meta
	e.mu.Unlock()
	return meta, nil
}

// fetchMetadata fetches issuer's metadata. Its errors quote the URLs it
// tried, so a password in the issuer URL (https://user:pw@host) is masked
// out of them here, once, rather than at each message.
func fetchMetadata(ctx context.Context, hc *flows.Client, issuer string) (*Metadata, error) {
	m, err := fetchMetadataFrom(ctx, hc, issuer)
	if err == nil {
		return m, nil
	}
	u, perr := url.Parse(issuer)
	if perr != nil || u.User == nil {
		return nil, err
	}
	pw, has := u.User.Password()
	if !has || pw == "" {
		return nil, err
	}
	hide := func(s string) string {
		for _, form := range []string{pw, url.PathEscape(pw), url.QueryEscape(pw), url.UserPassword("", pw).String()[1:]} {
			if form != "" {
				s = strings.ReplaceAll(s, form, "xxxxx")
			}
		}
		return s
	}
	var fe *flows.Error
	if errors.As(err, &fe) {
		masked := *fe
		masked.Message = hide(fe.Message)
		masked.OAuthDescription = hide(fe.OAuthDescription)
		return nil, &masked
	}
	return nil, errors.New(hide(err.Error()))
}

func fetchMetadataFrom(ctx context.Context, hc *flows.Client, issuer string) (*Metadata, error) {
	urls, err := discoveryURLs(issuer)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "discovery: %v", err)
	}
	var tried []string
	for i, u := range urls {
		resp, err := hc.Get(ctx, "discovery", u, nil)
		if err != nil {
			return nil, err
		}
		// Not there: try the next well-known location. Anything else is an
		// answer to explain, not to skip.
		if resp.Status == 404 || resp.Status == 410 || (resp.Status == 400 && i > 0) {
			tried = append(tried, fmt.Sprintf("%s (HTTP %d)", u, resp.Status))
			continue
		}
		if resp.Status != 200 {
			return nil, flows.Errorf(flows.ErrProtocol, "discovery: %s answered HTTP %d (%s), expected 200 with a JSON document: %s",
				u, resp.Status, orUnknown(resp.ContentType()), resp.Snippet())
		}
		m, err := ParseMetadata(resp.Body)
		if err != nil && i < len(urls)-1 && looksHTML(resp) {
			// Single-page apps answer every path with their index page.
			tried = append(tried, fmt.Sprintf("%s (HTTP 200, an HTML page)", u))
			continue
		}
		if err != nil {
			return nil, flows.Errorf(flows.ErrProtocol, "discovery: %s: %v (content type %s, body %s)", u, err, orUnknown(resp.ContentType()), resp.Snippet())
		}
		m.Source = u
		m.OIDC = i == 0
		if m.Issuer != issuer {
			msg := fmt.Sprintf("discovery: %s names issuer %q, but you asked for %q: they must be identical (OIDC Discovery 4.3, RFC 8414 3.3)", u, m.Issuer, issuer)
			if strings.TrimRight(m.Issuer, "/") == strings.TrimRight(issuer, "/") {
				return nil, flows.Errorf(flows.ErrProtocol, "%s; they differ only in the trailing slash — pass %s exactly as the server spells it", msg, flows.FieldIssuer)
			}
			return nil, flows.Errorf(flows.ErrProtocol, "%s", msg)
		}
		return m, nil
	}
	return nil, flows.Errorf(flows.ErrProtocol, "discovery: no metadata for issuer %s: tried %s; pass the endpoint URLs (%s, ...) instead", issuer, strings.Join(tried, ", "), flows.FieldTokenURL)
}

// ParseMetadata parses a discovery document. It accepts unknown fields and
// rejects what would make later steps fail in confusing ways.
func ParseMetadata(body []byte) (*Metadata, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty document")
	}
	if body[0] == '<' {
		return nil, fmt.Errorf("an HTML page, not a JSON document (wrong issuer URL, or a login/proxy page?)")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	var m Metadata
	// Field by field, so one oddly typed field names itself.
	for name, dst := range map[string]any{
		"issuer": &m.Issuer, "authorization_endpoint": &m.AuthorizationEndpoint, "token_endpoint": &m.TokenEndpoint,
		"device_authorization_endpoint": &m.DeviceAuthorizationEndpoint, "introspection_endpoint": &m.IntrospectionEndpoint,
		"revocation_endpoint": &m.RevocationEndpoint, "userinfo_endpoint": &m.UserinfoEndpoint, "jwks_uri": &m.JWKSURI,
		"token_endpoint_auth_methods_supported": &m.TokenEndpointAuthMethods, "code_challenge_methods_supported": &m.CodeChallengeMethods,
		"grant_types_supported": &m.GrantTypes, "scopes_supported": &m.ScopesSupported,
		"authorization_response_iss_parameter_supported": &m.AuthorizationResponseISSParameter,
		"mtls_endpoint_aliases":                          &m.MTLSEndpointAliases, "tls_client_certificate_bound_access_tokens": &m.TLSClientCertificateBoundAccessTok,
	} {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return nil, fmt.Errorf("field %s has the wrong type (%s)", name, flows.Snippet(v, 40))
		}
	}
	if err := m.AuthzRequestMetadata.parse(raw); err != nil {
		return nil, err
	}
	if m.Issuer == "" {
		return nil, fmt.Errorf("no issuer field")
	}
	for name, v := range map[string]string{
		"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint,
		"device_authorization_endpoint": m.DeviceAuthorizationEndpoint, "introspection_endpoint": m.IntrospectionEndpoint,
		"revocation_endpoint": m.RevocationEndpoint, "userinfo_endpoint": m.UserinfoEndpoint, "jwks_uri": m.JWKSURI,
	} {
		if v == "" {
			continue
		}
		if err := httpURL(v); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	return &m, nil
}

// endpoints merges explicit endpoints over discovered ones, using the mTLS
// aliases when a client certificate is in play (RFC 8705 5).
func (e *Engine) endpoints(m *Metadata) flows.Endpoints {
	out := e.req.Endpoints
	if m == nil {
		return out
	}
	pick := func(explicit *string, discovered, alias string) {
		if *explicit != "" {
			return
		}
		if e.clientTLS != nil && m.MTLSEndpointAliases != nil {
			if a := m.MTLSEndpointAliases[alias]; a != "" {
				*explicit = a
				return
			}
		}
		*explicit = discovered
	}
	pick(&out.Token, m.TokenEndpoint, "token_endpoint")
	pick(&out.Auth, m.AuthorizationEndpoint, "authorization_endpoint")
	pick(&out.Device, m.DeviceAuthorizationEndpoint, "device_authorization_endpoint")
	pick(&out.Introspect, m.IntrospectionEndpoint, "introspection_endpoint")
	pick(&out.Revoke, m.RevocationEndpoint, "revocation_endpoint")
	pick(&out.Userinfo, m.UserinfoEndpoint, "userinfo_endpoint")
	pick(&out.JWKS, m.JWKSURI, "jwks_uri")
	return out
}

// resolve returns the endpoints for r's flow, discovering when an endpoint
// the flow needs is missing (and an issuer is known).
func (e *Engine) resolve(ctx context.Context, r *run) (flows.Endpoints, *Metadata, error) {
	if e.req.Issuer == "" || hasNeededEndpoints(&flows.Request{Flow: r.res.Flow, Endpoints: e.req.Endpoints}) && !e.wantsMetadata(r.res.Flow) {
		return e.req.Endpoints, nil, nil
	}
	m, err := e.discover(ctx, r)
	if err != nil {
		return flows.Endpoints{}, nil, err
	}
	ep := e.endpoints(m)
	e.prefetchKeys(ctx, r, ep)
	return ep, m, nil
}

// prefetchKeys starts fetching the JWKS as soon as discovery names it, so
// it travels alongside the token request and verifying the tokens costs no
// extra round trip. One goroutine per run at most, on the run's transport
// with its timeout and caps, under a context finish cancels when the flow
// ends without needing the keys. Its exchange is held back and recorded
// when the keys are used (or when the flow ends), so a run's exchanges read
// discovery, token request, JWKS, as if fetched in turn.
func (e *Engine) prefetchKeys(ctx context.Context, r *run, ep flows.Endpoints) {
	switch r.res.Flow {
	case flows.FlowClientCredentials, flows.FlowAuthCode, flows.FlowRefresh, flows.FlowTokenExchange:
	default:
		return
	}
	if e.opts.SkipInspect || ep.JWKS == "" || r.pre != nil || e.keys.fresh(ep.JWKS) {
		return
	}
	pctx, cancel := context.WithCancel(ctx)
	p := &prefetch{url: ep.JWKS, done: make(chan struct{}), cancel: cancel, r: r}
	r.pre = p
	// Its own client buffers the exchange; runKeys only uses the run's client.
	shadow := &run{e: e, hc: flows.NewClient(flows.ClientOptions{Timeout: e.req.Timeout, Transport: e.transport}, &p.held)}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		defer close(p.done)
		p.set, p.err = runKeys{e: e, r: shadow, url: ep.JWKS}.Keys(pctx, false)
	}()
}

// prefetch is a JWKS fetch started alongside the token request. It is the
// run's key source for that URL: the first use waits for it.
type prefetch struct {
	url    string
	done   chan struct{}
	cancel context.CancelFunc
	r      *run
	set    *token.KeySet
	err    error

	held     heldExchanges
	once     sync.Once
	unneeded bool // finish cancelled it: the flow ended first
}

// Keys waits for the prefetch (refresh false) or refetches through the run
// (refresh true: a key id the prefetched set lacks).
func (p *prefetch) Keys(ctx context.Context, refresh bool) (*token.KeySet, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.record()
	if refresh {
		return runKeys{e: p.r.e, r: p.r, url: p.url}.Keys(ctx, true)
	}
	return p.set, p.err
}

// record passes the held exchange to the run's recorder once, after done.
func (p *prefetch) record() {
	p.once.Do(func() {
		for _, ex := range p.held.take() {
			if p.unneeded && ex.Err != "" {
				ex.Err = "JWKS prefetch cancelled: the flow ended before the keys were needed"
			}
			p.r.rec.Exchange(ex)
		}
	})
}

// stop ends the prefetch with the flow: cancelled when still under way
// (the flow ended without using the keys: it failed, or its tokens were
// opaque), waited for, and its exchange recorded.
func (p *prefetch) stop() {
	select {
	case <-p.done:
	default:
		p.unneeded = true // written before cancel; read after done
		p.cancel()
	}
	<-p.done
	p.cancel()
	p.record()
}

// heldExchanges is an observer that keeps exchanges for later.
type heldExchanges struct {
	mu  sync.Mutex
	exs []flows.Exchange
}

func (h *heldExchanges) Step(flows.StepEvent) {}

func (h *heldExchanges) Exchange(ex flows.Exchange) {
	h.mu.Lock()
	h.exs = append(h.exs, ex)
	h.mu.Unlock()
}

func (h *heldExchanges) take() []flows.Exchange {
	h.mu.Lock()
	defer h.mu.Unlock()
	exs := h.exs
	h.exs = nil
	return exs
}

// wantsMetadata: flows that use metadata beyond endpoint URLs (iss
// parameter support, JWKS for ID tokens) discover whenever an issuer is set.
func (e *Engine) wantsMetadata(flow string) bool {
	return flow == flows.FlowAuthCode && e.req.Endpoints.JWKS == ""
}

func looksHTML(resp *flows.Response) bool {
	b := bytes.TrimSpace(resp.Body)
	return strings.Contains(resp.ContentType(), "html") || (len(b) > 0 && b[0] == '<')
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}
