package mockidp

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"authlab/flows"
)

// Parameter names whose values the event stream never shows. Issued values
// are high-entropy, so a short hash of them lets two events be matched up
// without giving anything away; secrets a person chose are masked outright.
var (
	issuedNames = map[string]bool{
		"code": true, "access_token": true, "refresh_token": true, "id_token": true, "id_token_hint": true,
		"token": true, "subject_token": true, "actor_token": true, "assertion": true, "client_assertion": true,
		"device_code": true, "login_id": true, "csrf_token": true, "logout_token": true,
		"response": true, // a JARM response: a JWT that carries the code
	}
	chosenNames = map[string]bool{
		"client_secret": true, "password": true, "code_verifier": true, "user_code": true,
		"api_key": true,
	}
)

// minValueMask is the shortest value masked wherever it appears: shorter
// ones (a password "bob") are masked only under their own name, so the
// record stays readable.
const minValueMask = 8

// hiddenInput finds the hidden fields of the login and device pages and
// of form_post responses (which carry the code, or a JARM response).
var hiddenInput = regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`)

// redactor masks, in one event record, every value the exchange carries
// under a secret name, wherever else it appears too (a code sent in a
// Location header is also in the redirect's HTML body). It runs only while
// someone subscribes to events.
type redactor struct {
	repl map[string]string // secret value (in each of its spellings) -> mask
}

func newRedactor() *redactor { return &redactor{repl: map[string]string{}} }

func issuedMask(v string) string { return "sha256:" + flows.Fingerprint(v)[:12] }

func maskFor(name, v string) string {
	if chosenNames[strings.ToLower(name)] {
		return flows.Masked
	}
	return issuedMask(v)
}

func isSecretName(name string) bool {
	n := strings.ToLower(name)
	return issuedNames[n] || chosenNames[n] || flows.IsSecretParam(n)
}

// add remembers v, in the spellings a record may hold it in.
func (r *redactor) add(v, mask string) {
	if len(v) < minValueMask {
		return
	}
	for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v), html.EscapeString(url.QueryEscape(v))} {
		r.repl[form] = mask
	}
}

func (r *redactor) addValues(vals url.Values) {
	for k, vs := range vals {
		if isSecretName(k) {
			for _, v := range vs {
				r.add(v, maskFor(k, v))
			}
		}
	}
}

func (r *redactor) addURL(raw string) {
	if u, err := url.Parse(raw); err == nil {
		r.addValues(u.Query())
		if f, err := url.ParseQuery(u.Fragment); err == nil {
			r.addValues(f)
		}
	}
}

// addHeaders learns credentials from Authorization and cookies.
func (r *redactor) addHeaders(h http.Header) {
	for _, a := range h.Values("Authorization") {
		scheme, cred, _ := strings.Cut(a, " ")
		cred = strings.TrimSpace(cred)
		r.add(cred, issuedMask(cred))
		if strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, pw, ok := strings.Cut(string(dec), ":"); ok {
					r.add(pw, flows.Masked)
					if p, err := url.QueryUnescape(pw); err == nil {
						r.add(p, flows.Masked)
					}
				}
			}
		}
	}
	for _, k := range h.Values(APIKeyHeader) {
		r.add(k, flows.Masked)
	}
	for _, c := range (&http.Request{Header: http.Header{"Cookie": h.Values("Cookie")}}).Cookies() {
		r.add(c.Value, issuedMask(c.Value))
	}
	for _, line := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil {
			r.add(c.Value, issuedMask(c.Value))
		}
	}
	if loc := h.Get("Location"); loc != "" {
		r.addURL(loc)
	}
}

// addBody learns secrets from a form, JSON or HTML body.
func (r *redactor) addBody(body []byte, contentType string) {
	if len(body) == 0 {
		return
	}
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		if vals, err := url.ParseQuery(string(body)); err == nil {
			r.addValues(vals)
		}
	case strings.Contains(ct, "json"):
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			r.addJSON(m)
		}
	case strings.Contains(ct, "html"):
		for _, m := range hiddenInput.FindAllSubmatch(body, -1) {
			if k := html.UnescapeString(string(m[1])); isSecretName(k) {
				v := html.UnescapeString(string(m[2]))
				r.add(v, maskFor(k, v))
			}
		}
	}
}

func (r *redactor) addJSON(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if isSecretName(k) {
				r.add(v, maskFor(k, v))
			}
		case map[string]any:
			r.addJSON(v)
		}
	}
}

// apply replaces every known secret in s, longest spelling first so one
// value never hides part of another.
func (r *redactor) apply(s string) string {
	if len(r.repl) == 0 || s == "" {
		return s
	}
	keys := make([]string, 0, len(r.repl))
	for k := range r.repl {
		if strings.Contains(s, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return s
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	pairs := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, k, r.repl[k])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// maskQuery masks secret parameters by name (short ones included), then
// by value.
func (r *redactor) maskQuery(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		if !isSecretName(k) {
			out[k] = vs
			continue
		}
		m := make([]string, len(vs))
		for i, v := range vs {
			m[i] = maskFor(k, v)
		}
		out[k] = m
	}
	return out
}

// url renders u with its secrets masked.
func (r *redactor) url(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = r.maskQuery(c.Query()).Encode()
	}
	return r.apply(c.String())
}

// headers masks credentials (flows.MaskHeaders), secrets in a Location,
// and any known value elsewhere.
func (r *redactor) headers(h http.Header) http.Header {
	out := flows.MaskHeaders(h)
	for k, vs := range out {
		for i, v := range vs {
			if http.CanonicalHeaderKey(k) == "Location" {
				if u, err := url.Parse(v); err == nil {
					v = r.url(u)
				}
			}
			vs[i] = r.apply(v)
		}
	}
	return out
}

// body masks a recorded body: by name for forms and JSON, then by value.
func (r *redactor) body(b []byte, contentType string) string {
	if len(b) == 0 {
		return ""
	}
	ct := strings.ToLower(contentType)
	s := string(b)
	switch {
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		if vals, err := url.ParseQuery(s); err == nil {
			s = r.maskQuery(vals).Encode()
		} else {
			return flows.Masked + " (unparsable form)"
		}
	case strings.Contains(ct, "json"):
		s = maskJSONFields(flows.MaskBody(b, contentType))
	}
	return r.apply(s)
}

// maskJSONFields masks string members with a secret name by scanning the
// text, so a body the record cut short is masked as well as a whole one.
func maskJSONFields(body string) string {
	var b strings.Builder
	for rest := body; ; {
		i := strings.Index(rest, `":"`)
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		k := strings.LastIndexByte(rest[:i], '"')
		name := rest[k+1 : i]
		start := i + len(`":"`)
		end := strings.IndexByte(rest[start:], '"')
		if end < 0 {
			end = len(rest) - start // cut short: mask to the end
		}
		b.WriteString(rest[:start])
		if v := rest[start : start+end]; k >= 0 && isSecretName(name) {
			b.WriteString(maskFor(name, v))
		} else {
			b.WriteString(v)
		}
		rest = rest[start+end:]
	}
}
