package console

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	faudit "authlab/flows/audit"
	fcheck "authlab/flows/check"
)

// TestExportBase: every export is KIND-NAME-TIME in its directory; a name
// cannot leave it or make the file hidden.
func TestExportBase(t *testing.T) {
	at := time.Date(2026, 11, 27, 13, 4, 5, 0, time.FixedZone("CET", 3600))
	for name, want := range map[string]string{
		"demo-cc":      "run-demo-cc-20261127-120405",
		"../../etc/pw": "run--..-etc-pw-20261127-120405", // no separator left: it stays in dir
		".hidden.":     "run-hidden-20261127-120405",
		"a b/c@d":      "run-a-b-c-d-20261127-120405",
	} {
		got := exportBase("/exports", "run", name, at)
		if got != filepath.Join("/exports", want) {
			t.Errorf("exportBase(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestStoreBackendExportsShareTheNaming: HAR, audit and check exports land
// in ExportDir under their kind, each 0600.
func TestStoreBackendExportsShareTheNaming(t *testing.T) {
	dir := t.TempDir()
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db"), ExportDir: dir, Now: fixedClock}
	har, err := b.ExportHAR("p1", fixtureResult())
	if err != nil {
		t.Fatal(err)
	}
	chk, err := b.ExportCheck("p1", &fcheck.Report{Profile: fcheck.ProfileBCP})
	if err != nil {
		t.Fatal(err)
	}
	j, md, err := b.ExportAudit("p1", &faudit.Report{Target: "http://127.0.0.1:9/api", Cases: []faudit.Case{}})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		har: "run-p1-20261127-120000.har",
		chk: "check-p1-" + fcheck.ProfileBCP + "-20261127-120000.json",
		j:   "audit-p1-20261127-120000.json",
		md:  "audit-p1-20261127-120000.md",
	} {
		if path != filepath.Join(dir, want) {
			t.Errorf("export %q, want %s in %s", path, want, dir)
			continue
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v; want mode 0600", want, err, st)
		}
	}
}
