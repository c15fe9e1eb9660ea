package flows

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Flow names, as the command line spells them (`authlab flow NAME`).
const (
	FlowClientCredentials = "client-credentials"
	FlowAuthCode          = "auth-code"
	FlowRefresh           = "refresh"
	FlowDevice            = "device"
	FlowTokenExchange     = "token-exchange"
	FlowIntrospect        = "introspect"
	FlowRevoke            = "revoke"
	FlowUserinfo          = "userinfo"
	// FlowCall uses an access token (given or cached) on a protected
	// resource, without getting a new one first.
	FlowCall = "call"
	// FlowHMAC is an HMAC-signed request (flows/hmac).
	FlowHMAC = "hmac"
	// FlowMTLS is a request over TLS with the client certificate (flows/mtls).
	FlowMTLS = "mtls"
	// FlowPassword is the resource owner password credentials grant
	// (RFC 6749 4.3), which RFC 9700 2.4 forbids; kept for legacy servers.
	FlowPassword = "password"
	// FlowJWTBearer is the JWT bearer authorization grant (RFC 7523 2.1).
	FlowJWTBearer = "jwt-bearer"
)

// OAuthFlows lists the flows flows/oauth runs, in menu order.
func OAuthFlows() []string {
	return []string{FlowClientCredentials, FlowAuthCode, FlowRefresh, FlowDevice,
		FlowTokenExchange, FlowIntrospect, FlowRevoke, FlowUserinfo, FlowPassword, FlowJWTBearer}
}

// AuthMethod is how the client authenticates at the token endpoint
// (the token_endpoint_auth_method names of RFC 8414 / OIDC registration).
type AuthMethod string

const (
	AuthClientSecretBasic AuthMethod = "client_secret_basic"
	AuthClientSecretPost  AuthMethod = "client_secret_post"
	AuthClientSecretJWT   AuthMethod = "client_secret_jwt"
	AuthPrivateKeyJWT     AuthMethod = "private_key_jwt"
	AuthTLSClient         AuthMethod = "tls_client_auth"
	AuthSelfSignedTLS     AuthMethod = "self_signed_tls_client_auth"
	AuthNone              AuthMethod = "none"
)

// AuthMethods lists every supported method.
func AuthMethods() []AuthMethod {
	return []AuthMethod{AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT,
		AuthPrivateKeyJWT, AuthTLSClient, AuthSelfSignedTLS, AuthNone}
}

// ParseAuthMethod accepts a method name (case-insensitive, '-' for '_');
// empty means "choose": the engine picks one from the client's credentials.
func ParseAuthMethod(s string) (AuthMethod, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	if n == "" {
		return "", nil
	}
	ms := AuthMethods()
	for _, m := range ms {
		if string(m) == n {
			return m, nil
		}
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = string(m)
	}
	return "", fmt.Errorf("unknown auth method %q (one of %s)", s, strings.Join(names, ", "))
}

// Secret holds a resolved secret (client secret, token) that must never be
// printed: every fmt verb and JSON render it masked. Reveal is the only way
// to the value, so a leak has to be written on purpose.
type Secret string

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value is present.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) masked() string {
	if s == "" {
		return ""
	}
	return Masked
}

func (s Secret) String() string   { return s.masked() }
func (s Secret) GoString() string { return fmt.Sprintf("flows.Secret(%q)", s.masked()) }

// Format masks under every verb, including %q, %x and %#v.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.masked())
}

// MarshalJSON masks: a Request serialised for display or history never
// carries the secret. (Profiles keep secrets through the store's own path.)
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.masked())), nil }

// MarshalText masks too (used by encoders that prefer it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

// Endpoints are explicit endpoint URLs. Any that is set wins over discovery;
// when every endpoint a flow needs is set, no discovery happens.
type Endpoints struct {
	Token      string `json:"token,omitempty"`
	Auth       string `json:"authorization,omitempty"`
	Device     string `json:"device_authorization,omitempty"`
	Introspect string `json:"introspection,omitempty"`
	Revoke     string `json:"revocation,omitempty"`
	Userinfo   string `json:"userinfo,omitempty"`
	JWKS       string `json:"jwks,omitempty"`
	// PAR is the pushed authorization request endpoint (RFC 9126).
	PAR string `json:"pushed_authorization_request,omitempty"`
}

