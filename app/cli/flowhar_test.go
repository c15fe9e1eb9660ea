package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"authlab/mockidp/mockidptest"
)

// TestFlowHAR: --har on `authlab flow` and `authlab run` writes HTTP
// Archive 1.2 with the client secret and the tokens masked, and the
// access token kept with --har-tokens.
func TestFlowHAR(t *testing.T) {
	idp := mockidptest.New(t)
	dir := t.TempDir()
	st := filepath.Join(dir, "s.db")
	file := filepath.Join(dir, "run.har")
	code, out, errs := runAuthlab(t, st, "", "flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "demo-cc",
		"--client-secret", demoCCSecret, "--scope", "api:read", "--call", idp.Issuer()+"/api/hello", "--json", "--har", file)
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	j := decodeFlowJSON(t, out)
	at, _ := j.Token["access_token"].(string)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			Version string `json:"version"`
			Entries []struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Log.Version != "1.2" || len(h.Log.Entries) != len(j.Exchanges) {
		t.Fatalf("HAR: %v version %q, %d entries for %d exchanges", err, h.Log.Version, len(h.Log.Entries), len(j.Exchanges))
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("HAR mode %v", fi.Mode().Perm())
	}
	if at == "" || strings.Contains(string(b), at) || strings.Contains(string(b), demoCCSecret) {
		t.Fatal("the HAR holds the access token or the client secret")
	}

	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "cc", "--kind", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-cc", "--client-secret", demoCCSecret); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs = runAuthlab(t, st, "", "run", "cc", "--json", "--har", file, "--har-tokens")
	if code != 0 {
		t.Fatalf("run: exit %d %s", code, errs)
	}
	at, _ = decodeFlowJSON(t, out).Token["access_token"].(string)
	b, _ = os.ReadFile(file)
	if at == "" || !strings.Contains(string(b), at) || strings.Contains(string(b), demoCCSecret) {
		t.Fatal("--har-tokens: the access token is missing or the client secret is present")
	}
	if code, _, errs := runAuthlab(t, st, "", "run", "cc", "--har-tokens"); code != 2 || !strings.Contains(errs, "--har FILE") {
		t.Fatalf("--har-tokens alone: exit %d %q", code, errs)
	}
}
