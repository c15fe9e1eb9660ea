package mockidp

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

var b64 = base64.RawURLEncoding

func algOf(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RS256"
	case *ecdsa.PublicKey:
		return "ES256"
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

// signJWS signs input with priv for alg and returns the raw signature.
func signJWS(alg string, priv crypto.Signer, input []byte) ([]byte, error) {
	switch alg {
	case "RS256":
		h := sha256.Sum256(input)
		return rsa.SignPKCS1v15(nil, priv.(*rsa.PrivateKey), crypto.SHA256, h[:])
	case "ES256":
		h := sha256.Sum256(input)
		// Deterministic RFC 6979 nonces: as safe as random ones for a signer
		// that is not under fault attack, and ~15% cheaper than Go's hedged
		// SHA-512 DRBG, which is most of the token endpoint's CPU for ES256.
		der, err := priv.(*ecdsa.PrivateKey).Sign(nil, h[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return derToRS(der, 32)
	case "EdDSA":
		return ed25519.Sign(priv.(ed25519.PrivateKey), input), nil
	}
	return nil, fmt.Errorf("cannot sign with alg %q", alg)
}

// appendSignature appends the base64url signature over input to dst. ES256,
// the load-test algorithm, converts DER to r||s on the stack.
func appendSignature(dst []byte, alg string, priv crypto.Signer, input []byte) ([]byte, error) {
	if alg != "ES256" {
		sig, err := signJWS(alg, priv, input)
		if err != nil {
			return dst, err
		}
		return b64.AppendEncode(dst, sig), nil
	}
	h := sha256.Sum256(input)
	// Deterministic RFC 6979 nonces, as in signJWS.
	der, err := priv.(*ecdsa.PrivateKey).Sign(nil, h[:], crypto.SHA256)
	if err != nil {
		return dst, err
	}
	var rs [64]byte
	if err := derToRSInto(rs[:], der); err != nil {
		return dst, err
	}
	return b64.AppendEncode(dst, rs[:]), nil
}

// verifyJWS checks sig over input with pub for alg.
func verifyJWS(alg string, pub crypto.PublicKey, input, sig []byte) error {
	bad := errors.New("signature does not verify")
	switch alg {
	case "RS256":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("alg RS256 but key is %s", algOf(pub))
		}
		h := sha256.Sum256(input)
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) != nil {
			return bad
		}
		return nil
	case "PS256":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("alg PS256 but key is %s", algOf(pub))
		}
		h := sha256.Sum256(input)
		if rsa.VerifyPSS(k, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) != nil {
			return bad
		}
		return nil
	case "ES256":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 {
			return fmt.Errorf("alg ES256 needs an EC key and a 64-byte signature")
		}
		h := sha256.Sum256(input)
		if !ecdsa.Verify(k, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return bad
		}
		return nil
	case "EdDSA":
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("alg EdDSA but key is %s", algOf(pub))
		}
		if !ed25519.Verify(k, input, sig) {
			return bad
		}
		return nil
	}
	return fmt.Errorf("alg %q not accepted", alg)
}

// jws is a parsed compact JWS (not yet verified).
type jws struct {
	Header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	Payload []byte
	Input   []byte // header.payload, the signing input
	Sig     []byte
}

func parseJWS(tok string) (*jws, error) {
	if len(tok) > 16<<10 {
		return nil, errors.New("token too long")
	}
	i := strings.IndexByte(tok, '.')
	j := strings.LastIndexByte(tok, '.')
	if i < 0 || i == j || strings.Count(tok, ".") != 2 {
		return nil, errors.New("not a compact JWS (want three dot-separated parts)")
	}
	var out jws
	hb, err := b64.DecodeString(tok[:i])
	if err != nil {
		return nil, errors.New("header is not base64url")
	}
	if err := json.Unmarshal(hb, &out.Header); err != nil {
		return nil, errors.New("header is not JSON")
	}
	if out.Payload, err = b64.DecodeString(tok[i+1 : j]); err != nil {
		return nil, errors.New("payload is not base64url")
	}
	if out.Sig, err = b64.DecodeString(tok[j+1:]); err != nil {
		return nil, errors.New("signature is not base64url")
	}
	out.Input = []byte(tok[:j])
	return &out, nil
}

// verifyHS256 checks an HMAC-SHA256 JWS (client_secret_jwt) in constant time.
func verifyHS256(secret string, input, sig []byte) error {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(input)
	if !hmac.Equal(m.Sum(nil), sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

// jsonBytes is json.Marshal without HTML escaping (URLs stay readable).
func jsonBytes(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

var errMalformedECDSA = errors.New("malformed ECDSA signature")

// derToRS turns an ASN.1 ECDSA signature (SEQUENCE of two INTEGERs) into the
// fixed-width r||s form JWS uses (RFC 7518 3.4), without big.Int.
func derToRS(der []byte, size int) ([]byte, error) {
	out := make([]byte, 2*size)
	if err := derToRSInto(out, der); err != nil {
		return nil, err
	}
	return out, nil
}

// derToRSInto is derToRS writing into out (len 2*size, zeroed), so the hot
// path can keep the signature on the stack.
func derToRSInto(out, der []byte) error {
	size := len(out) / 2
	bad := errMalformedECDSA
	if len(der) < 8 || der[0] != 0x30 || int(der[1]) != len(der)-2 {
		return bad
	}
	rest := der[2:]
	for i := 0; i < 2; i++ {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			return bad
		}
		n := int(rest[1])
		v := rest[2 : 2+n]
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return bad
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
		rest = rest[2+n:]
	}
	return nil
}
