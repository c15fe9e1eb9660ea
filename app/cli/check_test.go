package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"authlab/flows/check"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func TestCheckFAPI2PassesOnFAPI2ModeFailsOnDefault(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	fapi := mockidptest.New(t, mockidp.WithConfig(cfg))
	code, out, errs := runAuthlab(t, "", "", "check", "--issuer", fapi.Issuer(), "--profile", "fapi2", "--json")
	if code != 0 {
		t.Fatalf("fapi2 mode: exit %d %s %s", code, out, errs)
	}
	var rep struct {
		Profile, Issuer string
		Checks          []struct{ Name, Status, Detail, Reference string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Profile != "fapi2" || rep.Issuer != fapi.Issuer() || len(rep.Checks) < 9 {
		t.Fatalf("report %v %+v", err, rep)
	}
	for _, c := range rep.Checks {
		if c.Reference == "" || c.Detail == "" {
			t.Errorf("item without detail or reference: %+v", c)
		}
		if c.Status != "pass" && c.Name != "https" { // a loopback http issuer is a warning
			t.Errorf("fapi2 mode: %+v", c)
		}
	}

	def := mockidptest.New(t)
	code, out, errs = runAuthlab(t, "", "", "check", "--issuer", def.Issuer())
	if code != 1 {
		t.Fatalf("default mode: exit %d %s", code, out)
	}
	for _, want := range []string{"pushed authorization requests", "signing algorithms", "grant types"} {
		if !strings.Contains(errs, want) || !strings.Contains(out, "FAIL "+want) {
			t.Errorf("default mode does not fail %q:\n%s\n%s", want, out, errs)
		}
	}
	if code, _, errs := runAuthlab(t, "", "", "check", "--issuer", def.Issuer(), "--profile", "nope"); code != 2 {
		t.Errorf("bad profile: %d %s", code, errs)
	}
}

// checkFAPIClient are the flags of the demo-jwt client as a FAPI 2.0 client.
func checkFAPIClient() []string {
	return []string{"--client-id", "demo-jwt", "--kid", "demo-jwt-1", "--private-key", "file:" + demoKeyFile, "--fapi2"}
}

func TestCheckProbesPassOnFAPI2ModeFailOnDefault(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	fapi := mockidptest.New(t, mockidp.WithConfig(cfg))
	code, out, errs := runAuthlab(t, "", "", append([]string{"check", "--issuer", fapi.Issuer(), "--json"}, checkFAPIClient()...)...)
	if code != 0 {
		t.Fatalf("fapi2 mode: exit %d %s %s", code, out, errs)
	}
	var rep struct {
		Checks []struct{ Name, Status, Detail, Reference string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range rep.Checks {
		got[c.Name] = c.Status
	}
	for _, n := range []string{check.ProbeNoPAR, check.ProbePKCEMissing, check.ProbePKCEPlain, check.ProbeRedirect,
		check.ProbeCodeReuse, check.ProbeIss, check.ProbeRequestURI, check.ProbeDPoPNonce} {
		if got[n] != "pass" {
			t.Errorf("%s: %q", n, got[n])
		}
	}

	def := mockidptest.New(t)
	t.Setenv("CHECK_TEST_SECRET", "demo-web-secret")
	code, out, errs = runAuthlab(t, "", "", "check", "--issuer", def.Issuer(), "--client-id", "demo-web", "--client-secret", "env:CHECK_TEST_SECRET")
	if code != 1 {
		t.Fatalf("default mode: exit %d %s", code, out)
	}
	for _, want := range []string{check.ProbeNoPAR, check.ProbePKCEMissing} {
		if !strings.Contains(errs, want) || !strings.Contains(out, "FAIL "+want) {
			t.Errorf("default mode does not fail %q:\n%s\n%s", want, out, errs)
		}
	}
	if !strings.Contains(out, "SKIP "+check.ProbeDPoPNonce) || strings.Contains(out+errs, "demo-web-secret") {
		t.Errorf("output:\n%s\n%s", out, errs)
	}
	// The last line counts the items by status, as the lines above have them.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	fails := strings.Count(out, "\n  FAIL ")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, fmt.Sprintf("%d items: ", len(lines)-2)) || !strings.Contains(last, fmt.Sprintf("%d fail", fails)) {
		t.Errorf("summary line %q (%d items, %d fail)", last, len(lines)-2, fails)
	}
}

// TestCheckClientProfile: --client-profile probes as a saved profile's
// client, its issuer included; flags override it.
func TestCheckClientProfile(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	fapi := mockidptest.New(t, mockidp.WithConfig(cfg))
	st := filepath.Join(t.TempDir(), "authlab.db")
	add := append([]string{"profile", "add", "bank", "--kind", "auth-code", "--issuer", fapi.Issuer()}, checkFAPIClient()...)
	if code, _, errs := runAuthlab(t, st, "", add...); code != 0 {
		t.Fatalf("profile add: %d %s", code, errs)
	}
	code, out, errs := runAuthlab(t, st, "", "check", "--client-profile", "bank")
	if code != 0 || !strings.Contains(out, "PASS "+check.ProbeCodeReuse) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	// The override: a client the server does not know, so every probe skips.
	code, out, _ = runAuthlab(t, st, "", "check", "--client-profile", "bank", "--client-id", "nobody")
	if code != 0 || !strings.Contains(out, "SKIP "+check.ProbeCodeReuse) {
		t.Fatalf("override: exit %d\n%s", code, out)
	}
	if code, _, errs := runAuthlab(t, st, "", "check", "--client-profile", "missing"); code != 2 || errs == "" {
		t.Errorf("missing profile: %d %s", code, errs)
	}
}

func TestCheckFlagErrors(t *testing.T) {
	idp := mockidptest.New(t)
	for _, args := range [][]string{
		{"check"},
		{"check", "--issuer", idp.Issuer(), "--token-url", idp.Issuer() + "/token", "--client-id", "demo-web"},
		{"check", "--issuer", idp.Issuer(), "--client-id", "demo-jwt", "--private-key", "no-such-key.pem"},
	} {
		if code, _, errs := runAuthlab(t, "", "", args...); code != 2 || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d %q", args, code, errs)
		}
	}
}
