package token

import "strings"

// glossary holds plain meanings of registered and common claims and header
// parameters. Keys are claim names, or "parent.child" for nested members.
var glossary = map[string]string{
	// RFC 7519 registered claims
	"iss": "issuer: who created and signed the token (RFC 7519)",
	"sub": "subject: the user or client the token is about, unique within the issuer (RFC 7519)",
	"aud": "audience: who the token is meant for; a recipient must find itself here (RFC 7519)",
	"exp": "expiry: after this time the token must be rejected (RFC 7519)",
	"nbf": "not before: the token must be rejected before this time (RFC 7519)",
	"iat": "issued at: when the issuer created the token (RFC 7519)",
	"jti": "JWT ID: a unique id, lets a recipient detect replays (RFC 7519)",
	// OIDC Core
	"auth_time":             "when the user last actively authenticated (OIDC Core)",
	"nonce":                 "value from the authorization request, echoed to stop ID token replay (OIDC Core)",
	"acr":                   "authentication context class: how strongly the user was authenticated (OIDC Core)",
	"amr":                   "authentication methods used, e.g. pwd, otp, mfa (OIDC Core, RFC 8176)",
	"azp":                   "authorized party: the client the token was issued to (OIDC Core; also Azure v2)",
	"at_hash":               "hash of the access token issued with this ID token (OIDC Core)",
	"c_hash":                "hash of the authorization code issued with this ID token (OIDC Core)",
	"s_hash":                "hash of the state value (FAPI)",
	"sid":                   "session id at the IdP, used for logout (OIDC Front/Back-Channel Logout)",
	"name":                  "full name (OIDC standard claim)",
	"given_name":            "given (first) name (OIDC standard claim)",
	"family_name":           "family (last) name (OIDC standard claim)",
	"middle_name":           "middle name (OIDC standard claim)",
	"nickname":              "casual name (OIDC standard claim)",
	"preferred_username":    "the name the user likes to be called; not unique or stable (OIDC standard claim)",
	"profile":               "URL of the user's profile page (OIDC standard claim)",
	"picture":               "URL of the user's picture (OIDC standard claim)",
	"website":               "URL of the user's web site (OIDC standard claim)",
	"email":                 "e-mail address; not a stable identifier, use sub (OIDC standard claim)",
	"email_verified":        "whether the IdP verified the e-mail address (OIDC standard claim)",
	"gender":                "gender (OIDC standard claim)",
	"birthdate":             "birthday, YYYY-MM-DD (OIDC standard claim)",
	"zoneinfo":              "time zone, e.g. Europe/Paris (OIDC standard claim)",
	"locale":                "locale, e.g. en-US (OIDC standard claim)",
	"phone_number":          "phone number (OIDC standard claim)",
	"phone_number_verified": "whether the IdP verified the phone number (OIDC standard claim)",
	"address":               "postal address object (OIDC standard claim)",
	"updated_at":            "when the user's profile was last changed (OIDC standard claim)",
	// RFC 9068 / RFC 8693 / RFC 8705 / RFC 9449
	"client_id":    "the OAuth client the token was issued to (RFC 9068, RFC 8693)",
	"scope":        "granted scopes, space-separated (RFC 8693, RFC 9068)",
	"act":          "actor: who is acting on behalf of sub, after a token exchange (RFC 8693)",
	"may_act":      "who is allowed to act on behalf of sub via token exchange (RFC 8693)",
	"cnf":          "confirmation: the key or certificate the token is bound to; presenting it alone is not enough (RFC 7800)",
	"cnf.x5t#S256": "bound to a client certificate with this SHA-256 thumbprint: use it only over mTLS with that certificate (RFC 8705)",
	"cnf.jkt":      "bound to a DPoP key with this JWK thumbprint: each request needs a DPoP proof signed by it (RFC 9449)",
	"cnf.jwk":      "bound to this public key (RFC 7800)",
	// DPoP proofs (RFC 9449)
	"jkt":          "JWK SHA-256 thumbprint (RFC 7638) of a DPoP key: what cnf.jkt and dpop_jkt name (RFC 9449)",
	"dpop_jkt":     "authorization request parameter binding the code to this DPoP key's thumbprint (RFC 9449 10)",
	"ath":          "DPoP proof: base64url SHA-256 of the access token sent with it, so a proof cannot carry another token (RFC 9449 4.2)",
	"htm":          "DPoP proof: the HTTP method of the request it was made for (RFC 9449 4.2)",
	"htu":          "DPoP proof: the URL of the request it was made for, without query and fragment (RFC 9449 4.2)",
	"dpop_nonce":   "DPoP nonce: a value the server sent in DPoP-Nonce and wants in the proof's nonce claim; use_dpop_nonce asks for a retry with it (RFC 9449 8, 9)",
	"cnf.kid":      "bound to the key with this id (RFC 7800)",
	"entitlements": "entitlements of the subject (RFC 9068, from SCIM)",
	"roles":        "roles of the subject (RFC 9068, from SCIM; Azure app roles)",
	"groups":       "groups the subject belongs to (RFC 9068, from SCIM; many IdPs)",
	"events":       "security events carried by a SET (RFC 8417)",
	"txn":          "transaction id for audit correlation (RFC 8417)",
	// Common vendor claims
	"scp":                "scopes granted, as a list or a space-separated string (Azure AD, Okta)",
	"tid":                "tenant id: the directory that issued the token (Azure AD)",
	"oid":                "object id: the user's or app's stable id across apps in the tenant (Azure AD)",
	"ver":                "token format version (Azure AD, Okta)",
	"appid":              "the client the token was issued to (Azure AD v1)",
	"idp":                "the identity provider that authenticated the user (Azure AD, Keycloak)",
	"uid":                "the user's id (Okta)",
	"cid":                "the client the token was issued to (Okta)",
	"typ":                "token type hint (Keycloak: Bearer, ID, Refresh)",
	"session_state":      "session id at the IdP (Keycloak)",
	"realm_access":       "realm roles (Keycloak)",
	"resource_access":    "per-client roles (Keycloak)",
	"permissions":        "permissions granted via RBAC (Auth0)",
	"gty":                "grant type the token was issued for (Auth0)",
	"org_id":             "organization the user signed in to (Auth0)",
	"token_use":          "access or id (Amazon Cognito)",
	"cognito:groups":     "groups of the user (Amazon Cognito)",
	"username":           "the user's name (Amazon Cognito)",
	"hd":                 "hosted domain of a Google Workspace account (Google)",
	"origin_jti":         "id of the original token (Amazon Cognito)",
	"event_id":           "id of the authentication event (Amazon Cognito)",
	"x-hasura-user-id":   "user id for Hasura authorization",
	"https://hasura.io/": "Hasura claims namespace",
}

