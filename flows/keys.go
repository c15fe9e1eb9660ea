package flows

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// ParsePrivateKeyPEM returns the first private key of a PEM document:
// PKCS#8, PKCS#1 (RSA) or SEC 1 (EC). Its errors say what was found instead
// (an encrypted key, a certificate), because that is the usual mistake.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: unsupported key type %T", b.Type, k)
		}
		return s, nil
	}
	if bytes.Contains(data, []byte("CERTIFICATE")) {
		return nil, errors.New("it holds a certificate, not a private key (are the certificate and key files swapped?)")
	}
	return nil, errors.New("no PEM private key found (want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
}

// The JWK model of flows and the mock IdP is go-jose's JSONWebKey. What
// follows adds what go-jose leaves to its callers: messages that say which
// member of a JWK is wrong (go-jose says "invalid EC key"), key-size policy,
// RFC 7638 kids, and reading a private key from PEM or JWK alike.

// MaxJWKSKeys bounds a JWK Set; real ones hold a handful of keys.
const MaxJWKSKeys = 100

// UnknownKtyError is a JWK of a key type authlab does not use. A set skips
// such keys (RFC 7517 §5) instead of failing.
type UnknownKtyError struct{ Kty string }

func (e *UnknownKtyError) Error() string {
	return fmt.Sprintf("kty %q is not a key type authlab uses (RSA, EC, OKP, oct)", e.Kty)
}

// JWKSet is a parsed JWK Set.
type JWKSet struct {
	Keys []jose.JSONWebKey
	// Skipped names the keys of an unknown kty that were left out, as
	// `#2 kty "FUTURE"`.
	Skipped []string
}

