package mockidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"authlab/flows"
)

// trustedIssuer is a configured issuer of jwt-bearer grant assertions.
type trustedIssuer struct {
	TrustedIssuer
	keyRing                 // jwks (kid.go)
	scopes  map[string]bool // nil: any scope the client may have
}

func buildTrusted(cfg Config) (map[string]*trustedIssuer, error) {
	out := make(map[string]*trustedIssuer, len(cfg.TrustedIssuers))
	for _, ti := range cfg.TrustedIssuers {
		set, err := flows.ParseJWKSet(ti.JWKS)
		if err != nil {
			return nil, fmt.Errorf("config: trusted assertion issuer %q: %w", ti.Issuer, err)
		}
		t := &trustedIssuer{TrustedIssuer: ti}
		for _, k := range set.Keys {
			pub := k.Public().Key
			if algOf(pub) == "" {
				return nil, fmt.Errorf("config: trusted assertion issuer %q: key %q: RSA, EC P-256 or Ed25519 keys only", ti.Issuer, k.KeyID)
			}
			t.add(k.KeyID, pub)
		}
		if len(ti.Scopes) > 0 {
			t.scopes = map[string]bool{}
			for _, sc := range ti.Scopes {
				t.scopes[sc] = true
			}
		}
		out[ti.Issuer] = t
	}
	return out, nil
}

// validateGrants checks what the password and jwt-bearer grants, the ACR
// values and the FAPI 2.0 mode read from a configuration.
func (c *Config) validateGrants() error {
	seen := map[string]bool{}
	for i, ti := range c.TrustedIssuers {
		if ti.Issuer == "" {
			return fmt.Errorf("config: trusted_assertion_issuers[%d]: issuer is empty", i)
		}
		if seen[ti.Issuer] {
			return fmt.Errorf("config: trusted assertion issuer %q appears twice", ti.Issuer)
		}
		seen[ti.Issuer] = true
		if len(ti.JWKS) == 0 {
			return fmt.Errorf("config: trusted assertion issuer %q: jwks is empty", ti.Issuer)
		}
	}
	for _, u := range c.Users {
		if u.ACR != "" && len(c.ACRValues) > 0 && !slices.Contains(c.ACRValues, u.ACR) {
			return fmt.Errorf("config: user %q: acr %q is not among acr_values_supported", u.Username, u.ACR)
		}
	}
	for _, cl := range c.Clients {
		switch cl.AssertionAud {
		case "", "issuer", "token_endpoint":
		default:
			return fmt.Errorf("config: client %q: assertion_aud %q: want issuer, token_endpoint or empty (either)", cl.ID, cl.AssertionAud)
		}
	}
	return nil
}

// protocolClaims are the ID token claims per-user claims cannot replace.
var protocolClaims = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"auth_time": true, "nonce": true, "acr": true, "amr": true, "azp": true, "at_hash": true, "c_hash": true, "s_hash": true, "cnf": true}

// addUserClaims copies the user's configured claims (OIDC Core 5.1 and
// any others) into m, never over a protocol claim.
func addUserClaims(m map[string]any, u *User) {
	for k, v := range u.Claims {
		if !protocolClaims[k] {
			m[k] = v
		}
	}
}

