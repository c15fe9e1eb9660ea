// Package dpop is the client side of OAuth 2.0 Demonstrating Proof of
// Possession (RFC 9449): a proof key, the proof JWTs sent in the DPoP
// header, server nonces, the one-retry rule for nonce challenges, and a
// verifier that says which rule a proof breaks (for `token inspect`).
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"authlab/flows"
)

// Protocol names (RFC 9449).
const (
	Typ             = "dpop+jwt"           // typ of a proof (4.2)
	Header          = "DPoP"               // request header carrying the proof
	NonceHeader     = "DPoP-Nonce"         // response header carrying a server nonce (8, 9)
	Scheme          = "DPoP"               // Authorization scheme and token_type (7.1)
	ErrUseNonce     = "use_dpop_nonce"     // a nonce is required or the one sent is stale
	ErrInvalidProof = "invalid_dpop_proof" // the proof breaks a rule
	ParamJKT        = "dpop_jkt"           // authorization request parameter (10)
)

// DefaultAlg is the algorithm of an ephemeral key.
const DefaultAlg = "ES256"

// Algs are the proof algorithms authlab signs with, in preference order.
func Algs() []string { return []string{"ES256", "PS256", "RS256", "EdDSA"} }

// ParseAlg accepts an algorithm name (case-insensitive); empty is "".
func ParseAlg(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	for _, a := range Algs() {
		if strings.EqualFold(a, s) {
			return a, nil
		}
	}
	return "", fmt.Errorf("DPoP alg %q is not supported (one of %s)", s, strings.Join(Algs(), ", "))
}

// Key is a proof-of-possession key. Its private half never leaves it: the
// only ways out are signatures and the public JWK.
type Key struct {
	alg    string
	priv   crypto.Signer
	pub    jose.JSONWebKey
	jkt    string
	signer jose.Signer
	// ephemeral: generated for this run, not loaded.
	ephemeral bool
}

// Generate makes an ephemeral key for alg (DefaultAlg when empty): P-256
// for ES256, Ed25519 for EdDSA, RSA 2048 for RS256 and PS256.
func Generate(alg string) (*Key, error) {
	a, err := ParseAlg(alg)
	if err != nil {
		return nil, err
	}
	if a == "" {
		a = DefaultAlg
	}
	var priv crypto.Signer
	switch a {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %v", err)
	}
	k, err := newKey(a, priv)
	if err != nil {
		return nil, err
	}
	k.ephemeral = true
	return k, nil
}

// Load reads a private key (PEM PKCS#8, PKCS#1, SEC 1, or a private JWK)
// for alg; empty alg picks it from the key (RSA: RS256, P-256: ES256,
// Ed25519: EdDSA, or the JWK's own alg). Errors never quote the key.
func Load(data []byte, alg string) (*Key, error) {
	jwk, err := flows.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %v", err)
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("DPoP key: a %T cannot sign; DPoP needs an asymmetric key (EC P-256, RSA or Ed25519)", jwk.Key)
	}
	a, err := ParseAlg(alg)
	if err != nil {
		return nil, err
	}
	if a == "" && jwk.Algorithm != "" {
		if a, err = ParseAlg(jwk.Algorithm); err != nil {
			return nil, fmt.Errorf("DPoP key: the JWK's alg: %v", err)
		}
	}
	if a == "" {
		a = algFor(signer.Public())
	}
	return newKey(a, signer)
}

func algFor(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RS256"
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return "ES256"
}

