// Package check reports how an authorization server measures up to the
// FAPI 2.0 Security Profile (final) or the OAuth 2.0 Security Best Current
// Practice (RFC 9700), from its metadata and, given a client, from its
// behaviour (probe.go): each item pass, warn, fail or skip, with what was
// seen and the section it comes from.
//
// Offering something to other clients (client_secret_basic in a list of
// methods) is a warning; what the profile forbids the server to do at all
// is a failure.
package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"authlab/flows"
)

// Profiles.
const (
	ProfileFAPI2 = "fapi2"
	ProfileBCP   = "bcp"
)

// ProfileTitle names what profile checks against.
func ProfileTitle(profile string) string {
	if profile == ProfileBCP {
		return "RFC 9700 (OAuth 2.0 Security BCP)"
	}
	return "FAPI 2.0 Security Profile"
}

// Item is one checked requirement.
type Item struct {
	Name      string       `json:"name"`
	Status    flows.Status `json:"status"`
	Detail    string       `json:"detail"`
	Reference string       `json:"reference"`
}

// Report is the outcome of Run.
type Report struct {
	Profile string `json:"profile"`
	Issuer  string `json:"issuer"`
	Checks  []Item `json:"checks"`
}

// Failed reports whether any item failed.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Checks, func(i Item) bool { return i.Status == flows.Fail })
}

// Options say what to check.
type Options struct {
	Issuer  string
	Profile string // fapi2 (default) or bcp
	Timeout time.Duration
	// Client sends the requests; nil builds one with Timeout.
	Client *flows.Client
	// Probe is the client the behaviour probes act as (client id,
	// authentication, DPoP, TLS files); nil checks the metadata only.
	// The probes drive the authorization endpoint without a browser, so
	// they need a server that redirects at once (no login page).
	Probe *flows.Request
}

