package store

import (
	"net/url"
	"strings"

	"authlab/flows"
)

// RedactURL is raw with a password in it, and the values of secret query
// parameters (client_secret=...), masked: what lists, show and exports print
// of a profile's URLs. Anything else is left as typed.
func RedactURL(raw string) string {
	if !strings.Contains(raw, "@") && !strings.Contains(raw, "?") {
		return raw // the common case, without parsing
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Unparsable: mask the whole user part of the authority, where a
		// password would be.
		i := strings.Index(raw, "//")
		if i < 0 {
			return raw
		}
		auth := raw[i+2:]
		if j := strings.IndexAny(auth, "/?#"); j >= 0 {
			auth = auth[:j]
		}
		at := strings.LastIndex(auth, "@")
		if at < 0 {
			return raw
		}
		return raw[:i+2] + flows.Masked + raw[i+2+at:]
	}
	if !urlHasSecret(u) {
		return raw
	}
	return flows.MaskURL(u)
}

// urlHasSecret: a password, or a query parameter named like a secret.
func urlHasSecret(u *url.URL) bool {
	if _, ok := u.User.Password(); ok {
		return true
	}
	for k := range u.Query() {
		if flows.IsSecretParam(k) {
			return true
		}
	}
	return false
}

// urlSecretProblem explains why a profile URL may not carry a secret, or "".
func urlSecretProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !urlHasSecret(u) {
		return ""
	}
	if _, ok := u.User.Password(); ok {
		return "carries a password, which would show in lists, exports and errors; put the client secret in --client-secret (a reference such as env:NAME works)"
	}
	return "carries a secret query parameter, which would show in lists, exports and errors; use --client-secret or --private-key"
}

// Redacted is a copy of p whose URLs have passwords and secret query
// parameters masked (RedactURL), for showing or exporting. Profiles saved
// before such URLs were refused may still hold one.
func (p Profile) Redacted() Profile {
	for _, f := range []*string{&p.Issuer, &p.TokenURL, &p.TargetURL, &p.AuthURL, &p.DeviceURL,
		&p.IntrospectURL, &p.RevokeURL, &p.UserinfoURL, &p.JWKSURL} {
		*f = RedactURL(*f)
	}
	if v, ok := p.ExtraParams[CallURLParam]; ok {
		p.ExtraParams = cloneMap(p.ExtraParams)
		p.ExtraParams[CallURLParam] = RedactURL(v)
	}
	return p
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
