package cli

import (
	"strings"
	"testing"

	"authlab/mockidp"
)

// TestIdpHelpNamesAPIKeyResource: `idp --help` tells where the demo API
// key goes, with the key the default configuration accepts.
func TestIdpHelpNamesAPIKeyResource(t *testing.T) {
	code, out, _ := runAuthlab(t, "", "", "idp", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if mockidp.DefaultConfig().APIKey != mockidp.DemoAPIKey {
		t.Fatal("the default configuration does not accept the demo API key the help names")
	}
	for _, want := range []string{"/api/key", mockidp.DemoAPIKey, mockidp.APIKeyHeader, mockidp.APIKeyQuery + " query parameter", "Examples:"} {
		if !strings.Contains(out, want) {
			t.Errorf("idp --help lacks %q:\n%s", want, out)
		}
	}
}
