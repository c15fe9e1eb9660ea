package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"authlab/flows"
)

// Kind is what a profile runs.
type Kind string

const (
	KindClientCredentials Kind = "client-credentials"
	KindAuthCode          Kind = "auth-code"
	KindDevice            Kind = "device"
	KindTokenExchange     Kind = "token-exchange"
	KindHMAC              Kind = "hmac"
	KindMTLS              Kind = "mtls"
	KindAPIKey            Kind = "api-key"
	// KindPassword runs the password grant (RFC 6749 4.3; RFC 9700 forbids it).
	KindPassword Kind = "password"
	// KindJWTBearer runs the JWT bearer grant (RFC 7523 2.1).
	KindJWTBearer Kind = "jwt-bearer"
)

// Kinds lists every profile kind, in help-text order.
func Kinds() []Kind {
	return []Kind{KindClientCredentials, KindAuthCode, KindDevice, KindTokenExchange, KindHMAC, KindMTLS, KindAPIKey, KindPassword, KindJWTBearer}
}

func kindNames() string {
	ks := Kinds()
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds() {
		if k == x {
			return true
		}
	}
	return false
}

// usesTargetURL: hmac and api-key profiles send their own request to
// TargetURL instead of talking to a token endpoint.
func (k Kind) usesTargetURL() bool { return k == KindHMAC || k == KindAPIKey }

// carryTargetURL moves the request URL of an hmac or api-key profile from
// token_url, where schema 1 and its export files kept it, to TargetURL.
func (p *Profile) carryTargetURL() {
	if p.Kind.usesTargetURL() && p.TargetURL == "" && p.TokenURL != "" {
		p.TargetURL, p.TokenURL = p.TokenURL, ""
	}
}

// AuthMethods are the client authentication methods a profile may name.
func AuthMethods() []string {
	return []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
		"tls_client_auth", "self_signed_tls_client_auth", "none"}
}

// HMACSchemes are the signature schemes an hmac profile may name.
func HMACSchemes() []string { return []string{"rfc9421", "aws-sigv4", "stripe", "github"} }

// HMAC holds the settings of an hmac profile (the key is a secret).
type HMAC struct {
	Scheme     string `json:"scheme,omitempty"`
	KeyID      string `json:"key_id,omitempty"`
	Label      string `json:"label,omitempty"`
	Components string `json:"components,omitempty"` // RFC 9421 component list as typed: "@method" "@authority" ...
	Region     string `json:"region,omitempty"`
	Service    string `json:"service,omitempty"`
	AccessKey  string `json:"access_key,omitempty"`
}

// Profile is one saved configuration. Secrets are kept beside it, in the
// secrets bucket, never in the profile record itself.
type Profile struct {
	Name          string            `json:"name"`
	Kind          Kind              `json:"kind"`
	Issuer        string            `json:"issuer,omitempty"`
	TokenURL      string            `json:"token_url,omitempty"`
	TargetURL     string            `json:"target_url,omitempty"` // hmac and api-key profiles: the request URL (schema 1 kept it in token_url)
	AuthURL       string            `json:"auth_url,omitempty"`
	DeviceURL     string            `json:"device_url,omitempty"`
	IntrospectURL string            `json:"introspect_url,omitempty"`
	RevokeURL     string            `json:"revoke_url,omitempty"`
	UserinfoURL   string            `json:"userinfo_url,omitempty"`
	JWKSURL       string            `json:"jwks_url,omitempty"`
	ClientID      string            `json:"client_id,omitempty"`
	AuthMethod    string            `json:"auth_method,omitempty"`
	Scopes        []string          `json:"scopes,omitempty"`
	Audience      []string          `json:"audience,omitempty"`
	Resource      []string          `json:"resource,omitempty"`
	RedirectPort  int               `json:"redirect_port,omitempty"`
	CertFile      string            `json:"cert_file,omitempty"`
	KeyFile       string            `json:"key_file,omitempty"`
	CAFile        string            `json:"ca_file,omitempty"`
	HMAC          HMAC              `json:"hmac,omitzero"`
	APIKeyHeader  string            `json:"api_key_header,omitempty"` // api-key profiles; empty means the runner's default
	APIKeyQuery   string            `json:"api_key_query,omitempty"`  // api-key profiles: the query parameter that carries the key, instead of a header
	ExtraParams   map[string]string `json:"extra_params,omitempty"`
	Tags          []string          `json:"tags,omitempty"`
	Notes         string            `json:"notes,omitempty"`
	Demo          bool              `json:"demo,omitempty"`
	CreatedAt     time.Time         `json:"created_at,omitzero"`
	UpdatedAt     time.Time         `json:"updated_at,omitzero"`
	// Secrets are loaded from and saved to the secrets bucket. JSON shows
	// references and masks stored values (see Secret.MarshalJSON).
	Secrets map[SecretKind]Secret `json:"secrets,omitempty"`

	// DPoP sends DPoP proofs (RFC 9449): with the dpop_key secret, else an
	// ephemeral key per run. DPoPAlg: ES256 (default), PS256, RS256, EdDSA.
	DPoP    bool   `json:"dpop,omitempty"`
	DPoPAlg string `json:"dpop_alg,omitempty"`

	// Shape is what the flow's requests are shaped by (PAR, JAR, response
	// mode, RAR, OIDC parameters, assertion aud, FAPI2, username, assertion
	// claims): flows.Request's own struct, saved with the same JSON names.
	flows.Shape
	// KeyID is the kid of client assertions and request objects; the
	// password and the assertion key are secrets; AssertionFile is a
	// jwt-bearer assertion to send as it is.
	KeyID         string `json:"kid,omitempty"`
	AssertionFile string `json:"assertion_file,omitempty"`
}

