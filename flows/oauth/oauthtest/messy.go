// Package oauthtest holds a misbehaving authorization server for tests:
// each way real IdPs are messy, served as its own issuer. It is imported
// by tests only.
package oauthtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Case is one misbehaviour. Issuer is Server.URL + "/" + Name.
type Case struct {
	Name string
	What string // the item of "Real IdPs are messy" it covers
	// WantOK: a tolerant client succeeds; otherwise it fails with a clear error.
	WantOK bool
	// Timeout, when set, is the per-call timeout a client should use.
	Timeout time.Duration
	// Shows names the step or check whose line shows the tolerance.
	Shows string
}

// Cases lists every case the server knows, in catalogue order.
func Cases() []Case {
	return []Case{
		{Name: "expires-in-string", Shows: "expires_in", What: "expires_in as a string", WantOK: true},
		{Name: "token-type-lowercase", Shows: "token_type", What: "token_type in any case", WantOK: true},
		{Name: "missing-scope", Shows: "scope", What: "scope missing from the response", WantOK: true},
		{Name: "form-response", Shows: "response format", What: "form-urlencoded token response (old GitHub style)", WantOK: true},
		{Name: "rfc8414-only", Shows: "discovery", What: "no OIDC discovery, RFC 8414 metadata only", WantOK: true},
		{Name: "spa-catch-all", Shows: "discovery", What: "OIDC discovery path answers 200 with an HTML app page", WantOK: true},
		{Name: "discovery-redirects", Shows: "discovery", What: "discovery redirected 3 times (≤5 followed)", WantOK: true},
		{Name: "html-error", What: "HTML error page (502 from a proxy)"},
		{Name: "html-200", What: "HTML login page with status 200"},
		{Name: "oauth-error", What: "OAuth error with error_description and error_uri"},
		{Name: "oauth-error-200", What: "OAuth error with status 200 (GitHub style)"},
		{Name: "www-authenticate", What: "401 with only a WWW-Authenticate challenge"},
		{Name: "invalid-json", What: "broken JSON with status 200"},
		{Name: "no-access-token", What: "200 JSON without access_token"},
		{Name: "issuer-mismatch", What: "discovery names another issuer"},
		{Name: "token-redirect", What: "token endpoint redirects the POST"},
		{Name: "discovery-redirect-loop", What: "discovery redirects forever"},
		{Name: "huge-body", What: "2 MiB token response"},
		{Name: "gzip-bomb", What: "gzip body inflating to 8 MiB"},
		{Name: "huge-headers", What: "128 KiB of response headers"},
		{Name: "slow", What: "token endpoint never answers", Timeout: 300 * time.Millisecond},
	}
}

// Server is the misbehaving server.
type Server struct {
	URL  string
	srv  *http.Server
	ln   net.Listener
	stop chan struct{}
	once sync.Once
}

// Start serves the cases on 127.0.0.1:0.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, stop: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and releases handlers that are hanging on purpose.
func (s *Server) Close() {
	s.once.Do(func() { close(s.stop) })
	s.srv.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) metadata(name string) map[string]any {
	iss := s.URL + "/" + name
	return map[string]any{
		"issuer":                 iss,
		"token_endpoint":         iss + "/token",
		"authorization_endpoint": iss + "/authorize",
		"jwks_uri":               iss + "/jwks",
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	// RFC 8414 puts the well-known segment first: /.well-known/oauth-authorization-server/NAME
	if rest, ok := strings.CutPrefix(path, ".well-known/oauth-authorization-server/"); ok {
		if rest == "rfc8414-only" || rest == "spa-catch-all" {
			writeJSON(w, 200, s.metadata(rest))
			return
		}
		http.NotFound(w, r)
		return
	}
	name, rest, _ := strings.Cut(path, "/")
	switch rest {
	case ".well-known/openid-configuration":
		s.discovery(w, r, name)
	case "jwks":
		writeJSON(w, 200, map[string]any{"keys": []any{}})
	case "token":
		s.token(w, r, name)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, name string) {
	switch name {
	case "rfc8414-only":
		http.NotFound(w, r)
		return
	case "spa-catch-all":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><html><head><title>My App</title></head><body><div id=root></div></body></html>")
		return
	case "issuer-mismatch":
		m := s.metadata(name)
		m["issuer"] = "https://login.example.com/" + name
		writeJSON(w, 200, m)
		return
	case "discovery-redirect-loop":
		http.Redirect(w, r, r.URL.Path+"?again="+fmt.Sprint(len(r.URL.RawQuery)), http.StatusFound)
		return
	case "discovery-redirects":
		if n := len(r.URL.Query()["hop"]); n < 3 {
			http.Redirect(w, r, r.URL.Path+"?"+r.URL.RawQuery+"&hop=1", http.StatusFound)
			return
		}
	}
	writeJSON(w, 200, s.metadata(name))
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, name string) {
	ok := map[string]any{"access_token": "opaque-access-token-" + name, "token_type": "Bearer", "expires_in": 3600, "scope": "api:read"}
	switch name {
	case "expires-in-string":
		ok["expires_in"] = "3600"
	case "token-type-lowercase":
		ok["token_type"] = "bearer"
	case "missing-scope":
		delete(ok, "scope")
	case "form-response":
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		fmt.Fprint(w, "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=api%3Aread&token_type=bearer")
		return
	case "html-error":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
		return
	case "html-200":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><form>...</form></body></html>")
		return
	case "oauth-error":
		writeJSON(w, 400, map[string]string{"error": "invalid_scope", "error_description": "scope 'admin' is not allowed for this client", "error_uri": "https://idp.example.com/docs/errors#invalid_scope"})
		return
	case "oauth-error-200":
		writeJSON(w, 200, map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired.", "error_uri": "https://docs.github.com/apps/troubleshooting"})
		return
	case "www-authenticate":
		w.Header().Set("WWW-Authenticate", `Basic realm="idp", error="invalid_client", error_description="client authentication failed"`)
		w.WriteHeader(401)
		return
	case "invalid-json":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token": "abc", "token_type": "Bearer",`)
		return
	case "no-access-token":
		writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3600})
		return
	case "token-redirect":
		http.Redirect(w, r, "https://"+r.Host+r.URL.Path, http.StatusMovedPermanently)
		return
	case "huge-body":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"%s"}`, strings.Repeat("a", 2<<20))
		return
	case "gzip-bomb":
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(`{"access_token":"`))
		zw.Write(bytes.Repeat([]byte("a"), 8<<20))
		zw.Write([]byte(`"}`))
		zw.Close()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(buf.Bytes())
		return
	case "huge-headers":
		for i := 0; i < 128; i++ {
			w.Header().Add(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("x", 1024))
		}
		writeJSON(w, 200, ok)
		return
	case "slow":
		select { // hang until the client gives up or the test ends
		case <-r.Context().Done():
		case <-s.stop:
		case <-time.After(time.Minute):
		}
		return
	}
	writeJSON(w, 200, ok)
}
