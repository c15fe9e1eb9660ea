package render

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"authlab/flows"
)

// What a screen shows must be safe to share (a screenshot, a screen share):
// the console masks bearer values by default. The recorder has masked
// every secret and every credential a request sent already; what is left
// in clear is what the run received (access, refresh and ID tokens, codes)
// and the signed request objects and responses (JAR, JARM). Those are
// shown as their first characters and their fingerprint, so two tokens
// can be told apart and matched against a masked Authorization header.

// tokenPrefix is how many leading characters a masked token keeps.
const tokenPrefix = 8

// fingerprintLen matches flows.MaskHeaders' "Bearer •••••• (sha256:…)".
const fingerprintLen = 12

// MaskToken renders v as its first characters, an ellipsis and its
// SHA-256 fingerprint: "eyJhbGci…  (sha256:ab12cd34ef56)". A short value
// keeps fewer characters (a quarter), so the prefix never gives much away.
func MaskToken(v string) string {
	if v == "" || IsMasked(v) {
		return v
	}
	n := min(tokenPrefix, len(v)/4)
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return Printable(v[:n]) + maskedMark + flows.Fingerprint(v)[:fingerprintLen] + ")"
}

// maskedMark is what every MaskToken output holds.
const maskedMark = "…  (sha256:"

// IsMasked reports whether v is masked already (flows.Masked or MaskToken).
func IsMasked(v string) bool {
	return strings.Contains(v, flows.Masked) || strings.Contains(v, maskedMark)
}

// IsTokenParam reports whether a parameter or JSON member carries a
// value the console masks: a credential (flows.IsCredentialParam), a
// request object (JAR "request") or a JARM "response".
func IsTokenParam(name string) bool {
	n := strings.ToLower(name)
	return flows.IsCredentialParam(n) || n == "request" || n == "response"
}

// Masker masks the token values a screen shows. It knows the values of
// one run (Learn) and masks them wherever they appear, and masks the
// value of every token parameter and member (IsTokenParam) and of a
// Bearer or DPoP Authorization header whatever it holds. The zero value
// masks by name only; a nil Masker masks nothing (a revealed value).
type Masker struct {
	known []knownToken // longest first: a token inside a longer one is masked with it
}

// knownToken is a learnt value and its MaskToken form, computed once: Text
// runs on every frame.
type knownToken struct{ v, masked string }

// NewMasker is a Masker that knows no value yet.
func NewMasker() *Masker { return &Masker{} }

// Learn remembers token values; short ones (flows.MinMaskedSecret) are
// masked by name only, as elsewhere.
func (m *Masker) Learn(values ...string) {
	for _, v := range values {
		if len(v) < flows.MinMaskedSecret || IsMasked(v) {
			continue
		}
		if !slices.ContainsFunc(m.known, func(k knownToken) bool { return k.v == v }) {
			m.known = append(m.known, knownToken{v, MaskToken(v)})
		}
	}
	sort.SliceStable(m.known, func(i, j int) bool { return len(m.known[i].v) > len(m.known[j].v) })
}

// LearnResult remembers what a run received: its token response and the
// token values of its exchanges.
func (m *Masker) LearnResult(r *flows.Result) {
	if r == nil {
		return
	}
	if t := r.Token; t != nil {
		m.Learn(t.AccessToken, t.RefreshToken, t.IDToken)
	}
	for _, x := range r.Exchanges {
		m.LearnExchange(x)
	}
}

// LearnExchange remembers the token values an exchange carries: token
// members of its JSON bodies, token parameters of its form body, URL and
// Location header, and Bearer credentials.
func (m *Masker) LearnExchange(x flows.Exchange) {
	for _, body := range []string{x.RequestBody, x.ResponseBody} {
		var obj map[string]any
		if json.Unmarshal([]byte(body), &obj) == nil {
			for k, v := range obj {
				if s, ok := v.(string); ok && IsTokenParam(k) {
					m.Learn(s)
				}
			}
		} else if vals, err := url.ParseQuery(body); err == nil {
			m.learnValues(vals)
		}
	}
	for _, u := range []string{x.URL, x.ResponseHeaders.Get("Location")} {
		if _, q, ok := strings.Cut(u, "?"); ok {
			if vals, err := url.ParseQuery(q); err == nil {
				m.learnValues(vals)
			}
		}
	}
	if _, cred, ok := bearer(x.RequestHeaders.Get("Authorization")); ok {
		m.Learn(cred)
	}
}

func (m *Masker) learnValues(vals url.Values) {
	for k, vs := range vals {
		if IsTokenParam(k) {
			m.Learn(vs...)
		}
	}
}

