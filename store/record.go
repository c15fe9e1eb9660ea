package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

// RecordRun keeps one finished run of profile ("" for a run without a saved
// profile) in one transaction: the run in history, redacted (tokens as
// claims and fingerprints, never bearer strings), and its token response in
// the token cache when the caching rule below allows. Every front end
// records runs through it, so they all cache alike.
func (s *Store) RecordRun(profile string, res *flows.Result) error {
	if res == nil {
		return errors.New("history: no result to record")
	}
	cache := profile != "" && cachesToken(res)
	if cache {
		if err := ValidName(profile); err != nil {
			return fmt.Errorf("token cache: profile name %v", err)
		}
	}
	run := runOf(profile, res)
	if run.Time.IsZero() {
		run.Time = s.now()
	}
	return s.update(func(tx *bolt.Tx) error {
		if err := addRunTx(tx, run); err != nil {
			return err
		}
		if !cache {
			return nil
		}
		t, err := cachedTokenOf(tx, profile, res)
		if err != nil {
			return err
		}
		if t.Obtained.IsZero() {
			t.Obtained = s.now()
		}
		return putTokenTx(tx, profile, t)
	})
}

// RecordRun opens the store at path, records the run (Store.RecordRun) and
// closes it again.
func RecordRun(path, profile string, res *flows.Result, opts ...Option) error {
	return Update(path, func(s *Store) error { return s.RecordRun(profile, res) }, opts...)
}

// cachesToken is the one caching rule: a run replaces the cached token
// response only when a grant that issues tokens got a token response
// carrying an access token. The engine sets res.Token only for a parsed
// successful answer, so an error response never replaces a good cached
// token; follow-ups (introspect, revoke, userinfo, call) and hmac runs never
// touch the cache. A failure later in the same run (a failed check, the
// resource call after the grant) does not stop caching: the token was
// issued, and it is the one a follow-up should look at.
func cachesToken(res *flows.Result) bool {
	if res.Token == nil || res.Token.AccessToken == "" {
		return false
	}
	switch res.Flow {
	case flows.FlowClientCredentials, flows.FlowAuthCode, flows.FlowDevice, flows.FlowTokenExchange, flows.FlowRefresh,
		flows.FlowPassword, flows.FlowJWTBearer:
		return true
	}
	return false
}

// cachedTokenOf is the cache entry for res. A refresh answer without a
// refresh_token leaves the old refresh token valid (RFC 6749 section 6), so
// the one cached before is kept: otherwise the next refresh would have none.
func cachedTokenOf(tx *bolt.Tx, profile string, res *flows.Result) (CachedToken, error) {
	t := res.Token
	raw := t.Raw
	if raw == nil {
		raw = typedFields(t) // a response built by hand rather than parsed
	}
	if res.Flow == flows.FlowRefresh && t.RefreshToken == "" {
		if old := cachedRefreshToken(tx, profile); old != "" {
			raw = maps.Clone(raw)
			raw["refresh_token"] = old
		}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return CachedToken{}, fmt.Errorf("token cache for %q: %w", profile, err)
	}
	return CachedToken{Flow: res.Flow, Response: b, Obtained: t.ReceivedAt, ExpiresAt: t.ExpiresAt()}, nil
}

func typedFields(t *flows.TokenResponse) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"access_token": t.AccessToken, "token_type": t.TokenType, "refresh_token": t.RefreshToken,
		"id_token": t.IDToken, "scope": t.Scope, "issued_token_type": t.IssuedTokenType} {
		if v != "" {
			m[k] = v
		}
	}
	if t.HasExpiresIn {
		m["expires_in"] = t.ExpiresIn
	}
	return m
}

// cachedRefreshToken is the refresh token of the cached response, or "".
func cachedRefreshToken(tx *bolt.Tx, profile string) string {
	v := tx.Bucket([]byte(bucketTokens)).Get([]byte(profile))
	if v == nil {
		return ""
	}
	var rec struct {
		Response struct {
			RefreshToken string `json:"refresh_token"`
		} `json:"response"`
	}
	if json.Unmarshal(v, &rec) != nil {
		return "" // an unreadable entry is replaced, not carried over
	}
	return rec.Response.RefreshToken
}

// runOf is the history entry of res: outcome, checks, exchange summaries
// and each token as claims plus fingerprint.
func runOf(profile string, res *flows.Result) Run {
	run := Run{Profile: profile, Flow: res.Flow, Time: res.Started, OK: !res.Failed(), Error: res.Err,
		Checks: res.Checks, Exchanges: SummarizeExchanges(res.Exchanges)}
	t := res.Token
	if t == nil {
		return run
	}
	for _, tk := range []struct {
		kind, raw string
		d         *flows.DecodedToken
	}{{"access_token", t.AccessToken, res.AccessToken}, {"id_token", t.IDToken, res.IDToken}, {"refresh_token", t.RefreshToken, res.RefreshToken}} {
		if tk.raw == "" {
			continue
		}
		var h, c map[string]any
		if tk.d != nil {
			h, c = tk.d.Header, tk.d.Claims
		}
		run.Tokens = append(run.Tokens, SummarizeToken(tk.kind, tk.raw, h, c))
	}
	return run
}
