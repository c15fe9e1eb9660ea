// Package har turns a run's HTTP exchanges into an HTTP Archive (HAR 1.2,
// http://www.softwareishard.com/blog/har-12-spec/), the format browser
// devtools, Postman and Insomnia open, so a failing run can be handed to a
// colleague.
//
// The exchanges are already masked by the flow's recorder (client secrets,
// assertions, keys, Basic credentials, and every credential a request
// sent). A HAR adds what a run received: issued access, refresh and ID
// tokens, codes, JARM responses and PAR request_uris in response bodies
// and redirects. Those are masked too unless Options.Tokens is set;
// secrets and signed credentials (request objects, client and grant
// assertions) never are shown.
package har

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
)

// HAR is the whole archive.
type HAR struct {
	Log Log `json:"log"`
}

// Log is HAR's log object.
type Log struct {
	Version string  `json:"version"`
	Creator Creator `json:"creator"`
	Entries []Entry `json:"entries"`
	Comment string  `json:"comment,omitempty"`
}

// Creator names the application that wrote the archive.
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Entry is one request and its response.
type Entry struct {
	StartedDateTime string   `json:"startedDateTime"` // ISO 8601 with milliseconds
	Time            float64  `json:"time"`            // ms, the sum of the timings
	Request         Request  `json:"request"`
	Response        Response `json:"response"`
	Cache           struct{} `json:"cache"`
	Timings         Timings  `json:"timings"`
	Comment         string   `json:"comment,omitempty"`
}

// NameValue is a header, query parameter, form parameter or cookie.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Request is HAR's request object.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []NameValue `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	QueryString []NameValue `json:"queryString"`
	PostData    *PostData   `json:"postData,omitempty"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int         `json:"bodySize"`
}

// PostData is a request body.
type PostData struct {
	MimeType string      `json:"mimeType"`
	Params   []NameValue `json:"params,omitempty"`
	Text     string      `json:"text"`
}

// Response is HAR's response object.
type Response struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []NameValue `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	Content     Content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int         `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`
}

// Content is a response body.
type Content struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// Timings: authlab measures each exchange as a whole, so all of it is
// "wait" (send and receive are 0; connection phases unknown, -1).
type Timings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

// Options tune Build.
type Options struct {
	// Tokens keeps the bearer tokens, refresh tokens, ID tokens, codes,
	// JARM responses and request_uris the run received (--har-tokens).
	// Credentials the recorder masked in requests stay masked: the record
	// no longer holds them, except that a Bearer/DPoP credential whose
	// fingerprint is one of the run's issued tokens is put back.
	Tokens bool
	// Creator defaults to authlab; Version to "dev".
	Creator, Version string
}

// Build is the archive of res's exchanges, one entry each, in order.
func Build(res *flows.Result, o Options) *HAR {
	if o.Creator == "" {
		o.Creator = "authlab"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	h := &HAR{Log: Log{Version: "1.2", Creator: Creator{Name: o.Creator, Version: o.Version}, Entries: []Entry{}}}
	if res == nil {
		return h
	}
	m := newMasker(res, o.Tokens)
	last := lastTokenResponse(res.Exchanges)
	for i, ex := range res.Exchanges {
		h.Log.Entries = append(h.Log.Entries, m.entry(ex, o.Tokens && i == last))
	}
	if !o.Tokens {
		h.Log.Comment = "tokens, codes and secrets are masked (" + flows.Masked + ")"
	} else {
		h.Log.Comment = "secrets are masked (" + flows.Masked + "); this archive holds live tokens: share it like a password"
	}
	return h
}

// Write writes the archive of res as indented JSON.
func Write(w io.Writer, res *flows.Result, o Options) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(Build(res, o))
}

// masker holds the values to hide in every string of the archive.
type masker struct {
	res    *flows.Result
	tokens bool // keep issued tokens
	hide   flows.Secrets
	issued map[string]string // fingerprint prefix → issued token, for Tokens
}

