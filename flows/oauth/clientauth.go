package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"authlab/flows"
)

// assertionType is the client_assertion_type of RFC 7523 2.2.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime keeps client assertions short-lived: long enough for
// clock skew, short enough that a captured one is soon useless.
const assertionLifetime = 60 * time.Second

// assertionKey is a private key for private_key_jwt.
type assertionKey struct {
	signer crypto.Signer
	kid    string
	alg    string
}

// loadAssertionKey reads a PEM private key or a private JWK (or a JWK Set
// holding one) and picks the JWS algorithm from its type.
func loadAssertionKey(path string, inline flows.Secret, kid string) (*assertionKey, error) {
	return loadSigningKey(flows.FieldPrivateKey, path, inline, kid)
}

// loadSigningKey is loadAssertionKey for the key that field names (the
// client's, the jwt-bearer grant's assertion key, or the request object's).
func loadSigningKey(field flows.Field, path string, inline flows.Secret, kid string) (*assertionKey, error) {
	var data []byte
	var err error
	if inline.IsSet() {
		data, path = []byte(inline.Reveal()), "(stored key)"
	} else if data, err = flows.ReadFileCapped(path, flows.MaxKeyFileSize); err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "%s: %v", field, err)
	}
	jwk, err := flows.ParsePrivateKey(data)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "%s %s: %v", field, path, err)
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok && field == flows.FieldRequestKey {
		return nil, flows.Errorf(flows.ErrConfig, "%s %s: a symmetric key cannot sign a request object here", field, path)
	}
	if !ok {
		return nil, flows.Errorf(flows.ErrConfig, "%s %s: a symmetric (oct) JWK cannot sign private_key_jwt; use client_secret_jwt with %s", field, path, flows.FieldClientSecret)
	}
	k := assertionKey{signer: signer, kid: jwk.KeyID, alg: jwk.Algorithm}
	if k.alg == "" {
		k.alg, err = algFor(k.signer)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "%s %s: %v", field, path, err)
		}
	}
	if kid != "" {
		k.kid = kid
	}
	if k.kid == "" {
		k.kid, _ = flows.JWKThumbprint(k.signer.Public()) // RFC 7638: a stable kid for PEM keys
	}
	return &k, nil
}

func algFor(s crypto.Signer) (string, error) {
	switch p := s.Public().(type) {
	case *rsa.PublicKey:
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
		return "", fmt.Errorf("unsupported EC curve %s", p.Curve.Params().Name)
	case ed25519.PublicKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("unsupported key type %T", s.Public())
}

// randomString returns n random bytes from crypto/rand, base64url encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("crypto/rand: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// signJWT builds a compact JWS with the given header additions and claims.
func signJWT(alg, kid string, claims map[string]any, signer crypto.Signer, secret []byte) (string, error) {
	hdr := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		hdr["kid"] = kid
	}
	hb, _ := json.Marshal(hdr)
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	var sig []byte
	switch alg {
	case "HS256":
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "RS256":
		h := sha256.Sum256([]byte(input))
		sig, err = signer.Sign(rand.Reader, h[:], crypto.SHA256)
	case "PS256":
		h := sha256.Sum256([]byte(input))
		sig, err = signer.Sign(rand.Reader, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	case "ES256", "ES384", "ES512":
		sig, err = signECDSA(alg, signer, []byte(input))
	case "EdDSA":
		sig, err = signer.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	default:
		return "", flows.Errorf(flows.ErrConfig, "client assertion: unsupported alg %s", alg)
	}
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "client assertion: signing with %s: %v", alg, err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// signECDSA produces the fixed-size r||s signature JWS wants (RFC 7518 3.4).
func signECDSA(alg string, signer crypto.Signer, input []byte) ([]byte, error) {
	var h crypto.Hash
	switch alg {
	case "ES256":
		h = crypto.SHA256
	case "ES384":
		h = crypto.SHA384
	default:
		h = crypto.SHA512
	}
	hh := h.New()
	hh.Write(input)
	digest := hh.Sum(nil)
	priv, ok := signer.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s needs an EC key", alg)
	}
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
	if err != nil {
		return nil, err
	}
	size := (priv.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}

// authenticate adds client authentication to a token-endpoint-style POST
// (token, introspection, revocation, device authorization, PAR). aud is the
// endpoint the request goes to; the assertion's aud claim is chosen from it
// by assertionAudClaim.
func (e *Engine) authenticate(form url.Values, header http.Header, aud string) error {
	req := &e.req
	switch req.AuthMethod {
	case flows.AuthClientSecretBasic:
		// RFC 6749 2.3.1: form-urlencode id and secret before base64, so a
		// ':' or '%' in either survives (many servers forget; we do not).
		cred := url.QueryEscape(req.ClientID) + ":" + url.QueryEscape(req.ClientSecret.Reveal())
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	case flows.AuthClientSecretPost:
		form.Set("client_id", req.ClientID)
		form.Set("client_secret", req.ClientSecret.Reveal())
	case flows.AuthClientSecretJWT, flows.AuthPrivateKeyJWT:
		a, err := e.clientAssertion(aud)
		if err != nil {
			return err
		}
		form.Set("client_id", req.ClientID)
		form.Set("client_assertion_type", assertionType)
		form.Set("client_assertion", a)
	case flows.AuthTLSClient, flows.AuthSelfSignedTLS, flows.AuthNone:
		// The certificate (if any) authenticates; the id names the client.
		form.Set("client_id", req.ClientID)
	}
	return nil
}

// clientAssertion builds an RFC 7523 client assertion: iss = sub = client
// id, aud (see assertionAudClaim), a short exp and a unique jti.
func (e *Engine) clientAssertion(endpoint string) (string, error) {
	jti, err := randomString(24)
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "client assertion: %v", err)
	}
	aud, err := e.assertionAudClaim(endpoint)
	if err != nil {
		return "", err
	}
	now := e.now()
	claims := map[string]any{
		"iss": e.req.ClientID, "sub": e.req.ClientID, "aud": aud, "jti": jti,
		"iat": now.Unix(), "exp": now.Add(assertionLifetime).Unix(),
	}
	if e.req.AuthMethod == flows.AuthClientSecretJWT {
		alg := e.req.AssertionAlg
		if alg == "" {
			alg = "HS256"
		}
		if alg != "HS256" {
			return "", flows.Errorf(flows.ErrConfig, "client_secret_jwt: only HS256 is supported, not %s", alg)
		}
		return signJWT(alg, "", claims, nil, []byte(e.req.ClientSecret.Reveal()))
	}
	if e.signer == nil {
		return "", flows.Errorf(flows.ErrConfig, "private_key_jwt needs %s", flows.FieldPrivateKey)
	}
	alg := e.signer.alg
	if e.req.AssertionAlg != "" {
		alg = e.req.AssertionAlg
	}
	return signJWT(alg, e.signer.kid, claims, e.signer.signer, nil)
}

