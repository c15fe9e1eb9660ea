package mockidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// DemoAPIKey is the key /api/key accepts in the demo configuration. It is
// published, like the demo client secrets, so it proves nothing outside demos.
const DemoAPIKey = "authlab-demo-api-key"

// The places /api/key looks for the key.
const (
	APIKeyHeader = "X-API-Key"
	APIKeyQuery  = "api_key"
)

// apiKeyChallenge tells a refused caller where the key goes. API keys have
// no registered HTTP authentication scheme; this one is the mock IdP's own,
// so that the 401 carries a WWW-Authenticate as RFC 9110 11.6.1 asks.
const apiKeyChallenge = `APIKey realm="authlab-mockidp", header="` + APIKeyHeader + `", query="` + APIKeyQuery + `"`

// handleAPIKey is the demo API-key resource: exactly one key, in the
// X-API-Key header or the api_key query parameter, equal to the configured
// one (compared in constant time, length included).
func (s *Server) handleAPIKey(w http.ResponseWriter, r *http.Request) {
	keys := append(r.Header.Values(APIKeyHeader), r.URL.Query()[APIKeyQuery]...)
	refuse := func(status int, code, desc string) {
		w.Header().Set("WWW-Authenticate", apiKeyChallenge+`, error="`+code+`"`)
		writeOAuthError(w, status, code, desc)
	}
	switch {
	case len(keys) == 0:
		refuse(http.StatusUnauthorized, "invalid_api_key", "no API key: send it in the "+APIKeyHeader+" header or the "+APIKeyQuery+" query parameter")
		return
	case len(keys) > 1:
		refuse(http.StatusBadRequest, "invalid_request", "more than one API key in the request")
		return
	}
	via := "header"
	if r.Header.Get(APIKeyHeader) == "" {
		via = "query"
	}
	if !apiKeyEqual(keys[0], s.cfg.APIKey) {
		refuse(http.StatusUnauthorized, "invalid_api_key", "the API key (in the "+via+") is not the configured one")
		return
	}
	writeJSON(w, http.StatusOK, jsonBytes(map[string]any{"message": "hello, API key holder", "via": via}))
}

// apiKeyEqual compares digests, so neither the time nor an early length
// mismatch says how close a guess was. No configured key matches nothing.
func apiKeyEqual(got, want string) bool {
	g, k := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return want != "" && subtle.ConstantTimeCompare(g[:], k[:]) == 1
}
