package mockidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"

	"authlab/flows"
)

// Algs the IdP signs with.
var signingAlgs = [...]string{"RS256", "ES256", "EdDSA"}

// KeysFile is the file in the keys directory that holds the signing keys.
const KeysFile = "mockidp-keys.json"

type signingKey struct {
	Kid     string
	Alg     string
	Priv    crypto.Signer
	Created time.Time
	// RetireAt is when a rotated-out key leaves the JWKS (zero: current).
	RetireAt time.Time
	// headers: precomputed base64url JOSE headers for access and ID tokens.
	atHeader, idHeader string
	jwk                jose.JSONWebKey // public half, as the JWKS publishes it
}

func newSigningKey(alg string, priv crypto.Signer, kid string, created time.Time) (*signingKey, error) {
	k := &signingKey{Kid: kid, Alg: alg, Priv: priv, Created: created}
	if ec, ok := priv.Public().(*ecdsa.PublicKey); ok && ec.Curve != elliptic.P256() {
		return nil, errors.New("only P-256 EC keys are supported")
	}
	k.jwk = jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
	// Marshal once here, so building the JWKS document cannot fail later.
	if _, err := k.jwk.MarshalJSON(); err != nil {
		return nil, fmt.Errorf("key %s: %w", kid, err)
	}
	k.atHeader = b64.EncodeToString([]byte(`{"alg":"` + alg + `","kid":"` + kid + `","typ":"at+jwt"}`))
	k.idHeader = b64.EncodeToString([]byte(`{"alg":"` + alg + `","kid":"` + kid + `","typ":"JWT"}`))
	return k, nil
}

func generateKey(alg string, now time.Time) (*signingKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("alg %q: want RS256, ES256 or EdDSA", alg)
	}
	if err != nil {
		return nil, err
	}
	kid := make([]byte, 8)
	rand.Read(kid)
	return newSigningKey(alg, priv, alg+"-"+b64.EncodeToString(kid), now)
}

// keySet is an immutable snapshot: replaced whole on rotation.
type keySet struct {
	current    map[string]*signingKey // by alg
	retired    []*signingKey          // still published until RetireAt
	byKid      map[string]*signingKey // current + retired
	jwks       []byte                 // cached JWKS document
	nextRetire time.Time
}

func (ks *keySet) index(now time.Time) *keySet {
	out := &keySet{current: ks.current, byKid: map[string]*signingKey{}}
	var keys []jose.JSONWebKey
	for _, alg := range signingAlgs {
		if k := ks.current[alg]; k != nil {
			out.byKid[k.Kid] = k
			keys = append(keys, k.jwk)
		}
	}
	for _, k := range ks.retired {
		if now.Before(k.RetireAt) {
			out.retired = append(out.retired, k)
			out.byKid[k.Kid] = k
			keys = append(keys, k.jwk)
			if out.nextRetire.IsZero() || k.RetireAt.Before(out.nextRetire) {
				out.nextRetire = k.RetireAt
			}
		}
	}
	out.jwks = jsonBytes(jose.JSONWebKeySet{Keys: keys})
	return out
}

// persisted form of the keys file.
type keyFile struct {
	Keys []keyRecord `json:"keys"`
}

type keyRecord struct {
	Kid      string    `json:"kid"`
	Alg      string    `json:"alg"`
	PKCS8    []byte    `json:"pkcs8"`
	Created  time.Time `json:"created"`
	RetireAt time.Time `json:"retire_at,omitzero"`
}

// loadOrCreateKeys reads the keys file in dir; algs missing there are
// generated and the file rewritten. dir "" keeps keys in memory only.
func loadOrCreateKeys(dir string, now time.Time) (*keySet, error) {
	ks := &keySet{current: map[string]*signingKey{}}
	dirty := false
	if dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, KeysFile))
		switch {
		case err == nil:
			var kf keyFile
			if err := json.Unmarshal(b, &kf); err != nil {
				return nil, fmt.Errorf("keys file %s: %w", filepath.Join(dir, KeysFile), err)
			}
			for _, r := range kf.Keys {
				p, err := x509.ParsePKCS8PrivateKey(r.PKCS8)
				if err != nil {
					return nil, fmt.Errorf("keys file %s: key %s: %w", filepath.Join(dir, KeysFile), r.Kid, err)
				}
				signer, ok := p.(crypto.Signer)
				if !ok || algOf(signer.Public()) != r.Alg {
					return nil, fmt.Errorf("keys file %s: key %s is not an %s key", filepath.Join(dir, KeysFile), r.Kid, r.Alg)
				}
				k, err := newSigningKey(r.Alg, signer, r.Kid, r.Created)
				if err != nil {
					return nil, err
				}
				k.RetireAt = r.RetireAt
				if r.RetireAt.IsZero() {
					ks.current[r.Alg] = k
				} else if now.Before(r.RetireAt) {
					ks.retired = append(ks.retired, k)
				}
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("keys: %w", err)
		}
	}
	for _, alg := range signingAlgs {
		if ks.current[alg] == nil {
			k, err := generateKey(alg, now)
			if err != nil {
				return nil, err
			}
			ks.current[alg] = k
			dirty = true
		}
	}
	if dirty && dir != "" {
		if err := saveKeys(dir, ks); err != nil {
			return nil, err
		}
	}
	return ks.index(now), nil
}

func saveKeys(dir string, ks *keySet) error {
	var kf keyFile
	add := func(k *signingKey) error {
		der, err := x509.MarshalPKCS8PrivateKey(k.Priv)
		if err != nil {
			return err
		}
		kf.Keys = append(kf.Keys, keyRecord{Kid: k.Kid, Alg: k.Alg, PKCS8: der, Created: k.Created, RetireAt: k.RetireAt})
		return nil
	}
	for _, alg := range signingAlgs {
		if k := ks.current[alg]; k != nil {
			if err := add(k); err != nil {
				return err
			}
		}
	}
	for _, k := range ks.retired {
		if err := add(k); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keys dir: %w", err)
	}
	return flows.WritePrivateFile(filepath.Join(dir, KeysFile), jsonBytes(kf))
}
