package mockidp

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// The demo's authentication contexts (acr_values_supported): a password
// login, and one the demo pretends was multi-factor.
const (
	ACRPassword = "urn:authlab:acr:pwd"
	ACRMFA      = "urn:authlab:acr:mfa"
)

// fapiAlgs are the JWS algorithms FAPI 2.0 Security Profile 5.4 allows.
func fapiAlgs() []string { return []string{"PS256", "ES256", "EdDSA"} }

// fapiMaxCode is the longest an authorization code may live under FAPI 2.0
// (5.3.2.1: at most 60 seconds).
const fapiMaxCode = 60 * time.Second

// ApplyFAPI2 makes a configuration with FAPI2 set a FAPI 2.0 authorization
// server's: PAR for everyone, codes of at most 60 s, no plain PKCE, and an
// allowed signing algorithm. New applies it; --print-config shows it.
func (cfg *Config) ApplyFAPI2() {
	if !cfg.FAPI2 {
		return
	}
	cfg.RequirePAR = true
	cfg.AllowPlainPKCE = false
	if cfg.Lifetimes.Code.D() > fapiMaxCode {
		cfg.Lifetimes.Code = Duration(fapiMaxCode)
	}
	if cfg.Alg == "RS256" {
		cfg.Alg = "ES256" // RS256 is not among FAPI 2.0's algorithms
	}
	for i := range cfg.Clients {
		cfg.Clients[i].AllowPlainPKCE = false
		if cfg.Clients[i].Alg == "RS256" {
			cfg.Clients[i].Alg = ""
		}
	}
}

// authenticateClient is authenticateAnyClient plus FAPI 2.0 5.3.2.1: only
// private_key_jwt and mTLS client authentication.
func (s *Server) authenticateClient(r *http.Request, endpointURL func(*http.Request) string) (*authedClient, *oauthErr) {
	c, e := s.authenticateAnyClient(r, endpointURL)
	if e != nil || !s.cfg.FAPI2 {
		return c, e
	}
	switch c.method {
	case AuthPrivateKeyJWT, AuthTLS, AuthSelfSignedTLS:
		return c, nil
	}
	return nil, errInvalidClient("client authentication " + c.method + " is not allowed: FAPI 2.0 Security Profile 5.3.2.1 wants private_key_jwt or mTLS (tls_client_auth, self_signed_tls_client_auth)")
}

// assertionPolicy checks a client assertion's alg and aud: the issuer or
// the endpoint (RFC 7523 3 allows either; a client may be configured for
// one), the issuer alone under FAPI 2.0 (5.3.2.1).
func (s *Server) assertionPolicy(c *clientInfo, alg, iss, endpointURL string, aud []string) *oauthErr {
	if s.cfg.FAPI2 && !slices.Contains(fapiAlgs(), alg) {
		return errInvalidClient("client_assertion: alg " + alg + " is not allowed (FAPI 2.0 Security Profile 5.4: PS256, ES256 or EdDSA)")
	}
	endpoints := []string{iss + "/token", iss + "/mtls/token", endpointURL}
	mode := c.AssertionAud
	if s.cfg.FAPI2 {
		mode = "issuer"
	}
	for _, a := range aud {
		switch {
		case a == iss && mode != "token_endpoint":
			return nil
		case slices.Contains(endpoints, a) && mode != "issuer":
			return nil
		}
	}
	got := strings.Join(aud, ", ")
	if got == "" {
		got = "missing"
	}
	switch mode {
	case "issuer":
		why := "this client is configured for the issuer"
		if s.cfg.FAPI2 {
			why = "FAPI 2.0 Security Profile 5.3.2.1"
		}
		return errInvalidClient("client_assertion: aud must be the issuer " + iss + " alone (" + why + "), got " + got)
	case "token_endpoint":
		return errInvalidClient("client_assertion: aud must be the token endpoint " + iss + "/token (RFC 7523 3; this client is configured for it), got " + got)
	}
	return errInvalidClient("client_assertion: aud must be the issuer or the token endpoint (" + iss + "/token), got " + got)
}

