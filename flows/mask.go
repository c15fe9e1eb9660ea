package flows

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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
	"api_key":          true, // the usual names of an API key in a query
	"apikey":           true,
}

// IsSecretParam reports whether a parameter name carries a secret value.
func IsSecretParam(name string) bool { return secretParams[strings.ToLower(name)] }

// tokenParams carry a live token or code a request sends: whoever copies
// one can redeem or replay it.
var tokenParams = map[string]bool{
	"code":                true,
	"device_code":         true,
	"refresh_token":       true,
	"access_token":        true,
	"id_token":            true,
	"id_token_hint":       true,
	"token":               true,
	"subject_token":       true,
	"actor_token":         true,
	"assertion":           true,
	"logout_token":        true,
	"pre-authorized_code": true,
}

// IsCredentialParam reports whether a request parameter carries a secret
// or a live token or code (the secret params plus code, refresh_token,
// token, subject_token, assertion, ...): what a request record or a copied
// curl command must never show.
func IsCredentialParam(name string) bool {
	n := strings.ToLower(name)
	return secretParams[n] || tokenParams[n]
}

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
		c.RawQuery = maskValuesBy(c.Query(), IsCredentialParam).Encode()
	}
	return c.String()
}

// MaskBody masks secret fields in a form or JSON body; other bodies pass as is.
func MaskBody(body []byte, contentType string) string {
	return maskBodyBy(body, contentType, IsSecretParam)
}