// ParseJWKSet parses a JWK Set (RFC 7517 §5); a single JWK is accepted too.
// A key authlab cannot use is an error naming the key and the member, except
// an unknown kty, which is skipped. An empty result is an error.
func ParseJWKSet(data []byte) (*JWKSet, error) {
	var raw struct {
		Keys *[]json.RawMessage `json:"keys"`
		Kty  string             `json:"kty"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("JWKS is not a JSON object: %v (starts %s)", err, Snippet(data, 40))
	}
	var items []json.RawMessage
	switch {
	case raw.Keys != nil:
		items = *raw.Keys
	case raw.Kty != "":
		items = []json.RawMessage{data}
	default:
		return nil, fmt.Errorf(`JWKS has no "keys" array (starts %s)`, Snippet(data, 40))
	}
	if len(items) == 0 {
		return nil, errors.New("JWKS has an empty keys array")
	}
	if len(items) > MaxJWKSKeys {
		return nil, fmt.Errorf("JWKS has %d keys; refusing more than %d", len(items), MaxJWKSKeys)
	}
	set := &JWKSet{}
	for i, it := range items {
		var m jwkMembers
		if err := json.Unmarshal(it, &m); err != nil {
			return nil, fmt.Errorf("JWKS key #%d is not a JWK object: %v", i, jsonErr(err))
		}
		k, err := m.parse(it)
		var unknown *UnknownKtyError
		switch {
		case errors.As(err, &unknown):
			set.Skipped = append(set.Skipped, fmt.Sprintf("#%d kty %q", i, unknown.Kty))
			continue
		case err != nil && m.Kid != "":
			return nil, fmt.Errorf("JWKS key #%d (kid %q): %v", i, m.Kid, err)
		case err != nil:
			return nil, fmt.Errorf("JWKS key #%d: %v", i, err)
		}
		set.Keys = append(set.Keys, k)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("JWKS has no usable key (skipped keys of unsupported type: %s)", strings.Join(set.Skipped, ", "))
	}
	return set, nil
}

// ParseJWK parses one JWK, public or private.
func ParseJWK(data []byte) (jose.JSONWebKey, error) {
	var m jwkMembers
	if err := json.Unmarshal(data, &m); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("not a JWK object: %v", jsonErr(err))
	}
	return m.parse(data)
}

// ParsePrivateKey reads a private key from PEM (PKCS#8, PKCS#1, SEC 1), a
// private JWK, or the first private key of a JWK Set. A JWK's kid and alg
// are kept. Errors name the problem and never quote the key.
func ParsePrivateKey(data []byte) (jose.JSONWebKey, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		s, err := ParsePrivateKeyPEM(data)
		if err != nil {
			return jose.JSONWebKey{}, err
		}
		return jose.JSONWebKey{Key: s}, nil
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(trimmed, &set); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("not a JWK: %v", jsonErr(err))
	}
	if len(set.Keys) > 0 { // a JWK Set: the first private key in it
		for _, raw := range set.Keys {
			if k, err := privateJWK(raw); err == nil {
				return k, nil
			}
		}
		return jose.JSONWebKey{}, errors.New("the JWK Set holds no private key")
	}
	return privateJWK(trimmed)
}

func privateJWK(data []byte) (jose.JSONWebKey, error) {
	var m jwkMembers
	if err := json.Unmarshal(data, &m); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("not a JWK: %v", jsonErr(err))
	}
	switch m.Kty {
	case "RSA", "EC", "OKP", "oct":
	default:
		return jose.JSONWebKey{}, &UnknownKtyError{Kty: m.Kty}
	}
	if m.Kty != "oct" && m.D == "" {
		return jose.JSONWebKey{}, fmt.Errorf(`the %s JWK has no "d" (is it the public half?)`, m.Kty)
	}
	k, err := m.parse(data)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("the %s JWK: %v", m.Kty, err)
	}
	if rk, ok := k.Key.(*rsa.PrivateKey); ok {
		rk.Precompute() // go-jose keeps only the CRT values the JWK carried
	}
	return k, nil
}

// JWKThumbprint is the RFC 7638 JWK thumbprint (base64url SHA-256) of a
// public or private RSA, EC or Ed25519 key: the stable kid authlab gives
// keys that carry none.
func JWKThumbprint(key any) (string, error) {
	j, ok := key.(jose.JSONWebKey)
	if !ok {
		j = jose.JSONWebKey{Key: key}
	}
	sum, err := j.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("JWK thumbprint: %s", joseMsg(err))
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// jwkMembers are the members the messages explain; go-jose does the parsing.
type jwkMembers struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	K   string `json:"k"`
	D   string `json:"d"`
	P   string `json:"p"`
	Q   string `json:"q"`
}

// RSA modulus bounds: below 512 bits is a toy, above go-jose's 4096 it refuses.
const minRSABits, maxRSABits = 512, 4096

func (m *jwkMembers) parse(data []byte) (jose.JSONWebKey, error) {
	switch m.Kty {
	case "RSA", "EC", "OKP", "oct":
	default:
		return jose.JSONWebKey{}, &UnknownKtyError{Kty: m.Kty}
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(data); err != nil {
		return jose.JSONWebKey{}, m.explain(err)
	}
	var pub *rsa.PublicKey
	switch p := k.Key.(type) {
	case *rsa.PublicKey:
		pub = p
	case *rsa.PrivateKey:
		pub = &p.PublicKey
	}
	if pub != nil {
		if bits := pub.N.BitLen(); bits < minRSABits || pub.E > 1<<31-1 {
			return jose.JSONWebKey{}, fmt.Errorf("RSA key size out of range (n %d bits; authlab takes %d to %d)", bits, minRSABits, maxRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return jose.JSONWebKey{}, fmt.Errorf("RSA exponent %d is not valid", pub.E)
		}
	}
	return k, nil
}

// explain turns go-jose's refusal of a JWK into a message naming the member
// that is wrong. Only this error path decodes members itself.
func (m *jwkMembers) explain(joseErr error) error {
	need := func(name, v string) ([]byte, error) {
		if v == "" {
			return nil, fmt.Errorf("missing %q", name)
		}
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not base64url (unpadded, with - and _)", name)
		}
		return b, nil
	}
	switch m.Kty {
	case "RSA":
		n, err := need("n", m.N)
		if err != nil {
			return err
		}
		e, err := need("e", m.E)
		if err != nil {
			return err
		}
		if len(e) > 4 || len(n)*8 > maxRSABits {
			return fmt.Errorf("RSA key size out of range (n %d bytes, e %d bytes; authlab takes %d to %d bits)", len(n), len(e), minRSABits, maxRSABits)
		}
		if m.D != "" && (m.P == "" || m.Q == "") {
			return errors.New("the RSA JWK has no p and q; authlab needs the full private key")
		}
	case "EC":
		var curve elliptic.Curve
		switch m.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return fmt.Errorf("EC curve %q is not supported (P-256, P-384, P-521)", m.Crv)
		}
		x, err := need("x", m.X)
		if err != nil {
			return err
		}
		y, err := need("y", m.Y)
		if err != nil {
			return err
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return fmt.Errorf("EC %s coordinates must be %d bytes, got x %d and y %d", m.Crv, size, len(x), len(y))
		}
		if _, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...)); err != nil {
			return fmt.Errorf("EC point is not on %s", m.Crv)
		}
		if m.D != "" {
			if d, err := need("d", m.D); err != nil || len(d) != size {
				return fmt.Errorf(`the EC %s "d" must be %d bytes of base64url`, m.Crv, size)
			}
		}
	case "OKP":
		if m.Crv != "Ed25519" {
			return fmt.Errorf("OKP curve %q is not supported (Ed25519)", m.Crv)
		}
		x, err := need("x", m.X)
		if err != nil {
			return err
		}
		if len(x) != ed25519.PublicKeySize {
			return fmt.Errorf("Ed25519 key must be %d bytes, got %d", ed25519.PublicKeySize, len(x))
		}
		if m.D != "" {
			if d, err := need("d", m.D); err != nil || len(d) != ed25519.SeedSize {
				return fmt.Errorf(`the Ed25519 "d" must be %d bytes of base64url`, ed25519.SeedSize)
			}
		}
	case "oct":
		if _, err := need("k", m.K); err != nil {
			return err
		}
	}
	return errors.New(joseMsg(joseErr))
}

// joseMsg is a go-jose error without its package prefix.
func joseMsg(err error) string {
	return strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
}

// jsonErr describes a JSON decoding error by position and type only, so a
// key file's contents never reach a message.
func jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field != "":
		return fmt.Errorf("member %q is a JSON %s, not a string", te.Field, te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("it is a JSON %s", te.Value)
	}
	return err
}
