package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/store"
)

// grantProfileFlags are the profile flags of the OIDC authorization
// parameters, client assertions, FAPI2 and the password / jwt-bearer
// grants. They live in profileFlags (profile add, flow, run).
type grantProfileFlags struct {
	prompt, loginHint, acrValues, uiLocales string
	maxAge                                  int
	claims                                  string
	assertionAud, kid                       string
	fapi2                                   bool
	username, password                      string
	assertionKey, assertionClaims           string
	assertion                               string
}

// noMaxAge is --max-age's "not given" (0 is a real max_age).
const noMaxAge = -1

func addGrantProfileFlags(fs *pflag.FlagSet, g *grantProfileFlags) {
	fs.StringVar(&g.prompt, "prompt", "", "prompt of the authorization request: none, login, consent, select_account (OIDC Core 3.1.2.1)")
	fs.StringVar(&g.loginHint, "login-hint", "", "login_hint: the user to sign in (OIDC Core 3.1.2.1)")
	fs.StringVar(&g.acrValues, "acr-values", "", "acr_values, space separated; the ID token's acr is checked against them (warn)")
	fs.IntVar(&g.maxAge, "max-age", noMaxAge, "max_age in seconds; the ID token's auth_time is checked against it (fail)")
	fs.StringVar(&g.claims, "claims", "", "OIDC claims request (OIDC Core 5.5): a JSON object, or @FILE")
	fs.StringVar(&g.uiLocales, "ui-locales", "", "ui_locales, space separated BCP 47 tags")
	fs.StringVar(&g.assertionAud, "assertion-aud", "", "aud of client assertions: token-endpoint (default, RFC 7523 3), issuer (default with --fapi2), both, or a URL")
	fs.BoolVar(&g.fapi2, "fapi2", false, "FAPI 2.0 shaped flow: PAR, PKCE S256, DPoP unless --cert gives mTLS, private_key_jwt or mTLS, PS256/ES256/EdDSA, assertion aud = issuer")
	fs.StringVar(&g.username, "username", "", "password grant: the resource owner's username")
	fs.StringVar(&g.password, "password", "", "password grant: the resource owner's password: a value, env:NAME, file:PATH or raw:VALUE")
	fs.StringVar(&g.assertionKey, "assertion-key", "", "jwt-bearer: PEM or JWK private key that signs the grant assertion: a path, env:NAME or file:PATH")
	fs.StringVar(&g.assertionClaims, "assertion-claims", "", `jwt-bearer: claims over the defaults (iss, sub = client id, aud = token endpoint, exp +5m, iat, jti): a JSON object or @FILE; null drops a default`)
	fs.StringVar(&g.assertion, "assertion", "", "jwt-bearer: FILE holding the assertion (a JWT) to send as is")
}

// addKidFlag registers --kid on the commands that run or keep a profile
// (flow, run, profile add): audit has a --kid of its own.
func addKidFlag(fs *pflag.FlagSet, g *grantProfileFlags) {
	fs.StringVar(&g.kid, "kid", "", "kid of the client assertion header (default: the JWK's own kid, else the key's RFC 7638 thumbprint)")
}

// fill copies the flag values into a profile; toProfile takes the secrets
// (--password, --assertion-key) with the others.
func (g *grantProfileFlags) fill(p *store.Profile) error {
	p.Prompt, p.LoginHint, p.ACRValues, p.UILocales = g.prompt, g.loginHint, g.acrValues, g.uiLocales
	if g.maxAge != noMaxAge {
		if g.maxAge < 0 {
			return fmt.Errorf("--max-age %d: seconds, 0 or more", g.maxAge)
		}
		v := g.maxAge
		p.MaxAge = &v
	}
	var err error
	if p.Claims, err = jsonObjectFlag("--claims", g.claims); err != nil {
		return err
	}
	if p.AssertionClaims, err = jsonObjectFlag("--assertion-claims", g.assertionClaims); err != nil {
		return err
	}
	p.AssertionAud, p.KeyID, p.FAPI2 = g.assertionAud, g.kid, g.fapi2
	p.Username, p.AssertionFile = g.username, g.assertion
	return nil
}

// jsonObjectFlag reads a JSON object flag: inline, or @FILE.
func jsonObjectFlag(flag, v string) (json.RawMessage, error) {
	if v == "" {
		return nil, nil
	}
	b, err := inlineOrFile(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", flag, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: want a JSON object: %v", flag, err)
	}
	return json.RawMessage(b), nil
}

// inlineOrFile is a JSON flag's text: v itself, or the file @PATH names
// (at most 64 KiB).
func inlineOrFile(v string) ([]byte, error) {
	if path, ok := strings.CutPrefix(v, "@"); ok {
		return flows.ReadFileCapped(path, 64<<10)
	}
	return []byte(v), nil
}

// grantFlagFields are the profileFlagFields of grantProfileFlags.
func grantFlagFields() []profileFlagField {
	return []profileFlagField{
		{"prompt", "prompt", func(d, s *store.Profile) { d.Prompt = s.Prompt }},
		{"login-hint", "login_hint", func(d, s *store.Profile) { d.LoginHint = s.LoginHint }},
		{"acr-values", "acr_values", func(d, s *store.Profile) { d.ACRValues = s.ACRValues }},
		{"max-age", "max_age", func(d, s *store.Profile) { d.MaxAge = s.MaxAge }},
		{"claims", "claims", func(d, s *store.Profile) { d.Claims = s.Claims }},
		{"ui-locales", "ui_locales", func(d, s *store.Profile) { d.UILocales = s.UILocales }},
		{"assertion-aud", "assertion_aud", func(d, s *store.Profile) { d.AssertionAud = s.AssertionAud }},
		{"kid", "kid", func(d, s *store.Profile) { d.KeyID = s.KeyID }},
		{"fapi2", "fapi2", func(d, s *store.Profile) { d.FAPI2 = s.FAPI2 }},
		{"username", "username", func(d, s *store.Profile) { d.Username = s.Username }},
		{"password", "secrets." + string(store.Password), secretCopy(store.Password)},
		{"assertion-key", "secrets." + string(store.AssertionKey), secretCopy(store.AssertionKey)},
		{"assertion-claims", "assertion_claims", func(d, s *store.Profile) { d.AssertionClaims = s.AssertionClaims }},
		{"assertion", "assertion_file", func(d, s *store.Profile) { d.AssertionFile = s.AssertionFile }},
	}
}

// grantRunFlags are run-only: not kept in a profile.
type grantRunFlags struct {
	idTokenHint string
}

func addGrantRunFlags(fs *pflag.FlagSet, g *grantRunFlags) {
	fs.StringVar(&g.idTokenHint, "id-token-hint", "", "id_token_hint: an ID token the server issued before (value, env:NAME, file:PATH or -)")
}

// apply copies the run-only flags into req and warns, once, about the
// password grant.
func (g *grantRunFlags) apply(req *flows.Request, gl *globals) error {
	if g.idTokenHint != "" {
		v, err := readTokenFlag("--id-token-hint", g.idTokenHint, gl.stdin)
		if err != nil {
			return err
		}
		req.IDTokenHint = flows.Secret(v)
	}
	if req.Flow == flows.FlowPassword {
		fmt.Fprintf(gl.stderr, "authlab: warning: %s\n", oauth.PasswordForbidden)
	}
	return nil
}
