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
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
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
	var data []byte
	var err error
	if inline.IsSet() {
		data, path = []byte(inline.Reveal()), "(stored key)"
	} else if data, err = flows.ReadFileCapped(path, flows.MaxKeyFileSize); err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "--private-key: %v", err)
	}
	var k assertionKey
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		k.signer, k.kid, k.alg, err = parsePrivateJWK([]byte(trimmed))
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "--private-key %s: %v", path, err)
		}
	} else {
		k.signer, err = flows.ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "--private-key %s: %v", path, err)
		}
	}
	if k.alg == "" {
		k.alg, err = algFor(k.signer)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "--private-key %s: %v", path, err)
		}
	}
	if kid != "" {
		k.kid = kid
	}
	if k.kid == "" {
		k.kid = jwkThumbprint(k.signer.Public())
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

type privateJWK struct {
	Kty, Kid, Alg, Crv string
	N, E, D, P, Q      string
	X, Y               string
	Keys               []json.RawMessage
}

func parsePrivateJWK(data []byte) (crypto.Signer, string, string, error) {
	var j privateJWK
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, "", "", fmt.Errorf("not a JWK: %v", err)
	}
	if len(j.Keys) > 0 { // a JWK Set: the first private key in it
		for _, raw := range j.Keys {
			if s, kid, alg, err := parsePrivateJWK(raw); err == nil {
				return s, kid, alg, nil
			}
		}
		return nil, "", "", fmt.Errorf("the JWK Set holds no private key")
	}
	b := func(name, v string) ([]byte, error) {
		if v == "" {
			return nil, fmt.Errorf("the %s JWK has no %q (is it the public half?)", j.Kty, name)
		}
		out, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			return nil, fmt.Errorf("JWK member %q is not base64url", name)
		}
		return out, nil
	}
	switch j.Kty {
	case "RSA":
		n, err := b("n", j.N)
		if err != nil {
			return nil, "", "", err
		}
		e, err := b("e", j.E)
		if err != nil {
			return nil, "", "", err
		}
		d, err := b("d", j.D)
		if err != nil {
			return nil, "", "", err
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, D: new(big.Int).SetBytes(d)}
		if j.P != "" && j.Q != "" {
			p, err1 := b("p", j.P)
			q, err2 := b("q", j.Q)
			if err1 == nil && err2 == nil {
				k.Primes = []*big.Int{new(big.Int).SetBytes(p), new(big.Int).SetBytes(q)}
			}
		}
		if len(k.Primes) == 0 {
			return nil, "", "", fmt.Errorf("the RSA JWK has no p and q; authlab needs the full private key")
		}
		if err := k.Validate(); err != nil {
			return nil, "", "", fmt.Errorf("the RSA JWK is inconsistent: %v", err)
		}
		k.Precompute()
		return k, j.Kid, j.Alg, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, "", "", fmt.Errorf("unsupported EC curve %q", j.Crv)
		}
		d, err := b("d", j.D)
		if err != nil {
			return nil, "", "", err
		}
		k, err := ecdsa.ParseRawPrivateKey(curve, padLeft(d, (curve.Params().BitSize+7)/8))
		if err != nil {
			return nil, "", "", fmt.Errorf("the EC JWK: %v", err)
		}
		return k, j.Kid, j.Alg, nil
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, "", "", fmt.Errorf("unsupported OKP curve %q", j.Crv)
		}
		d, err := b("d", j.D)
		if err != nil {
			return nil, "", "", err
		}
		if len(d) != ed25519.SeedSize {
			return nil, "", "", fmt.Errorf("the Ed25519 JWK's d is %d bytes, expected %d", len(d), ed25519.SeedSize)
		}
		return ed25519.NewKeyFromSeed(d), j.Kid, j.Alg, nil
	case "oct":
		return nil, "", "", fmt.Errorf("a symmetric (oct) JWK cannot sign private_key_jwt; use client_secret_jwt with --client-secret")
	}
	return nil, "", "", fmt.Errorf("unsupported JWK kty %q", j.Kty)
}

func padLeft(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	out := make([]byte, n)
	copy(out[n-len(b):], b)
	return out
}

// jwkThumbprint is the RFC 7638 thumbprint of a public key: a stable kid
// for PEM keys that carry none.
func jwkThumbprint(pub crypto.PublicKey) string {
	enc := base64.RawURLEncoding.EncodeToString
	var canon string
	switch p := pub.(type) {
	case *rsa.PublicKey:
		canon = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, enc(big.NewInt(int64(p.E)).Bytes()), enc(p.N.Bytes()))
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, err := p.Bytes() // 0x04 || X || Y
		if err != nil {
			return ""
		}
		canon = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, p.Curve.Params().Name, enc(raw[1:1+size]), enc(raw[1+size:]))
	case ed25519.PublicKey:
		canon = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, enc(p))
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(canon))
	return enc(sum[:])
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
// (token, introspection, revocation, device authorization). aud is the
// assertion audience: the issuer when known, else the endpoint.
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
// id, aud, a short exp and a unique jti.
func (e *Engine) clientAssertion(aud string) (string, error) {
	jti, err := randomString(24)
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "client assertion: %v", err)
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
		return "", flows.Errorf(flows.ErrConfig, "private_key_jwt needs --private-key")
	}
	alg := e.signer.alg
	if e.req.AssertionAlg != "" {
		alg = e.req.AssertionAlg
	}
	return signJWT(alg, e.signer.kid, claims, e.signer.signer, nil)
}
