package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
)

// AsymmetricAlgs are the JWS algorithms verified with public keys.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// SupportedAlgs lists every JWS algorithm authlab verifies.
func SupportedAlgs() []string {
	return append(slices.Clone(asymmetricAlgs), "HS256", "HS384", "HS512")
}

func algHash(alg string) (crypto.Hash, bool) {
	if alg == "EdDSA" || alg == "Ed25519" {
		return crypto.SHA512, true
	}
	if len(alg) != 5 {
		return 0, false
	}
	switch alg[2:] {
	case "256":
		return crypto.SHA256, true
	case "384":
		return crypto.SHA384, true
	case "512":
		return crypto.SHA512, true
	}
	return 0, false
}

// ktyFor is the JWK key type an algorithm needs.
func ktyFor(alg string) string {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return "RSA"
	case strings.HasPrefix(alg, "ES"):
		return "EC"
	case alg == "EdDSA", alg == "Ed25519":
		return "OKP"
	case strings.HasPrefix(alg, "HS"):
		return "oct"
	}
	return ""
}

// HalfHash computes at_hash / c_hash: the left half of the hash the token's
// alg uses, base64url (OIDC Core §3.1.3.6).
func HalfHash(alg, value string) (string, error) {
	h, ok := algHash(alg)
	if !ok {
		return "", fmt.Errorf("cannot compute a hash claim for alg %q", alg)
	}
	var hh hash.Hash
	switch h {
	case crypto.SHA256:
		hh = sha256.New()
	case crypto.SHA384:
		hh = sha512.New384()
	default:
		hh = sha512.New()
	}
	hh.Write([]byte(value))
	sum := hh.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

// errBadSig is a signature that does not verify with a key (as opposed to a
// key that cannot be used for the alg).
var errBadSig = errors.New("signature does not match")

// verifyWith checks one JWS signature with one key. The checks first explain
// in words a key that cannot fit the alg; golang-jwt's signing method then
// verifies the signature itself.
func verifyWith(alg string, k *Key, input string, sig []byte) error {
	name := alg
	if alg == "Ed25519" { // RFC 9864's fully specified name for EdDSA over Ed25519
		name = "EdDSA"
	}
	method := jwt.GetSigningMethod(name)
	if _, ok := algHash(alg); !ok || method == nil {
		return fmt.Errorf("alg %q is not supported", alg)
	}
	var key any
	if ktyFor(alg) == "oct" {
		if !k.Symmetric() { // HS* with a public key: the key-confusion attack
			return fmt.Errorf("%s needs a shared secret, not %s", alg, k.Describe())
		}
		key = k.Secret
	} else {
		switch pub := k.Public.(type) {
		case *rsa.PublicKey:
			if a := alg[:2]; a != "RS" && a != "PS" {
				return fmt.Errorf("%s cannot be verified with an RSA key", alg)
			}
			key = pub
		case *ecdsa.PublicKey:
			if alg[:2] != "ES" {
				return fmt.Errorf("%s cannot be verified with an EC key", alg)
			}
			size := (pub.Curve.Params().BitSize + 7) / 8
			wantCurve := map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
			if pub.Curve.Params().Name != wantCurve {
				return fmt.Errorf("%s needs a %s key, not %s", alg, wantCurve, pub.Curve.Params().Name)
			}
			if len(sig) != 2*size {
				return fmt.Errorf("%w: %s signatures are %d bytes (r||s), got %d (DER-encoded?)", errBadSig, alg, 2*size, len(sig))
			}
			key = pub
		case ed25519.PublicKey:
			if ktyFor(alg) != "OKP" {
				return fmt.Errorf("%s cannot be verified with an Ed25519 key", alg)
			}
			key = pub
		default:
			return fmt.Errorf("%s cannot be verified with %s", alg, k.Describe())
		}
	}
	if err := method.Verify(input, sig, key); err != nil {
		if pub, ok := key.(*rsa.PublicKey); ok && pub.N.BitLen() < 2048 {
			return fmt.Errorf("%w (or the %d-bit RSA key is too small: %v)", errBadSig, pub.N.BitLen(), err)
		}
		return errBadSig
	}
	return nil
}

// verifySignature adds the "signature" check (and the key facts) to r.
func verifySignature(ctx context.Context, d *Decoded, o *Options, r *Report) {
	alg := d.Alg()
	r.Alg = alg
	fail := func(format string, args ...any) { r.add("signature", flows.Fail, format, args...) }
	switch {
	case alg == "":
		fail("the header has no alg")
		return
	case strings.EqualFold(alg, "none"):
		fail(`alg "none": the token is unsigned and anyone could have written it; never accept it`)
		return
	case ktyFor(alg) == "":
		fail("alg %q is not a JWS signature algorithm authlab knows (%s)", alg, strings.Join(SupportedAlgs(), ", "))
		return
	}
	if len(o.Algs) > 0 && !slices.Contains(o.Algs, alg) {
		fail("alg %s is not in the allowed list (%s)", alg, strings.Join(o.Algs, ", "))
		return
	}
	if o.Keys == nil {
		r.add("signature", flows.Warn, "not verified: no key given (an issuer, a JWKS or a key)")
		return
	}
	set, err := o.Keys.Keys(ctx, false)
	if err != nil {
		fail("could not get keys: %v", err)
		return
	}
	symmetric := ktyFor(alg) == "oct"
	if symmetric && !hasSymmetric(set) {
		fail("alg %s (HMAC) but the keys are public keys (%s): a verifier that uses a public key as an HMAC secret lets anyone forge tokens (key confusion)", alg, set.Source)
		return
	}
	if !symmetric && len(o.Algs) == 0 && hasSymmetric(set) && !hasAsymmetric(set) {
		fail("alg %s needs a public key, but a shared secret was given", alg)
		return
	}
	kid := d.Kid()
	cands := candidates(set, kid, alg)
	if len(cands) == 0 && kid != "" {
		if refreshed, err := o.Keys.Keys(ctx, true); err == nil && refreshed != set {
			set = refreshed
			cands = candidates(set, kid, alg)
		}
	}
	if len(cands) == 0 {
		switch {
		case kid != "" && len(set.KIDs()) > 0:
			fail("signed by kid %q, but %s has kids %s — key rotated?%s", kid, set.Source, strings.Join(set.KIDs(), ", "), noteSuffix(set))
		default:
			fail("no %s key for alg %s in %s%s", ktyFor(alg), alg, set.Source, noteSuffix(set))
		}
		return
	}
	var lastErr error
	for _, k := range cands {
		if k.Alg != "" && k.Alg != alg {
			lastErr = fmt.Errorf("the JWK %s is for alg %s, but the token says %s", k.Describe(), k.Alg, alg)
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			lastErr = fmt.Errorf("the JWK %s has use %q, not \"sig\"", k.Describe(), k.Use)
			continue
		}
		if err := verifyWith(alg, k, d.SigningInput(), d.Signature); err != nil {
			lastErr = err
			continue
		}
		r.Verified = true
		r.verifiedBy = k.Public
		r.KeyID = k.ID
		r.KeyDesc = k.Describe() + " from " + set.Source
		r.addText("signature", flows.Pass, alg+", verified with "+r.KeyDesc+noteSuffix(set))
		return
	}
	if errors.Is(lastErr, errBadSig) {
		fail("%s signature does not verify with %s from %s: wrong key, or the token was altered%s", alg, describeKeys(cands), set.Source, noteSuffix(set))
		return
	}
	fail("%v%s", lastErr, noteSuffix(set))
}

func noteSuffix(ks *KeySet) string {
	if ks.Note == "" {
		return ""
	}
	return " (" + ks.Note + ")"
}

func describeKeys(ks []*Key) string {
	if len(ks) == 1 {
		return ks[0].Describe()
	}
	return fmt.Sprintf("any of %d keys", len(ks))
}

func hasSymmetric(ks *KeySet) bool {
	for i := range ks.Keys {
		if ks.Keys[i].Symmetric() {
			return true
		}
	}
	return false
}

func hasAsymmetric(ks *KeySet) bool {
	for i := range ks.Keys {
		if !ks.Keys[i].Symmetric() {
			return true
		}
	}
	return false
}

// candidates are the keys that may have signed a token: matching kid (keys
// without a kid match any), and a key type the alg can use.
func candidates(ks *KeySet, kid, alg string) []*Key {
	want := ktyFor(alg)
	var out []*Key
	for i := range ks.Keys {
		k := &ks.Keys[i]
		if k.Kty != want {
			continue
		}
		if kid != "" && k.ID != "" && k.ID != kid {
			continue
		}
		out = append(out, k)
	}
	return out
}
