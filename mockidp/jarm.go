package mockidp

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// responseModes are the response_mode values the IdP honours: OAuth's
// query and fragment, form_post, and JARM's signed variants.
func responseModes() []string {
	return []string{"query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"}
}

func validResponseMode(m string) bool { return slices.Contains(responseModes(), m) }

// jarmLifetime bounds a JARM response: it is read within seconds.
const jarmLifetime = 5 * time.Minute

// respond sends an authorization response (code or error) to the
// client's redirect_uri in the request's response mode; the *.jwt modes
// wrap the parameters in a JWT signed with the IdP's key (JARM 2.1, 2.3).
func (s *Server) respond(w http.ResponseWriter, r *http.Request, p map[string]string, q url.Values) {
	mode := p["response_mode"]
	if mode == "jwt" {
		mode = "query.jwt" // JARM 2.3.4: the default for response_type code
	}
	if base, ok := strings.CutSuffix(mode, ".jwt"); ok {
		tok, err := s.jarmResponse(r, p["client_id"], q)
		if err != nil {
			authzPage(w, http.StatusInternalServerError, "server_error", "signing the JARM response failed: "+err.Error())
			return
		}
		q, mode = url.Values{"response": {tok}}, base
	}
	redirect := p["redirect_uri"]
	switch mode {
	case "fragment":
		http.Redirect(w, r, redirect+"#"+q.Encode(), http.StatusFound)
	case "form_post":
		formPost(w, redirect, q)
	default:
		http.Redirect(w, r, appendQuery(redirect, q), http.StatusFound)
	}
}

// jarmResponse signs the response parameters with the key the client's
// tokens use, adding iss, aud = client_id and a short exp (JARM 2.1). The
// token faults (alg none, unknown key, expired) apply to it as well.
func (s *Server) jarmResponse(r *http.Request, clientID string, q url.Values) (string, error) {
	fs := s.faults.Load()
	iat, exp := s.lifetime(fs, jarmLifetime)
	m := map[string]any{"iss": s.issuerFor(r), "aud": clientID, "iat": iat.Unix(), "exp": exp.Unix()}
	for k := range q {
		if k != "iss" {
			m[k] = q.Get(k)
		}
	}
	return s.sign(fs, s.algFor(s.clients[clientID]), true, jsonBytes(m))
}

// formPost answers with a page that posts the response to the client
// (OAuth 2.0 Form Post Response Mode 2); the button serves without scripts.
func formPost(w http.ResponseWriter, redirect string, q url.Values) {
	nonce := randomToken(16)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action http: https:")
	w.WriteHeader(http.StatusOK)
	type field struct{ Name, Value string }
	var fields []field
	for k, vs := range q {
		for _, v := range vs {
			fields = append(fields, field{k, v})
		}
	}
	formPostTmpl.Execute(w, struct {
		Action, Nonce string
		Fields        []field
	}{redirect, nonce, fields})
}

var formPostTmpl = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Submit this form</title></head>
<body><form method="post" action="{{.Action}}" id="form_post">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript></form>
<script nonce="{{.Nonce}}">document.getElementById("form_post").submit();</script>
</body></html>`))
