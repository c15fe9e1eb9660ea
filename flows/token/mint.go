package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
)

// MintKey is what signs a minted token: a private key or an HMAC secret.
type MintKey struct {
	Key crypto.PrivateKey // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte (HS*)
	Kid string            // the JWK's kid, when the key came from one
	Alg string            // the JWK's alg, when it names one
}

// ParseMintKey reads a signing key: "secret:VALUE" (an HMAC secret), or the
// bytes of a PEM private key or a private JWK. Errors never quote the key.
func ParseMintKey(spec string, data []byte) (MintKey, error) {
	if v, ok := strings.CutPrefix(spec, "secret:"); ok {
		if v == "" {
			return MintKey{}, errors.New("secret: is empty; an HMAC key needs at least one byte")
		}
		return MintKey{Key: []byte(v)}, nil
	}
	j, err := flows.ParsePrivateKey(data)
	if err != nil {
		return MintKey{}, err
	}
	k := MintKey{Key: j.Key, Kid: j.KeyID, Alg: j.Algorithm}
	if s, ok := j.Key.(crypto.Signer); ok {
		k.Key = s
	}
	return k, nil
}

// DefaultAlg is the alg a key signs with when none is asked for.
func (k MintKey) DefaultAlg() string {
	if k.Alg != "" {
		return k.Alg
	}
	switch key := k.Key.(type) {
	case *rsa.PrivateKey:
		return "RS256"
	case *ecdsa.PrivateKey:
		switch key.Curve.Params().BitSize {
		case 384:
			return "ES384"
		case 521:
			return "ES512"
		}
		return "ES256"
	case ed25519.PrivateKey:
		return "EdDSA"
	case []byte:
		return "HS256"
	}
	return ""
}

// MintOptions describe a token to sign.
type MintOptions struct {
	Claims map[string]any // the payload, as given (no defaults added)
	Header map[string]any // extra header parameters; alg is always the signer's
	Alg    string         // default: the key's (MintKey.DefaultAlg)
	Kid    string         // default: the key's kid
	Typ    string         // default: none ("JWT" is implied)
	Key    MintKey
}

// Mint signs a JWS compact token with golang-jwt. The claims are encoded as
// given: json.Number values (see DecodeClaims) keep their exact digits.
func Mint(o MintOptions) (string, error) {
	alg := o.Alg
	if alg == "" {
		alg = o.Key.DefaultAlg()
	}
	if strings.EqualFold(alg, "none") {
		return "", errors.New("alg none is not signed; authlab mints signed tokens only")
	}
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		return "", fmt.Errorf("alg %q is not one authlab signs with (%s)", alg, strings.Join(mintAlgs(), ", "))
	}
	if err := keyFits(alg, o.Key.Key); err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(m, jwt.MapClaims(o.Claims))
	for k, v := range o.Header {
		if k == "alg" {
			continue // the signature decides alg, never a header flag
		}
		t.Header[k] = v
	}
	delete(t.Header, "typ") // golang-jwt adds "JWT"; only an asked-for typ goes in
	if o.Typ != "" {
		t.Header["typ"] = o.Typ
	} else if v, ok := o.Header["typ"]; ok {
		t.Header["typ"] = v
	}
	kid := o.Kid
	if kid == "" {
		kid = o.Key.Kid
	}
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(o.Key.Key)
	if err != nil {
		return "", fmt.Errorf("signing with %s: %v", alg, err)
	}
	return s, nil
}

func mintAlgs() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}
}

// keyFits says in words why key cannot sign alg, or returns nil.
func keyFits(alg string, key crypto.PrivateKey) error {
	want := ""
	switch key.(type) {
	case *rsa.PrivateKey:
		if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
			return nil
		}
		want = "an RSA key"
	case *ecdsa.PrivateKey:
		if strings.HasPrefix(alg, "ES") {
			return nil
		}
		want = "an EC key"
	case ed25519.PrivateKey:
		if alg == "EdDSA" {
			return nil
		}
		want = "an Ed25519 key"
	case []byte:
		if strings.HasPrefix(alg, "HS") {
			return nil
		}
		want = "an HMAC secret"
	default:
		return fmt.Errorf("a %T cannot sign", key)
	}
	return fmt.Errorf("alg %s cannot be signed with %s", alg, want)
}

// MintDefaults adds what a minted token has unless the caller set it: iss,
// iat now, exp five minutes on, and a fresh jti from crypto/rand.
func MintDefaults(claims map[string]any, iss string, now time.Time) {
	if _, ok := claims["iss"]; !ok && iss != "" {
		claims["iss"] = iss
	}
	if _, ok := claims["iat"]; !ok {
		claims["iat"] = now.Unix()
	}
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = now.Add(5 * time.Minute).Unix()
	}
	if _, ok := claims["jti"]; !ok {
		claims["jti"] = NewJTI()
	}
}

// NewJTI is 16 random bytes (crypto/rand), base64url.
func NewJTI() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// DecodeClaims decodes a JSON object keeping numbers as json.Number, so a
// re-signed payload carries the same digits it was given.
func DecodeClaims(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("claims are null; want a JSON object")
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value; want one object")
	}
	return m, nil
}

// ParseMintTime reads a time flag: "+5m" or "-1h" relative to now, a bare
// Unix time, or RFC 3339.
func ParseMintTime(v string, now time.Time) (int64, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-") {
		d, err := time.ParseDuration(v)
		if err == nil {
			return now.Add(d).Unix(), nil
		}
		if n, err2 := parseInt(v); err2 == nil && strings.HasPrefix(v, "-") {
			return n, nil
		}
		return 0, fmt.Errorf("%q: want +DURATION, -DURATION (e.g. +5m, -1h), a Unix time or RFC 3339: %v", v, err)
	}
	if n, err := parseInt(v); err == nil {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("%q: want +DURATION, -DURATION (e.g. +5m, -1h), a Unix time or RFC 3339", v)
}

func parseInt(s string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(s, &n)
	if err == nil && fmt.Sprint(n) != strings.TrimPrefix(s, "+") {
		return 0, errors.New("not an integer")
	}
	return n, err
}
