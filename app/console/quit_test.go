package console

import (
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
)

// TestQuitKeyEndsTheProgram: q on the profile list ends the program with
// the detail pane showing (the demo's first screen).
func TestQuitKeyEndsTheProgram(t *testing.T) {
	path := demoStore(t, DemoSetup{Issuer: "http://127.0.0.1:9"})
	m := New(Options{Backend: &StoreBackend{Path: path}, Theme: testTheme()})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	waitText(t, tm, "last run")
	press(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
