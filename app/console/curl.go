package console

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strings"

	"authlab/flows"
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

// Curl renders an exchange as a curl command. The exchange is already
// masked; with sec, the masked client credentials are put back (Basic
// header and client_secret form field) — only on an explicit user action.
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
			if sec != nil && strings.EqualFold(k, "Authorization") && strings.HasPrefix(v, "Basic ") && sec.ClientSecret != "" {
				v = "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(sec.ClientID)+":"+url.QueryEscape(sec.ClientSecret)))
			}
			b.WriteString(" -H " + shellQuote(k+": "+v))
		}
	}
	if x.RequestBody != "" {
		body := x.RequestBody
		if sec != nil && sec.ClientSecret != "" {
			if vals, err := url.ParseQuery(body); err == nil && vals.Has("client_secret") {
				vals.Set("client_secret", sec.ClientSecret)
				body = vals.Encode()
			}
		}
		b.WriteString(" --data-raw " + shellQuote(body))
	}
	b.WriteString(" " + shellQuote(x.URL))
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