// Shape is what a request's authorization step and grants are shaped by,
// beyond endpoints, client and secrets: one struct that flows.Request and a
// saved profile (store.Profile) both embed, with the same JSON names, so a
// setting is added in one place and neither copies the other field by field.
type Shape struct {
	// PAR pushes the parameters first (RFC 9126; also whenever the metadata
	// requires it). RequestObject sends them as a signed JWT (RFC 9101).
	// ResponseMode is query, fragment, form_post, jwt, query.jwt,
	// fragment.jwt or form_post.jwt (the *.jwt modes are JARM).
	// AuthorizationDetails is a JSON array (RFC 9396) sent in the
	// authorization, PAR and token requests.
	PAR                  bool            `json:"par,omitempty"`
	RequestObject        bool            `json:"request_object,omitempty"`
	ResponseMode         string          `json:"response_mode,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`

	// Authorization request parameters of OIDC Core 3.1.2.1 / 5.5. MaxAge
	// nil sends none (0 is a real value: authenticate again). ACRValues is
	// space separated; the ID token's acr is checked against it (warn) and
	// its auth_time against MaxAge (fail).
	Prompt    string          `json:"prompt,omitempty"`
	LoginHint string          `json:"login_hint,omitempty"`
	ACRValues string          `json:"acr_values,omitempty"`
	MaxAge    *int            `json:"max_age,omitempty"`
	Claims    json.RawMessage `json:"claims,omitempty"`
	UILocales string          `json:"ui_locales,omitempty"`

	// AssertionAud is the aud of client assertions: "" (the token endpoint,
	// RFC 7523 3; the issuer with FAPI2), "issuer", "token-endpoint",
	// "both" or a URL.
	AssertionAud string `json:"assertion_aud,omitempty"`
	// FAPI2 shapes the flow as FAPI 2.0 Security Profile asks: PAR, PKCE
	// S256, DPoP (unless a certificate gives mTLS), the issuer as the
	// assertion audience, iss required in the authorization response.
	FAPI2 bool `json:"fapi2,omitempty"`

	// Username is the password grant's user (RFC 6749 4.3).
	Username string `json:"username,omitempty"`
	// AssertionClaims (a JSON object) go over the jwt-bearer assertion's
	// defaults iss = sub = client_id, aud = token endpoint, exp = now + 5
	// min, iat, jti (RFC 7523 2.1).
	AssertionClaims json.RawMessage `json:"assertion_claims,omitempty"`
}

// Clone returns a copy that shares nothing mutable with s.
func (s Shape) Clone() Shape {
	c := s
	c.AuthorizationDetails = append(json.RawMessage(nil), s.AuthorizationDetails...)
	c.Claims = append(json.RawMessage(nil), s.Claims...)
	c.AssertionClaims = append(json.RawMessage(nil), s.AssertionClaims...)
	if s.MaxAge != nil {
		v := *s.MaxAge
		c.MaxAge = &v
	}
	return c
}

