package mockidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
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
	keys := slices.Concat(r.Header.Values(APIKeyHeader), r.URL.Query()[APIKeyQuery]) // no append onto the header's own slice
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
	if !s.apiKeyMatches(keys[0]) {
		refuse(http.StatusUnauthorized, "invalid_api_key", "the API key (in the "+via+") is not the configured one")
		return
	}
	writeJSON(w, http.StatusOK, jsonBytes(map[string]any{"message": "hello, API key holder", "via": via}))
}

// apiKeyMatches compares digests, so neither the time nor an early length
// mismatch says how close a guess was. No configured key matches nothing.
func (s *Server) apiKeyMatches(got string) bool {
	g := sha256.Sum256([]byte(got))
	return s.apiKeyDigest != nil && subtle.ConstantTimeCompare(g[:], s.apiKeyDigest[:]) == 1
}

// apiKeyDigestOf is the digest apiKeyMatches compares with, computed once
// when the server is built; nil when no key is configured.
func apiKeyDigestOf(key string) *[32]byte {
	if key == "" {
		return nil
	}
	d := sha256.Sum256([]byte(key))
	return &d
}
