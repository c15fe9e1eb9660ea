package hmac

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"authlab/flows"
)

// secretFields are header fields whose values a signature base, canonical
// request or added header shows masked: a signed request covers them as
// readily as any other header, and whoever reads the record must not get
// the credential.
var secretFields = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "x-amz-security-token": true,
}

// secretQueryParam: query parameters masked in a base or canonical query.
func secretQueryParam(name string) bool {
	return flows.IsCredentialParam(name) || strings.EqualFold(name, "X-Amz-Security-Token")
}

// MaskedValue is how a record shows a secret value: masked, with its
// length and a short SHA-256, so two bases (ours and a server's, or two
// runs) can still be compared line by line. An already masked value is
// returned as is.
func MaskedValue(v string) string {
	if strings.HasPrefix(v, flows.Masked) {
		return v
	}
	return fmt.Sprintf("%s (%d bytes, sha256:%s)", flows.Masked, len(v), flows.Fingerprint(v)[:12])
}

// maskCredential masks a header value; an Authorization scheme stays
// visible, and HMAC / SigV4 signatures (derived values) are not masked.
func maskCredential(name, v string) string {
	n := strings.ToLower(name)
	if !secretFields[n] {
		return v
	}
	if n == "authorization" || n == "proxy-authorization" {
		scheme, cred, ok := strings.Cut(v, " ")
		switch {
		case !ok:
		case strings.EqualFold(scheme, "HMAC-SHA256"), strings.HasPrefix(strings.ToUpper(scheme), "AWS4-"):
			return v
		default:
			return scheme + " " + MaskedValue(cred)
		}
	}
	return MaskedValue(v)
}

// MaskBase masks what a signature record must not show in clear: the
// values of secret header lines of an RFC 9421 signature base
// (`"authorization": …`, `"cookie";bs: …`) or of a SigV4 canonical request
// (`x-amz-security-token:…`), and credential query parameters (@query,
// @target-uri, @query-param, the canonical query string). Masking is
// idempotent, so a base a server already masked compares with ours.
func MaskBase(base string) string {
	if base == "" {
		return base
	}
	lines := strings.Split(base, "\n")
	for i, l := range lines {
		lines[i] = maskBaseLine(l)
	}
	return strings.Join(lines, "\n")
}

func maskBaseLine(l string) string {
	if strings.HasPrefix(l, `"`) { // RFC 9421: "id"[;params]: value
		end := strings.IndexByte(l[1:], '"')
		if end < 0 {
			return l
		}
		name := l[1 : end+1]
		sep := strings.Index(l[end+2:], ": ")
		if sep < 0 {
			return l
		}
		params, value := l[end+2:end+2+sep], l[end+2+sep+2:]
		head := l[:end+2+sep+2]
		switch {
		case secretFields[name]:
			return head + maskCredential(name, value)
		case name == "@query-param":
			if qn := paramName(params); qn != "" && secretQueryParam(qn) {
				return head + MaskedValue(value)
			}
		case name == "@query", name == "@target-uri", name == "@request-target":
			return head + maskQueryIn(value)
		}
		return l
	}
	// SigV4 canonical header line: name:value (lower-case name).
	if name, value, ok := strings.Cut(l, ":"); ok && secretFields[name] {
		return name + ":" + maskCredential(name, value)
	}
	if strings.Contains(l, "=") && !strings.ContainsAny(l, " :") {
		return maskQuery(l) // a canonical query string
	}
	return l
}

// paramName is the name="…" parameter of an @query-param component.
func paramName(params string) string {
	for _, p := range strings.Split(params, ";") {
		if v, ok := strings.CutPrefix(p, "name="); ok {
			if s, err := strconv.Unquote(v); err == nil {
				return s
			}
		}
	}
	return ""
}

// maskQueryIn masks credential parameters of the query of a URL or path.
func maskQueryIn(v string) string {
	i := strings.IndexByte(v, '?')
	if i < 0 {
		return v
	}
	return v[:i+1] + maskQuery(v[i+1:])
}