func maskBodyBy(body []byte, contentType string, secret func(string) bool) string {
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
		return maskValuesBy(vals, secret).Encode()
	case strings.Contains(ct, "json"):
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return string(body)
		}
		for k := range m {
			if secret(k) {
				m[k] = Masked
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	return string(body)
}

// MaskCredentials is MaskBody for a request: it masks every credential
// parameter (IsCredentialParam), tokens and codes included, in a form or
// JSON body.
func MaskCredentials(body []byte, contentType string) string {
	return maskBodyBy(body, contentType, IsCredentialParam)
}

func maskValuesBy(vals url.Values, secret func(string) bool) url.Values {
	out := make(url.Values, len(vals))
	for k, vs := range vals {
		if secret(k) {
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

// MinMaskedSecret is the shortest value masked wherever it appears: masking
// every "abc" in an output would garble it and hide nothing a guess would
// not find. Shorter secrets are still masked by name (client_secret=…).
const MinMaskedSecret = 8

// Secrets is the set of secret values one run knows: what it was given
// (client secret, private key, HMAC key, input tokens) and what it put on
// the wire (assertions, codes, bearer tokens, Basic credentials). Mask
// replaces each of them, in every spelling a server or a log may reflect it
// in (raw, URL-encoded, JSON- and HTML-escaped, Basic base64), so an error
// body that echoes the request does not print or store the credential. The
// zero value is an empty set, safe for concurrent use.
type Secrets struct {
	mu     sync.Mutex
	forms  map[string]bool
	order  []string // forms, longest first; rebuilt when dirty
	dirty  bool
	shared bool // forms is shared with another set (Inherit): copy before adding
}

// Inherit makes s hold o's values too, cheaply: an engine computes its
// request's secrets once and each run starts from them. Neither set sees
// what the other adds later.
func (s *Secrets) Inherit(o *Secrets) {
	if o == nil || o == s {
		return
	}
	order := o.sorted()
	o.mu.Lock()
	forms := o.forms
	o.shared = true
	o.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forms) == 0 {
		s.forms, s.order, s.dirty, s.shared = forms, order, false, true
		return
	}
	s.own()
	for f := range forms {
		s.forms[f] = true
	}
	s.dirty = true
}

// own gives s a map of its own before it changes it; s.mu is held.
func (s *Secrets) own() {
	if s.forms == nil || s.shared {
		m := make(map[string]bool, len(s.forms)+8)
		for f := range s.forms {
			m[f] = true
		}
		s.forms, s.shared = m, false
	}
}

// Add remembers secret values (too-short and empty ones are ignored).
func (s *Secrets) Add(values ...string) {
	for _, v := range values {
		s.add(v, true)
	}
}

func (s *Secrets) add(v string, spellings bool) {
	v = strings.TrimSpace(v)
	if len(v) < MinMaskedSecret {
		return
	}
	forms := []string{v}
	if spellings {
		forms = append(forms, spellingsOf(v)...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range forms {
		if len(f) >= MinMaskedSecret && f != Masked && !s.forms[f] {
			s.own()
			s.forms[f] = true
			s.dirty = true
		}
	}
}

// spellingsOf lists the encodings a reflected v may appear in.
func spellingsOf(v string) []string {
	q, p := url.QueryEscape(v), url.PathEscape(v)
	out := []string{q, p, lowerEscapes(q), lowerEscapes(p), html.EscapeString(v)}
	if b, err := json.Marshal(v); err == nil {
		j := string(b[1 : len(b)-1])
		out = append(out, j, strings.ReplaceAll(j, "/", `\/`))
	}
	return out
}

// lowerEscapes turns %2F into %2f: both are valid and servers differ.
func lowerEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			copy(b[i+1:i+3], bytes.ToLower(b[i+1:i+3]))
		}
	}
	return string(b)
}

// AddBasic remembers HTTP Basic credentials: the secret and both base64
// forms of id:secret (RFC 6749 2.3.1 form-encodes them first; many clients
// and servers do not).
func (s *Secrets) AddBasic(id, secret string) {
	if secret == "" {
		return
	}
	s.Add(secret)
	for _, cred := range []string{url.QueryEscape(id) + ":" + url.QueryEscape(secret), id + ":" + secret} {
		s.add(base64.StdEncoding.EncodeToString([]byte(cred)), false)
		s.add(base64.RawURLEncoding.EncodeToString([]byte(cred)), false)
	}
}

// AddKey remembers key material: its bytes as text when printable, in
// base64 and hex, and for a PEM or JWK document the parts that are the key
// (each base64 line of a PEM body, the private members of a JWK).
func (s *Secrets) AddKey(key []byte) {
	if len(key) == 0 {
		return
	}
	if isText(key) {
		s.Add(string(key))
	}
	for _, enc := range []string{base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key), hex.EncodeToString(key), strings.ToUpper(hex.EncodeToString(key))} {
		s.add(enc, false)
	}
	for rest := key; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		enc := base64.StdEncoding.EncodeToString(b.Bytes)
		s.add(enc, false)
		for i := 0; i < len(enc); i += 64 { // the PEM body lines
			s.add(enc[i:min(i+64, len(enc))], false)
		}
	}
	if t := bytes.TrimSpace(key); len(t) > 0 && t[0] == '{' {
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		var one map[string]any
		if json.Unmarshal(t, &doc) == nil && len(doc.Keys) > 0 {
			for _, k := range doc.Keys {
				s.addJWK(k)
			}
		} else if json.Unmarshal(t, &one) == nil {
			s.addJWK(one)
		}
	}
}

func (s *Secrets) addJWK(k map[string]any) {
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if v, ok := k[m].(string); ok {
			s.add(v, false)
		}
	}
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// AddRequest remembers the secrets a flow request carries.
func (s *Secrets) AddRequest(r *Request) {
	if r == nil {
		return
	}
	s.AddBasic(r.ClientID, r.ClientSecret.Reveal())
	s.AddKey([]byte(r.PrivateKeyData.Reveal()))
	s.Add(r.Token.Reveal(), r.ActorToken.Reveal())
	s.AddKey([]byte(r.AssertionKeyData.Reveal()))
	s.Add(r.Password.Reveal(), r.Assertion.Reveal(), r.IDTokenHint.Reveal())
}