func newMasker(res *flows.Result, keepTokens bool) *masker {
	m := &masker{res: res, tokens: keepTokens, issued: map[string]string{}}
	var issued []string
	if t := res.Token; t != nil {
		issued = append(issued, t.AccessToken, t.RefreshToken, t.IDToken)
	}
	// Signed credentials the recorder does not know by name (a request
	// object) are hidden wherever else they appear: an error body may
	// echo one.
	sent := func(k, v string) {
		if alwaysSecret(k) {
			m.hide.Add(v)
		}
	}
	// Tokens and codes in response bodies (earlier grants of the run, a
	// device code, a PAR request_uri) and redirects (a code, a JARM
	// response) are issued values too.
	for _, ex := range res.Exchanges {
		forEachMember(ex.ResponseBody, contentType(ex.ResponseHeaders), func(k, v string) {
			if flows.IsCredentialParam(k) || k == "request_uri" {
				issued = append(issued, v)
			}
		})
		for k, vs := range queryOf(firstHeader(ex.ResponseHeaders, "Location")) {
			if issuedParam(k) {
				issued = append(issued, vs...)
			}
		}
		forEachMember(ex.RequestBody, contentType(ex.RequestHeaders), sent)
		for k, vs := range queryOf(ex.URL) {
			for _, v := range vs {
				sent(k, v)
			}
		}
	}
	for _, v := range issued {
		if v == "" || v == flows.Masked {
			continue
		}
		if keepTokens {
			m.issued[flows.Fingerprint(v)[:12]] = v
		} else {
			m.hide.Add(v)
		}
	}
	return m
}

func (m *masker) text(s string) string { return m.hide.Mask(s) }

// signedParams are signed credentials a HAR never shows, tokens kept or
// not: a JAR request object (RFC 9101 "request") and grant assertions
// (client_assertion is a flows.IsSecretParam already). Each is a bearer
// credential until it expires.
var signedParams = map[string]bool{"request": true, "assertion": true}

// handleParams are live values a HAR masks like a code: a JARM response
// (it carries the code) and a PAR request_uri (a short-lived handle on the
// pushed request).
var handleParams = map[string]bool{"response": true, "request_uri": true}

// alwaysSecret: masked whatever Options.Tokens says.
func alwaysSecret(name string) bool {
	return flows.IsSecretParam(name) || signedParams[strings.ToLower(name)]
}

// issuedParam: a token, code or handle, masked unless tokens are kept.
func issuedParam(name string) bool {
	return flows.IsCredentialParam(name) || handleParams[strings.ToLower(name)]
}

// param masks secret parameters always, tokens and codes unless kept.
func (m *masker) param(name string) bool {
	return alwaysSecret(name) || !m.tokens && issuedParam(name)
}

func (m *masker) url(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return m.text(raw)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if m.param(k) {
				q[k] = []string{flows.Masked}
			}
		}
		u.RawQuery = q.Encode()
	}
	return m.text(u.String())
}

func (m *masker) headers(h http.Header) []NameValue {
	out := []NameValue{}
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			if !strings.Contains(v, flows.Masked) {
				// Recorded exchanges are masked already; this covers
				// hand-built ones (masking twice would change the
				// fingerprint a masked Bearer credential shows).
				v = flows.MaskHeaders(http.Header{k: {v}})[k][0]
			}
			switch ck := http.CanonicalHeaderKey(k); {
			case ck == "Location" || ck == "Content-Location":
				v = m.url(v)
			case m.tokens && (ck == "Authorization" || ck == "Proxy-Authorization"):
				v = m.restoreBearer(v)
			default:
				v = m.text(v)
			}
			out = append(out, NameValue{Name: k, Value: v})
		}
	}
	return out
}

// restoreBearer puts back an issued token the recorder masked as
// "Bearer •••••• (sha256:…)".
func (m *masker) restoreBearer(v string) string {
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP") {
		return v
	}
	_, fp, ok := strings.Cut(rest, "(sha256:")
	fp = strings.TrimSuffix(fp, ")")
	if tok, found := m.issued[fp]; ok && found {
		return scheme + " " + tok
	}
	return v
}

func (m *masker) body(body, ct string, restore map[string]any) string {
	if body == "" {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(body)
		if err != nil {
			return flows.Masked + " (unparsable form)"
		}
		for k := range vals {
			if m.param(k) {
				vals[k] = []string{flows.Masked}
			}
		}
		return m.text(vals.Encode())
	case strings.Contains(mt, "json"):
		var obj map[string]any
		if json.Unmarshal([]byte(body), &obj) != nil {
			return m.text(body)
		}
		for k, v := range obj {
			switch {
			case m.param(k):
				obj[k] = flows.Masked
			case restore != nil && v == flows.Masked:
				if r, ok := restore[k].(string); ok {
					obj[k] = r
				}
			}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return flows.Masked
		}
		return m.text(string(b))
	}
	return m.text(body)
}

