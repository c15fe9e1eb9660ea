package oauth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"authlab/flows"
	"authlab/flows/token"
)

// keyCache is the engine's JWKS cache, shared by every run. It fetches
// through the run's own client, so each run's observer sees the exchanges
// it caused (token.JWKS would report to one fixed observer).
type keyCache struct {
	mu          sync.Mutex
	url         string
	set         *token.KeySet
	fetched     time.Time
	lastAttempt time.Time
}

const (
	jwksTTL        = 5 * time.Minute
	jwksMinRefetch = 30 * time.Second
)

// fresh reports whether keys for url are cached and within their TTL.
func (c *keyCache) fresh(url string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set != nil && c.url == url && time.Since(c.fetched) < jwksTTL
}

// runKeys is a token.KeySource for one run.
type runKeys struct {
	e   *Engine
	r   *run
	url string
}

func (k runKeys) Keys(ctx context.Context, refresh bool) (*token.KeySet, error) {
	c := &k.e.keys
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.set != nil && c.url == k.url {
		if !refresh && now.Sub(c.fetched) < jwksTTL {
			return c.set, nil
		}
		if refresh && now.Sub(c.lastAttempt) < jwksMinRefetch {
			return c.set, nil
		}
	}
	c.lastAttempt = now
	resp, err := k.r.hc.Get(ctx, "jwks", k.url, nil)
	if err != nil {
		return k.stale(err)
	}
	if resp.Status != 200 {
		return k.stale(fmt.Errorf("JWKS %s answered HTTP %d, expected 200 with a key set (body %s)", k.url, resp.Status, resp.Snippet()))
	}
	set, err := token.ParseJWKS(resp.Body)
	if err != nil {
		return k.stale(fmt.Errorf("JWKS %s: %v", k.url, err))
	}
	set.Source = "JWKS " + k.url
	set.Fetched = now
	c.set, c.fetched, c.url = set, now, k.url
	return set, nil
}

// stale serves cached keys when a refetch fails, saying so.
func (k runKeys) stale(err error) (*token.KeySet, error) {
	c := &k.e.keys
	if c.set != nil && c.url == k.url {
		cp := *c.set
		cp.Note = fmt.Sprintf("refetch failed (%v); using keys fetched %s ago", err, time.Since(c.fetched).Round(time.Second))
		return &cp, nil
	}
	return nil, err
}

// keySource returns the JWKS to verify tokens with, or nil when none is known.
func (e *Engine) keySource(r *run, ep flows.Endpoints) token.KeySource {
	if ep.JWKS == "" {
		return nil
	}
	if r.pre != nil && r.pre.url == ep.JWKS {
		return r.pre // fetched alongside the token request
	}
	return runKeys{e: e, r: r, url: ep.JWKS}
}

// expectedIssuer is the iss tokens must carry: the discovered or given issuer.
func (e *Engine) expectedIssuer(m *Metadata) string {
	if m != nil {
		return m.Issuer
	}
	return e.req.Issuer
}

// inspectTokens decodes and checks the tokens of a response through the
// token engine, adds the skew estimate, and copies the checks into the
// result (prefixed with the token they are about).
func (e *Engine) inspectTokens(ctx context.Context, r *run, ep flows.Endpoints, m *Metadata, tr *flows.TokenResponse, resp *flows.Response, nonce string) {
	if e.opts.SkipInspect {
		return
	}
	_ = r.step("inspect tokens", func() (string, error) {
		keys := e.keySource(r, ep)
		if keys == nil && e.req.Issuer != "" && ep.JWKS == "" && m == nil {
			// Explicit endpoints and an issuer: find the JWKS only when a JWT needs it.
			if d, err := token.Decode(tr.AccessToken); (err == nil && d.Format == token.FormatJWS) || tr.IDToken != "" {
				if md, err := e.discover(ctx, r); err == nil {
					ep.JWKS = md.JWKSURI
					m = md
					keys = e.keySource(r, ep)
				}
			}
		}
		base := token.Options{Now: e.req.Now, Leeway: e.req.Leeway, Issuer: e.expectedIssuer(m), Keys: keys, ClientCert: e.clientCrt}
		var iatSkew token.Skew
		summary := ""
		if tr.AccessToken != "" {
			o := base
			o.Kind = token.KindAccess
			if len(e.req.Audience) > 0 {
				o.Audience = e.req.Audience
			}
			dt, rep := inspectOne(ctx, tr.AccessToken, o)
			if rep == nil && len(e.req.Audience) == 0 {
				// Access tokens are opaque to clients (RFC 6749 1.4): one
				// that only looks like a JWT is not an error unless the run
				// asked for JWT checks (an expected audience here; the CLI's
				// --expect-jwt fails on the warning).
				dt = looksLikeJWTButIsNot(tr.AccessToken, dt)
			}
			r.res.AccessToken = dt
			r.res.AddCheck(prefixed("access_token", dt.Checks)...)
			if rep != nil {
				if iat, ok := rep.Token.Time("iat"); ok && resp != nil {
					iatSkew = token.SkewFromIssuedAt(iat, resp.Sent, resp.Received)
				}
			}
			summary = dt.Format + " access token"
		}
		if tr.IDToken != "" {
			o := base
			o.Kind = token.KindID
			o.Audience = []string{e.req.ClientID}
			o.Nonce = nonce
			o.AccessToken = tr.AccessToken
			dt, rep := inspectOne(ctx, tr.IDToken, o)
			r.res.IDToken = dt
			r.res.AddCheck(prefixed("id_token", dt.Checks)...)
			if nonce != "" && rep != nil { // an ID token of the authorization just made
				r.res.AddCheck(e.authzClaimChecks(dt.Claims)...)
			}
			if rep != nil && !iatSkew.Known() && resp != nil {
				if iat, ok := rep.Token.Time("iat"); ok {
					iatSkew = token.SkewFromIssuedAt(iat, resp.Sent, resp.Received)
				}
			}
			summary += ", ID token"
		}
		if tr.RefreshToken != "" {
			if d, err := token.Decode(tr.RefreshToken); err == nil && d.Format == token.FormatJWS {
				r.res.RefreshToken = &flows.DecodedToken{Format: string(d.Format), Header: token.BoundDepth(d.Header, token.MaxJSONDepth),
					Claims: token.BoundDepth(d.Claims, token.MaxJSONDepth), Length: d.Length, Fingerprint: d.Fingerprint}
			}
		}
		e.setSkew(r, resp, iatSkew)
		if flows.AnyFailed(r.res.Checks) {
			return summary, fmt.Errorf("a token check failed")
		}
		return summary, nil
	})
}