// checkKeyAlg says why a key cannot sign with alg. A mismatch names the
// alg field, which each front end names its own way (flows.Error.Explain).
func checkKeyAlg(alg string, pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if alg != "ES256" {
			return flows.Errorf(flows.ErrConfig, "DPoP key is EC; %s %s needs %s", flows.FieldDPoPAlg, alg, keyKindFor(alg))
		}
		if p.Curve != elliptic.P256() {
			return fmt.Errorf("DPoP key is EC %s; ES256 needs P-256", p.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if alg != "RS256" && alg != "PS256" {
			return flows.Errorf(flows.ErrConfig, "DPoP key is RSA; %s %s needs %s", flows.FieldDPoPAlg, alg, keyKindFor(alg))
		}
		if p.N.BitLen() < 2048 {
			return fmt.Errorf("DPoP key is RSA %d bits; at least 2048 are required", p.N.BitLen())
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return flows.Errorf(flows.ErrConfig, "DPoP key is Ed25519; %s %s needs %s", flows.FieldDPoPAlg, alg, keyKindFor(alg))
		}
	default:
		return fmt.Errorf("DPoP key type %T is not supported (EC P-256, RSA or Ed25519)", pub)
	}
	return nil
}

func keyKindFor(alg string) string {
	switch alg {
	case "ES256":
		return "an EC P-256 key"
	case "EdDSA":
		return "an Ed25519 key"
	}
	return "an RSA key"
}

func newKey(alg string, priv crypto.Signer) (*Key, error) {
	if err := checkKeyAlg(alg, priv.Public()); err != nil {
		return nil, err
	}
	pub := jose.JSONWebKey{Key: priv.Public()}
	jkt, err := Thumbprint(pub)
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %v", err)
	}
	// EmbedJWK puts the public JWK in the header (RFC 9449 4.2); go-jose
	// embeds only the public members.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(Typ))
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %v", err)
	}
	return &Key{alg: alg, priv: priv, pub: pub, jkt: jkt, signer: signer}, nil
}

// Alg is the proof algorithm.
func (k *Key) Alg() string { return k.alg }

// JKT is the RFC 7638 SHA-256 thumbprint of the public key (cnf.jkt, dpop_jkt).
func (k *Key) JKT() string { return k.jkt }

// Ephemeral reports whether the key was generated for this run.
func (k *Key) Ephemeral() bool { return k.ephemeral }

// PublicJWK is the public key as a JWK.
func (k *Key) PublicJWK() jose.JSONWebKey { return k.pub }

// String names the key without its material.
func (k *Key) String() string { return fmt.Sprintf("DPoP key %s jkt=%s", k.alg, k.jkt) }

// GoString masks too, so %#v of a struct holding a Key leaks nothing.
func (k *Key) GoString() string { return "dpop.Key{" + k.String() + "}" }

// Thumbprint is the base64url RFC 7638 SHA-256 thumbprint of a JWK.
func Thumbprint(k jose.JSONWebKey) (string, error) {
	if k.Key == nil {
		return "", errors.New("no key")
	}
	if !k.IsPublic() {
		k = k.Public()
	}
	t, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(t), nil
}

// ATH is the ath claim for an access token: base64url(SHA-256(token)).
func ATH(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// HTU is the htu claim for a request URL: the URL without query and
// fragment (RFC 9449 4.2).
func HTU(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("htu: %q is not a URL: %v", target, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("htu: %q is not an absolute URL", target)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String(), nil
}

// Claims are the claims of a proof.
type Claims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce,omitempty"`
	ATH   string `json:"ath,omitempty"`
}

// Proof signs a proof for a request, now. nonce and accessToken may be
// empty; with an access token the proof carries ath (RFC 9449 4.2).
func (k *Key) Proof(htm, htu, nonce, accessToken string) (string, error) {
	return k.ProofAt(time.Now(), htm, htu, nonce, accessToken)
}

// ProofAt is Proof with iat = now.
func (k *Key) ProofAt(now time.Time, htm, htu, nonce, accessToken string) (string, error) {
	h, err := HTU(htu)
	if err != nil {
		return "", err
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("DPoP proof: jti: %v", err)
	}
	c := Claims{JTI: base64.RawURLEncoding.EncodeToString(raw[:]), HTM: strings.ToUpper(htm), HTU: h, IAT: now.Unix(), Nonce: nonce}
	if accessToken != "" {
		c.ATH = ATH(accessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("DPoP proof: %v", err)
	}
	return jws.CompactSerialize()
}

// GeneratePEM makes a new private key for alg (as Generate) and returns it
// as PEM PKCS#8, for a profile to keep: a DPoP-bound token is only usable
// with the key it was bound to, so a profile's follow-up calls, refreshes
// and cached tokens need the same key on every run.
func GeneratePEM(alg string) ([]byte, error) {
	k, err := Generate(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
