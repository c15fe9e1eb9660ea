package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"authlab/flows"
)

// JWE decryption and x5c chains, both on go-jose.

// jweKeyAlgs are the key-management algorithms authlab decrypts: RSA-OAEP
// and ECDH-ES. RSA1_5 (padding oracles, RFC 8725 §3.2) and dir (a shared
// content key, not a recipient's private key) are refused.
func jweKeyAlgs() []jose.KeyAlgorithm {
	return []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256, jose.ECDH_ES, jose.ECDH_ES_A128KW, jose.ECDH_ES_A256KW}
}

// jweEncs are the content encryptions authlab decrypts.
func jweEncs() []jose.ContentEncryption {
	return []jose.ContentEncryption{jose.A128GCM, jose.A256GCM, jose.A128CBC_HS256}
}

// ParseDecryptKey reads a JWE recipient's private key: PEM (PKCS#8, PKCS#1,
// SEC 1) or a private JWK. Only RSA and EC keys decrypt; errors say why a
// key cannot and never quote it.
func ParseDecryptKey(data []byte) (crypto.PrivateKey, error) {
	k, err := flows.ParsePrivateKey(data)
	if err != nil {
		return nil, err
	}
	switch key := k.Key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return key, nil
	case ed25519.PrivateKey:
		return nil, errors.New("an Ed25519 key signs but cannot decrypt; give the recipient's RSA or EC private key")
	case []byte:
		return nil, errors.New("a symmetric (oct) key is for dir encryption, which authlab does not decrypt; give the recipient's RSA or EC private key")
	}
	return nil, fmt.Errorf("a %T cannot decrypt; give the recipient's RSA or EC private key", k.Key)
}

func joseMsg(err error) string { return strings.TrimPrefix(err.Error(), "go-jose/go-jose: ") }

// decryptJWE opens a JWE with o.DecryptKey and decodes the JWT inside. It
// adds the "decrypt" check and returns nil when the token cannot be opened.
func decryptJWE(d *Decoded, o *Options, r *Report) *Decoded {
	alg, enc := d.Alg(), d.HeaderString("enc")
	what := fmt.Sprintf("encrypted token (JWE, alg %s, enc %s)", orNone(alg), orNone(enc))
	fail := func(format string, args ...any) *Decoded {
		r.add("decrypt", flows.Fail, "%s: %s", what, fmt.Sprintf(format, args...))
		return nil
	}
	key := o.DecryptKey
	if j, ok := key.(jose.JSONWebKey); ok {
		key = j.Key
	}
	var pub crypto.PublicKey
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = k.Public()
	case *ecdsa.PrivateKey:
		pub = k.Public()
	default:
		return fail("the decryption key is a %T; only RSA and EC private keys decrypt", key)
	}
	keyDesc := (&Key{Public: pub}).Describe() + " private key"
	switch {
	case alg == string(jose.RSA1_5):
		return fail("RSA1_5 is refused: it is open to padding-oracle attacks (RFC 8725 §3.2); the issuer should use RSA-OAEP-256")
	case !slices.Contains(jweKeyAlgs(), jose.KeyAlgorithm(alg)):
		return fail("alg %s is not one authlab decrypts (%s)", orNone(alg), joinAlgs(jweKeyAlgs()))
	case !slices.Contains(jweEncs(), jose.ContentEncryption(enc)):
		return fail("enc %s is not one authlab decrypts (%s)", orNone(enc), joinAlgs(jweEncs()))
	case strings.HasPrefix(alg, "RSA") && ktyOf(pub) != "RSA":
		return fail("alg %s needs the recipient's RSA private key, but the key given is %s", alg, keyDesc)
	case strings.HasPrefix(alg, "ECDH") && ktyOf(pub) != "EC":
		return fail("alg %s needs the recipient's EC private key, but the key given is %s", alg, keyDesc)
	}
	if epk, ok := d.Header["epk"].(map[string]any); ok {
		if crv, _ := epk["crv"].(string); crv != "" && ktyOf(pub) == "EC" && crv != pub.(*ecdsa.PublicKey).Curve.Params().Name {
			return fail("the token was encrypted to a %s key, but the key given is %s", crv, keyDesc)
		}
	}
	obj, err := jose.ParseEncryptedCompact(strings.Join(d.Parts, "."), jweKeyAlgs(), jweEncs())
	if err != nil {
		return fail("%s", joseMsg(err))
	}
	plain, err := obj.Decrypt(key)
	switch {
	case errors.Is(err, jose.ErrCryptoFailure):
		// go-jose says no more than this, on purpose (no decryption oracle).
		return fail("does not decrypt with the %s: it was encrypted to another key, or altered", keyDesc)
	case err != nil: // crit, zip bombs: the header's fault, not the key's
		return fail("%s", joseMsg(err))
	}
	inner, err := Decode(string(plain))
	switch {
	case err != nil:
		return fail("decrypted with the %s, but the content is not a JWT: %v", keyDesc, err)
	case inner.Format == FormatJWE:
		return fail("decrypted with the %s, but the content is another JWE; authlab opens one layer", keyDesc)
	case inner.Format != FormatJWS:
		return fail("decrypted with the %s, but the content is not a signed JWT (%d bytes)", keyDesc, inner.Length)
	}
	detail := fmt.Sprintf("decrypted the JWE (alg %s, enc %s) with the %s; the checks below are the nested JWT's", alg, enc, keyDesc)
	if cty := d.HeaderString("cty"); !strings.EqualFold(cty, "JWT") {
		detail += fmt.Sprintf(` (the JWE header has cty %s; RFC 7519 §5.2 asks for "JWT" on a nested token)`, orNone(cty))
	}
	r.addText("decrypt", flows.Pass, detail)
	return inner
}

