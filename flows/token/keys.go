package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"authlab/flows"
)

// Key is one verification key: a public key from a JWKS or PEM, or an HMAC secret.
type Key struct {
	ID     string           // kid; "" matches any token kid
	Alg    string           // the JWK's alg, when it names one
	Use    string           // the JWK's use ("sig", "enc"), when given
	Kty    string           // RSA, EC, OKP, oct
	Public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	Secret []byte           // for oct (HS*) keys; never printed
	// Thumbprint is the RFC 7638 JWK thumbprint (base64url SHA-256); empty for secrets.
	Thumbprint string
}

// Symmetric reports whether the key is an HMAC secret.
func (k *Key) Symmetric() bool { return k.Kty == "oct" }

// Describe names the key for messages, without secret material.
func (k *Key) Describe() string {
	var s string
	switch p := k.Public.(type) {
	case *rsa.PublicKey:
		s = "RSA " + strconv.Itoa(p.N.BitLen()) + "-bit"
	case *ecdsa.PublicKey:
		s = "EC " + p.Curve.Params().Name
	case ed25519.PublicKey:
		s = "Ed25519"
	default:
		if k.Symmetric() {
			s = "shared secret (" + strconv.Itoa(len(k.Secret)) + " bytes)"
		} else {
			s = k.Kty
		}
	}
	if k.ID != "" {
		s = "kid " + strconv.Quote(k.ID) + " " + s
	}
	return s
}

// KeySet is the keys one source offered.
type KeySet struct {
	Keys   []Key
	Source string // "JWKS https://…", "PEM file key.pem", "shared secret"
	// Note says something the user should know about these keys, e.g. that
	// a refetch failed and cached keys were used.
	Note string
	// Fetched is when a remote set was fetched (zero for local keys).
	Fetched time.Time
}

// KIDs lists the key ids in the set, for "JWKS has kids Y, Z" messages.
func (ks *KeySet) KIDs() []string {
	out := make([]string, 0, len(ks.Keys))
	for _, k := range ks.Keys {
		if k.ID != "" {
			out = append(out, k.ID)
		}
	}
	return out
}

// KeySource supplies verification keys. refresh asks a remote source to
// refetch (the token's kid was not in the set); sources may rate-limit it.
type KeySource interface {
	Keys(ctx context.Context, refresh bool) (*KeySet, error)
}

// StaticKeys is a KeySource that never changes (a file, a secret).
type StaticKeys struct{ Set *KeySet }

func (s StaticKeys) Keys(context.Context, bool) (*KeySet, error) { return s.Set, nil }

// SecretKeys wraps an HMAC shared secret.
func SecretKeys(secret []byte) StaticKeys {
	return StaticKeys{Set: &KeySet{Keys: []Key{{Kty: "oct", Secret: secret}}, Source: "shared secret"}}
}

// maxJWKSKeys bounds a JWKS; real ones hold a handful of keys.
const maxJWKSKeys = 100

type jwk struct {
	Kty string   `json:"kty"`
	Kid string   `json:"kid"`
	Alg string   `json:"alg"`
	Use string   `json:"use"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	Crv string   `json:"crv"`
	X   string   `json:"x"`
	Y   string   `json:"y"`
	K   string   `json:"k"`
	X5c []string `json:"x5c"`
}

// ParseJWKS parses a JWK Set (RFC 7517). A single JWK is accepted too. Keys
// of unknown type are skipped with a note; a set with no usable key is an error.
func ParseJWKS(data []byte) (*KeySet, error) {
	var raw struct {
		Keys *[]json.RawMessage `json:"keys"`
		Kty  string             `json:"kty"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("JWKS is not a JSON object: %v (starts %s)", err, flows.Snippet(data, 40))
	}
	var items []json.RawMessage
	switch {
	case raw.Keys != nil:
		items = *raw.Keys
	case raw.Kty != "":
		items = []json.RawMessage{data}
	default:
		return nil, fmt.Errorf(`JWKS has no "keys" array (starts %s)`, flows.Snippet(data, 40))
	}
	if len(items) > maxJWKSKeys {
		return nil, fmt.Errorf("JWKS has %d keys; refusing more than %d", len(items), maxJWKSKeys)
	}
	ks := &KeySet{}
	var skipped []string
	for i, it := range items {
		var j jwk
		if err := json.Unmarshal(it, &j); err != nil {
			return nil, fmt.Errorf("JWKS key #%d is not a JWK object: %v", i, err)
		}
		k, err := j.key()
		if err != nil {
			if j.Kid != "" {
				return nil, fmt.Errorf("JWKS key #%d (kid %q): %v", i, j.Kid, err)
			}
			return nil, fmt.Errorf("JWKS key #%d: %v", i, err)
		}
		if k == nil {
			skipped = append(skipped, fmt.Sprintf("#%d kty %q", i, j.Kty))
			continue
		}
		ks.Keys = append(ks.Keys, *k)
	}
	if len(skipped) > 0 {
		ks.Note = "skipped keys of unsupported type: " + strings.Join(skipped, ", ")
	}
	if len(ks.Keys) == 0 {
		if len(items) == 0 {
			return nil, fmt.Errorf("JWKS has an empty keys array")
		}
		return nil, fmt.Errorf("JWKS has no usable key (%s)", ks.Note)
	}
	return ks, nil
}

