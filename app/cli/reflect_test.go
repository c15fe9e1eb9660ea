package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"authlab/store"
)

// TestReflectedSecretNeverPrintedOrStored: a token endpoint that echoes the
// request (the form in a text body, the Authorization header in a JSON
// error_description) must not put the client secret, in any spelling, on
// stderr, in --json, in human output or in history.
func TestReflectedSecretNeverPrintedOrStored(t *testing.T) {
	const secret = "reflected/s3cret+value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "bad Authorization: " + r.Header.Get("Authorization")})
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "upstream rejected %s", body)
	}))
	defer srv.Close()
	basic := base64.StdEncoding.EncodeToString([]byte("cli:" + url.QueryEscape(secret)))
	leaks := func(where, text string) {
		t.Helper()
		for _, f := range []string{secret, url.QueryEscape(secret), basic} {
			if strings.Contains(text, f) {
				t.Errorf("%s shows %q:\n%s", where, f, text)
			}
		}
	}
	st := filepath.Join(t.TempDir(), "s.db")
	for _, method := range []string{"client_secret_post", "client_secret_basic"} {
		for _, asJSON := range []bool{true, false} {
			args := []string{"flow", "client-credentials", "--token-url", srv.URL + "/token", "--client-id", "cli",
				"--client-secret", secret, "--auth-method", method}
			if asJSON {
				args = append(args, "--json")
			}
			code, out, errs := runAuthlab(t, st, "", args...)
			if code != 1 {
				t.Fatalf("%s json=%v: exit %d, want 1: %s %s", method, asJSON, code, out, errs)
			}
			leaks(method+" stdout", out)
			leaks(method+" stderr", errs)
		}
	}
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "refl", "--kind", "client-credentials", "--token-url", srv.URL+"/token",
		"--client-id", "cli", "--client-secret", secret, "--auth-method", "client_secret_basic"); code != 0 {
		t.Fatalf("profile add: %s", errs)
	}
	code, out, errs := runAuthlab(t, st, "", "run", "refl")
	if code != 1 {
		t.Fatalf("run: exit %d %s %s", code, out, errs)
	}
	leaks("run stdout", out)
	leaks("run stderr", errs)
	if !strings.Contains(errs, "bad Authorization: Basic ") {
		t.Errorf("the server's explanation is lost, not masked: %s", errs)
	}
	var runs []store.Run
	if err := store.View(st, func(s *store.Store) error {
		var err error
		runs, err = s.History("refl", 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("history has %d runs", len(runs))
	}
	b, _ := json.Marshal(runs)
	leaks("history", string(b))
}
