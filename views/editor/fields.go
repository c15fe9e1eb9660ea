package editor

import (
	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/hmac"
)

// Kinds in the order the kind field cycles through them.
func Kinds() []string {
	return []string{"client-credentials", "auth-code", "device", "token-exchange", "hmac", "mtls", "api-key", "password", "jwt-bearer"}
}

// ftype is how a field is edited.
type ftype int

const (
	tText   ftype = iota
	tSecret       // masked; a stored one shows as "<stored secret>"
	tChoice       // ←/→ or space cycle through choices
	tToggle       // space or ←/→ turn it on and off ("true" / "")
	tJSON         // text holding a JSON object (or an array: jsonArray)
	tNumber       // a whole number, 0 or more; empty means unset
	tNotes        // one line on screen: \n and \t stand for a new line and a tab
)

type field struct {
	key     string
	label   string
	typ     ftype
	hint    string
	choices []string // tChoice; "" among them means "unset", shown as unset
	unset   string   // how a tChoice shows "": "(auto)", "(default)"
	section string   // a heading shown above the first field of a section
}

// oauthKind: the kinds that request tokens (DPoP, client auth apply).
func oauthKind(kind string) bool { return kind != "hmac" && kind != "api-key" }

func authMethods() []string {
	out := []string{""}
	for _, m := range flows.AuthMethods() {
		out = append(out, string(m))
	}
	return out
}

// JSONKeys are the form keys whose values are JSON.
func JSONKeys() []string { return []string{"authorization_details", "claims", "assertion_claims"} }

// jsonArray: the JSON field holds an array (RFC 9396), the others an object.
func jsonArray(key string) bool { return key == "authorization_details" }