// Run fetches the issuer's metadata (OIDC discovery, then RFC 8414) and
// checks it. An error means no metadata could be read.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Profile == "" {
		o.Profile = ProfileFAPI2
	}
	if o.Profile != ProfileFAPI2 && o.Profile != ProfileBCP {
		return nil, flows.Errorf(flows.ErrConfig, "profile %q: want fapi2 or bcp", o.Profile)
	}
	iss := strings.TrimRight(o.Issuer, "/")
	u, err := url.Parse(iss)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, flows.Errorf(flows.ErrConfig, "%s %q: want an http(s) URL", flows.FieldIssuer, o.Issuer)
	}
	var base http.RoundTripper
	if o.Probe != nil {
		t, err := baseTransport(o.Probe)
		if err != nil {
			return nil, err
		}
		defer t.CloseIdleConnections()
		base = t
	}
	hc := o.Client
	if hc == nil {
		hc = flows.NewClient(flows.ClientOptions{Timeout: o.Timeout, Transport: base}, nil)
	}
	m, where, err := fetchMetadata(ctx, hc, iss, u)
	if err != nil {
		return nil, err
	}
	rep := &Report{Profile: o.Profile, Issuer: o.Issuer}
	c := checker{rep: rep, fapi: o.Profile == ProfileFAPI2, m: m}
	c.issuer(o.Issuer, where)
	c.https(u)
	c.par()
	c.pkce()
	c.issParameter()
	c.clientAuth()
	c.algorithms()
	c.senderConstrained()
	c.grants()
	if o.Probe != nil {
		if err := c.probe(ctx, o, base); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// fetchMetadata tries OIDC discovery, then RFC 8414 (path inserted); u is
// iss parsed.
func fetchMetadata(ctx context.Context, hc *flows.Client, iss string, u *url.URL) (map[string]any, string, error) {
	candidates := []string{iss + "/.well-known/openid-configuration",
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.Path}
	var last string
	for _, c := range candidates {
		resp, err := hc.Get(ctx, "metadata", c, nil)
		if err != nil {
			last = err.Error()
			continue
		}
		if resp.Status != 200 {
			last = fmt.Sprintf("%s answered HTTP %d", c, resp.Status)
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(resp.Body, &m); err != nil {
			last = fmt.Sprintf("%s: not a JSON object: %v", c, err)
			continue
		}
		return m, c, nil
	}
	return nil, "", flows.Errorf(flows.ErrNetwork, "metadata of %s: %s", iss, last)
}

type checker struct {
	rep  *Report
	fapi bool
	m    map[string]any
}

func (c *checker) add(name string, st flows.Status, ref, format string, args ...any) {
	c.rep.Checks = append(c.rep.Checks, Item{Name: name, Status: st, Detail: fmt.Sprintf(format, args...), Reference: ref})
}

// pick is the FAPI or the BCP value.
func (c *checker) pick(fapi, bcp string) string {
	if c.fapi {
		return fapi
	}
	return bcp
}

func (c *checker) strs(k string) ([]string, bool) {
	v, ok := c.m[k].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(v))
	for _, x := range v {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

func (c *checker) str(k string) string { s, _ := c.m[k].(string); return s }

func (c *checker) flag(k string) bool { b, _ := c.m[k].(bool); return b }

func (c *checker) issuer(given, where string) {
	got := c.str("issuer")
	if got == given || strings.TrimRight(got, "/") == strings.TrimRight(given, "/") && got != "" {
		c.add("issuer", flows.Pass, "RFC 8414 3.3; OIDC Discovery 4.3", "the metadata's issuer is %s, the URL it was fetched for (%s)", got, where)
		return
	}
	c.add("issuer", flows.Fail, "RFC 8414 3.3; OIDC Discovery 4.3", "the metadata at %s says issuer %q, not %q: tokens and responses will not match (mix-up, RFC 9700 4.4)", where, got, given)
}

func (c *checker) https(u *url.URL) {
	ref := c.pick("FAPI 2.0 Security Profile 5.2.1", "RFC 9700 2.6; RFC 8414 2")
	switch {
	case u.Scheme == "https":
		c.add("https", flows.Pass, ref, "the issuer is https")
	case isLoopback(u.Hostname()):
		c.add("https", flows.Warn, ref, "the issuer %s is plain http on a loopback address: fine for tests, never for production", u)
	default:
		c.add("https", flows.Fail, ref, "the issuer %s is plain http: every endpoint must use TLS", u)
	}
}

func isLoopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (c *checker) par() {
	ref := c.pick("FAPI 2.0 Security Profile 5.3.2.2; RFC 9126 5", "RFC 9126 5")
	ep := c.str("pushed_authorization_request_endpoint")
	req := c.flag("require_pushed_authorization_requests")
	switch {
	case ep == "" && c.fapi:
		c.add("pushed authorization requests", flows.Fail, ref, "no pushed_authorization_request_endpoint: FAPI 2.0 requires PAR for every authorization request")
	case ep == "":
		c.add("pushed authorization requests", flows.Warn, ref, "no pushed_authorization_request_endpoint: authorization parameters travel in the browser URL")
	case !req && c.fapi:
		c.add("pushed authorization requests", flows.Fail, ref, "PAR endpoint %s, but require_pushed_authorization_requests is false: FAPI 2.0 refuses authorization requests that were not pushed", ep)
	case !req:
		c.add("pushed authorization requests", flows.Pass, ref, "PAR endpoint %s (not required for every client)", ep)
	default:
		c.add("pushed authorization requests", flows.Pass, ref, "PAR endpoint %s, required (require_pushed_authorization_requests true)", ep)
	}
}

func (c *checker) pkce() {
	ref := c.pick("FAPI 2.0 Security Profile 5.3.2.2; RFC 7636", "RFC 9700 2.1.1; RFC 7636")
	ms, ok := c.strs("code_challenge_methods_supported")
	switch {
	case !ok:
		c.add("PKCE methods", c.status(flows.Fail, flows.Warn), ref, "no code_challenge_methods_supported: the metadata does not say the server supports PKCE")
	case !slices.Contains(ms, "S256"):
		c.add("PKCE methods", flows.Fail, ref, "code_challenge_methods_supported %v lacks S256", ms)
	case slices.Contains(ms, "plain"):
		c.add("PKCE methods", c.status(flows.Fail, flows.Warn), ref, "code_challenge_methods_supported %v offers plain, which protects nothing against an attacker who sees the request; %s", ms, c.pick("FAPI 2.0 accepts S256 only", "use S256"))
	default:
		c.add("PKCE methods", flows.Pass, ref, "code_challenge_methods_supported %v", ms)
	}
}

// status is the FAPI or the BCP status.
func (c *checker) status(fapi, bcp flows.Status) flows.Status {
	if c.fapi {
		return fapi
	}
	return bcp
}

func (c *checker) issParameter() {
	ref := c.pick("FAPI 2.0 Security Profile 5.3.2.2; RFC 9207", "RFC 9700 4.4.2; RFC 9207")
	if c.flag("authorization_response_iss_parameter_supported") {
		c.add("iss in authorization responses", flows.Pass, ref, "authorization_response_iss_parameter_supported is true")
		return
	}
	c.add("iss in authorization responses", c.status(flows.Fail, flows.Warn), ref, "authorization_response_iss_parameter_supported is not true: clients cannot detect mix-up attacks by the iss parameter")
}

func (c *checker) clientAuth() {
	ms, ok := c.strs("token_endpoint_auth_methods_supported")
	if !c.fapi {
		switch {
		case !ok:
			c.add("client authentication", flows.Warn, "RFC 8414 2", "no token_endpoint_auth_methods_supported (the default is client_secret_basic)")
		case slices.ContainsFunc(ms, func(m string) bool { return m == "private_key_jwt" || strings.Contains(m, "tls_client_auth") }):
			c.add("client authentication", flows.Pass, "RFC 9700 2.5", "token_endpoint_auth_methods_supported %v includes asymmetric methods (private_key_jwt / mTLS), which RFC 9700 2.5 recommends", ms)
		default:
			c.add("client authentication", flows.Warn, "RFC 9700 2.5", "token_endpoint_auth_methods_supported %v offers only shared secrets; RFC 9700 2.5 recommends asymmetric methods (private_key_jwt, mTLS)", ms)
		}
		return
	}
	ref := "FAPI 2.0 Security Profile 5.3.2.1"
	allowed := []string{"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"}
	var good, other []string
	for _, m := range ms {
		if slices.Contains(allowed, m) {
			good = append(good, m)
		} else {
			other = append(other, m)
		}
	}
	switch {
	case len(good) == 0:
		c.add("client authentication", flows.Fail, ref, "token_endpoint_auth_methods_supported %v has none of private_key_jwt, tls_client_auth, self_signed_tls_client_auth", ms)
	case len(other) > 0:
		c.add("client authentication", flows.Warn, ref, "token_endpoint_auth_methods_supported also offers %v to other clients; FAPI 2.0 clients must use %v", other, good)
	default:
		c.add("client authentication", flows.Pass, ref, "token_endpoint_auth_methods_supported %v", ms)
	}
}

func (c *checker) algorithms() {
	ref := c.pick("FAPI 2.0 Security Profile 5.4.1", "RFC 8725 3.1; RFC 9700 4.7")
	allowed := []string{"PS256", "ES256", "EdDSA"}
	var keys []string
	for k := range c.m {
		if strings.HasSuffix(k, "_signing_alg_values_supported") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var none, other []string
	for _, k := range keys {
		algs, _ := c.strs(k)
		for _, a := range algs {
			switch {
			case a == "none":
				none = append(none, k)
			case c.fapi && !slices.Contains(allowed, a):
				other = append(other, k+": "+a)
			}
		}
	}
	switch {
	case len(none) > 0:
		more := ""
		if len(other) > 0 {
			more = "; also outside PS256, ES256, EdDSA: " + strings.Join(other, "; ")
		}
		c.add("signing algorithms", flows.Fail, ref, "alg none is offered in %s: unsigned tokens or responses%s", strings.Join(none, ", "), more)
	case len(other) > 0:
		c.add("signing algorithms", flows.Warn, ref, "algorithms outside PS256, ES256, EdDSA are offered (%s)", strings.Join(other, "; "))
	case len(keys) == 0:
		c.add("signing algorithms", flows.Warn, ref, "no *_signing_alg_values_supported in the metadata")
	default:
		c.add("signing algorithms", flows.Pass, ref, "every *_signing_alg_values_supported (%d lists) is within %s", len(keys), c.pick("PS256, ES256, EdDSA", "signed algorithms (no none)"))
	}
}

func (c *checker) senderConstrained() {
	ref := c.pick("FAPI 2.0 Security Profile 5.3.2.1; RFC 9449; RFC 8705", "RFC 9700 2.2.1; RFC 9449; RFC 8705")
	dpop, _ := c.strs("dpop_signing_alg_values_supported")
	mtls := c.flag("tls_client_certificate_bound_access_tokens")
	var how []string
	if len(dpop) > 0 {
		how = append(how, fmt.Sprintf("DPoP (%s)", strings.Join(dpop, ", ")))
	}
	if mtls {
		how = append(how, "mTLS-bound tokens")
	}
	if len(how) == 0 {
		c.add("sender-constrained tokens", c.status(flows.Fail, flows.Warn), ref, "neither dpop_signing_alg_values_supported nor tls_client_certificate_bound_access_tokens: tokens are bearer tokens")
		return
	}
	c.add("sender-constrained tokens", flows.Pass, ref, "advertised: %s", strings.Join(how, ", "))
}

func (c *checker) grants() {
	gs, _ := c.strs("grant_types_supported")
	rts, _ := c.strs("response_types_supported")
	implicit := slices.Contains(gs, "implicit") || slices.ContainsFunc(rts, func(t string) bool { return slices.Contains(strings.Fields(t), "token") })
	password := slices.Contains(gs, "password")
	ref := c.pick("FAPI 2.0 Security Profile 5.3.2.1, 5.3.2.2", "RFC 9700 2.1.2, 2.4")
	switch {
	case password:
		c.add("grant types", flows.Fail, ref, "grant_types_supported %v includes password, which %s", gs, c.pick("FAPI 2.0 servers must reject", "RFC 9700 2.4 says MUST NOT be used"))
	case implicit:
		c.add("grant types", c.status(flows.Fail, flows.Warn), ref, "the implicit grant is offered (grant_types_supported %v, response_types_supported %v): tokens in the browser URL", gs, rts)
	default:
		c.add("grant types", flows.Pass, ref, "no implicit or password grant (grant_types_supported %v)", gs)
	}
}
