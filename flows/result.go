package flows

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// TokenResponse is a token endpoint's answer: Raw exactly as received (what
// `--json` prints under "token") plus typed fields parsed leniently
// (expires_in as number or string, token_type in any case).
type TokenResponse struct {
	AccessToken     string `json:"-"`
	TokenType       string `json:"-"` // as sent; compare with strings.EqualFold
	ExpiresIn       int64  `json:"-"` // seconds; 0 when absent or unparsable
	HasExpiresIn    bool   `json:"-"`
	RefreshToken    string `json:"-"`
	IDToken         string `json:"-"`
	Scope           string `json:"-"` // as sent; empty when the server omitted it
	IssuedTokenType string `json:"-"` // RFC 8693
	// Raw is the response body as a JSON object (a form-encoded answer is
	// converted to one, values as strings).
	Raw map[string]any `json:"-"`
	// ReceivedAt is when the response arrived (for expiry and skew).
	ReceivedAt time.Time `json:"-"`
}

// MarshalJSON prints the response as received.
func (t *TokenResponse) MarshalJSON() ([]byte, error) {
	if t.Raw == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(t.Raw)
}

// ExpiresAt is ReceivedAt + expires_in, or zero when unknown.
func (t *TokenResponse) ExpiresAt() time.Time {
	if !t.HasExpiresIn || t.ReceivedAt.IsZero() {
		return time.Time{}
	}
	return t.ReceivedAt.Add(time.Duration(t.ExpiresIn) * time.Second)
}

// NewTokenResponse fills the typed fields from a decoded body.
func NewTokenResponse(raw map[string]any, received time.Time) *TokenResponse {
	t := &TokenResponse{Raw: raw, ReceivedAt: received}
	t.AccessToken = stringField(raw, "access_token")
	t.TokenType = stringField(raw, "token_type")
	t.RefreshToken = stringField(raw, "refresh_token")
	t.IDToken = stringField(raw, "id_token")
	t.Scope = stringField(raw, "scope")
	t.IssuedTokenType = stringField(raw, "issued_token_type")
	if v, ok := raw["expires_in"]; ok {
		t.ExpiresIn, t.HasExpiresIn = numberField(v)
	}
	return t
}

