package store

import (
	"strings"
	"testing"
)

// Extra parameters are printed and exported verbatim, so a secret-named one
// is refused with its field name.
func TestExtraParamSecretRefused(t *testing.T) {
	p := Profile{Name: "x", Kind: KindClientCredentials, TokenURL: "https://idp.test/token", ClientID: "c",
		ExtraParams: map[string]string{"client_secret": "hunter2", "prompt": "consent"}}
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "extra_params.client_secret") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Validate() = %v", err)
	}
	delete(p.ExtraParams, "client_secret")
	if err := p.Validate(); err != nil {
		t.Fatalf("prompt alone: %v", err)
	}
}