// fapiAuthzParams: under FAPI 2.0 every authorization request uses PKCE
// with S256 (5.3.2.2). Called after the redirect_uri is known good.
func (s *Server) fapiAuthzParams(p map[string]string) *authzFail {
	if !s.cfg.FAPI2 {
		return nil
	}
	if p["code_challenge"] == "" {
		return redirectFail("invalid_request", "PKCE is required (FAPI 2.0 Security Profile 5.3.2.2): send code_challenge with code_challenge_method S256")
	}
	if p["code_challenge_method"] != "S256" {
		return redirectFail("invalid_request", "code_challenge_method must be S256 (FAPI 2.0 Security Profile 5.3.2.2), not "+quoteOrNone(p["code_challenge_method"]))
	}
	return nil
}

// fapiSenderConstrained: under FAPI 2.0 the token endpoint issues only
// sender-constrained tokens (5.3.2.1): a DPoP proof or a TLS client
// certificate must come with the request.
func (s *Server) fapiSenderConstrained(c *authedClient) *oauthErr {
	if !s.cfg.FAPI2 || c.jkt != "" || c.cert != nil {
		return nil
	}
	return errInvalidRequest("FAPI 2.0 Security Profile 5.3.2.1: tokens must be sender-constrained; send a DPoP proof (RFC 9449) or use mTLS (RFC 8705)")
}

// pickACR is the acr of a login: the first requested value the IdP offers,
// else the user's own, else the first the IdP offers (OIDC Core 3.1.2.1:
// acr_values is a voluntary claim request).
func (s *Server) pickACR(requested string, u *User) string {
	for _, v := range strings.Fields(requested) {
		if slices.Contains(s.cfg.ACRValues, v) {
			return v
		}
	}
	if u != nil && u.ACR != "" {
		return u.ACR
	}
	if len(s.cfg.ACRValues) > 0 {
		return s.cfg.ACRValues[0]
	}
	return ""
}

// userByHint finds the user a login_hint names: username, sub or email.
func (s *Server) userByHint(h string) *User {
	if u := s.users[h]; u != nil {
		return u
	}
	for i := range s.cfg.Users {
		if u := &s.cfg.Users[i]; u.Sub == h || (u.Email != "" && strings.EqualFold(u.Email, h)) {
			return s.users[u.Username]
		}
	}
	return nil
}

// adjustDiscovery adds the grants and ACR values to the metadata and, in
// FAPI 2.0 mode, advertises only what FAPI 2.0 allows.
func (s *Server) adjustDiscovery(doc map[string]any, tlsOn bool) {
	doc["grant_types_supported"] = []string{GrantAuthCode, GrantClientCreds, GrantRefresh, GrantDeviceCode, GrantTokenExchange, GrantPassword, GrantJWTBearer}
	if len(s.cfg.ACRValues) > 0 {
		doc["acr_values_supported"] = s.cfg.ACRValues
	}
	if cs, ok := doc["claims_supported"].([]string); ok {
		doc["claims_supported"] = append(slices.Clone(cs), "acr")
	}
	doc["token_endpoint_auth_signing_alg_values_supported"] = []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"}
	if !s.cfg.FAPI2 {
		return
	}
	doc["grant_types_supported"] = []string{GrantAuthCode, GrantClientCreds, GrantRefresh, GrantJWTBearer}
	methods := []string{AuthPrivateKeyJWT}
	if tlsOn {
		methods = append(methods, AuthTLS, AuthSelfSignedTLS)
	}
	for _, k := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		doc[k] = methods
	}
	delete(doc, "userinfo_signing_alg_values_supported") // userinfo is plain JSON: advertise no "none"
	for k, v := range doc {
		if !strings.HasSuffix(k, "_signing_alg_values_supported") {
			continue
		}
		if algs, ok := v.([]string); ok {
			doc[k] = slices.DeleteFunc(slices.Clone(algs), func(a string) bool { return !slices.Contains(fapiAlgs(), a) })
		}
	}
	doc["code_challenge_methods_supported"] = []string{"S256"}
	doc["require_pushed_authorization_requests"] = true
	doc["authorization_response_iss_parameter_supported"] = true
}
