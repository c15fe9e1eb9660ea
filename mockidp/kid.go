package mockidp

import (
	"crypto"
	"iter"

	"authlab/flows"
)

// kidSelects reports whether a JWS header's kid names a registered key:
// either side has none, it is the key's own kid, or it is the key's RFC
// 7638 thumbprint, which clients with a bare PEM key (authlab among them)
// put in kid because such a key has no other name.
func kidSelects(kid, keyKid, thumb string) bool {
	return kid == "" || keyKid == "" || kid == keyKid || (thumb != "" && kid == thumb)
}

// thumbOfKey is the RFC 7638 thumbprint of a public key, "" when it has none.
func thumbOfKey(pub any) string {
	t, err := flows.JWKThumbprint(pub)
	if err != nil {
		return ""
	}
	return t
}

// keyRing is a party's registered verification keys with the names a JWS
// kid may give each. Thumbprints are computed once, at config load, so
// that no request pays for them.
type keyRing struct {
	kids   []string
	thumbs []string
	pubs   []crypto.PublicKey
}

func (k *keyRing) add(kid string, pub crypto.PublicKey) {
	k.kids = append(k.kids, kid)
	k.thumbs = append(k.thumbs, thumbOfKey(pub))
	k.pubs = append(k.pubs, pub)
}

// selected yields the keys a JWS header's kid selects (kidSelects).
func (k *keyRing) selected(kid string) iter.Seq[crypto.PublicKey] {
	return func(yield func(crypto.PublicKey) bool) {
		for i, pub := range k.pubs {
			if kidSelects(kid, k.kids[i], k.thumbs[i]) && !yield(pub) {
				return
			}
		}
	}
}

// verifies reports whether a JWS verifies with one of the keys its kid
// selects.
func (k *keyRing) verifies(alg, kid string, input, sig []byte) bool {
	for pub := range k.selected(kid) {
		if verifyJWS(alg, pub, input, sig) == nil {
			return true
		}
	}
	return false
}
