package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

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

// ParseJWKS parses a JWK Set (RFC 7517) with go-jose. A single JWK is
// accepted too. Keys of unknown type are skipped with a note; a set with no
// usable key is an error.
func ParseJWKS(data []byte) (*KeySet, error) {
	set, err := flows.ParseJWKSet(data)
	if err != nil {
		return nil, err
	}
	ks := &KeySet{Keys: make([]Key, 0, len(set.Keys))}
	for _, j := range set.Keys {
		ks.Keys = append(ks.Keys, keyFromJWK(j))
	}
	if len(set.Skipped) > 0 {
		ks.Note = "skipped keys of unsupported type: " + strings.Join(set.Skipped, ", ")
	}
	return ks, nil
}

// keyFromJWK is the verifier's view of a go-jose JWK: a private JWK in a
// set contributes its public half.
func keyFromJWK(j jose.JSONWebKey) Key {
	k := Key{ID: j.KeyID, Alg: j.Algorithm, Use: j.Use}
	if secret, ok := j.Key.([]byte); ok {
		k.Kty, k.Secret = "oct", secret
		return k
	}
	k.Public = j.Public().Key
	k.Kty = ktyOf(k.Public)
	k.Thumbprint, _ = flows.JWKThumbprint(k.Public)
	return k
}

// ktyOf is the JWK key type of a public key, "" for others.
func ktyOf(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return ""
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
		k := Key{Public: pub, Kty: ktyOf(pub)}
		if k.Kty == "" {
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
