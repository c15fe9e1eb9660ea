package console

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"authlab/flows"
	"authlab/views/render"
)

// SecretSource is implemented by backends that can hand the console a
// profile's resolved secrets for the explicit "curl with secrets" action.
type SecretSource interface {
	Secrets(profile string) (Secrets, error)
}

// Secrets are the resolved client credentials of a profile.
type Secrets struct {
	ClientID     string
	ClientSecret string
}

// Curl renders an exchange as a curl command. It masks on its own what a
// request may carry — secret headers, and credential parameters of the
// query and body (client_secret, client_assertion, password, and the live
// token=, refresh_token=, subject_token=, code=, assertion= ...) — rather
// than trust that the exchange was masked. With sec, the masked client
// credentials are put back (Basic header and client_secret form field) —
// only on an explicit user action; tokens and codes never are.
func Curl(x flows.Exchange, sec *Secrets) string {
	var b strings.Builder
	b.WriteString("curl -sS")
	if x.Method != "" && x.Method != "GET" {
		b.WriteString(" -X " + x.Method)
	}
	keys := make([]string, 0, len(x.RequestHeaders))
	for k := range x.RequestHeaders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "User-Agent") || strings.EqualFold(k, "Accept-Encoding") {
			continue
		}
		for _, v := range x.RequestHeaders[k] {
			if !strings.Contains(v, flows.Masked) { // masked already: keep its fingerprint
				v = flows.MaskHeaders(http.Header{k: {v}}).Get(k)
			}
			if sec != nil && strings.EqualFold(k, "Authorization") && strings.HasPrefix(v, "Basic ") && sec.ClientSecret != "" {
				v = "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(sec.ClientID)+":"+url.QueryEscape(sec.ClientSecret)))
			}
			b.WriteString(" -H " + shellQuote(k+": "+v))
		}
	}
	if x.RequestBody != "" {
		body := maskBody(x.RequestBody, x.RequestHeaders.Get("Content-Type"))
		if sec != nil && sec.ClientSecret != "" {
			if vals, err := url.ParseQuery(body); err == nil && vals.Has("client_secret") {
				vals.Set("client_secret", sec.ClientSecret)
				body = vals.Encode()
			}
		}
		b.WriteString(" --data-raw " + shellQuote(body))
	}
	b.WriteString(" " + shellQuote(maskURL(x.URL))) // credential query parameters too
	return b.String()
}

// maskBody masks credential parameters of a form body in place, keeping
// the order and spelling of the others; a JSON body goes through
// flows.MaskCredentials; other bodies are left alone.
func maskBody(body, contentType string) string {
	ct := strings.ToLower(contentType)
	if strings.Contains(ct, "json") {
		return flows.MaskCredentials([]byte(body), contentType)
	}
	if ct != "" && !strings.Contains(ct, "application/x-www-form-urlencoded") {
		return body
	}
	return render.EditPairs(body, func(name, v string, _ bool) (string, bool) {
		return flows.Masked, flows.IsCredentialParam(name) || strings.Contains(v, render.EncodedMask)
	})
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