func (m *masker) entry(ex flows.Exchange, isTokenResponse bool) Entry {
	var restore map[string]any
	if isTokenResponse && m.res.Token != nil {
		restore = m.res.Token.Raw // the issued tokens, as received
	}
	reqCT := contentType(ex.RequestHeaders)
	respCT := contentType(ex.ResponseHeaders)
	e := Entry{
		StartedDateTime: ex.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Timings:         Timings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1, Wait: ms(ex.Duration)},
	}
	e.Time = e.Timings.Wait
	reqURL := m.url(ex.URL)
	e.Request = Request{Method: ex.Method, URL: reqURL, HTTPVersion: "HTTP/1.1", Cookies: []NameValue{},
		Headers: m.headers(ex.RequestHeaders), QueryString: query(reqURL), HeadersSize: -1, BodySize: len(ex.RequestBody)}
	if ex.RequestBody != "" || ex.Method == http.MethodPost || ex.Method == http.MethodPut || ex.Method == http.MethodPatch {
		text := m.body(ex.RequestBody, reqCT, nil)
		pd := &PostData{MimeType: reqCT, Text: text}
		if mt, _, _ := mime.ParseMediaType(reqCT); mt == "application/x-www-form-urlencoded" {
			if vals, err := url.ParseQuery(text); err == nil {
				pd.Params = sortedValues(vals)
			}
		}
		e.Request.PostData = pd
	}
	if ex.TLS != nil && ex.TLS.ALPN == "h2" {
		e.Request.HTTPVersion = "HTTP/2"
	}
	text := m.body(ex.ResponseBody, respCT, restore)
	e.Response = Response{Status: ex.Status, StatusText: http.StatusText(ex.Status), HTTPVersion: e.Request.HTTPVersion,
		Cookies: []NameValue{}, Headers: m.headers(ex.ResponseHeaders), HeadersSize: -1, BodySize: -1,
		Content:     Content{Size: len(text), MimeType: respCT, Text: text},
		RedirectURL: m.url(firstHeader(ex.ResponseHeaders, "Location"))}
	if ex.Status == 0 {
		e.Response.HTTPVersion = "" // no response: HAR keeps status 0
	}
	if ex.BodyTruncated {
		e.Response.Content.Comment = "body truncated by authlab's capture cap"
	}
	var notes []string
	if ex.Step != "" {
		notes = append(notes, "authlab step: "+ex.Step)
	}
	if ex.Err != "" {
		notes = append(notes, "error: "+m.text(ex.Err))
	}
	if ex.TLS != nil {
		notes = append(notes, "TLS "+ex.TLS.Version+" "+ex.TLS.CipherSuite)
	}
	e.Comment = strings.Join(notes, "; ")
	return e
}

// lastTokenResponse is the index of the exchange whose answer is the
// result's token response (the last JSON answer with an access_token), or -1.
func lastTokenResponse(exs []flows.Exchange) int {
	last := -1
	for i, ex := range exs {
		if ex.Status/100 != 2 {
			continue
		}
		forEachMember(ex.ResponseBody, contentType(ex.ResponseHeaders), func(k, _ string) {
			if k == "access_token" {
				last = i
			}
		})
	}
	return last
}

// forEachMember calls fn with every string member of a JSON object body
// and every parameter of a form body.
func forEachMember(body, ct string, fn func(k, v string)) {
	if body == "" {
		return
	}
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.Contains(mt, "json"):
		var obj map[string]any
		if json.Unmarshal([]byte(body), &obj) == nil {
			for k, v := range obj {
				if s, ok := v.(string); ok {
					fn(k, s)
				}
			}
		}
	case mt == "application/x-www-form-urlencoded":
		if vals, err := url.ParseQuery(body); err == nil {
			for k, vs := range vals {
				for _, v := range vs {
					fn(k, v)
				}
			}
		}
	}
}

func contentType(h http.Header) string { return firstHeader(h, "Content-Type") }

func firstHeader(h http.Header, name string) string {
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// queryOf is the query of a URL; nil when it does not parse.
func queryOf(raw string) url.Values {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil
	}
	return u.Query()
}

func query(raw string) []NameValue {
	u, err := url.Parse(raw)
	if err != nil {
		return []NameValue{}
	}
	return sortedValues(u.Query())
}

func sortedValues(v url.Values) []NameValue {
	out := []NameValue{}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, x := range v[k] {
			out = append(out, NameValue{Name: k, Value: x})
		}
	}
	return out
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ms(d time.Duration) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64), 64)
	return v
}