// Values of Request.AssertionAud besides a URL.
const (
	AssertionAudIssuer        = "issuer"
	AssertionAudTokenEndpoint = "token-endpoint"
	AssertionAudBoth          = "both"
)

// knownIssuer is the discovered issuer, else the request's.
func (e *Engine) knownIssuer() string {
	e.mu.Lock()
	m := e.meta
	e.mu.Unlock()
	return e.expectedIssuer(m)
}

// assertionAudClaim is the aud of a client assertion sent to endpoint.
// Servers split on it: RFC 7523 3 names the token endpoint URL (Ory Hydra
// and Glewlwyd accept nothing else), FAPI 2.0 5.3.2.1 wants the issuer
// only. So: the endpoint by default, the issuer with FAPI2, or what
// AssertionAud says.
func (e *Engine) assertionAudClaim(endpoint string) (any, error) {
	iss := e.knownIssuer()
	switch mode := e.req.AssertionAud; mode {
	case "":
		if e.req.FAPI2 && iss != "" {
			return iss, nil
		}
		return endpoint, nil
	case AssertionAudIssuer:
		if iss == "" {
			return nil, flows.Errorf(flows.ErrConfig, "%s issuer: the issuer is unknown; pass %s", flows.FieldAssertionAud, flows.FieldIssuer)
		}
		return iss, nil
	case AssertionAudTokenEndpoint:
		return endpoint, nil
	case AssertionAudBoth:
		if iss == "" || iss == endpoint {
			return endpoint, nil
		}
		return []string{iss, endpoint}, nil
	default:
		return mode, nil
	}
}

// validAssertionAud checks Request.AssertionAud.
func validAssertionAud(v string) error {
	switch v {
	case "", AssertionAudIssuer, AssertionAudTokenEndpoint, AssertionAudBoth:
		return nil
	}
	if err := httpURL(v); err != nil {
		return flows.Errorf(flows.ErrConfig, "%s: want issuer, token-endpoint, both or a URL: %v", flows.FieldAssertionAud, err)
	}
	return nil
}

// explainAssertionAud adds to an invalid_client answer to a client
// assertion which aud was sent and which form to try instead: servers
// disagree on it (see assertionAudClaim), and their errors rarely say.
func (e *Engine) explainAssertionAud(err error, endpoint string) error {
	var fe *flows.Error
	if !errors.As(err, &fe) || fe.OAuthError != "invalid_client" {
		return err
	}
	if e.req.AuthMethod != flows.AuthPrivateKeyJWT && e.req.AuthMethod != flows.AuthClientSecretJWT {
		return err
	}
	aud, aerr := e.assertionAudClaim(endpoint)
	if aerr != nil {
		return err
	}
	sent, _ := json.Marshal(aud)
	try := AssertionAudIssuer
	if s, ok := aud.(string); ok && s == e.knownIssuer() {
		try = AssertionAudTokenEndpoint
	} else if !ok {
		try = AssertionAudIssuer + " or " + AssertionAudTokenEndpoint
	}
	ne := flows.Errorf(fe.Kind, "%s; the client assertion's aud was %s, and servers differ on it (RFC 7523 3: the token endpoint; FAPI 2.0: the issuer only): try %s %s",
		fe, string(sent), flows.FieldAssertionAud, try)
	ne.OAuthError, ne.OAuthDescription, ne.OAuthURI, ne.Status = fe.OAuthError, fe.OAuthDescription, fe.OAuthURI, fe.Status
	return ne
}
