package store

import (
	"strings"
	"testing"
)

// An api-key profile names a header or a query parameter for its key, not both.
func TestAPIKeyQueryValidation(t *testing.T) {
	p := Profile{Name: "k", Kind: KindAPIKey, TargetURL: "https://api.example.com/x", APIKeyQuery: "api_key"}
	if err := p.Validate(); err != nil {
		t.Fatalf("query only: %v", err)
	}
	p.APIKeyHeader = "X-Key"
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "api_key_query") || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("header and query: %v", err)
	}
	p.APIKeyQuery = "api\x1b]52;key"
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Fatalf("control character: %v", err)
	}
}
