package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	fcheck "authlab/flows/check"
)

// TestPaletteChecksTheSelectedProfile: "check IdP" in the palette opens
// the Check screen of the selected profile, as C does.
func TestPaletteChecksTheSelectedProfile(t *testing.T) {
	b := &checkBackend{fakeBackend: &fakeBackend{rows: fixtureRows()}}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "ctrl+p")
	tm.Type("checkidp")
	waitText(t, tm, "> profile: check IdP of selected")
	press(tm, "enter")
	waitText(t, tm, "against the FAPI 2.0")
	fm := finalModel(t, tm)
	b.mu.Lock()
	defer b.mu.Unlock()
	if fm.screen != scrCheck || len(b.modes) != 1 || b.modes[0] != fcheck.ProfileFAPI2 {
		t.Fatalf("screen %v, checks %v: want the Check screen after one FAPI 2.0 check", fm.screen, b.modes)
	}
	if !strings.Contains(fm.View(), fm.prof.Selected()) {
		t.Errorf("the Check screen does not name the selected profile %q:\n%s", fm.prof.Selected(), fm.View())
	}
}

// TestPaletteRunHARAndReveal: on a finished run the palette saves the HAR
// (the file H writes) and reveals the token (as R); once revealed, the
// reveal entry is gone.
func TestPaletteRunHARAndReveal(t *testing.T) {
	dir := t.TempDir()
	b := harBackend{maskBackend(), &StoreBackend{Path: filepath.Join(dir, "authlab.db"), Now: fixedClock}}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "enter")
	waitText(t, tm, "Raw JSON")
	press(tm, "ctrl+p")
	tm.Type("savehar")
	waitText(t, tm, "> run: save HAR")
	press(tm, "enter")
	waitText(t, tm, "HAR written to")
	press(tm, "ctrl+p")
	tm.Type("revealtok")
	waitText(t, tm, "> run: reveal token")
	press(tm, "enter")
	waitText(t, tm, "shown in clear")
	fm := finalModel(t, tm)
	if _, err := os.Stat(filepath.Join(dir, "run-demo-client-credentials-20261127-120000.har")); err != nil {
		t.Errorf("the palette's HAR: %v", err)
	}
	if !fm.run.Revealed() {
		t.Error("the palette's reveal did not reveal the token")
	}
	fm.palette.Open()
	fm.palette.input.SetValue("reveal token")
	fm.palette.filter()
	for _, i := range fm.palette.shown {
		if fm.palette.all[i].name == "run: reveal token" {
			t.Error("the reveal entry is offered while the token is revealed")
		}
	}
}