// Request is everything an OAuth 2.0 / OIDC flow needs. It is built from a
// profile or from flags; the zero value of each optional field means "the
// default". A Request is a value: flows copy it and never modify the caller's.
type Request struct {
	Flow string `json:"flow"`

	// Issuer enables discovery (OIDC, then RFC 8414) and is the expected
	// `iss` of tokens and the `aud` of client assertions.
	Issuer    string    `json:"issuer,omitempty"`
	Endpoints Endpoints `json:"endpoints,omitempty"`

	ClientID     string `json:"client_id,omitempty"`
	ClientSecret Secret `json:"client_secret,omitempty"` // resolved value; masked in every output
	// AuthMethod empty: none for a client without secret or key,
	// private_key_jwt with PrivateKey, tls_client_auth with only a certificate,
	// else client_secret_basic.
	AuthMethod AuthMethod `json:"auth_method,omitempty"`
	// PrivateKey is a PEM or JWK file for private_key_jwt; KeyID overrides the
	// JWK's kid in the assertion header.
	PrivateKey string `json:"private_key,omitempty"`
	// PrivateKeyData is the key itself (PEM or JWK), when it comes from a
	// secret store rather than a file; it wins over PrivateKey.
	PrivateKeyData Secret `json:"private_key_data,omitempty"`
	KeyID          string `json:"key_id,omitempty"`
	// AssertionAlg overrides the client assertion algorithm (default RS256 /
	// ES256 / EdDSA by key type, HS256 for client_secret_jwt).
	AssertionAlg string `json:"assertion_alg,omitempty"`

	Scopes   []string `json:"scopes,omitempty"`
	Audience []string `json:"audience,omitempty"`
	Resource []string `json:"resource,omitempty"`

	// TLS: client certificate for mTLS client auth / bound tokens, and an
	// extra CA to trust for the IdP and resource servers.
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	CAFile   string `json:"ca_file,omitempty"`

	// Token is the input token: the refresh token for refresh, the token to
	// introspect / revoke, the access token for userinfo and --call, the
	// subject token for token exchange.
	Token         Secret `json:"token,omitempty"`
	TokenTypeHint string `json:"token_type_hint,omitempty"`
	// Token exchange (RFC 8693).
	SubjectTokenType   string `json:"subject_token_type,omitempty"`
	ActorToken         Secret `json:"actor_token,omitempty"`
	ActorTokenType     string `json:"actor_token_type,omitempty"`
	RequestedTokenType string `json:"requested_token_type,omitempty"`

	// Authorization code: loopback redirect on 127.0.0.1 (or "localhost"
	// with UseLocalhost), port 0 = random.
	RedirectPort int  `json:"redirect_port,omitempty"`
	UseLocalhost bool `json:"use_localhost,omitempty"`
	// ExtraParams are added to the authorization (and device) request.
	ExtraParams url.Values `json:"extra_params,omitempty"`
	NoBrowser   bool       `json:"no_browser,omitempty"`
	// Browser is a command that takes the URL as its argument ($BROWSER);
	// empty: github.com/pkg/browser.
	Browser string `json:"browser,omitempty"`

	// Shape: the authorization request's shape and the grants' settings
	// that a profile saves as they are (PAR, JAR, response mode, RAR, the
	// OIDC parameters, assertion aud, FAPI2, username, assertion claims).
	Shape
	// RequestKey / RequestKeyData sign the request object (RFC 9101),
	// else the private_key_jwt key does.
	RequestKey     string `json:"request_key,omitempty"`
	RequestKeyData Secret `json:"request_key_data,omitempty"`
	IDTokenHint    Secret `json:"id_token_hint,omitempty"`

	// Password grant (RFC 6749 4.3): the user's password (Shape.Username).
	Password Secret `json:"password,omitempty"`
	// JWT bearer grant (RFC 7523 2.1): Assertion as given, else one signed
	// with AssertionKey / AssertionKeyData (PEM or private JWK) carrying
	// Shape.AssertionClaims.
	Assertion        Secret `json:"assertion,omitempty"`
	AssertionKey     string `json:"assertion_key,omitempty"`
	AssertionKeyData Secret `json:"assertion_key_data,omitempty"`

	// CallURL: after the flow, call this resource with the access token.
	CallURL string `json:"call_url,omitempty"`

	// DPoP (RFC 9449): DPoP with an ephemeral key, or DPoPKey (a PEM or
	// private JWK file) / DPoPKeyData (the key itself, from a secret
	// store; wins over DPoPKey). DPoPAlg: ES256 (default), PS256, RS256, EdDSA.
	DPoP        bool   `json:"dpop,omitempty"`
	DPoPKey     string `json:"dpop_key,omitempty"`
	DPoPKeyData Secret `json:"dpop_key_data,omitempty"`
	DPoPAlg     string `json:"dpop_alg,omitempty"`

	Timeout time.Duration `json:"timeout,omitempty"` // per HTTP call; DefaultTimeout when zero
	Wait    time.Duration `json:"wait,omitempty"`    // callback / device wait; 5 min when zero
	Leeway  time.Duration `json:"leeway,omitempty"`  // for time checks; the token engine's default when zero

	// Now is the clock for expiry and skew; time.Now when nil.
	Now func() time.Time `json:"-"`
}