// Endpoint is the URL a table shows for the profile: the issuer, else the
// first explicit endpoint.
func (p *Profile) Endpoint() string {
	for _, u := range []string{p.Issuer, p.TokenURL, p.AuthURL, p.DeviceURL, p.IntrospectURL, p.UserinfoURL, p.TargetURL} {
		if u != "" {
			return u
		}
	}
	return ""
}

// FieldError is one bad field. Field uses the JSON name ("token_url",
// "hmac.scheme", "secrets.client_secret").
type FieldError struct {
	Profile string // profile name, or "profiles[3]" when the name is missing
	Field   string
	Problem string
}

func (e FieldError) String() string {
	if e.Profile == "" {
		return e.Field + ": " + e.Problem
	}
	return e.Profile + ": " + e.Field + ": " + e.Problem
}

// ValidationError lists every bad field found, in one line.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	noun := "problems"
	if len(parts) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("%d %s: %s", len(parts), noun, strings.Join(parts, "; "))
}

// safeName keeps names safe in tables, shells and file names: 1 to 64
// characters of [A-Za-z0-9._@+-], starting with a letter or digit. (A loop,
// not a regexp, so that no command pays for compiling it at start-up.)
func safeName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("._@+-", rune(c))) {
			return false
		}
	}
	return true
}

// ValidName reports whether name may be a profile name.
func ValidName(name string) error {
	if name == "" {
		return errors.New("missing (every profile needs a name)")
	}
	if !safeName(name) {
		return fmt.Errorf("%q is not a valid name (1-64 letters, digits and . _ @ + -, starting with a letter or digit)", name)
	}
	return nil
}

// Validate checks every field and returns a *ValidationError listing all
// bad ones, or nil.
func (p *Profile) Validate() error {
	fe := p.fieldErrors(p.Name)
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{Fields: fe}
}