// headerGlossary explains JOSE header parameters.
var headerGlossary = map[string]string{
	"alg":      "signature algorithm (RFC 7515)",
	"kid":      "key id: which key in the issuer's JWKS signed the token (RFC 7515)",
	"typ":      "media type: JWT, or at+jwt for RFC 9068 access tokens (RFC 7515)",
	"cty":      "content type of the payload, JWT for nested tokens (RFC 7515)",
	"jku":      "URL of a JWKS: never trust keys the token names itself (RFC 7515)",
	"x5u":      "URL of a certificate chain: never trust keys the token names itself (RFC 7515)",
	"x5c":      "certificate chain of the signing key (RFC 7515)",
	"x5t":      "SHA-1 thumbprint of the signing certificate (RFC 7515)",
	"jwk":      "an embedded public key: not a trust anchor (RFC 7515)",
	"crit":     "extensions a verifier must understand or reject the token (RFC 7515)",
	"enc":      "content encryption algorithm (RFC 7516)",
	"zip":      "compression before encryption (RFC 7516)",
	"b64":      "whether the payload is base64url-encoded (RFC 7797)",
	"x5t#S256": "SHA-256 thumbprint of the signing certificate (RFC 7515)",
}

// Explain returns the plain meaning of a claim, or of a nested claim given as
// "parent.child" (e.g. "cnf.jkt").
func Explain(claim string) (string, bool) {
	if s, ok := glossary[claim]; ok {
		return s, true
	}
	if strings.HasPrefix(claim, "https://") || strings.HasPrefix(claim, "http://") {
		return "a namespaced custom claim (the IdP's or your application's)", true
	}
	return "", false
}

// ExplainHeader returns the plain meaning of a JOSE header parameter.
func ExplainHeader(param string) (string, bool) {
	s, ok := headerGlossary[param]
	return s, ok
}