func b64field(name, v string) ([]byte, error) {
	if v == "" {
		return nil, fmt.Errorf("missing %q", name)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return nil, fmt.Errorf("%q is not base64url: %v", name, err)
	}
	return b, nil
}

// key converts a JWK; nil, nil for a key type authlab does not verify with.
func (j *jwk) key() (*Key, error) {
	k := &Key{ID: j.Kid, Alg: j.Alg, Use: j.Use, Kty: j.Kty}
	switch j.Kty {
	case "RSA":
		n, err := b64field("n", j.N)
		if err != nil {
			return nil, err
		}
		e, err := b64field("e", j.E)
		if err != nil {
			return nil, err
		}
		if len(e) > 4 || len(n) < 64 || len(n) > 2048 {
			return nil, fmt.Errorf("RSA key size out of range (n %d bytes, e %d bytes)", len(n), len(e))
		}
		ei := int(new(big.Int).SetBytes(e).Int64())
		if ei < 3 || ei%2 == 0 {
			return nil, fmt.Errorf("RSA exponent %d is not valid", ei)
		}
		k.Public = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ei}
		k.Thumbprint = thumb(fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, j.E, j.N))
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
			return nil, fmt.Errorf("EC curve %q is not supported (P-256, P-384, P-521)", j.Crv)
		}
		x, err := b64field("x", j.X)
		if err != nil {
			return nil, err
		}
		y, err := b64field("y", j.Y)
		if err != nil {
			return nil, err
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("EC %s coordinates must be %d bytes, got x %d and y %d", j.Crv, size, len(x), len(y))
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
		if err != nil {
			return nil, fmt.Errorf("EC point is not on %s: %v", j.Crv, err)
		}
		k.Public = pub
		k.Thumbprint = thumb(fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, j.Crv, j.X, j.Y))
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("OKP curve %q is not supported (Ed25519)", j.Crv)
		}
		x, err := b64field("x", j.X)
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 key must be %d bytes, got %d", ed25519.PublicKeySize, len(x))
		}
		k.Public = ed25519.PublicKey(x)
		k.Thumbprint = thumb(fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":%q}`, j.X))
	case "oct":
		s, err := b64field("k", j.K)
		if err != nil {
			return nil, err
		}
		k.Secret = s
	default:
		return nil, nil
	}
	return k, nil
}

func thumb(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ParsePEM reads public keys, certificates or private keys (whose public
// half is used) from PEM data. Each block becomes a key without a kid.
func ParsePEM(data []byte) (*KeySet, error) {
	ks := &KeySet{}
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		pub, err := pemPublic(blk)
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %v", blk.Type, err)
		}
		if pub == nil {
			continue
		}
		k := Key{Public: pub}
		switch pub.(type) {
		case *rsa.PublicKey:
			k.Kty = "RSA"
		case *ecdsa.PublicKey:
			k.Kty = "EC"
		case ed25519.PublicKey:
			k.Kty = "OKP"
		default:
			return nil, fmt.Errorf("PEM block %q holds a %T key; authlab verifies RSA, EC and Ed25519", blk.Type, pub)
		}
		ks.Keys = append(ks.Keys, k)
	}
	if len(ks.Keys) == 0 {
		return nil, fmt.Errorf("no PEM public key, certificate or private key found (starts %s)", flows.Snippet(data, 30))
	}
	return ks, nil
}

func pemPublic(b *pem.Block) (crypto.PublicKey, error) {
	switch b.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(crypto.Signer); ok {
			return s.Public(), nil
		}
		return nil, fmt.Errorf("unsupported private key %T", k)
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		return k.Public(), nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		return k.Public(), nil
	}
	return nil, nil // e.g. "EC PARAMETERS"
}

