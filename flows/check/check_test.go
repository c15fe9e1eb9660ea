package check_test

import (
	"context"
	"testing"

	"authlab/flows"
	"authlab/flows/check"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func statuses(rep *check.Report) map[string]flows.Status {
	m := map[string]flows.Status{}
	for _, c := range rep.Checks {
		m[c.Name] = c.Status
	}
	return m
}

func TestProfilesAgainstTheMockIdPModes(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	fapi := mockidptest.New(t, mockidp.WithConfig(cfg))
	def := mockidptest.New(t)
	ctx := context.Background()

	rep, err := check.Run(ctx, check.Options{Issuer: fapi.Issuer()})
	if err != nil || rep.Failed() {
		t.Fatalf("fapi2 mode: %v %+v", err, rep)
	}
	rep, err = check.Run(ctx, check.Options{Issuer: def.Issuer(), Profile: check.ProfileFAPI2})
	if err != nil || !rep.Failed() {
		t.Fatalf("default mode passes fapi2: %v %+v", err, rep)
	}
	st := statuses(rep)
	for name, want := range map[string]flows.Status{"pushed authorization requests": flows.Fail, "grant types": flows.Fail,
		"signing algorithms": flows.Fail, "client authentication": flows.Warn, "https": flows.Warn, "issuer": flows.Pass} {
		if st[name] != want {
			t.Errorf("%s: %s, want %s", name, st[name], want)
		}
	}
	// The BCP is gentler: PAR is optional, shared secrets a warning.
	rep, err = check.Run(ctx, check.Options{Issuer: def.Issuer(), Profile: check.ProfileBCP})
	if err != nil {
		t.Fatal(err)
	}
	if st := statuses(rep); st["pushed authorization requests"] != flows.Pass || st["grant types"] != flows.Fail {
		t.Errorf("bcp: %+v", rep.Checks)
	}
	if _, err := check.Run(ctx, check.Options{Issuer: "ftp://x"}); err == nil {
		t.Error("ftp issuer accepted")
	}
}

// TestIssuerMismatchFails: metadata naming another issuer is a failure.
func TestIssuerMismatchFails(t *testing.T) {
	idp := mockidptest.New(t)
	rep, err := check.Run(context.Background(), check.Options{Issuer: "http://localhost:" + idp.Issuer()[len("http://127.0.0.1:"):]})
	if err != nil {
		t.Fatal(err)
	}
	if statuses(rep)["issuer"] != flows.Fail {
		t.Fatalf("%+v", rep.Checks)
	}
}
