package oauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"authlab/flows"
)

// decodeObject reads a JSON object or, for old servers (GitHub style), a
// form-urlencoded body into a map. kind says which it was.
func decodeObject(resp *flows.Response) (m map[string]any, kind string, err error) {
	body := bytes.TrimSpace(resp.Body)
	ct := resp.ContentType()
	switch {
	case len(body) == 0:
		return nil, "", fmt.Errorf("empty body")
	case body[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, "", fmt.Errorf("invalid JSON (%v)", err)
		}
		return m, "json", nil
	case body[0] == '<' || strings.Contains(ct, "html") || strings.Contains(ct, "xml"):
		return nil, "", fmt.Errorf("an HTML page (%s), not JSON: %s", orUnknown(ct), htmlTitle(body))
	case ct == "application/x-www-form-urlencoded" || ct == "text/plain" || ct == "" || looksLikeForm(body):
		vals, err := url.ParseQuery(string(body))
		if err != nil || len(vals) == 0 || !looksLikeForm(body) {
			return nil, "", fmt.Errorf("neither JSON nor a form (%s)", orUnknown(ct))
		}
		m = make(map[string]any, len(vals))
		for k, v := range vals {
			m[k] = v[0]
		}
		return m, "form", nil
	}
	return nil, "", fmt.Errorf("content type %s is not JSON", ct)
}

func looksLikeForm(b []byte) bool {
	s := string(b)
	if !utf8.ValidString(s) || strings.ContainsAny(s, " \n\t{}<>") {
		return false
	}
	first, _, _ := strings.Cut(s, "&")
	k, _, ok := strings.Cut(first, "=")
	return ok && k != ""
}

// htmlTitle picks a human hint out of an HTML page: its <title>, else the
// first bytes.
func htmlTitle(b []byte) string {
	s := string(b)
	low := strings.ToLower(s)
	if i := strings.Index(low, "<title>"); i >= 0 {
		if j := strings.Index(low[i:], "</title>"); j > 7 {
			return fmt.Sprintf("title %q", strings.TrimSpace(s[i+7:i+j]))
		}
	}
	return flows.Snippet(b, 60)
}

// oauthError builds the flow error for a non-success answer of an OAuth
// endpoint: the OAuth error fields when present, otherwise status, content
// type and the first bytes, plus any WWW-Authenticate challenge.
func oauthError(step, endpoint string, resp *flows.Response) *flows.Error {
	m, _, derr := decodeObject(resp)
	challenge := resp.Header.Get("WWW-Authenticate")
	if derr == nil {
		if code := str(m["error"]); code != "" {
			desc, uri := str(m["error_description"]), str(m["error_uri"])
			// Built through Errorf so the hint's fields are named by each
			// front end (a flag, an editor field); server text goes in as
			// arguments, never into the format.
			format, args := "%s: %s answered %s", []any{step, endpoint, code}
			if desc != "" {
				format, args = format+": %s", append(args, desc)
			}
			if hint, fields := errorHint(code); hint != "" {
				format, args = format+" ("+hint+")", append(args, fields...)
			}
			if uri != "" {
				format, args = format+" [see %s]", append(args, uri)
			}
			fe := flows.Errorf(flows.ErrOAuth, format+" (HTTP %d)", append(args, resp.Status)...)
			fe.Status, fe.OAuthError, fe.OAuthDescription, fe.OAuthURI = resp.Status, code, desc, uri
			return fe
		}
	}
	if challenge != "" {
		ch := ParseChallenge(challenge)
		fe := &flows.Error{Kind: flows.ErrOAuth, Status: resp.Status, OAuthError: ch.Params["error"], OAuthDescription: ch.Params["error_description"]}
		fe.Message = fmt.Sprintf("%s: %s answered HTTP %d with WWW-Authenticate: %s", step, endpoint, resp.Status, ch.Explain())
		return fe
	}
	what := resp.Snippet()
	if derr != nil && strings.HasPrefix(derr.Error(), "an HTML page") {
		what = derr.Error()
	} else {
		what = fmt.Sprintf("%s, body %s", orUnknown(resp.ContentType()), what)
	}
	return &flows.Error{Kind: flows.ErrProtocol, Status: resp.Status,
		Message: fmt.Sprintf("%s: %s answered HTTP %d (%s)%s", step, endpoint, resp.Status, what, statusHint(resp.Status))}
}