func joinAlgs[T ~string](algs []T) string {
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// maxX5C bounds the certificates of an x5c header; real chains hold two or three.
const maxX5C = 10

// x5cResult is what an x5c header chain says, before the signature is known.
type x5cResult struct {
	present bool
	leaf    *x509.Certificate // the first certificate, once it parses
	trusted bool              // the chain verified against the roots
	detail  string            // why it passed, or what is wrong
	broken  bool              // the header itself is malformed
}

// checkX5C validates the x5c header chain (RFC 7515 §4.1.6) against
// o.Roots, or the system roots, with go-jose and crypto/x509.
func checkX5C(d *Decoded, o *Options, now time.Time) x5cResult {
	raw, ok := d.Header["x5c"]
	if !ok {
		return x5cResult{}
	}
	res := x5cResult{present: true}
	broken := func(format string, args ...any) x5cResult {
		res.broken, res.detail = true, fmt.Sprintf(format, args...)
		return res
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return broken("x5c is %s; it must be a non-empty array of base64 DER certificates, leaf first", describeJSON(raw))
	}
	if len(list) > maxX5C {
		return broken("x5c holds %d certificates; refusing more than %d", len(list), maxX5C)
	}
	// Each entry is looked at first, so a bad one is named; go-jose then
	// parses the chain and crypto/x509 verifies it.
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			return broken("x5c #%d is %s, not a base64 DER certificate", i, describeJSON(v))
		}
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return broken("x5c #%d is not standard base64 (RFC 7515 §4.1.6: base64 of DER with padding, not base64url)", i)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return broken("x5c #%d is not a DER certificate: %v", i, err)
		}
		if i == 0 {
			res.leaf = c
		}
	}
	if alg := d.Alg(); alg == "" || strings.EqualFold(alg, "none") {
		return broken("not verified: the token is unsigned, so its certificate chain vouches for nothing")
	}
	// The alg list only has to admit the token's own alg: the signature is
	// verified elsewhere.
	jws, err := jose.ParseSignedCompact(strings.Join(d.Parts, "."), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(d.Alg())})
	if err != nil {
		return broken("the token does not parse as a JWS with x5c: %s", joseMsg(err))
	}
	roots := o.RootsName
	if roots == "" {
		roots = "the system roots"
	}
	chains, err := jws.Signatures[0].Header.Certificates(x509.VerifyOptions{
		Roots:       o.Roots, // nil: the system roots
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, // a signing certificate, not a TLS server
	})
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown) && unknown.Cert != nil:
		res.detail = fmt.Sprintf("the chain does not lead to a CA in %s: %s is issued by %s, which is not trusted; trust the issuing CA, or verifiers that rely on x5c reject the token",
			roots, certName(unknown.Cert), unknown.Cert.Issuer.String())
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		res.detail = fmt.Sprintf("%s is outside its validity (%s to %s, now %s)", certName(invalid.Cert), stamp(invalid.Cert.NotBefore), stamp(invalid.Cert.NotAfter), stamp(now))
	case err != nil:
		res.detail = fmt.Sprintf("the chain does not verify against %s: %s", roots, joseMsg(err))
	default:
		chain := chains[0]
		res.trusted = true
		res.detail = fmt.Sprintf("%s chains to %s in %s (valid until %s)", certName(res.leaf), certName(chain[len(chain)-1]), roots, stamp(res.leaf.NotAfter))
	}
	return res
}

// x5cChecks are the "x5c chain" and "x5c key" checks, once the signature is
// known. An untrusted chain fails unless a key given independently of the
// token verified it; a leaf that does not hold the verifying key always
// fails: the chain then vouches for somebody else.
func x5cChecks(x x5cResult, r *Report) {
	if !x.present {
		return
	}
	independent := r.Verified && !r.keyFromX5C
	c := flows.Check{Name: "x5c chain", Status: flows.Fail, Detail: x.detail}
	switch {
	case x.trusted:
		c.Status = flows.Pass
	case !x.broken && independent:
		c.Status = flows.Warn
		c.Detail += "; the signature was verified with " + r.KeyDesc + " regardless"
	}
	r.Checks = append(r.Checks, c)
	if x.leaf == nil || !independent {
		return
	}
	k := flows.Check{Name: "x5c key"}
	if eq, ok := x.leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(r.verifiedBy) {
		k.Status, k.Detail = flows.Pass, "the leaf certificate "+certName(x.leaf)+" holds the key that verified the signature"
	} else {
		k.Status = flows.Fail
		k.Detail = fmt.Sprintf("the leaf certificate %s holds %s, but the signature was verified with %s: the chain vouches for a different key, so verifiers that trust x5c reject the token",
			certName(x.leaf), (&Key{Public: x.leaf.PublicKey}).Describe(), r.KeyDesc)
	}
	r.Checks = append(r.Checks, k)
}

// x5cKeys is the trusted leaf's key as a key source, for tokens inspected
// without any other key.
func x5cKeys(leaf *x509.Certificate) KeySource {
	return StaticKeys{Set: &KeySet{Keys: []Key{{Kty: ktyOf(leaf.PublicKey), Public: leaf.PublicKey}},
		Source: "the x5c leaf certificate " + certName(leaf)}}
}

func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}