// inspectOne runs the token engine on one token.
func inspectOne(ctx context.Context, raw string, o token.Options) (*flows.DecodedToken, *token.Report) {
	rep, err := token.Inspect(ctx, raw, o)
	if err != nil {
		return &flows.DecodedToken{Format: "invalid", Length: len(raw), Fingerprint: flows.Fingerprint(raw),
			Checks: []flows.Check{{Name: "format", Status: flows.Fail, Detail: err.Error()}}}, nil
	}
	d := rep.Token
	// Bounded like token.Decoded's JSON: the result is printed as JSON and
	// kept in history; the report keeps the token whole for the views.
	dt := &flows.DecodedToken{Format: string(d.Format), Header: token.BoundDepth(d.Header, token.MaxJSONDepth), Claims: token.BoundDepth(d.Claims, token.MaxJSONDepth), Length: d.Length,
		Fingerprint: d.Fingerprint, Verified: rep.Verified, Checks: rep.Checks, Report: rep}
	if exp, ok := d.Time("exp"); ok {
		dt.ExpiresAt = &exp
	}
	return dt, rep
}

// NotAJWTPrefix starts the warning of an access token that looks like a
// JWT but does not decode; the CLI's --expect-jwt turns it into a failure.
const NotAJWTPrefix = "looks like a JWT but is not one: "

// looksLikeJWTButIsNot turns the failed decode of an access token into an
// opaque token with a warning, when the token merely resembled a JWT (the
// JOSE header prefix, or three or five dot-separated segments). Other
// decode failures (empty, oversized, spaces or control bytes, a "Bearer "
// prefix) stay failures: no server means those.
func looksLikeJWTButIsNot(raw string, failed *flows.DecodedToken) *flows.DecodedToken {
	raw = strings.TrimSpace(raw)
	dots := strings.Count(raw, ".")
	if !strings.HasPrefix(raw, "eyJ") && dots != 2 && dots != 4 {
		return failed
	}
	if len(failed.Checks) != 1 || len(raw) > token.MaxTokenSize || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return failed
	}
	why := failed.Checks[0].Detail
	return &flows.DecodedToken{Format: string(token.FormatOpaque), Length: failed.Length, Fingerprint: failed.Fingerprint,
		Checks: []flows.Check{{Name: "format", Status: flows.Warn,
			Detail: NotAJWTPrefix + why + ", treated as opaque (RFC 6749 1.4: access tokens are opaque to clients)"}}}
}

func prefixed(what string, cs []flows.Check) []flows.Check {
	out := make([]flows.Check, len(cs))
	for i, c := range cs {
		c.Name = what + " " + c.Name
		out[i] = c
	}
	return out
}

// setSkew combines the Date-header estimates of the run's exchanges with
// the iat estimate and records the tightest, with its verdict.
func (e *Engine) setSkew(r *run, resp *flows.Response, iat token.Skew) {
	ests := []token.Skew{iat}
	for _, ex := range r.rec.Exchanges() {
		if s, ok := token.SkewFromExchange(ex); ok {
			ests = append(ests, s)
		}
	}
	best, ok := token.CombineSkew(ests...)
	if !ok {
		return
	}
	lw := e.req.Leeway
	if lw == 0 {
		lw = token.DefaultLeeway
	}
	c := best.Check(lw)
	r.res.Skew = &flows.SkewEstimate{Offset: best.Offset, Uncertainty: best.Uncertainty, Source: best.Source,
		Verdict: c.Detail, Status: c.Status, Report: best}
	r.res.AddCheck(c)
}