// errorHint is what to check for an OAuth error code: a format whose %s
// verbs are the fields it names.
func errorHint(code string) (string, []any) {
	switch code {
	case "invalid_client":
		return "check %s, %s and %s", []any{flows.FieldClientID, flows.FieldClientSecret, flows.FieldAuthMethod}
	case "unauthorized_client":
		return "this client may not use this grant", nil
	case "invalid_scope":
		return "check %s against what the client may ask for", []any{flows.FieldScope}
	case "invalid_grant":
		return "the code, refresh token or credentials are invalid, expired or already used", nil
	case "unsupported_grant_type":
		return "the server does not offer this grant", nil
	}
	return "", nil
}

func statusHint(status int) string {
	switch {
	case status == 404:
		return "; is the endpoint URL right?"
	case status == 405:
		return "; the endpoint does not accept this method — is the URL right?"
	case status >= 300 && status < 400:
		return ""
	case status >= 500:
		return "; the server failed — try again or check its logs"
	}
	return ""
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case json.Number:
		return s.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// parseTokenResponse turns a token endpoint answer into a TokenResponse,
// tolerating what real servers do, and returns warnings about it as checks.
func parseTokenResponse(step, endpoint string, resp *flows.Response) (*flows.TokenResponse, []flows.Check, error) {
	if resp.Status >= 300 && resp.Status < 400 {
		return nil, nil, flows.Errorf(flows.ErrProtocol, "%s: %s answered a redirect (HTTP %d to %s); credential POSTs are never followed — is the URL right (http vs https, trailing slash)?",
			step, endpoint, resp.Status, orNone(resp.Header.Get("Location")))
	}
	if resp.Status != 200 {
		return nil, nil, oauthError(step, endpoint, resp)
	}
	m, kind, err := decodeObject(resp)
	if err != nil {
		return nil, nil, flows.Errorf(flows.ErrProtocol, "%s: %s answered HTTP 200 with %v", step, endpoint, err)
	}
	if code := str(m["error"]); code != "" { // some servers say 200 and mean an error
		fe := oauthError(step, endpoint, resp)
		return nil, nil, fe
	}
	tr := flows.NewTokenResponse(m, resp.Received)
	var checks []flows.Check
	add := func(name string, st flows.Status, format string, args ...any) {
		checks = append(checks, flows.Check{Name: name, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	if tr.AccessToken == "" {
		return nil, nil, flows.Errorf(flows.ErrProtocol, "%s: %s answered HTTP 200 without an access_token (fields: %s)", step, endpoint, strings.Join(keys(m), ", "))
	}
	if kind == "form" {
		add("response format", flows.Warn, "the token response is form-urlencoded (%s), not JSON as RFC 6749 5.1 requires; accepted", orUnknown(resp.ContentType()))
	} else if ct := resp.ContentType(); ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		add("response format", flows.Warn, "JSON sent as %s instead of application/json", orUnknown(ct))
	}
	switch tt := tr.TokenType; {
	case tt == "":
		add("token_type", flows.Warn, "no token_type in the response (required by RFC 6749 5.1); assuming Bearer")
	case tt == "Bearer":
		add("token_type", flows.Pass, "Bearer")
	case strings.EqualFold(tt, "bearer"):
		add("token_type", flows.Pass, "%q (token types are case-insensitive, RFC 6749 5.1)", tt)
	case strings.EqualFold(tt, "DPoP"):
		add("token_type", flows.Pass, "DPoP: sender-constrained; it must be presented with a DPoP proof (RFC 9449 7.1)")
	case strings.EqualFold(tt, "N_A"):
		add("token_type", flows.Pass, "N_A (token exchange: not an access token)")
	default:
		add("token_type", flows.Warn, "unusual token_type %q", tt)
	}
	if v, ok := m["expires_in"]; ok {
		switch {
		case !tr.HasExpiresIn:
			add("expires_in", flows.Warn, "expires_in is %s, not a number of seconds; expiry unknown", flows.Snippet([]byte(str(v)), 30))
		case isString(v) && kind == "json":
			add("expires_in", flows.Warn, "expires_in sent as a string (%q), not a number; accepted as %d s", str(v), tr.ExpiresIn)
		case tr.ExpiresIn <= 0:
			add("expires_in", flows.Warn, "expires_in is %d: the token is already expired", tr.ExpiresIn)
		default:
			add("expires_in", flows.Pass, "%d s", tr.ExpiresIn)
		}
	} else {
		add("expires_in", flows.Warn, "no expires_in: the lifetime is only known if the token itself says (RFC 6749 recommends sending it)")
	}
	return tr, checks, nil
}

// scopeCheck compares granted with requested scopes (RFC 6749 3.3, 5.1).
func scopeCheck(requested []string, tr *flows.TokenResponse) flows.Check {
	if _, sent := tr.Raw["scope"]; !sent {
		if len(requested) == 0 {
			return flows.Check{Name: "scope", Status: flows.Pass, Detail: "none requested, none reported"}
		}
		return flows.Check{Name: "scope", Status: flows.Pass, Detail: "not in the response: per RFC 6749 5.1 that means exactly the requested scope (" + strings.Join(requested, " ") + ")"}
	}
	granted := strings.Fields(tr.Scope)
	var missing []string
	for _, s := range requested {
		found := false
		for _, g := range granted {
			if g == s {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return flows.Check{Name: "scope", Status: flows.Warn, Detail: fmt.Sprintf("granted %q, without the requested %s: calls that need them will be refused", tr.Scope, strings.Join(missing, " "))}
	}
	return flows.Check{Name: "scope", Status: flows.Pass, Detail: fmt.Sprintf("granted %q", tr.Scope)}
}

func isString(v any) bool { _, ok := v.(string); return ok }

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Challenge is one parsed WWW-Authenticate challenge (RFC 9110 11.6.1).
type Challenge struct {
	Scheme string
	Params map[string]string
}

// ParseChallenge parses the first challenge of a WWW-Authenticate value,
// tolerating unquoted and oddly spaced parameters.
func ParseChallenge(v string) Challenge {
	v = strings.TrimSpace(v)
	c := Challenge{Params: map[string]string{}}
	scheme, rest, _ := strings.Cut(v, " ")
	c.Scheme = scheme
	for i := 0; i < len(rest) && len(c.Params) < 32; {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == ',') {
			i++
		}
		eq := strings.IndexByte(rest[i:], '=')
		if eq < 0 {
			break
		}
		name := strings.ToLower(strings.TrimSpace(rest[i : i+eq]))
		i += eq + 1
		for i < len(rest) && rest[i] == ' ' {
			i++
		}
		var val strings.Builder
		if i < len(rest) && rest[i] == '"' {
			i++
			for i < len(rest) && rest[i] != '"' {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				val.WriteByte(rest[i])
				i++
			}
			i++ // closing quote
		} else {
			for i < len(rest) && rest[i] != ',' {
				val.WriteByte(rest[i])
				i++
			}
		}
		if strings.ContainsAny(name, " \t") { // the start of a second challenge
			break
		}
		c.Params[name] = strings.TrimSpace(val.String())
	}
	return c
}

// Explain words a challenge for a developer (RFC 6750 3.1 errors).
func (c Challenge) Explain() string {
	var parts []string
	parts = append(parts, c.Scheme)
	if e := c.Params["error"]; e != "" {
		parts = append(parts, "error "+e)
		switch e {
		case "invalid_token":
			parts = append(parts, "(the token is expired, revoked, malformed or for another audience)")
		case "insufficient_scope":
			parts = append(parts, "(the token lacks a scope the resource needs)")
		case "invalid_request":
			parts = append(parts, "(the request is malformed, e.g. no token or two tokens)")
		}
	} else if c.Scheme != "" {
		parts = append(parts, "(no error: the request carried no acceptable credentials)")
	}
	if d := c.Params["error_description"]; d != "" {
		parts = append(parts, "— "+d)
	}
	if r := c.Params["realm"]; r != "" {
		parts = append(parts, "(realm "+r+")")
	}
	out := strings.Join(parts, " ")
	if s := c.Params["scope"]; s != "" {
		out += "; needs scope " + s
	}
	return out
}
