package mockidp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/mockidp"
)

// --print-config and the admin config view print Redacted: a configured
// api_key is a secret like a client secret; the published demo key is not.
func TestRedactedMasksAPIKey(t *testing.T) {
	cfg, err := mockidp.ParseConfig([]byte(`{"api_key":"a-key-from-the-config"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg.Redacted())
	if strings.Contains(string(b), "a-key-from-the-config") {
		t.Errorf("Redacted shows the configured api_key: %s", b)
	}
	if got := cfg.Redacted().APIKey; got != flows.Masked {
		t.Errorf("api_key redacted to %q, want %q", got, flows.Masked)
	}
	if cfg.APIKey != "a-key-from-the-config" {
		t.Errorf("Redacted changed the config itself: %q", cfg.APIKey)
	}
	if got := mockidp.DefaultConfig().Redacted().APIKey; got != mockidp.DemoAPIKey {
		t.Errorf("demo api_key redacted to %q; it is public by design", got)
	}
}