func stringField(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case []any: // some servers send scope as a JSON array
		parts := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// numberField accepts 3600, 3600.0, "3600" and json.Number.
func numberField(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil {
			return int64(f), true
		}
	case string:
		s := strings.TrimSpace(n)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int64(f), true
		}
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// DecodedToken is a token as the token engine saw it. flows cannot name the
// token engine's types (flows/token imports flows), so Report carries its
// full report for renderers, and the JSON fields are copied out of it.
type DecodedToken struct {
	Format      string         `json:"format"` // jws, jwe, opaque
	Header      map[string]any `json:"header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
	Length      int            `json:"length"`
	Fingerprint string         `json:"fingerprint"`
	Verified    bool           `json:"verified"`
	ExpiresAt   *time.Time     `json:"expires_at,omitempty"`
	Checks      []Check        `json:"checks,omitempty"`
	// Report is the token engine's *token.Report (or nil).
	Report any `json:"-"`
}

// SkewEstimate is the clock offset between this machine and the IdP.
// Positive Offset: the IdP's clock is ahead of ours.
type SkewEstimate struct {
	Offset      time.Duration `json:"-"`
	Uncertainty time.Duration `json:"-"`
	Source      string        `json:"source"`  // "date-header", "iat", ...
	Verdict     string        `json:"verdict"` // in words, against the leeway
	Status      Status        `json:"status"`
	// Report is the token engine's own estimate (or nil).
	Report any `json:"-"`
}

func (s SkewEstimate) MarshalJSON() ([]byte, error) {
	type plain SkewEstimate
	return json.Marshal(struct {
		plain
		OffsetMS      float64 `json:"offset_ms"`
		UncertaintyMS float64 `json:"uncertainty_ms"`
	}{plain(s), ms(s.Offset), ms(s.Uncertainty)})
}

// DeviceAuthorization is what a device authorization endpoint answered
// (RFC 8628 3.2): what the user must see.
type DeviceAuthorization struct {
	UserCode                string        `json:"user_code"`
	VerificationURI         string        `json:"verification_uri"`
	VerificationURIComplete string        `json:"verification_uri_complete,omitempty"`
	ExpiresIn               time.Duration `json:"-"`
	Interval                time.Duration `json:"-"`
	Polls                   int           `json:"polls"`
	SlowDowns               int           `json:"slow_downs"`
}

// CallResult is the answer of a protected resource called with the token.
type CallResult struct {
	URL             string `json:"url"`
	Status          int    `json:"status"`
	ContentType     string `json:"content_type,omitempty"`
	Body            string `json:"body,omitempty"` // capped, for display
	WWWAuthenticate string `json:"www_authenticate,omitempty"`
	// Challenge explains a WWW-Authenticate error (RFC 6750) in words.
	Challenge string `json:"challenge,omitempty"`
}

// Result is the outcome of one flow.
type Result struct {
	Flow string `json:"flow"`
	OK   bool   `json:"ok"`
	Err  *Error `json:"error,omitempty"`

	Token       *TokenResponse `json:"token,omitempty"`
	AccessToken *DecodedToken  `json:"access_token,omitempty"`
	IDToken     *DecodedToken  `json:"id_token,omitempty"`
	// RefreshToken is decoded only when it is a JWT.
	RefreshToken *DecodedToken `json:"refresh_token,omitempty"`

	Checks []Check       `json:"checks"`
	Skew   *SkewEstimate `json:"skew,omitempty"`

	// Exchanges are full masked records; JSON keeps a summary (see MarshalJSON).
	Exchanges []Exchange  `json:"-"`
	Steps     []StepEvent `json:"steps,omitempty"`

	// Grant-specific outcomes.
	AuthURL                  string               `json:"authorization_url,omitempty"` // masked of nothing secret: state/challenge only
	RefreshRotated           *bool                `json:"refresh_rotated,omitempty"`
	Introspection            map[string]any       `json:"introspection,omitempty"`
	Active                   *bool                `json:"active,omitempty"`
	Revoked                  bool                 `json:"revoked,omitempty"`
	RevocationConfirmed      *bool                `json:"revocation_confirmed,omitempty"`
	RevocationConfirmedAfter time.Duration        `json:"-"`
	Userinfo                 map[string]any       `json:"userinfo,omitempty"`
	Device                   *DeviceAuthorization `json:"device,omitempty"`
	Call                     *CallResult          `json:"call,omitempty"`
	// DPoP is set when the flow sent DPoP proofs.
	DPoP *DPoPInfo `json:"dpop,omitempty"`
	// Detail is an engine's own record of the run, for renderers: an
	// *hmac.Sent for an HMAC-signed request (flows cannot name the types of
	// the packages that import it).
	Detail any `json:"-"`

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
}

// ExchangeSummary is the JSON form of an exchange (README: JSON output).
type ExchangeSummary struct {
	Step       string  `json:"step,omitempty"`
	Method     string  `json:"method"`
	URL        string  `json:"url"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`

	// DPoP is the request's DPoP proof, decoded.
	DPoP *ProofView `json:"dpop,omitempty"`
}

// Summaries returns the JSON form of r.Exchanges.
func (r *Result) Summaries() []ExchangeSummary {
	out := make([]ExchangeSummary, len(r.Exchanges))
	for i, e := range r.Exchanges {
		out[i] = ExchangeSummary{Step: e.Step, Method: e.Method, URL: e.URL, Status: e.Status, DurationMS: ms(e.Duration), Error: e.Err, DPoP: e.DPoP}
	}
	return out
}

// MarshalJSON adds exchanges (summarised) and durations in milliseconds.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	p := (*plain)(r)
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	var revokeMS *float64
	if r.RevocationConfirmed != nil && *r.RevocationConfirmed {
		v := ms(r.RevocationConfirmedAfter)
		revokeMS = &v
	}
	return json.Marshal(struct {
		*plain
		Checks                     []Check           `json:"checks"`
		Exchanges                  []ExchangeSummary `json:"exchanges"`
		DurationMS                 float64           `json:"duration_ms"`
		RevocationConfirmedAfterMS *float64          `json:"revocation_confirmed_after_ms,omitempty"`
	}{p, checks, r.Summaries(), ms(r.Duration), revokeMS})
}

// Fail records err as the result's error (wrapping a plain error as a
// protocol error) and marks the result not OK.
func (r *Result) Fail(err error) {
	r.OK = false
	if err == nil {
		return
	}
	var fe *Error
	if errors.As(err, &fe) {
		r.Err = fe
		return
	}
	r.Err = &Error{Kind: ErrProtocol, Message: err.Error(), cause: err}
}

// AddCheck appends checks.
func (r *Result) AddCheck(c ...Check) { r.Checks = append(r.Checks, c...) }

// Failed reports whether the flow failed or any check failed.
func (r *Result) Failed() bool {
	return !r.OK || r.Err != nil || AnyFailed(r.Checks)
}

// Reason is the one line the CLI prints first on stderr when Failed.
func (r *Result) Reason() string {
	if r.Err != nil {
		return r.Err.Message
	}
	for _, c := range r.Checks {
		if c.Status == Fail {
			return "check " + c.Name + " failed: " + c.Detail
		}
	}
	if !r.OK {
		return r.Flow + ": failed"
	}
	return ""
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
