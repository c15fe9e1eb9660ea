package cli

import (
	"encoding/json"
	"strings"
	"testing"

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
