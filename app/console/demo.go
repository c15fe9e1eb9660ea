package console

import (
	"encoding/json"
	"errors"
	"strings"

	"authlab/flows"
	"authlab/mockidp"
	"authlab/store"
)

// DemoSetup says where the demo IdP listens and where its certificates are.
type DemoSetup struct {
	Issuer string // the embedded mock IdP (plain HTTP)
	// MTLSIssuer is a TLS listener of the IdP for the mTLS profile ("" skips it).
	MTLSIssuer                    string
	CACert, ClientCert, ClientKey string
	HMACKeyID, HMACSecret         string
}

// DemoProfiles are the profiles `authlab demo` seeds, all marked demo.
func DemoProfiles(d DemoSetup) []store.Profile {
	sec := func(v string) map[store.SecretKind]store.Secret {
		return map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue(v)}
	}
	// the demo-jwt client's published test key (mockidp.DemoJWTKeyPEM)
	jwtKey := func(kinds ...store.SecretKind) map[store.SecretKind]store.Secret {
		m := map[store.SecretKind]store.Secret{}
		for _, k := range kinds {
			m[k] = store.SecretValue(mockidp.DemoJWTKeyPEM)
		}
		return m
	}
	ps := []store.Profile{
		{Name: "demo-client-credentials", Kind: store.KindClientCredentials, Issuer: d.Issuer, ClientID: "demo-cc",
			AuthMethod: "client_secret_basic", Scopes: []string{"api:read"}, Secrets: sec("demo-cc-secret"),
			Notes: "client credentials with a shared secret (Basic auth)"},
		{Name: "demo-auth-code-pkce", Kind: store.KindAuthCode, Issuer: d.Issuer, ClientID: "demo-native",
			AuthMethod: "none", Scopes: []string{"openid", "profile", "email", "offline_access", "api:read"},
			Notes: "authorization code + PKCE, public client (no secret)"},
		{Name: "demo-auth-code-confidential", Kind: store.KindAuthCode, Issuer: d.Issuer, ClientID: "demo-web",
			AuthMethod: "client_secret_basic", Scopes: []string{"openid", "profile", "offline_access", "api:read"},
			Secrets: sec("demo-web-secret"), Notes: "authorization code + PKCE, confidential client"},
		{Name: "demo-device", Kind: store.KindDevice, Issuer: d.Issuer, ClientID: "demo-device", AuthMethod: "none",
			Scopes: []string{"openid", "offline_access", "api:read"}, Notes: "device authorization grant: enter the code at /device"},
		{Name: "demo-token-exchange", Kind: store.KindTokenExchange, Issuer: d.Issuer, ClientID: "demo-cc",
			AuthMethod: "client_secret_basic", Audience: []string{"https://api.example.com"}, Secrets: sec("demo-cc-secret"),
			Notes: "RFC 8693: exchanges a fresh client-credentials token for one with another audience"},
		{Name: "demo-dpop", Kind: store.KindClientCredentials, Issuer: d.Issuer, ClientID: "demo-dpop",
			AuthMethod: "client_secret_basic", Scopes: []string{"api:read"}, Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("demo-dpop-secret")},
			DPoP: true, Notes: "RFC 9449 DPoP: the token is bound to an ephemeral key (cnf.jkt); call the API to see the proof with ath"},
		{Name: "demo-hmac", Kind: store.KindHMAC, TargetURL: strings.TrimRight(d.Issuer, "/") + "/api/hmac",
			HMAC:    store.HMAC{Scheme: "rfc9421", KeyID: d.HMACKeyID},
			Secrets: map[store.SecretKind]store.Secret{store.HMACKey: store.SecretValue(d.HMACSecret)},
			Notes:   "RFC 9421 HTTP message signature against the demo resource"},
		{Name: "demo-apikey", Kind: store.KindAPIKey, TargetURL: strings.TrimRight(d.Issuer, "/") + "/api/key",
			APIKeyHeader: mockidp.APIKeyHeader, Secrets: map[store.SecretKind]store.Secret{store.APIKey: store.SecretValue(mockidp.DemoAPIKey)},
			Notes: "an API key in the X-API-Key header, checked by the demo resource /api/key"},
		{Name: "demo-fapi2", Kind: store.KindAuthCode, Issuer: d.Issuer, ClientID: "demo-jwt", AuthMethod: "private_key_jwt",
			Scopes: []string{"openid", "api:read"}, Secrets: jwtKey(store.PrivateKey),
			Shape: flows.Shape{FAPI2: true, RequestObject: true, ResponseMode: "jwt"},
			Notes: "FAPI 2.0 shape: PAR, a signed request object (JAR), a JARM response, PKCE S256, DPoP, private_key_jwt"},
		{Name: "demo-jwt-bearer", Kind: store.KindJWTBearer, Issuer: d.Issuer, ClientID: "demo-jwt", AuthMethod: "private_key_jwt",
			Scopes: []string{"api:read"}, Secrets: jwtKey(store.PrivateKey, store.AssertionKey),
			Shape: flows.Shape{AssertionClaims: json.RawMessage(`{"sub":"bob"}`)},
			Notes: "RFC 7523 JWT bearer grant: an assertion for bob signed with the demo-jwt key"},
		{Name: "demo-password", Kind: store.KindPassword, Issuer: d.Issuer, ClientID: "demo-password", AuthMethod: "client_secret_basic",
			Scopes: []string{"openid", "api:read"}, Shape: flows.Shape{Username: "bob"},
			Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("demo-password-secret"), store.Password: store.SecretValue("bob")},
			Notes:   "RFC 6749 4.3 password grant, for testing legacy clients (RFC 9700 forbids it)"},
		{Name: "demo-broken-wrong-secret", Kind: store.KindClientCredentials, Issuer: d.Issuer, ClientID: "demo-cc",
			AuthMethod: "client_secret_basic", Scopes: []string{"api:read"}, Secrets: sec("not-the-secret"),
			Notes: "deliberately broken: the client secret is wrong, so the token endpoint answers invalid_client"},
	}
	if d.MTLSIssuer != "" {
		ps = append(ps, store.Profile{Name: "demo-mtls", Kind: store.KindMTLS, Issuer: d.MTLSIssuer, ClientID: "demo-mtls",
			AuthMethod: "tls_client_auth", Scopes: []string{"api:read"}, CertFile: d.ClientCert, KeyFile: d.ClientKey, CAFile: d.CACert,
			Notes: "RFC 8705 mTLS client auth with certificate-bound tokens"})
	}
	for i := range ps {
		ps[i].Demo = true
		ps[i].Tags = []string{"demo"}
	}
	return ps
}

// SeedDemo writes the demo profiles. A demo profile that exists is updated
// (the IdP's port changes per start); a user's own profile with the same
// name is left alone. It reports how many were created.
func SeedDemo(path string, d DemoSetup) (int, error) {
	created := 0
	err := store.Update(path, func(s *store.Store) error {
		for _, p := range DemoProfiles(d) {
			old, err := s.GetProfile(p.Name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				created++
				if err := s.PutProfile(p, false); err != nil {
					return err
				}
			case err != nil:
				return err
			case old.Demo:
				if err := s.PutProfile(p, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return created, err
}
