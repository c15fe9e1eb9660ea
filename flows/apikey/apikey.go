// Package apikey sends a request authenticated by an API key, in a header
// or a query parameter. One Request builds the HTTP request for every front
// end: a single run (Send: the CLI and the console) and a bench (Build).
package apikey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"authlab/flows"
)

// Flow is the name of an API-key run in results and history.
const Flow = "api-key"

// DefaultHeader carries the key when neither Header nor Query is set.
const DefaultHeader = "X-API-Key"

// Fields engine messages name (see flows.Field).
const (
	FieldKey    flows.Field = "api_key"
	FieldHeader flows.Field = "api_key_header"
	FieldQuery  flows.Field = "api_key_query"
)

// CheckAccepted is the check a sent request ends with.
const CheckAccepted = "server accepted the API key"

// Request is one API-key call.
type Request struct {
	Method string // GET when empty
	URL    string
	Key    string
	// Header names the header that carries the key; Query names a query
	// parameter instead. At most one; neither means DefaultHeader.
	Header, Query string
	Client        flows.ClientOptions
}

// where is the header or query parameter the key goes in, one of them "".
func (r *Request) where() (header, query string) {
	if r.Header == "" && r.Query == "" {
		return DefaultHeader, ""
	}
	return r.Header, r.Query
}

// Validate names the first problem, as a config error.
func (r *Request) Validate() error {
	switch {
	case r.Key == "":
		return flows.Errorf(flows.ErrConfig, "no API key (%s)", FieldKey)
	case strings.ContainsAny(r.Key, "\r\n\x00"):
		return flows.Errorf(flows.ErrConfig, "%s contains a line break or NUL", FieldKey)
	case r.Header != "" && r.Query != "":
		return flows.Errorf(flows.ErrConfig, "the key goes in a header (%s) or a query parameter (%s), not both", FieldHeader, FieldQuery)
	case r.Header != "" && !validHeaderName(r.Header):
		return flows.Errorf(flows.ErrConfig, "%s %q is not a header name", FieldHeader, r.Header)
	case r.URL == "":
		return flows.Errorf(flows.ErrConfig, "no URL to call (%s)", flows.FieldURL)
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return flows.Errorf(flows.ErrConfig, "%s %q: want an http or https URL", flows.FieldURL, r.URL)
	}
	if r.Query != "" && u.Query().Has(r.Query) {
		return flows.Errorf(flows.ErrConfig, "%s already has a %s parameter", flows.FieldURL, r.Query)
	}
	return nil
}

// validHeaderName: RFC 9110 5.1, a token.
func validHeaderName(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// Build is the HTTP request carrying the key; the request must be valid.
func (r *Request) Build(ctx context.Context) (*http.Request, error) {
	header, query := r.where()
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, flows.Wrap(flows.ErrConfig, err, "%s: %v", flows.FieldURL, err)
	}
	if query != "" {
		q := u.Query()
		q.Set(query, r.Key)
		u.RawQuery = q.Encode()
	}
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, flows.Wrap(flows.ErrConfig, err, "%s: %v", flows.FieldURL, err)
	}
	if header != "" {
		hr.Header.Set(header, r.Key)
	}
	return hr, nil
}

// Send calls the URL with the key and checks the answer: 2xx passes;
// anything else fails with the status, the server's explanation and its
// WWW-Authenticate. The key is masked everywhere the result goes
// (exchanges, steps, errors, the resource's answer), by value and, for a
// short key, under its header or parameter name. Redirects are not
// followed: the key would go along to wherever they point.
func Send(ctx context.Context, req Request, obs flows.Observer) *flows.Result {
	header, query := req.where()
	rec := flows.NewRecorder(Flow, obs)
	rec.Secrets().Add(req.Key)
	if err := req.Validate(); err != nil {
		return rec.Finish(err)
	}
	hr, err := req.Build(ctx)
	if err != nil {
		return rec.Finish(err)
	}
	opts := req.Client
	opts.NoRedirects = true
	client := flows.NewClient(opts, namedMasker{rec, header, query})
	where := "header " + header
	if query != "" {
		where = "query parameter " + query
	}
	var resp *flows.Response
	sendErr := rec.Run("api key request", func() (string, error) {
		resp, err = client.Do(hr, "api key request")
		if resp == nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d, key in the %s", resp.Status, where), err
	})
	if resp == nil {
		return rec.Finish(sendErr)
	}
	res := rec.Result()
	call := &flows.CallResult{URL: maskParam(flows.MaskURL(hr.URL), query), Status: resp.Status, ContentType: resp.ContentType(),
		Body: string(resp.Body[:min(len(resp.Body), 4096)]), WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
	res.Call = call
	if resp.Status >= 200 && resp.Status < 300 {
		res.AddCheck(flows.Check{Name: CheckAccepted, Status: flows.Pass, Detail: fmt.Sprintf("HTTP %d", resp.Status)})
		return rec.Finish(sendErr)
	}
	detail := fmt.Sprintf("HTTP %d %s", resp.Status, flows.Snippet(resp.Body, 160))
	var eb struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(resp.Body, &eb) == nil && eb.Error != "" {
		detail = fmt.Sprintf("HTTP %d %s", resp.Status, eb.Error)
		if eb.Description != "" {
			detail += ": " + eb.Description
		}
	}
	if resp.Status >= 300 && resp.Status < 400 {
		detail = fmt.Sprintf("HTTP %d redirect to %s, not followed (the key would go along)", resp.Status, resp.Header.Get("Location"))
	}
	check := detail
	if call.WWWAuthenticate != "" {
		check += "; WWW-Authenticate: " + call.WWWAuthenticate // where the server wants the key
	}
	res.AddCheck(flows.Check{Name: CheckAccepted, Status: flows.Fail, Detail: check})
	if sendErr == nil {
		sendErr = &flows.Error{Kind: flows.ErrCheck, Message: "the server refused the API key: " + detail, Status: resp.Status}
	}
	return rec.Finish(sendErr)
}

// namedMasker masks the key's header and query parameter by name in each
// exchange before passing it on.
type namedMasker struct {
	flows.Observer
	header, query string
}

func (m namedMasker) Exchange(ex flows.Exchange) {
	ex.URL = maskParam(ex.URL, m.query)
	if m.header != "" && len(ex.RequestHeaders[http.CanonicalHeaderKey(m.header)]) > 0 {
		h := ex.RequestHeaders.Clone()
		h.Set(m.header, flows.Masked)
		ex.RequestHeaders = h
	}
	m.Observer.Exchange(ex)
}

// maskParam masks the query parameter name of a rendered URL.
func maskParam(raw, name string) string {
	if name == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || !u.Query().Has(name) {
		return raw
	}
	q := u.Query()
	for i := range q[name] {
		q[name][i] = flows.Masked
	}
	u.RawQuery = q.Encode()
	return u.String()
}