// maskQuery masks credential parameters of an encoded query, keeping the
// order and spelling of the others.
func maskQuery(q string) string {
	pairs := strings.Split(q, "&")
	for i, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if ok && secretQueryParam(unescape(k)) {
			pairs[i] = k + "=" + MaskedValue(v)
		}
	}
	return strings.Join(pairs, "&")
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// maskFields masks the secret headers of an added-headers list.
func maskFields(hs []HeaderField) []HeaderField {
	out := make([]HeaderField, len(hs))
	for i, h := range hs {
		out[i] = HeaderField{Name: h.Name, Value: maskCredential(h.Name, h.Value)}
	}
	return out
}

// Masked is the record with secret header values masked in the headers it
// added (a session token), in the RFC 9421 signature base and in the SigV4
// canonical request (see MaskBase); signatures are derived values and stay
// visible. Stripe and GitHub sign the body, which is shown as given.
func (s *Signed) Masked() *Signed {
	c := *s
	c.Headers = maskFields(s.Headers)
	if s.Scheme == SchemeRFC9421 || s.Scheme == "" {
		c.SignatureBase = MaskBase(s.SignatureBase)
	}
	c.CanonicalRequest = MaskBase(s.CanonicalRequest)
	return &c
}

// Masked is the verdict with secret header values masked in our base,
// canonical request and the first difference with the signer's base.
func (r *Result) Masked() *Result {
	c := *r
	if r.Scheme == SchemeRFC9421 || r.Scheme == "" {
		c.SignatureBase = MaskBase(r.SignatureBase)
	}
	c.CanonicalRequest = MaskBase(r.CanonicalRequest)
	c.SignerBaseDiff = r.SignerBaseDiff.Masked()
	return &c
}

// Masked is the difference with secret values masked in both lines and in
// the message that quotes them.
func (d *LineDiff) Masked() *LineDiff {
	if d == nil {
		return nil
	}
	c := *d
	c.Ours, c.Theirs = maskBaseLine(d.Ours), maskBaseLine(d.Theirs)
	for _, pair := range [][2]string{{d.Ours, c.Ours}, {d.Theirs, c.Theirs}} {
		if pair[0] == pair[1] {
			continue
		}
		raw, masked := lineValue(pair[0]), lineValue(pair[1])
		c.Message = strings.ReplaceAll(c.Message, strconv.Quote(raw), strconv.Quote(masked))
		c.Message = strings.ReplaceAll(c.Message, raw, masked)
	}
	return &c
}

// lineValue is the value part of a base line (after "id: " or "name:").
func lineValue(l string) string {
	if strings.HasPrefix(l, `"`) {
		if i := strings.Index(l, `": `); i >= 0 {
			if j := strings.Index(l[i:], ": "); j >= 0 {
				return l[i+j+2:]
			}
		}
	}
	if _, v, ok := strings.Cut(l, ":"); ok {
		return v
	}
	return l
}

// MaskSecrets masks the record's copies of the run's secrets (it is the
// Result.Detail of a Send; flows.Recorder calls it): the server's answer,
// the first difference with the server's base, and, unless the request
// asked to show secrets, the signed record.
func (s *Sent) MaskSecrets(m *flows.Secrets) {
	if s.Signed != nil && !s.showSecrets {
		c := s.Signed.Masked()
		c.SignatureBase, c.CanonicalRequest = m.Mask(c.SignatureBase), m.Mask(c.CanonicalRequest)
		for i := range c.Headers {
			c.Headers[i].Value = m.Mask(c.Headers[i].Value)
		}
		s.Signed = c
	}
	if r := s.Response; r != nil {
		c := *r
		c.Header = m.MaskHeader(flows.MaskHeaders(r.Header))
		c.Body = []byte(m.Mask(string(r.Body)))
		c.Exchange = m.MaskExchange(r.Exchange)
		s.Response = &c
	}
	if d := s.ServerDiff; d != nil && !s.showSecrets {
		c := d.Masked()
		c.Ours, c.Theirs, c.Message = m.Mask(c.Ours), m.Mask(c.Theirs), m.Mask(c.Message)
		s.ServerDiff = c
	}
}