// JWKSOptions configure a remote, cached key source.
type JWKSOptions struct {
	URL    string        // the jwks_uri; or
	Issuer string        // an issuer whose discovery document names the jwks_uri
	Client *flows.Client // recording client; a default one when nil
	// TTL is how long fetched keys are used before refetching (default 5m).
	TTL time.Duration
	// MinRefetch rate-limits refetches on an unknown kid (default 30s).
	MinRefetch time.Duration
	Now        func() time.Time
}

// JWKS is a cached remote key set. It is safe for concurrent use.
type JWKS struct {
	opts JWKSOptions

	mu          sync.Mutex
	set         *KeySet
	jwksURL     string
	lastAttempt time.Time
}

// NewJWKS returns a remote key source; nothing is fetched until Keys is called.
func NewJWKS(opts JWKSOptions) *JWKS {
	if opts.Client == nil {
		opts.Client = flows.NewClient(flows.ClientOptions{}, nil)
	}
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.MinRefetch <= 0 {
		opts.MinRefetch = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &JWKS{opts: opts, jwksURL: opts.URL}
}

// Keys returns the cached set while it is fresh; otherwise (or when refresh
// is asked and the rate limit allows) it fetches. A failed fetch keeps
// serving cached keys, with a Note saying so.
func (j *JWKS) Keys(ctx context.Context, refresh bool) (*KeySet, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.opts.Now()
	if j.set != nil {
		fresh := now.Sub(j.set.Fetched) < j.opts.TTL
		if fresh && !refresh {
			return j.set, nil
		}
		if refresh && now.Sub(j.lastAttempt) < j.opts.MinRefetch {
			cp := *j.set
			cp.Note = joinNote(cp.Note, fmt.Sprintf("not refetched: the last fetch was %s ago (at most one per %s)", roundDur(now.Sub(j.lastAttempt)), j.opts.MinRefetch))
			return &cp, nil
		}
	}
	j.lastAttempt = now
	set, err := j.fetch(ctx)
	if err != nil {
		if j.set != nil {
			cp := *j.set
			cp.Note = joinNote(cp.Note, fmt.Sprintf("refetch failed (%v); using keys fetched %s ago", err, roundDur(now.Sub(j.set.Fetched))))
			return &cp, nil
		}
		return nil, fmt.Errorf("%v; no cached keys to fall back on", err)
	}
	set.Fetched = now
	j.set = set
	return set, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func (j *JWKS) fetch(ctx context.Context) (*KeySet, error) {
	if j.jwksURL == "" {
		u, err := DiscoverJWKSURI(ctx, j.opts.Client, j.opts.Issuer)
		if err != nil {
			return nil, err
		}
		j.jwksURL = u
	}
	resp, err := j.opts.Client.Get(ctx, "jwks", j.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %v", j.jwksURL, err)
	}
	if resp.Status != 200 {
		return nil, fmt.Errorf("JWKS %s answered HTTP %d, expected 200 with a key set (body %s)", j.jwksURL, resp.Status, resp.Snippet())
	}
	set, err := ParseJWKS(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %v", j.jwksURL, err)
	}
	set.Source = "JWKS " + j.jwksURL
	return set, nil
}

// DiscoverJWKSURI reads the issuer's OpenID discovery document (falling back
// to RFC 8414 metadata) and returns its jwks_uri.
func DiscoverJWKSURI(ctx context.Context, c *flows.Client, issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("issuer %q is not an http(s) URL", issuer)
	}
	base := strings.TrimRight(issuer, "/")
	var lastErr error
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, err := c.Get(ctx, "discovery", base+p, nil)
		if err != nil {
			return "", err
		}
		if resp.Status == 404 {
			lastErr = fmt.Errorf("discovery %s answered HTTP 404", base+p)
			continue
		}
		if resp.Status != 200 {
			return "", fmt.Errorf("discovery %s answered HTTP %d, expected 200 with JSON (body %s)", base+p, resp.Status, resp.Snippet())
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(resp.Body, &doc); err != nil {
			return "", fmt.Errorf("discovery %s is not JSON (%s, body %s)", base+p, resp.ContentType(), resp.Snippet())
		}
		if doc.Issuer != "" && doc.Issuer != issuer {
			return "", fmt.Errorf("discovery %s says issuer %q, but you asked for %q (OIDC Discovery §4.3 requires them to be identical)", base+p, doc.Issuer, issuer)
		}
		if doc.JWKSURI == "" {
			return "", fmt.Errorf("discovery %s has no jwks_uri", base+p)
		}
		return doc.JWKSURI, nil
	}
	return "", lastErr
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
