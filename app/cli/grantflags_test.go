package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"authlab/mockidp/mockidptest"
)

const demoKeyFile = "../../testdata/mockidp/demo-jwt.key"

func TestFlowPasswordWarnsOnce(t *testing.T) {
	idp := mockidptest.New(t)
	t.Setenv("AUTHLAB_TEST_PW", "alice")
	code, out, errs := runAuthlab(t, "", "", "flow", "password", "--issuer", idp.Issuer(), "--client-id", "demo-password",
		"--client-secret", "demo-password-secret", "--username", "alice", "--password", "env:AUTHLAB_TEST_PW", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if n := strings.Count(errs, "RFC 9700"); n != 1 {
		t.Errorf("stderr says RFC 9700 %d times: %s", n, errs)
	}
	var res struct {
		OK     bool
		Checks []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.OK {
		t.Fatalf("json %v: %s", err, out)
	}
	if res.Checks[0].Name != "password grant" || res.Checks[0].Status != "warn" {
		t.Errorf("checks %+v", res.Checks)
	}
	// A profile of kind password runs with `authlab run`; the password stays a reference.
	st := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "legacy", "--kind", "password", "--issuer", idp.Issuer(), "--client-id", "demo-password",
		"--client-secret", "demo-password-secret", "--username", "alice", "--password", "env:AUTHLAB_TEST_PW"); code != 0 {
		t.Fatalf("profile add: %s", errs)
	}
	if code, out, errs := runAuthlab(t, st, "", "run", "legacy"); code != 0 {
		t.Fatalf("run: %d %s %s", code, out, errs)
	}
	_, out, _ = runAuthlab(t, st, "", "profile", "show", "legacy", "--json")
	if !strings.Contains(out, `"user_password": "env:AUTHLAB_TEST_PW"`) {
		t.Errorf("profile show: %s", out)
	}
}

func TestFlowJWTBearerAndKid(t *testing.T) {
	idp := mockidptest.New(t)
	code, out, errs := runAuthlab(t, "", "", "flow", "jwt-bearer", "--issuer", idp.Issuer(), "--client-id", "demo-jwt",
		"--private-key", demoKeyFile, "--kid", "demo-jwt-1", "--assertion-key", demoKeyFile, "--assertion-claims", `{"sub":"bob"}`, "--scope", "api:read", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if !strings.Contains(out, `"sub": "bob"`) {
		t.Errorf("no sub bob: %s", out)
	}
	// Without --kid the PEM key's RFC 7638 thumbprint names it: the mock IdP knows it.
	if code, out, errs := runAuthlab(t, "", "", "flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "demo-jwt", "--private-key", demoKeyFile); code != 0 {
		t.Errorf("without --kid: %d %s %s", code, out, errs)
	}
	// A kid that names no registered key is invalid_client, with the hint.
	code, _, errs = runAuthlab(t, "", "", "flow", "client-credentials", "--issuer", idp.Issuer(), "--client-id", "demo-jwt", "--private-key", demoKeyFile, "--kid", "demo-jwt-2")
	if code != 1 || !strings.Contains(errs, "invalid_client") || !strings.Contains(errs, "--assertion-aud") {
		t.Errorf("unknown --kid: %d %s", code, errs)
	}
	// Neither --assertion nor --assertion-key: usage error naming both flags.
	code, _, errs = runAuthlab(t, "", "", "flow", "jwt-bearer", "--issuer", idp.Issuer(), "--client-id", "demo-jwt", "--private-key", demoKeyFile)
	if code != 2 || !strings.Contains(errs, "--assertion") || !strings.Contains(errs, "--assertion-key") {
		t.Errorf("no assertion: %d %s", code, errs)
	}
}