// Text masks every known value in s.
func (m *Masker) Text(s string) string {
	if m == nil {
		return s
	}
	for _, k := range m.known {
		if strings.Contains(s, k.v) {
			s = strings.ReplaceAll(s, k.v, k.masked)
		}
	}
	return s
}

// bearer splits a Bearer or DPoP credential off an Authorization value.
func bearer(v string) (scheme, cred string, ok bool) {
	scheme, cred, ok = strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP") {
		return "", "", false
	}
	cred = strings.TrimSpace(cred)
	return scheme, cred, cred != "" && !IsMasked(cred)
}

// Header masks a header value: a Bearer or DPoP credential, and known values.
func (m *Masker) Header(name, v string) string {
	if m == nil {
		return v
	}
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization":
		if scheme, cred, ok := bearer(v); ok {
			return scheme + " " + MaskToken(cred)
		}
	case "location", "content-location":
		return m.URL(v)
	}
	return m.Text(v)
}

// Pairs masks the token parameters of a form body or query string in
// place, keeping the order and spelling of the others.
func (m *Masker) Pairs(s string) string {
	if m == nil || s == "" {
		return s
	}
	return m.Text(EditPairs(s, func(name, v string, hasValue bool) (string, bool) {
		if !hasValue || !IsTokenParam(name) {
			return "", false
		}
		if val, err := url.QueryUnescape(v); err == nil {
			v = val
		}
		return MaskToken(v), true
	}))
}

// EditPairs rewrites the values of a form body or query string in place,
// keeping the order and spelling of the pairs edit leaves alone. edit gets
// each pair's name (unescaped) and value (as written); when it reports
// true, the pair becomes its name as written, "=", and the new value.
func EditPairs(s string, edit func(name, value string, hasValue bool) (string, bool)) string {
	pairs := strings.Split(s, "&")
	for i, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if nv, changed := edit(name, v, ok); changed {
			pairs[i] = k + "=" + nv
		}
	}
	return strings.Join(pairs, "&")
}

// URL masks the token parameters of a URL's query and fragment.
func (m *Masker) URL(u string) string {
	if m == nil {
		return ShownURL(u)
	}
	base, frag, hasFrag := strings.Cut(u, "#")
	if b, q, ok := strings.Cut(base, "?"); ok {
		base = b + "?" + m.Pairs(q)
	}
	if hasFrag {
		base += "#" + m.Pairs(frag)
	}
	return ShownURL(m.Text(base))
}

// EncodedMask is flows.Masked as a query or form encoder writes it.
var EncodedMask = url.QueryEscape(flows.Masked)

// ShownURL is a recorded URL as a person reads it: a masked value that the
// recorder's query encoder percent-encoded (%E2%80%A2…) shows as the mask
// itself. For display only: the recorded URL stays a valid URL.
func ShownURL(u string) string { return strings.ReplaceAll(u, EncodedMask, flows.Masked) }

// Body masks a request or response body before it is indented: a form
// body by parameter (a JSON body is masked by JSONLines once indented, so
// its member order stays as received).
func (m *Masker) Body(body, contentType string) string {
	if m == nil {
		return body
	}
	if strings.Contains(strings.ToLower(contentType), "application/x-www-form-urlencoded") {
		return m.Pairs(body)
	}
	return m.Text(body)
}

// JSONLines masks indented JSON (one member per line, as json.Indent and
// MarshalIndent write it): the string value of a token member, the token
// parameters of a URL value, and known values anywhere.
func (m *Masker) JSONLines(lines []string) []string {
	if m == nil {
		return lines
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = m.Text(m.jsonLine(l))
	}
	return out
}

func (m *Masker) jsonLine(l string) string {
	trimmed := strings.TrimLeft(l, " ")
	indent := l[:len(l)-len(trimmed)]
	if !strings.HasPrefix(trimmed, `"`) {
		return l
	}
	end := strings.Index(trimmed, `": "`)
	if end < 0 {
		return l
	}
	var name string
	if json.Unmarshal([]byte(trimmed[:end+1]), &name) != nil {
		return l
	}
	raw, comma := strings.CutSuffix(trimmed[end+3:], ",")
	var v string
	if json.Unmarshal([]byte(raw), &v) != nil {
		return l
	}
	switch {
	case IsTokenParam(name):
		v = MaskToken(v)
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		v = m.URL(v)
	default:
		return l
	}
	enc := jsonString(v)
	if comma {
		enc += ","
	}
	return indent + trimmed[:end+3] + enc
}

// jsonString quotes v as JSON without HTML escapes (a URL keeps its &).
func jsonString(v string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