// fieldsFor lists the fields of a kind; withDPoP adds the DPoP alg and key.
func fieldsFor(kind string, withDPoP bool) []field {
	f := []field{
		{key: "name", label: "Name", hint: "renaming keeps the history and the cached token"},
		{key: "kind", label: "Kind", typ: tChoice, choices: Kinds(), hint: "←/→ to change"},
	}
	add := func(section string, fs ...field) {
		for _, x := range fs {
			x.section = section
			f = append(f, x)
		}
	}
	if oauthKind(kind) {
		add("", field{key: "issuer", label: "Issuer URL", hint: "ctrl+d fills endpoints from discovery"},
			field{key: "token_url", label: "Token URL"},
			field{key: "client_id", label: "Client ID"},
			field{key: "client_secret", label: "Client secret", typ: tSecret, hint: "value, env:NAME, file:PATH or cmd:PROGRAM"},
			field{key: "auth_method", label: "Auth method", typ: tChoice, choices: authMethods(), unset: "(auto)", hint: "←/→: how the client authenticates at the token endpoint"},
			field{key: "scopes", label: "Scopes", hint: "space separated"},
			field{key: "audience", label: "Audience", hint: "space separated"},
			field{key: "resource", label: "Resource", hint: "space separated URIs (RFC 8707)"})
	}
	switch kind {
	case "auth-code":
		add("Authorization request",
			field{key: "auth_url", label: "Authorization URL"},
			field{key: "redirect_port", label: "Redirect port", typ: tNumber, hint: "empty or 0 = a free port"},
			field{key: "par", label: "PAR", typ: tToggle, hint: "space: push the request first (RFC 9126)"},
			field{key: "request_object", label: "Request object", typ: tToggle, hint: "space: send a signed JAR (RFC 9101), signed with the private key"},
			field{key: "response_mode", label: "Response mode", typ: tChoice, choices: append([]string{""}, flows.ResponseModes()...), unset: "(default)", hint: "←/→; the *.jwt modes are JARM, verified with the issuer's keys"},
			field{key: "authorization_details", label: "Auth details", typ: tJSON, hint: `RFC 9396 JSON array: [{"type":"payment_initiation"}]`},
			field{key: "prompt", label: "Prompt", hint: "none, login, consent, select_account (space separated)"},
			field{key: "login_hint", label: "Login hint"},
			field{key: "acr_values", label: "ACR values", hint: "space separated; the ID token's acr is checked"},
			field{key: "max_age", label: "Max age", typ: tNumber, hint: "seconds; empty sends none"},
			field{key: "claims", label: "Claims", typ: tJSON, hint: `OIDC claims request, a JSON object: {"id_token":{"email":null}}`},
			field{key: "ui_locales", label: "UI locales", hint: "space separated BCP 47 tags"})
	case "device":
		add("", field{key: "device_url", label: "Device auth URL"})
	case "password":
		add("Resource owner", field{key: "username", label: "Username"},
			field{key: "user_password", label: "Password", typ: tSecret, hint: "value, env:NAME, file:PATH or cmd:PROGRAM"})
	case "jwt-bearer":
		add("Grant assertion", field{key: "assertion_file", label: "Assertion file", hint: "a file holding the JWT to send as is; or sign one:"},
			field{key: "assertion_key", label: "Assertion key", typ: tSecret, hint: "PEM or JWK signing the assertion: a path, env:NAME or file:PATH"},
			field{key: "assertion_claims", label: "Assertion claims", typ: tJSON, hint: `JSON object over the defaults: {"sub":"alice"}`})
	case "hmac":
		add("", field{key: "hmac.scheme", label: "Scheme", typ: tChoice, choices: hmac.Schemes(), hint: "←/→ to change"},
			field{key: "hmac.key_id", label: "Key ID"},
			field{key: "hmac_key", label: "HMAC key", typ: tSecret, hint: "value, env:NAME, file:PATH or cmd:PROGRAM"},
			field{key: "target_url", label: "Target URL"},
			field{key: "hmac.label", label: "Label", hint: "RFC 9421 signature label"},
			field{key: "hmac.components", label: "Components", hint: `RFC 9421 components: "@method" "@authority" ...`},
			field{key: "hmac.region", label: "Region", hint: "aws-sigv4"},
			field{key: "hmac.service", label: "Service", hint: "aws-sigv4"},
			field{key: "hmac.access_key", label: "Access key ID", hint: "aws-sigv4"})
	case "api-key":
		add("", field{key: "target_url", label: "API URL"},
			field{key: "api_key_header", label: "Header", hint: "the header that carries the key; empty: the runner's default"},
			field{key: "api_key_query", label: "Query parameter", hint: "or send the key in this query parameter instead of a header"},
			field{key: "api_key", label: "API key", typ: tSecret, hint: "value, env:NAME, file:PATH or cmd:PROGRAM"})
	}
	if oauthKind(kind) {
		sec := "Client assertion"
		add(sec, field{key: "private_key", label: "Private key", typ: tSecret, hint: "private_key_jwt and JAR: PEM or JWK, a path, env:NAME or file:PATH"},
			field{key: "kid", label: "Key ID (kid)", hint: "empty: the JWK's kid, else its thumbprint"},
			field{key: "assertion_aud", label: "Assertion aud", hint: "empty, issuer, token-endpoint, both or a URL"},
			field{key: "fapi2", label: "FAPI 2.0", typ: tToggle, hint: "space: PAR, PKCE, DPoP or mTLS, private_key_jwt, aud = issuer"})
		add("Sender constraint", field{key: "dpop", label: "DPoP", typ: tToggle, hint: "space or ctrl+o: DPoP proofs, tokens bound to the key (RFC 9449)"})
		if withDPoP {
			add("Sender constraint",
				field{key: "dpop_alg", label: "DPoP alg", typ: tChoice, choices: append([]string{""}, dpop.Algs()...), unset: "(ES256)", hint: "←/→ to change"},
				field{key: "dpop_key", label: "DPoP key", typ: tSecret, hint: "empty: the profile keeps a key it generates; or PEM/JWK, env:NAME, file:PATH"})
		}
		mtls := "mTLS (optional)"
		if kind == "mtls" {
			mtls = "mTLS"
		}
		add(mtls, field{key: "cert_file", label: "Client cert"}, field{key: "key_file", label: "Client key"}, field{key: "ca_file", label: "CA file"})
		add("More endpoints", field{key: "jwks_url", label: "JWKS URL"}, field{key: "introspect_url", label: "Introspection URL"},
			field{key: "revoke_url", label: "Revocation URL"}, field{key: "userinfo_url", label: "Userinfo URL"})
	}
	add("About",
		field{key: "extra_params", label: "Extra params", hint: `k=v pairs, space separated; quote a value with spaces: k="a b"; call_url=URL for "call API"`},
		field{key: "tags", label: "Tags", hint: "space separated"},
		field{key: "notes", label: "Notes", typ: tNotes, hint: `\n starts a new line`})
	return f
}