// LearnRequest remembers the credentials an outgoing request carries, by
// the names MaskHeaders and MaskCredentials hide: the Authorization
// credential (and, for Basic, the secret inside it), cookies, API keys,
// and credential parameters of the query and of a form or JSON body.
func (s *Secrets) LearnRequest(req *http.Request, body []byte) {
	if req == nil {
		return
	}
	for k, vs := range req.Header {
		ck := http.CanonicalHeaderKey(k)
		if !secretHeaders[ck] {
			continue
		}
		for _, v := range vs {
			s.learnHeader(ck, v)
		}
	}
	if req.URL != nil {
		s.learnValues(req.URL.Query())
	}
	if len(body) == 0 {
		return
	}
	ct := strings.ToLower(req.Header.Get("Content-Type"))
	switch {
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		if vals, err := url.ParseQuery(string(body)); err == nil {
			s.learnValues(vals)
		}
	case strings.Contains(ct, "json"):
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for k, v := range m {
				if str, ok := v.(string); ok && IsCredentialParam(k) {
					s.Add(str)
				}
			}
		}
	}
}

func (s *Secrets) learnValues(vals url.Values) {
	for k, vs := range vals {
		if IsCredentialParam(k) {
			s.Add(vs...)
		}
	}
}

func (s *Secrets) learnHeader(name, v string) {
	switch name {
	case "Authorization", "Proxy-Authorization":
		scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			s.Add(v)
			return
		}
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "HMAC-SHA256"), strings.HasPrefix(strings.ToUpper(scheme), "AWS4-"):
			return // signatures: derived values, shown on purpose
		case strings.EqualFold(scheme, "Basic"):
			s.add(cred, false)
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if id, secret, ok := strings.Cut(string(dec), ":"); ok {
					if u, err := url.QueryUnescape(secret); err == nil {
						s.Add(u)
					}
					s.AddBasic(id, secret)
				}
			}
			return
		}
		s.Add(cred)
	case "Cookie":
		for _, c := range strings.Split(v, ";") {
			if _, val, ok := strings.Cut(c, "="); ok {
				s.Add(val)
			}
		}
	default:
		s.Add(v)
	}
}

// sorted returns the forms, longest first (a secret's URL-encoded form
// is masked before a shorter secret inside it), sorting only after a change.
func (s *Secrets) sorted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return s.order
	}
	order := make([]string, 0, len(s.forms))
	for f := range s.forms {
		order = append(order, f)
	}
	slices.SortFunc(order, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	s.order, s.dirty = order, false // a new slice: callers may hold the old one
	return order
}

// Mask replaces every known secret in text. A run knows a few dozen
// spellings and its texts are short, so a scan per spelling is cheaper
// than building a replacer for each run (bench runs thousands).
func (s *Secrets) Mask(text string) string {
	if s == nil || len(text) < MinMaskedSecret {
		return text
	}
	for _, f := range s.sorted() {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, Masked)
		}
	}
	return text
}

// maskTail is Mask for a text cut short: a secret the cut split leaves its
// beginning at the end, which is masked too.
func (s *Secrets) maskTail(text string) string {
	text = s.Mask(text)
	for _, f := range s.sorted() {
		for k := len(f) - 1; k >= MinMaskedSecret; k-- {
			if strings.HasSuffix(text, f[:k]) {
				return text[:len(text)-k] + Masked
			}
		}
	}
	return text
}

// MaskValue masks every string inside a decoded JSON value (maps and
// slices are changed in place) and returns it.
func (s *Secrets) MaskValue(v any) any {
	switch t := v.(type) {
	case string:
		return s.Mask(t)
	case map[string]any:
		for k, e := range t {
			t[k] = s.MaskValue(e)
		}
	case []any:
		for i, e := range t {
			t[i] = s.MaskValue(e)
		}
	}
	return v
}

// MaskHeader returns h with known secrets masked in every value (a copy;
// nil stays nil).
func (s *Secrets) MaskHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		m := make([]string, len(vs))
		for i, v := range vs {
			m[i] = s.Mask(v)
		}
		out[k] = m
	}
	return out
}

