package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"authlab/flows"
)

// A password in the issuer URL never reaches the error that quotes the
// discovery URLs, in any of its spellings.
func TestDiscoveryErrorsMaskURLPassword(t *testing.T) {
	const pw = "s3cr3t/pw%x"
	for name, handler := range map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
		"wrong issuer": func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"issuer": "https://other.example"})
		},
		"not found here": http.NotFound,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			t.Cleanup(srv.Close)
			issuer := strings.Replace(srv.URL, "http://", "http://"+url.UserPassword("alice", pw).String()+"@", 1)
			res := Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: issuer, ClientID: "c", ClientSecret: "client-secret-value"}, nil)
			if res.Err == nil {
				t.Fatal("discovery against a broken server succeeded")
			}
			for _, form := range []string{pw, "s3cr3t%2Fpw", "s3cr3t"} {
				if strings.Contains(res.Err.Message, form) {
					t.Fatalf("error shows the URL password (%q): %s", form, res.Err.Message)
				}
			}
			if !strings.Contains(res.Err.Message, "127.0.0.1") {
				t.Errorf("error no longer names the server: %s", res.Err.Message)
			}
		})
	}
	// A URL that does not even parse (an unescaped '/' in the password).
	res := Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: "http://alice:" + pw + "@127.0.0.1:1", ClientID: "c", ClientSecret: "client-secret-value"}, nil)
	if res.Err == nil || strings.Contains(res.Err.Message, "s3cr3t") {
		t.Fatalf("unparsable issuer URL: %+v", res.Err)
	}
}