// UsesDPoP reports whether the request asks for DPoP-bound tokens.
func (r *Request) UsesDPoP() bool { return r.DPoP || r.DPoPKey != "" || r.DPoPKeyData.IsSet() }

// ResponseModes lists the response_mode values the loopback listener takes.
func ResponseModes() []string {
	return []string{"query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"}
}

// DefaultWait bounds how long a flow waits for a user (browser or device).
const DefaultWait = 5 * time.Minute

// Clock returns r.Now or time.Now.
func (r *Request) Clock() func() time.Time {
	if r.Now != nil {
		return r.Now
	}
	return time.Now
}

// WaitOrDefault returns Wait, or DefaultWait when unset.
func (r *Request) WaitOrDefault() time.Duration {
	if r.Wait > 0 {
		return r.Wait
	}
	return DefaultWait
}

// Clone returns a copy that shares nothing mutable with r.
func (r Request) Clone() Request {
	c := r
	c.Scopes = append([]string(nil), r.Scopes...)
	c.Audience = append([]string(nil), r.Audience...)
	c.Resource = append([]string(nil), r.Resource...)
	c.Shape = r.Shape.Clone()
	if r.ExtraParams != nil {
		c.ExtraParams = make(url.Values, len(r.ExtraParams))
		for k, v := range r.ExtraParams {
			c.ExtraParams[k] = append([]string(nil), v...)
		}
	}
	return c
}

// String is a one-line, secret-free description for logs.
func (r Request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", r.Flow)
	if r.Issuer != "" {
		fmt.Fprintf(&b, " issuer=%s", r.Issuer)
	} else if r.Endpoints.Token != "" {
		fmt.Fprintf(&b, " token_url=%s", r.Endpoints.Token)
	}
	if r.ClientID != "" {
		fmt.Fprintf(&b, " client_id=%s", r.ClientID)
	}
	if r.AuthMethod != "" {
		fmt.Fprintf(&b, " auth=%s", r.AuthMethod)
	}
	if r.ClientSecret.IsSet() {
		b.WriteString(" client_secret=" + Masked)
	}
	if len(r.Scopes) > 0 {
		fmt.Fprintf(&b, " scope=%q", strings.Join(r.Scopes, " "))
	}
	return b.String()
}

// Names of the authorization request settings in engine messages.
const (
	FieldPARURL               Field = "par_url"
	FieldPAR                  Field = "par"
	FieldRequestObject        Field = "request_object"
	FieldRequestKey           Field = "request_key"
	FieldResponseMode         Field = "response_mode"
	FieldAuthorizationDetails Field = "authorization_details"
	FieldPrompt               Field = "prompt"
	FieldLoginHint            Field = "login_hint"
	FieldACRValues            Field = "acr_values"
	FieldMaxAge               Field = "max_age"
	FieldClaims               Field = "claims"
	FieldUILocales            Field = "ui_locales"
	FieldIDTokenHint          Field = "id_token_hint"
	FieldAssertionAud         Field = "assertion_aud"
	FieldKeyID                Field = "kid"
	FieldFAPI2                Field = "fapi2"
	FieldUsername             Field = "username"
	FieldPassword             Field = "password"
	FieldAssertion            Field = "assertion"
	FieldAssertionKey         Field = "assertion_key"
	FieldAssertionClaims      Field = "assertion_claims"
)