// MaskExchange returns ex with known secrets masked in its URL, headers,
// bodies and error.
func (s *Secrets) MaskExchange(ex Exchange) Exchange {
	ex.URL = s.Mask(ex.URL)
	ex.RequestHeaders = s.MaskHeader(ex.RequestHeaders)
	ex.RequestBody = s.Mask(ex.RequestBody)
	ex.ResponseHeaders = s.MaskHeader(ex.ResponseHeaders)
	if ex.BodyTruncated {
		ex.ResponseBody = s.maskTail(ex.ResponseBody)
	} else {
		ex.ResponseBody = s.Mask(ex.ResponseBody)
	}
	ex.Err = s.Mask(ex.Err)
	return ex
}

// MaskError returns a copy of e with its message, its OAuth fields and the
// arguments its message is rebuilt from (Explain) masked, nested errors
// included. e itself is left alone: another goroutine of the flow (the
// loopback callback page) may still be reading it.
func (s *Secrets) MaskError(e *Error) *Error {
	if e == nil {
		return nil
	}
	m := *e
	m.Message = s.Mask(e.Message)
	m.OAuthError = s.Mask(e.OAuthError)
	m.OAuthDescription = s.Mask(e.OAuthDescription)
	m.OAuthURI = s.Mask(e.OAuthURI)
	m.args = make([]any, len(e.args))
	for i, a := range e.args {
		m.args[i] = a
		switch v := a.(type) {
		case Field, Fields:
		case *Error:
			m.args[i] = s.MaskError(v)
		case string:
			m.args[i] = s.Mask(v)
		case error, fmt.Stringer, []byte:
			// Only replaced when it held a secret, so its verb still fits.
			if str := fmt.Sprint(v); s.Mask(str) != str {
				m.args[i] = s.Mask(str)
			}
		}
	}
	return &m
}

// SecretMasker is a Result.Detail that masks its own records (an engine's
// detail is opaque to flows).
type SecretMasker interface {
	MaskSecrets(*Secrets)
}

// issuedTokenMembers are the token response members that are the run's
// product: printed as received and cached for reuse, never masked.
var issuedTokenMembers = map[string]bool{"access_token": true, "refresh_token": true, "id_token": true, "token_type": true, "issued_token_type": true}

// MaskResult masks every known secret in what res prints, stores or
// exports: error, steps, checks, exchanges, the resource's answer,
// introspection and userinfo, token response members other than the
// issued tokens, and a SecretMasker detail. It changes res in place.
func (s *Secrets) MaskResult(res *Result) {
	if res == nil {
		return
	}
	res.Err = s.MaskError(res.Err)
	for i := range res.Steps {
		res.Steps[i].Detail = s.Mask(res.Steps[i].Detail)
	}
	s.maskChecks(res.Checks)
	for _, d := range []*DecodedToken{res.AccessToken, res.IDToken, res.RefreshToken} {
		if d != nil {
			s.maskChecks(d.Checks)
		}
	}
	for i := range res.Exchanges {
		res.Exchanges[i] = s.MaskExchange(res.Exchanges[i])
	}
	if t := res.Token; t != nil {
		for k, v := range t.Raw {
			if !issuedTokenMembers[k] {
				t.Raw[k] = s.MaskValue(v)
			}
		}
	}
	s.MaskValue(res.Introspection)
	s.MaskValue(res.Userinfo)
	if c := res.Call; c != nil {
		c.URL, c.Body = s.Mask(c.URL), s.Mask(c.Body)
		c.WWWAuthenticate, c.Challenge = s.Mask(c.WWWAuthenticate), s.Mask(c.Challenge)
	}
	res.AuthURL = s.Mask(res.AuthURL)
	if m, ok := res.Detail.(SecretMasker); ok {
		m.MaskSecrets(s)
	}
}

func (s *Secrets) maskChecks(cs []Check) {
	for i := range cs {
		cs[i].Detail = s.Mask(cs[i].Detail)
	}
}
