package flows

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Masked replaces a secret everywhere authlab shows or stores data.
const Masked = "••••••"

// secretParams are form, query and JSON fields whose values are never shown.
var secretParams = map[string]bool{
	"client_secret":    true,
	"client_assertion": true,
	"password":         true,
	"code_verifier":    true,
	"private_key":      true,
	"hmac_key":         true,
	"secret":           true,
}

// IsSecretParam reports whether a parameter name carries a secret value.
func IsSecretParam(name string) bool { return secretParams[strings.ToLower(name)] }

// secretHeaders are masked in full or after their scheme.
var secretHeaders = map[string]bool{
	"Authorization":        true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Api-Key":            true,
	"X-Amz-Security-Token": true,
}

// MaskHeaders returns a copy of h with secret values masked. The auth scheme
// of Authorization stays visible ("Basic ••••••") because it is what a
// developer needs to see; the credential never is.
func MaskHeaders(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if !secretHeaders[ck] {
			out[k] = append([]string(nil), vs...)
			continue
		}
		masked := make([]string, len(vs))
		for i, v := range vs {
			masked[i] = maskHeaderValue(ck, v)
		}
		out[k] = masked
	}
	return out
}

func maskHeaderValue(name, v string) string {
	if name == "Authorization" || name == "Proxy-Authorization" {
		scheme, cred, ok := strings.Cut(v, " ")
		if !ok {
			return Masked
		}
		if strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP") {
			// Bearer tokens are what the user is debugging: show a
			// fingerprint so two calls can be told apart, not the token.
			return scheme + " " + Masked + " (sha256:" + Fingerprint(cred)[:12] + ")"
		}
		if strings.EqualFold(scheme, "HMAC-SHA256") || strings.HasPrefix(strings.ToUpper(scheme), "AWS4-") {
			return v // signatures are derived values, not keys; hiding them defeats debugging
		}
		return scheme + " " + Masked
	}
	return Masked
}

// MaskURL renders u with secret query parameters masked.
func MaskURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	if c.RawQuery != "" {
		c.RawQuery = maskValues(c.Query()).Encode()
	}
	return c.String()
}

// MaskBody masks secret fields in a form or JSON body; other bodies pass as is.
func MaskBody(body []byte, contentType string) string {
	if len(body) == 0 {
		return ""
	}
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return Masked + " (unparsable form)"
		}
		return maskValues(vals).Encode()
	case strings.Contains(ct, "json"):
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return string(body)
		}
		for k := range m {
			if IsSecretParam(k) {
				m[k] = Masked
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	return string(body)
}

func maskValues(vals url.Values) url.Values {
	out := make(url.Values, len(vals))
	for k, vs := range vals {
		if IsSecretParam(k) {
			out[k] = []string{Masked}
			continue
		}
		out[k] = vs
	}
	return out
}

// Fingerprint is the hex SHA-256 of a token: what history keeps instead of
// the bearer string.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Thumbprint is the base64url SHA-256 used by x5t#S256 and jkt.
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
