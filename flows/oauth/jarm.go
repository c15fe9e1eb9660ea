package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
	"authlab/flows/token"
)

// jarmAlgs are the algorithms a JARM response may be signed with; never
// none, never a MAC (the client has no secret shared for this).
func jarmAlgs() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// stepJARM is the step that shows a verified JARM response decoded.
const stepJARM = "jarm response"

var errNoJARMKey = errors.New("no key in the issuer's JWKS matches the response's kid")

// jarmOutcome is a verified JARM response: the parameters it carries, the
// checks of its claims, and a failure of those checks (the server signed
// it, so it ends the flow).
type jarmOutcome struct {
	params CallbackParams
	checks []flows.Check
	fail   *flows.Error
	// detail is the decoded response for the timeline, "header {…} claims
	// {…}" as for the request object, with its code and tokens masked.
	detail string
}

// verifyJARM verifies a JARM response (JWT Secured Authorization Response
// Mode 4.4): the signature against the issuer's JWKS (refetched once for
// an unknown kid), then iss, aud = client_id and exp. A response whose
// signature does not verify is not an answer to this login: reject says
// why, and the listener keeps waiting, as for a wrong state.
func (e *Engine) verifyJARM(ctx context.Context, ks token.KeySource, issuer, raw string) (out jarmOutcome, reject string) {
	if ks == nil {
		return out, "a JARM response, but no JWKS is known to verify it"
	}
	parser := jwt.NewParser(jwt.WithValidMethods(jarmAlgs()), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	var err error
	var alg, kid string
	var header map[string]any
	for attempt := range 2 {
		set, kerr := ks.Keys(ctx, attempt == 1)
		if kerr != nil {
			return out, "a JARM response, but the issuer's keys are unavailable: " + kerr.Error()
		}
		claims = jwt.MapClaims{}
		_, err = parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
			alg, header = t.Method.Alg(), t.Header
			kid, _ = t.Header["kid"].(string)
			var vs jwt.VerificationKeySet
			for _, k := range set.Keys {
				if k.Public == nil || k.Use == "enc" || (kid != "" && k.ID != "" && k.ID != kid) {
					continue
				}
				vs.Keys = append(vs.Keys, k.Public)
			}
			if len(vs.Keys) == 0 {
				return nil, errNoJARMKey
			}
			return vs, nil
		})
		if err == nil || !errors.Is(err, errNoJARMKey) {
			break
		}
	}
	if err != nil {
		return out, fmt.Sprintf("a JARM response that does not verify with the issuer's keys (alg %s, kid %q): %v", orNone(alg), kid, err)
	}
	out.checks = append(out.checks, flows.Check{Name: "jarm signature", Status: flows.Pass, Detail: fmt.Sprintf("%s, kid %q, verified with the issuer's JWKS", alg, kid)})

	s := func(name string) string { v, _ := claims[name].(string); return v }
	fail := func(name, detail string) {
		out.checks = append(out.checks, flows.Check{Name: name, Status: flows.Fail, Detail: detail})
		if out.fail == nil {
			out.fail = flows.Errorf(flows.ErrProtocol, "JARM response: %s", detail)
		}
	}
	if iss := s("iss"); iss != issuer || issuer == "" {
		fail("jarm iss", fmt.Sprintf("iss is %q, expected %q (JARM 4.4 step 2)", iss, issuer))
	} else {
		out.checks = append(out.checks, flows.Check{Name: "jarm iss", Status: flows.Pass, Detail: "iss is the issuer"})
	}
	aud, _ := claims.GetAudience()
	if !slices.Contains(aud, e.req.ClientID) {
		fail("jarm aud", fmt.Sprintf("aud is %v, expected %q, this client (JARM 4.4 step 3)", []string(aud), e.req.ClientID))
	} else {
		out.checks = append(out.checks, flows.Check{Name: "jarm aud", Status: flows.Pass, Detail: "aud is this client"})
	}
	leeway := e.leeway()
	exp, _ := claims.GetExpirationTime()
	now := e.now()
	switch {
	case exp == nil:
		fail("jarm exp", "no exp claim (JARM 2.1 requires it)")
	case !now.Before(exp.Add(leeway)):
		fail("jarm exp", fmt.Sprintf("expired at %s (now %s, leeway %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway))
	default:
		out.checks = append(out.checks, flows.Check{Name: "jarm exp", Status: flows.Pass, Detail: fmt.Sprintf("valid for %s more", exp.Sub(now).Round(time.Second))})
	}
	out.params = CallbackParams{Code: s("code"), State: s("state"), Iss: s("iss"), Error: s("error"),
		ErrorDescription: s("error_description"), ErrorURI: s("error_uri")}
	out.detail = jarmDetail(header, claims)
	return out, ""
}

// leeway is the request's clock tolerance for the engine's own time
// checks, as the token engine reads it: 0 the default, negative none.
func (e *Engine) leeway() time.Duration {
	switch lw := e.req.Leeway; {
	case lw == 0:
		return token.DefaultLeeway
	case lw < 0:
		return 0
	default:
		return lw
	}
}

// jarmDetail is a verified JARM response decoded for the timeline. The
// code (and any token a hybrid response carries) is masked: the detail is
// shown, stored and exported.
func jarmDetail(header map[string]any, claims jwt.MapClaims) string {
	shown := make(map[string]any, len(claims))
	for k, v := range claims {
		if flows.IsCredentialParam(k) {
			v = flows.Masked
		}
		shown[k] = v
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(shown)
	return fmt.Sprintf("header %s claims %s", hb, cb)
}

// fragmentRelay answers the redirect of a fragment response: the browser
// keeps the fragment to itself, so a small script (allowed by its nonce
// alone) posts it back to the listener, and drops it from the history.
func fragmentRelay(w http.ResponseWriter) {
	nonce, err := randomString(18)
	if err != nil {
		page(w, http.StatusInternalServerError, "Error", "no randomness for the page")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// same-origin, not no-referrer: with no-referrer the browser sends
	// Origin: null on the post, and the listener could not tell its own page.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action 'self'")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<!doctype html><meta charset=utf-8><title>authlab: completing login</title>
<h1 id="relay">Completing login…</h1><p id="msg">Passing the authorization response to authlab.</p>
<script nonce="%s">
(function () {
  var p = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", location.pathname);
  if (!p.toString()) { document.getElementById("msg").textContent = "No authorization response in the URL fragment."; return; }
  var f = document.createElement("form");
  f.method = "POST"; f.action = %q;
  p.forEach(function (v, k) { var i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i); });
  document.body.appendChild(f); f.submit();
})();
</script>
<noscript><p>%s</p></noscript>
`, nonce, CallbackPath, html.EscapeString("JavaScript is off: the fragment response cannot reach authlab. Use --response-mode query or form_post."))
}
