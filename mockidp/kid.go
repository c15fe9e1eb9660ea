package mockidp

import "authlab/flows"

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
