package oauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

func TestClientSecretBasicFormEncodes(t *testing.T) {
	e, err := New(flows.Request{Flow: flows.FlowClientCredentials, Endpoints: flows.Endpoints{Token: "https://idp/token"},
		ClientID: "my client:1", ClientSecret: "p%ss:wörd+/"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	form := url.Values{}
	if err := e.authenticate(form, h, "https://idp"); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.Get("Authorization"), "Basic "))
	// RFC 6749 2.3.1: application/x-www-form-urlencoded, then base64.
	if string(raw) != "my+client%3A1:p%25ss%3Aw%C3%B6rd%2B%2F" || len(form) != 0 {
		t.Fatalf("credentials %q form %v", raw, form)
	}
}

func TestClientAssertionClaims(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := New(flows.Request{Flow: flows.FlowClientCredentials, Issuer: "https://idp.example", ClientID: "cid",
		ClientSecret: "a-shared-secret-of-enough-length", AuthMethod: flows.AuthClientSecretJWT, Now: func() time.Time { return now }}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		form := url.Values{}
		if err := e.authenticate(form, http.Header{}, "https://idp.example"); err != nil {
			t.Fatal(err)
		}
		if form.Get("client_assertion_type") != assertionType || form.Get("client_id") != "cid" {
			t.Fatalf("form %v", form)
		}
		parts := strings.Split(form.Get("client_assertion"), ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		json.Unmarshal(b, &c)
		if c["iss"] != "cid" || c["sub"] != "cid" || c["aud"] != "https://idp.example" ||
			c["exp"].(float64)-c["iat"].(float64) != 60 || c["iat"].(float64) != float64(now.Unix()) {
			t.Fatalf("claims %v", c)
		}
		jti := c["jti"].(string)
		if len(jti) < 32 || seen[jti] {
			t.Fatalf("jti %q not unique/long", jti)
		}
		seen[jti] = true
	}
}

func TestParseChallenge(t *testing.T) {
	c := ParseChallenge(`Bearer realm="api", error="insufficient_scope", error_description="needs \"api:read\"", scope="api:read"`)
	if c.Scheme != "Bearer" || c.Params["error"] != "insufficient_scope" || c.Params["error_description"] != `needs "api:read"` || c.Params["scope"] != "api:read" {
		t.Fatalf("%+v", c)
	}
	if got := c.Explain(); !strings.Contains(got, "lacks a scope") || !strings.Contains(got, "needs scope api:read") {
		t.Fatalf("explain %q", got)
	}
	for _, v := range []string{"", "Bearer", `Bearer error=`, `Basic realm="x`, `, , =`} {
		ParseChallenge(v) // must not panic
	}
}
