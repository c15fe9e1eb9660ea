package mockidp

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Client auth methods (RFC 8414 token_endpoint_auth_methods_supported values).
const (
	AuthBasic          = "client_secret_basic"
	AuthPost           = "client_secret_post"
	AuthSecretJWT      = "client_secret_jwt"
	AuthPrivateKeyJWT  = "private_key_jwt"
	AuthNone           = "none"
	AuthTLS            = "tls_client_auth"
	AuthSelfSignedTLS  = "self_signed_tls_client_auth"
	GrantAuthCode      = "authorization_code"
	GrantClientCreds   = "client_credentials"
	GrantRefresh       = "refresh_token"
	GrantDeviceCode    = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantPassword is RFC 6749 4.3 (forbidden by RFC 9700 2.4; here for
	// the legacy clients people still test).
	GrantPassword  = "password"
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// Client is one registered client. Secret is never printed by --print-config
// for anything but the demo defaults, which are public by design.
type Client struct {
	ID           string   `json:"client_id"`
	Secret       string   `json:"client_secret,omitempty"`
	AuthMethods  []string `json:"auth_methods"`
	GrantTypes   []string `json:"grant_types"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	Scopes       []string `json:"scopes,omitempty"` // allowed; empty = all configured scopes
	Public       bool     `json:"public,omitempty"`
	// JWKS holds the client's public keys for private_key_jwt (a JWK Set).
	JWKS json.RawMessage `json:"jwks,omitempty"`
	// TLSSubject is the certificate subject DN expected by tls_client_auth.
	TLSSubject string `json:"tls_client_auth_subject_dn,omitempty"`
	// SelfSignedX5tS256 pins the certificate for self_signed_tls_client_auth.
	SelfSignedX5tS256 []string `json:"self_signed_x5t_s256,omitempty"`
	// AllowPlainPKCE lets this client use code_challenge_method=plain.
	AllowPlainPKCE bool `json:"allow_plain_pkce,omitempty"`
	// Alg overrides the issuer's signing algorithm for this client's tokens.
	Alg string `json:"alg,omitempty"`
	// Audience is the aud of access tokens when the request names none.
	Audience string `json:"audience,omitempty"`
	// BoundTokens makes access tokens certificate-bound (RFC 8705) whenever
	// the client presented a certificate.
	BoundTokens bool `json:"bound_tokens,omitempty"`
	// DPoPBound refuses this client's token requests without a DPoP proof
	// (RFC 9449 5.2 dpop_bound_access_tokens).
	DPoPBound bool `json:"dpop_bound_access_tokens,omitempty"`
	// RequirePAR refuses this client's authorization requests that were
	// not pushed first (RFC 9126 5 require_pushed_authorization_requests).
	RequirePAR bool `json:"require_pushed_authorization_requests,omitempty"`
	// RequireSignedRequestObject refuses this client's authorization
	// requests without a signed request object (RFC 9101 10.5).
	RequireSignedRequestObject bool `json:"require_signed_request_object,omitempty"`
	// AssertionAud is the aud this client's assertions must carry:
	// "issuer", "token_endpoint", or empty for either (FAPI2 mode: the
	// issuer only, whatever this says).
	AssertionAud string `json:"assertion_aud,omitempty"`
}

// User is one account of the IdP.
type User struct {
	Sub      string `json:"sub"`
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	// ACR is the authentication context the user's login reaches when the
	// request asks for none the IdP offers (default: the first acr_values).
	ACR string `json:"acr,omitempty"`
	// Claims are extra claims of the user's ID tokens and userinfo (a
	// JSON object; the protocol claims iss, sub, aud, exp, ... cannot be
	// replaced).
	Claims map[string]any `json:"claims,omitempty"`
}

// Lifetimes of issued artefacts.
type Lifetimes struct {
	AccessToken  Duration `json:"access_token"`
	IDToken      Duration `json:"id_token"`
	RefreshToken Duration `json:"refresh_token"`
	Code         Duration `json:"code"`
	DeviceCode   Duration `json:"device_code"`
	// DevicePollInterval is the minimum polling interval (RFC 8628 3.2).
	DevicePollInterval Duration `json:"device_poll_interval"`
	// RequestURI is how long a pushed request_uri lives (RFC 9126 2.2);
	// zero means 60 s.
	RequestURI Duration `json:"request_uri,omitempty"`
}

// Config is what --config replaces and --print-config prints.
type Config struct {
	Alg         string    `json:"alg"`
	Scopes      []string  `json:"scopes"`
	Clients     []Client  `json:"clients"`
	Users       []User    `json:"users"`
	DefaultUser string    `json:"default_user"`
	Lifetimes   Lifetimes `json:"lifetimes"`
	// AllowPlainPKCE allows code_challenge_method=plain for every client.
	AllowPlainPKCE bool `json:"allow_plain_pkce,omitempty"`
	// DPoPNonce requires server-provided DPoP nonces (RFC 9449 8, 9) at the
	// token endpoint and the demo resources.
	DPoPNonce bool `json:"dpop_nonce,omitempty"`
	// RequirePAR refuses every authorization request not pushed first.
	RequirePAR bool `json:"require_pushed_authorization_requests,omitempty"`
	// AuthorizationDetailsTypes are the RFC 9396 authorization_details
	// types the IdP grants (and echoes into tokens and introspection).
	AuthorizationDetailsTypes []string `json:"authorization_details_types_supported,omitempty"`
	// ACRValues are the authentication contexts the IdP offers
	// (acr_values_supported); acr_values picks among them.
	ACRValues []string `json:"acr_values_supported,omitempty"`
	// TrustedIssuers may sign RFC 7523 jwt-bearer grant assertions.
	TrustedIssuers []TrustedIssuer `json:"trusted_assertion_issuers,omitempty"`
	// FAPI2 makes the IdP a FAPI 2.0 Security Profile authorization
	// server (fapi.go).
	FAPI2 bool `json:"fapi2,omitempty"`
	// APIKey is the key the /api/key resource accepts (apikey.go); empty:
	// it accepts none.
	APIKey string `json:"api_key,omitempty"`
}

// TrustedIssuer is an issuer of jwt-bearer grant assertions: its keys (a
// JWK Set), and the scopes its assertions may get (empty: any configured).
type TrustedIssuer struct {
	Issuer string          `json:"issuer"`
	JWKS   json.RawMessage `json:"jwks"`
	Scopes []string        `json:"scopes,omitempty"`
}

// Duration is a time.Duration that reads and writes "15m" in JSON (numbers
// are taken as seconds).
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: want \"15m\" or seconds, got %s", b)
		}
		*d = Duration(time.Duration(n * float64(time.Second)))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DemoJWTPublicJWKS is the public half of testdata/mockidp/demo-jwt.key
// (EC P-256, kid demo-jwt-1): the demo-jwt client's JWK Set. The private key
// is a published test fixture, so demo-jwt proves nothing outside demos.
const DemoJWTPublicJWKS = `{"keys":[{"alg":"ES256","crv":"P-256","kid":"demo-jwt-1","kty":"EC","use":"sig","x":"nIhEUypVmS0r4eulYJQDWxJH1j19yjLE3lBgvSA3Rfs","y":"xqMnJ9R7OHtI4YVuaRsooCdorWeqJh50_vtikYQ2wqU"}]}`

// DefaultConfig is the demo configuration (README, --print-config).
func DefaultConfig() Config {
	loop := []string{"http://127.0.0.1/callback", "http://localhost/callback", "http://[::1]/callback"}
	return Config{
		Alg:         "RS256",
		Scopes:      []string{"openid", "profile", "email", "offline_access", "api:read", "api:write"},
		DefaultUser: "alice",
		// RFC 9396's own examples.
		AuthorizationDetailsTypes: []string{"payment_initiation", "account_information", "customer_information"},
		ACRValues:                 []string{ACRPassword, ACRMFA},
		Lifetimes: Lifetimes{
			AccessToken:        Duration(time.Hour),
			IDToken:            Duration(time.Hour),
			RefreshToken:       Duration(24 * time.Hour),
			Code:               Duration(time.Minute),
			DeviceCode:         Duration(10 * time.Minute),
			DevicePollInterval: Duration(5 * time.Second),
			RequestURI:         Duration(defaultRequestURILifetime),
		},
		Users: []User{
			{Sub: "alice", Username: "alice", Password: "alice", Name: "Alice Example", Email: "alice@example.com"},
			{Sub: "bob", Username: "bob", Password: "bob", Name: "Bob Example", Email: "bob@example.com"},
		},
		Clients: []Client{
			{ID: "demo-cc", Secret: "demo-cc-secret", AuthMethods: []string{AuthBasic, AuthPost}, GrantTypes: []string{GrantClientCreds, GrantTokenExchange}},
			{ID: "demo-web", Secret: "demo-web-secret", AuthMethods: []string{AuthBasic, AuthPost, AuthSecretJWT}, GrantTypes: []string{GrantAuthCode, GrantRefresh}, RedirectURIs: loop},
			{ID: "demo-native", Public: true, AuthMethods: []string{AuthNone}, GrantTypes: []string{GrantAuthCode, GrantRefresh}, RedirectURIs: loop},
			{ID: "demo-jwt", AuthMethods: []string{AuthPrivateKeyJWT}, GrantTypes: []string{GrantClientCreds, GrantAuthCode, GrantRefresh, GrantJWTBearer}, RedirectURIs: loop, JWKS: json.RawMessage(DemoJWTPublicJWKS)},
			{ID: "demo-device", Public: true, AuthMethods: []string{AuthNone}, GrantTypes: []string{GrantDeviceCode, GrantRefresh}},
			{ID: "demo-mtls", AuthMethods: []string{AuthTLS}, GrantTypes: []string{GrantClientCreds}, TLSSubject: "CN=demo-mtls", BoundTokens: true},
			{ID: "demo-dpop", Secret: "demo-dpop-secret", AuthMethods: []string{AuthBasic, AuthPost}, GrantTypes: []string{GrantClientCreds, GrantAuthCode, GrantRefresh}, RedirectURIs: loop, DPoPBound: true},
			// The password grant, for legacy clients (RFC 9700 2.4 forbids it).
			{ID: "demo-password", Secret: "demo-password-secret", AuthMethods: []string{AuthBasic, AuthPost}, GrantTypes: []string{GrantPassword, GrantRefresh}},
		},
		// demo-jwt's key also signs jwt-bearer grant assertions (iss demo-jwt).
		TrustedIssuers: []TrustedIssuer{{Issuer: "demo-jwt", JWKS: json.RawMessage(DemoJWTPublicJWKS)}},
		APIKey:         DemoAPIKey,
	}
}

// LoadConfig reads a JSON configuration; fields it omits keep the demo
// defaults, fields it names replace them whole.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig is LoadConfig on bytes.
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	// Decode into fresh values: decoding onto the demo slices would keep
	// fields (like secrets) of the demo entries the file does not mention.
	var raw struct {
		Alg            *string          `json:"alg"`
		Scopes         *[]string        `json:"scopes"`
		Clients        *[]Client        `json:"clients"`
		Users          *[]User          `json:"users"`
		DefaultUser    *string          `json:"default_user"`
		Lifetimes      *Lifetimes       `json:"lifetimes"`
		AllowPlainPKCE *bool            `json:"allow_plain_pkce"`
		DPoPNonce      *bool            `json:"dpop_nonce"`
		RequirePAR     *bool            `json:"require_pushed_authorization_requests"`
		DetailsTypes   *[]string        `json:"authorization_details_types_supported"`
		ACRValues      *[]string        `json:"acr_values_supported"`
		Trusted        *[]TrustedIssuer `json:"trusted_assertion_issuers"`
		FAPI2          *bool            `json:"fapi2"`
		APIKey         *string          `json:"api_key"`
	}
	raw.Lifetimes = &c.Lifetimes // lifetimes merge field by field
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if raw.Alg != nil {
		c.Alg = *raw.Alg
	}
	if raw.Scopes != nil {
		c.Scopes = *raw.Scopes
	}
	if raw.Clients != nil {
		c.Clients = *raw.Clients
	}
	if raw.Users != nil {
		c.Users = *raw.Users
		if raw.DefaultUser == nil {
			c.DefaultUser = ""
			if len(c.Users) > 0 {
				c.DefaultUser = c.Users[0].Username
			}
		}
	}
	if raw.DefaultUser != nil {
		c.DefaultUser = *raw.DefaultUser
	}
	if raw.Lifetimes != nil && raw.Lifetimes != &c.Lifetimes {
		c.Lifetimes = *raw.Lifetimes
	}
	if raw.AllowPlainPKCE != nil {
		c.AllowPlainPKCE = *raw.AllowPlainPKCE
	}
	if raw.DPoPNonce != nil {
		c.DPoPNonce = *raw.DPoPNonce
	}
	if raw.RequirePAR != nil {
		c.RequirePAR = *raw.RequirePAR
	}
	if raw.DetailsTypes != nil {
		c.AuthorizationDetailsTypes = *raw.DetailsTypes
	}
	if raw.ACRValues != nil {
		c.ACRValues = *raw.ACRValues
	}
	if raw.Trusted != nil {
		c.TrustedIssuers = *raw.Trusted
	}
	if raw.FAPI2 != nil {
		c.FAPI2 = *raw.FAPI2
	}
	if raw.APIKey != nil {
		c.APIKey = *raw.APIKey
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate names the first problem in a configuration.
func (c *Config) Validate() error {
	switch c.Alg {
	case "RS256", "ES256", "EdDSA":
	default:
		return fmt.Errorf("config: alg %q: want RS256, ES256 or EdDSA", c.Alg)
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		if cl.ID == "" {
			return fmt.Errorf("config: clients[%d]: client_id is empty", i)
		}
		if seen[cl.ID] {
			return fmt.Errorf("config: client %q appears twice", cl.ID)
		}
		seen[cl.ID] = true
		if cl.Alg != "" && cl.Alg != "RS256" && cl.Alg != "ES256" && cl.Alg != "EdDSA" {
			return fmt.Errorf("config: client %q: alg %q: want RS256, ES256 or EdDSA", cl.ID, cl.Alg)
		}
		if _, err := parseDN(cl.TLSSubject); err != nil {
			return fmt.Errorf("config: client %q: tls_client_auth_subject_dn: %w", cl.ID, err)
		}
		for _, g := range cl.GrantTypes {
			switch g {
			case GrantAuthCode, GrantClientCreds, GrantRefresh, GrantDeviceCode, GrantTokenExchange, GrantPassword, GrantJWTBearer:
			default:
				return fmt.Errorf("config: client %q: unknown grant type %q", cl.ID, g)
			}
		}
		if len(cl.AuthMethods) == 0 {
			return fmt.Errorf("config: client %q: auth_methods is empty", cl.ID)
		}
		for _, m := range cl.AuthMethods {
			switch m {
			case AuthBasic, AuthPost, AuthSecretJWT:
				if cl.Secret == "" {
					return fmt.Errorf("config: client %q: %s needs a client_secret", cl.ID, m)
				}
			case AuthPrivateKeyJWT:
				if len(cl.JWKS) == 0 {
					return fmt.Errorf("config: client %q: private_key_jwt needs jwks", cl.ID)
				}
			case AuthNone, AuthTLS, AuthSelfSignedTLS:
			default:
				return fmt.Errorf("config: client %q: unknown auth method %q", cl.ID, m)
			}
		}
	}
	users := map[string]bool{}
	for i, u := range c.Users {
		if u.Username == "" || u.Sub == "" {
			return fmt.Errorf("config: users[%d]: username and sub are required", i)
		}
		users[u.Username] = true
	}
	if c.DefaultUser != "" && !users[c.DefaultUser] {
		return fmt.Errorf("config: default_user %q is not among the users", c.DefaultUser)
	}
	if err := c.validateGrants(); err != nil {
		return err
	}
	if c.Lifetimes.RequestURI < 0 || c.Lifetimes.RequestURI.D() > 10*time.Minute {
		return fmt.Errorf("config: lifetimes.request_uri must be between 0 (60 s) and 10m")
	}
	if c.Lifetimes.AccessToken <= 0 || c.Lifetimes.Code <= 0 {
		return fmt.Errorf("config: lifetimes.access_token and lifetimes.code must be positive")
	}
	return nil
}