func (p *Profile) fieldErrors(label string) []FieldError {
	var out []FieldError
	bad := func(field, format string, args ...any) {
		out = append(out, FieldError{Profile: label, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if err := ValidName(p.Name); err != nil {
		bad("name", "%v", err)
	}
	switch {
	case p.Kind == "":
		bad("kind", "missing (one of %s)", kindNames())
	case !p.Kind.Valid():
		bad("kind", "unknown kind %q (want one of %s)", p.Kind, kindNames())
	}
	// Text from an imported file ends up on terminals: refuse control
	// characters (escape sequences such as OSC 52) where they are stored.
	ctl := map[string]bool{}
	text := func(field, v string, multiline bool) {
		if r, ok := controlChar(v, multiline); ok {
			ctl[field] = true
			bad(field, "contains the control character U+%04X (terminal escapes are not allowed)", r)
		}
	}
	for _, f := range []struct{ field, v string }{
		{"issuer", p.Issuer}, {"token_url", p.TokenURL}, {"auth_url", p.AuthURL}, {"device_url", p.DeviceURL},
		{"introspect_url", p.IntrospectURL}, {"revoke_url", p.RevokeURL}, {"userinfo_url", p.UserinfoURL}, {"jwks_url", p.JWKSURL},
		{"target_url", p.TargetURL}, {"client_id", p.ClientID}, {"auth_method", p.AuthMethod}, {"cert_file", p.CertFile}, {"key_file", p.KeyFile}, {"ca_file", p.CAFile},
		{"api_key_header", p.APIKeyHeader}, {"api_key_query", p.APIKeyQuery}, {"hmac.scheme", p.HMAC.Scheme}, {"hmac.key_id", p.HMAC.KeyID}, {"hmac.label", p.HMAC.Label},
		{"hmac.components", p.HMAC.Components}, {"hmac.region", p.HMAC.Region}, {"hmac.service", p.HMAC.Service}, {"hmac.access_key", p.HMAC.AccessKey},
	} {
		text(f.field, f.v, false)
	}
	text("notes", p.Notes, true) // notes may span lines
	out = append(out, p.grantFieldErrors(label, text)...)
	for _, l := range []struct {
		field string
		vs    []string
	}{{"scopes", p.Scopes}, {"audience", p.Audience}, {"resource", p.Resource}, {"tags", p.Tags}} {
		for i, v := range l.vs {
			text(fmt.Sprintf("%s[%d]", l.field, i), v, false)
		}
	}
	for _, k := range sortedKeys(p.ExtraParams) {
		text("extra_params", k, false)
		text("extra_params."+k, p.ExtraParams[k], false)
	}
	urls := []struct{ field, v string }{
		{"issuer", p.Issuer}, {"token_url", p.TokenURL}, {"auth_url", p.AuthURL}, {"device_url", p.DeviceURL},
		{"introspect_url", p.IntrospectURL}, {"revoke_url", p.RevokeURL}, {"userinfo_url", p.UserinfoURL}, {"jwks_url", p.JWKSURL},
		{"target_url", p.TargetURL},
	}
	for _, u := range urls {
		if u.v == "" || ctl[u.field] {
			continue
		}
		if err := checkURL(u.v); err != nil {
			bad(u.field, "%v", err)
		} else if why := urlSecretProblem(u.v); why != "" {
			bad(u.field, "%s", why)
		}
	}
	if p.Kind.usesTargetURL() && p.TokenURL != "" && !ctl["token_url"] {
		bad("token_url", "an %s profile has no token endpoint; its request URL belongs in target_url", p.Kind)
	}
	needs := func(field, v, why string) {
		if p.Issuer == "" && v == "" {
			bad(field, "missing: %s profiles need --issuer (discovery) or %s", p.Kind, why)
		}
	}
	switch p.Kind {
	case KindClientCredentials, KindTokenExchange, KindPassword, KindJWTBearer:
		needs("token_url", p.TokenURL, "--token-url")
	case KindAuthCode:
		needs("auth_url", p.AuthURL, "--auth-url")
		needs("token_url", p.TokenURL, "--token-url")
	case KindDevice:
		needs("device_url", p.DeviceURL, "--device-url")
		needs("token_url", p.TokenURL, "--token-url")
	case KindHMAC:
		if p.HMAC.Scheme == "" {
			bad("hmac.scheme", "missing: an hmac profile needs --scheme (one of %s)", strings.Join(HMACSchemes(), ", "))
		}
	case KindAPIKey:
		if p.APIKeyHeader != "" && p.APIKeyQuery != "" {
			bad("api_key_query", "an api-key profile sends its key in a header (api_key_header) or a query parameter (api_key_query), not both")
		}
	case KindMTLS:
		if p.CertFile == "" {
			bad("cert_file", "missing: an mtls profile needs --cert")
		}
		if p.KeyFile == "" {
			bad("key_file", "missing: an mtls profile needs --key")
		}
	}
	if p.AuthMethod != "" && !contains(AuthMethods(), p.AuthMethod) {
		bad("auth_method", "unknown method %q (want one of %s)", p.AuthMethod, strings.Join(AuthMethods(), ", "))
	}
	if (p.AuthMethod == "tls_client_auth" || p.AuthMethod == "self_signed_tls_client_auth") && (p.CertFile == "" || p.KeyFile == "") {
		bad("auth_method", "%s needs --cert and --key", p.AuthMethod)
	}
	for i, s := range p.Scopes {
		if ctl[fmt.Sprintf("scopes[%d]", i)] {
			continue
		}
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			bad(fmt.Sprintf("scopes[%d]", i), "%q is not a scope token (no spaces, quotes or backslashes)", s)
		}
	}
	if p.RedirectPort < 0 || p.RedirectPort > 65535 {
		bad("redirect_port", "%d is not a port (0-65535; 0 picks a free one)", p.RedirectPort)
	}
	if p.HMAC.Scheme != "" && !contains(HMACSchemes(), p.HMAC.Scheme) {
		bad("hmac.scheme", "unknown scheme %q (want one of %s)", p.HMAC.Scheme, strings.Join(HMACSchemes(), ", "))
	}
	if p.HMAC.Scheme == "aws-sigv4" {
		for _, f := range []struct{ field, v string }{{"hmac.region", p.HMAC.Region}, {"hmac.service", p.HMAC.Service}, {"hmac.access_key", p.HMAC.AccessKey}} {
			if f.v == "" {
				bad(f.field, "missing: aws-sigv4 needs --region, --service and --access-key")
			}
		}
	}
	for _, k := range sortedKeys(p.ExtraParams) {
		if ctl["extra_params"] {
			break
		}
		if k == "" || strings.ContainsAny(k, " \t\r\n=&") {
			bad("extra_params", "%q is not a parameter name", k)
		} else if flows.IsSecretParam(k) {
			// Extra parameters are shown and exported as they are.
			bad("extra_params."+k, "a secret does not belong in an extra parameter (they are shown and exported); use --client-secret or --private-key")
		} else if why := urlSecretProblem(p.ExtraParams[k]); k == CallURLParam && why != "" {
			bad("extra_params."+k, "%s", why)
		}
	}
	for i, t := range p.Tags {
		if ctl[fmt.Sprintf("tags[%d]", i)] {
			continue
		}
		if t == "" || strings.ContainsAny(t, " \t\r\n,") {
			bad(fmt.Sprintf("tags[%d]", i), "%q is not a tag (no spaces or commas)", t)
		}
	}
	for _, k := range sortedSecretKinds(p.Secrets) {
		if !k.Valid() {
			bad("secrets."+string(k), "unknown secret %q (want one of %s)", k, secretKindNames())
			continue
		}
		if err := p.Secrets[k].check(); err != nil {
			bad("secrets."+string(k), "%v", err)
		}
	}
	return out
}

// controlCharFree: a value text() already refused is not reported twice.
func controlCharFree(v string) bool { _, bad := controlChar(v, false); return !bad }

// controlChar finds the first C0 or C1 control character or DEL in v;
// multiline allows tab and newline.
func controlChar(v string, multiline bool) (rune, bool) {
	for _, r := range v {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return r, true
		}
	}
	return 0, false
}

func checkURL(v string) error {
	shown := RedactURL(v) // the message must not print a password in it
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a URL", shown)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL", shown)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", shown)
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// grantFieldErrors checks the OIDC parameter, client assertion and grant
// fields; text is fieldErrors' control-character check.
func (p *Profile) grantFieldErrors(label string, text func(field, v string, multiline bool)) []FieldError {
	var out []FieldError
	bad := func(field, format string, args ...any) {
		out = append(out, FieldError{Profile: label, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	for _, f := range []struct{ field, v string }{
		{"prompt", p.Prompt}, {"login_hint", p.LoginHint}, {"acr_values", p.ACRValues}, {"ui_locales", p.UILocales},
		{"assertion_aud", p.AssertionAud}, {"kid", p.KeyID}, {"username", p.Username}, {"assertion_file", p.AssertionFile},
		{"response_mode", p.ResponseMode},
	} {
		text(f.field, f.v, false)
	}
	if m := p.ResponseMode; m != "" && !contains(flows.ResponseModes(), m) && controlCharFree(m) {
		bad("response_mode", "unknown mode %q (want one of %s)", m, strings.Join(flows.ResponseModes(), ", "))
	}
	var details []map[string]any // RFC 9396 2: an array of objects
	if len(p.AuthorizationDetails) > 0 && json.Unmarshal(p.AuthorizationDetails, &details) != nil {
		bad("authorization_details", "not a JSON array of objects (RFC 9396 2)")
	}
	for _, f := range []struct {
		field string
		v     json.RawMessage
	}{{"claims", p.Claims}, {"assertion_claims", p.AssertionClaims}} {
		var m map[string]any
		if len(f.v) > 0 && json.Unmarshal(f.v, &m) != nil {
			bad(f.field, "not a JSON object")
		}
	}
	if p.MaxAge != nil && *p.MaxAge < 0 {
		bad("max_age", "%d: max_age is a number of seconds, 0 or more", *p.MaxAge)
	}
	switch a := p.AssertionAud; a {
	case "", "issuer", "token-endpoint", "both":
	default:
		if checkURL(a) != nil {
			bad("assertion_aud", "%q: want issuer, token-endpoint, both or a URL", a)
		}
	}
	return out
}
