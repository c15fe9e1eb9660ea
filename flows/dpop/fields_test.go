package dpop

import (
	"errors"
	"strings"
	"testing"

	"authlab/flows"
)

// TestKeyAlgMismatchNamesTheField: the engine names the alg setting by its
// field; a front end's Explain names it its own way (the CLI: a flag).
func TestKeyAlgMismatchNamesTheField(t *testing.T) {
	flag := func(f flows.Field) string { return "--" + strings.ReplaceAll(string(f), "_", "-") }
	for _, c := range []struct{ keyAlg, alg, want string }{
		{"ES256", "PS256", "DPoP key is EC; dpop_alg PS256 needs an RSA key"},
		{"RS256", "EdDSA", "DPoP key is RSA; dpop_alg EdDSA needs an Ed25519 key"},
		{"EdDSA", "ES256", "DPoP key is Ed25519; dpop_alg ES256 needs an EC P-256 key"},
	} {
		pem, err := GeneratePEM(c.keyAlg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(pem, c.alg)
		var fe *flows.Error
		if !errors.As(err, &fe) || fe.Kind != flows.ErrConfig || fe.Error() != c.want {
			t.Fatalf("%s key, alg %s: %v, want config error %q", c.keyAlg, c.alg, err, c.want)
		}
		if got := fe.Explain(flag); got != strings.Replace(c.want, "dpop_alg", "--dpop-alg", 1) {
			t.Errorf("explained: %q", got)
		}
	}
}
