package mockidp

import (
	"net/http"
	"time"
)

type discoveryCache struct {
	issuer string
	tls    bool
	body   []byte
}

func (s *Server) discoveryDoc(iss string, tlsOn bool) []byte {
	if c := s.disc.Load(); c != nil && c.issuer == iss && c.tls == tlsOn {
		return c.body
	}
	algs := []string{"RS256", "ES256", "EdDSA"}
	authMethods := []string{AuthBasic, AuthPost, AuthSecretJWT, AuthPrivateKeyJWT, AuthNone}
	if tlsOn {
		authMethods = append(authMethods, AuthTLS, AuthSelfSignedTLS)
	}
	doc := map[string]any{
		"issuer":                                                   iss,
		"authorization_endpoint":                                   iss + "/authorize",
		"token_endpoint":                                           iss + "/token",
		"jwks_uri":                                                 iss + "/jwks",
		"userinfo_endpoint":                                        iss + "/userinfo",
		"introspection_endpoint":                                   iss + "/introspect",
		"revocation_endpoint":                                      iss + "/revoke",
		"device_authorization_endpoint":                            iss + "/device_authorization",
		"end_session_endpoint":                                     iss + "/end_session",
		"scopes_supported":                                         s.cfg.Scopes,
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 responseModes(),
		"grant_types_supported":                                    []string{GrantAuthCode, GrantClientCreds, GrantRefresh, GrantDeviceCode, GrantTokenExchange},
		"subject_types_supported":                                  []string{"public"},
		"id_token_signing_alg_values_supported":                    algs,
		"userinfo_signing_alg_values_supported":                    []string{"none"},
		"token_endpoint_auth_methods_supported":                    authMethods,
		"token_endpoint_auth_signing_alg_values_supported":         []string{"RS256", "ES256", "EdDSA", "HS256"},
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"revocation_endpoint_auth_methods_supported":               authMethods,
		"code_challenge_methods_supported":                         []string{"S256"},
		"claims_supported":                                         []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "name", "email", "email_verified", "preferred_username"},
		"authorization_response_iss_parameter_supported":           true,
		"tls_client_certificate_bound_access_tokens":               tlsOn,
		"prompt_values_supported":                                  []string{"none", "login", "consent"},
		"claims_parameter_supported":                               false,
		"request_parameter_supported":                              true,
		"request_uri_parameter_supported":                          false,
		"require_request_uri_registration":                         false,
		"access_token_signing_alg_values_supported":                algs,
		"introspection_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA", "HS256"},
		"dpop_signing_alg_values_supported":                        dpopAlgs(),
		// RFC 9126 5, RFC 9101 10.5, JARM 3.
		"pushed_authorization_request_endpoint":       iss + "/par",
		"require_pushed_authorization_requests":       s.cfg.RequirePAR,
		"request_object_signing_alg_values_supported": publicKeyAlgs(),
		"authorization_signing_alg_values_supported":  algs,
	}
	if len(s.cfg.AuthorizationDetailsTypes) > 0 {
		doc["authorization_details_types_supported"] = s.cfg.AuthorizationDetailsTypes // RFC 9396 10
	}
	if s.cfg.AllowPlainPKCE {
		doc["code_challenge_methods_supported"] = []string{"S256", "plain"}
	}
	if tlsOn {
		doc["mtls_endpoint_aliases"] = map[string]string{
			"token_endpoint":                        iss + "/mtls/token",
			"introspection_endpoint":                iss + "/mtls/introspect",
			"revocation_endpoint":                   iss + "/mtls/revoke",
			"userinfo_endpoint":                     iss + "/mtls/userinfo",
			"device_authorization_endpoint":         iss + "/mtls/device_authorization",
			"pushed_authorization_request_endpoint": iss + "/mtls/par",
		}
	}
	s.adjustDiscovery(doc, tlsOn) // grants, acr values; FAPI 2.0 mode (fapi.go)
	body := jsonBytes(doc)
	s.disc.Store(&discoveryCache{issuer: iss, tls: tlsOn, body: body})
	return body
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	body := s.discoveryDoc(s.issuerFor(r), r.TLS != nil)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(body)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	fs := s.faults.Load()
	switch fs.f.JWKS {
	case JWKS503:
		w.Header().Set("Retry-After", "5")
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "JWKS outage (fault)")
		return
	case JWKSHang:
		// Hang until the client gives up, the server closes, or the bound passes.
		var limit <-chan time.Time
		if d := fs.f.HangLimit.D(); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			limit = t.C
		}
		select {
		case <-r.Context().Done():
		case <-s.closed:
		case <-limit:
			writeOAuthError(w, http.StatusGatewayTimeout, "temporarily_unavailable", "JWKS hang ended (fault)")
		}
		return
	case JWKSEmpty:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
		return
	case JWKSGarbage:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"garbage","n":"!!!not-base64!!!","e":"AQAB"}],` + "\x00\x01 <html>oops"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(s.keySet().jwks)
}