// grantJWTBearer is the JWT bearer authorization grant (RFC 7523 2.1): an
// assertion signed by a trusted issuer, with aud the issuer or the token
// endpoint, a limited lifetime and a single-use jti. Its sub is the
// subject of the token (a configured user's claims when it names one).
func (s *Server) grantJWTBearer(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) {
	raw := r.PostForm.Get("assertion")
	if raw == "" {
		errInvalidRequest("assertion is missing (RFC 7523 2.1)").write(w)
		return
	}
	j, err := parseJWS(raw)
	if err != nil {
		errInvalidGrant("assertion: " + err.Error()).write(w)
		return
	}
	var cl assertionClaims
	if err := json.Unmarshal(j.Payload, &cl); err != nil {
		errInvalidGrant("assertion: claims are not a JSON object").write(w)
		return
	}
	t := s.trusted[cl.Iss]
	if t == nil {
		errInvalidGrant("assertion: issuer " + quoteOrNone(cl.Iss) + " is not a trusted assertion issuer (trusted_assertion_issuers)").write(w)
		return
	}
	if !slices.Contains(publicKeyAlgs(), j.Header.Alg) || (s.cfg.FAPI2 && !slices.Contains(fapiAlgs(), j.Header.Alg)) {
		errInvalidGrant("assertion: alg " + quoteOrNone(j.Header.Alg) + " is not accepted").write(w)
		return
	}
	if !t.verifies(j.Header.Alg, j.Header.Kid, j.Input, j.Sig) {
		errInvalidGrant("assertion: signature does not verify with the keys of " + cl.Iss).write(w)
		return
	}
	iss := s.issuerFor(r)
	ok := []string{iss, iss + "/token", iss + "/mtls/token", s.endpointURL(r)}
	if !slices.ContainsFunc(audList(cl.Aud), func(a string) bool { return slices.Contains(ok, a) }) {
		errInvalidGrant("assertion: aud must name this server: the issuer " + iss + " or the token endpoint " + iss + "/token (RFC 7523 3)").write(w)
		return
	}
	if cl.Sub == "" {
		errInvalidGrant("assertion: sub is missing (RFC 7523 3)").write(w)
		return
	}
	now := s.Now()
	if cl.Exp == nil {
		errInvalidGrant("assertion: exp is missing (RFC 7523 3)").write(w)
		return
	}
	exp, bad := assertionLifetime(now, *cl.Exp, cl.Nbf)
	if bad != "" {
		errInvalidGrant("assertion: " + bad).write(w)
		return
	}
	requested := r.PostForm.Get("scope")
	if requested == "" {
		// Some clients (golang.org/x/oauth2/jwt) carry the scope as a claim.
		var sc struct {
			Scope string `json:"scope"`
		}
		_ = json.Unmarshal(j.Payload, &sc)
		requested = sc.Scope
	}
	def := s.defaultAPIScope(c.clientInfo)
	if t.scopes != nil {
		var keep []string
		for _, sc := range strings.Fields(def) {
			if t.scopes[sc] {
				keep = append(keep, sc)
			}
		}
		def = strings.Join(keep, " ")
	}
	scope, e := s.checkScope(c.clientInfo, requested, def)
	if e != nil {
		e.write(w)
		return
	}
	if t.scopes != nil {
		for _, sc := range strings.Fields(scope) {
			if !t.scopes[sc] {
				(&oauthErr{http.StatusBadRequest, "invalid_scope", "scope " + sc + " is not allowed for assertions of " + cl.Iss, false}).write(w)
				return
			}
		}
	}
	if cl.Jti != "" {
		seen, full := s.st.spendJTI(now, assertionKey("jwt-bearer\x00"+cl.Iss, cl.Jti), exp)
		if seen {
			errInvalidGrant("assertion: jti already used (assertions are single use here)").write(w)
			return
		}
		if full {
			(&oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "assertion replay cache full", false}).write(w)
			return
		}
	}
	var u *User
	if u = s.userByHint(cl.Sub); u != nil && u.Sub != cl.Sub && u.Username != cl.Sub {
		u = nil // only sub or username name a user here, not an email
	}
	g := grantCtx{iss: iss, client: c.clientInfo, sub: cl.Sub, scope: scope, aud: s.audience(r, c.clientInfo, iss), cnf: boundThumb(c), jkt: c.jkt}
	if u != nil {
		g.sub, g.user, g.acr = u.Sub, u, s.pickACR("", u)
	}
	var tok, id string
	var texp time.Time
	if u != nil {
		tok, _, id, texp, err = s.issueUserTokens(fs, &g)
	} else {
		tok, _, texp, err = s.issueAccess(fs, &g)
	}
	if err != nil {
		writeOAuthError(w, 500, "server_error", "signing failed: "+err.Error())
		return
	}
	// RFC 7523 does not call for a refresh token: a new assertion is the way to more tokens.
	tokenResponse(w, tokenTypeFor(c), tok, texp, now, scope, "", id, "")
}
