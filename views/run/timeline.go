package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
	"authlab/views/inspect"
	"authlab/views/render"
	"authlab/views/ui"
)

// The Timeline tab is every step in full: its detail wrapped, and for the
// steps of an authorization request's shape what they carried, decoded —
// the PAR push (RFC 9126: the pushed parameters, request_uri, expires_in),
// the request object (RFC 9101: header, claims) and a JARM response's
// checks — each with the checks that judge it.

// Step names the OAuth engine reports (flows/oauth).
const (
	stepPAR           = "pushed authorization request"
	stepRequestObject = "request object"
	stepAuthorization = "authorization"
)

// stepChecks names the checks that belong to a step, by prefix.
var stepChecks = map[string][]string{
	stepPAR:           {"par "},
	stepRequestObject: {"request object"},
	stepAuthorization: {"jarm ", "response_mode"},
}

// decodedNote reads a step detail of the form "header {…} claims {…}" (a
// signed object the engine decoded for the timeline).
func decodedNote(detail string) (header, claims map[string]any, ok bool) {
	rest, found := strings.CutPrefix(detail, "header ")
	if !found {
		return nil, nil, false
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	dec.UseNumber()
	if dec.Decode(&header) != nil {
		return nil, nil, false
	}
	rest = strings.TrimSpace(rest[dec.InputOffset():])
	rest, found = strings.CutPrefix(rest, "claims ")
	if !found {
		return nil, nil, false
	}
	dec = json.NewDecoder(strings.NewReader(rest))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return nil, nil, false
	}
	return header, claims, true
}

// summary is a step's detail for the one-line timeline: a decoded object
// as its header's alg, kid, typ and its claim count.
func summary(s step) string {
	if !s.decoded {
		return s.detail
	}
	var parts []string
	for _, k := range []string{"alg", "kid", "typ"} {
		if v, ok := s.header[k]; ok {
			parts = append(parts, k+" "+fmt.Sprint(v))
		}
	}
	return strings.Join(append(parts, fmt.Sprintf("%d claims (5 Timeline decodes it)", len(s.claims))), " · ")
}

// timelineLines renders the Timeline tab; mk nil shows tokens in clear.
func (m *Model) timelineLines(w int) []string {
	t := m.ctx.Theme
	mk := m.masker()
	o := render.Options{Width: max(30, w-4), Color: t.Color, Now: m.ctx.Now(), Loc: time.UTC, Styles: t.Render}
	indent := func(ls []string) []string {
		for i, l := range ls {
			ls[i] = "    " + l
		}
		return ls
	}
	var out []string
	for _, s := range m.steps {
		mark := t.Pass.Render("✓")
		if !s.ok {
			mark = t.Fail.Render("✗")
		}
		out = append(out, mark+" "+t.Title.Render(s.name)+"  "+t.Subtle.Render(ui.Duration(s.dur)))
		h, c := s.header, s.claims
		if !s.decoded && s.detail != "" {
			out = append(out, indent(wrapText(m.mask.Text(s.detail), w-4))...)
		}
		if s.name == stepPAR {
			out = append(out, indent(m.parLines(mk, w-4))...)
		}
		if s.decoded {
			if len(h) > 0 {
				out = append(out, "    "+t.Subtle.Render("header"))
				out = append(out, indent(lines(render.Header(h, o)))...)
			}
			if len(c) > 0 {
				out = append(out, "    "+t.Subtle.Render("claims"))
				out = append(out, indent(lines(render.Claims(c, o)))...)
			}
		}
		if s.name == stepRequestObject {
			if raw := m.requestObject(); raw != "" {
				out = append(out, indent(rawLines(t, "raw", raw, mk, w-4))...)
			}
		}
		if cs := m.checksOf(s.name); len(cs) > 0 {
			if s.name == stepAuthorization && hasPrefix(cs, "jarm ") {
				out = append(out, "    "+t.Subtle.Render("JARM response (JWT Secured Authorization Response Mode)"))
			}
			out = append(out, indent(inspect.CheckLines(t, cs, w-4))...)
		}
	}
	if len(out) == 0 {
		out = []string{t.Subtle.Render("no steps")}
	}
	return out
}

// checksOf are the run's checks (masked) that judge step name.
func (m *Model) checksOf(name string) []flows.Check {
	prefixes := stepChecks[name]
	if len(prefixes) == 0 {
		return nil
	}
	var out []flows.Check
	for _, c := range m.checks {
		for _, p := range prefixes {
			if strings.HasPrefix(c.Name, p) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func hasPrefix(cs []flows.Check, p string) bool {
	for _, c := range cs {
		if strings.HasPrefix(c.Name, p) {
			return true
		}
	}
	return false
}

// parExchange is the PAR push among the run's exchanges.
func (m *Model) parExchange() (flows.Exchange, bool) {
	for _, x := range m.xs {
		if x.Step == stepPAR {
			return x, true
		}
	}
	return flows.Exchange{}, false
}

// parLines show the push: where, the parameters sent, and the answer.
func (m *Model) parLines(mk *render.Masker, w int) []string {
	t := m.ctx.Theme
	x, ok := m.parExchange()
	if !ok {
		return nil
	}
	out := []string{ui.Truncate(fmt.Sprintf("%s %s → %d", x.Method, mk.URL(x.URL), x.Status), w)}
	if x.RequestBody != "" {
		out = append(out, t.Subtle.Render("pushed"))
		for _, p := range strings.Split(x.RequestBody, "&") {
			k, v, _ := strings.Cut(p, "=")
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
			if mk != nil && render.IsTokenParam(k) {
				v = render.MaskToken(v)
			}
			out = append(out, wrapText("  "+render.Printable(k)+" = "+mk.Text(render.Printable(v)), w)...)
		}
	}
	var ans map[string]any
	if json.Unmarshal([]byte(x.ResponseBody), &ans) == nil {
		out = append(out, t.Subtle.Render("answered"))
		for _, k := range []string{"request_uri", "expires_in"} {
			if v, ok := ans[k]; ok {
				out = append(out, ui.Truncate("  "+k+" = "+render.Printable(fmt.Sprint(v)), w))
			}
		}
	}
	return out
}

// requestObject is the signed request object the run sent: the request
// parameter of the PAR push, else of the authorization URL.
func (m *Model) requestObject() string {
	if x, ok := m.parExchange(); ok {
		if vals, err := url.ParseQuery(x.RequestBody); err == nil && vals.Get("request") != "" {
			return vals.Get("request")
		}
	}
	if m.result != nil {
		if u, err := url.Parse(m.result.AuthURL); err == nil {
			return u.Query().Get("request")
		}
	}
	return ""
}

// rawLines show a token masked, or whole and wrapped when mk is nil.
func rawLines(t *ui.Theme, label, raw string, mk *render.Masker, w int) []string {
	if mk != nil {
		return []string{ui.Truncate(t.Subtle.Render(label)+"  "+render.MaskToken(raw), w)}
	}
	return append([]string{t.Subtle.Render(label) + "  " + t.Warn.Render("in clear")}, wrapText(render.Printable(raw), w)...)
}

// wrapText cuts s into lines of at most w cells.
func wrapText(s string, w int) []string {
	w = max(10, w)
	r := []rune(s)
	var out []string
	for len(r) > w {
		out = append(out, string(r[:w]))
		r = r[w:]
	}
	return append(out, string(r))
}

func lines(s string) []string {
	return strings.Split(string(bytes.TrimRight([]byte(s), "\n")), "\n")
}
