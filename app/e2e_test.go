package app

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"authlab/mockidp"
)

// TestEndToEndDemo drives the console against the real mock IdP and a real
// store: run client credentials, see the token, its verified signature and a
// counting expiry bar; then skew the IdP's clock by +120 s and see the skew
// gauge and the failing iat check.
func TestEndToEndDemo(t *testing.T) {
	var mu sync.Mutex
	var shift time.Duration
	// the clock stays near real time: the recording client stamps exchanges
	// with the real clock, and skew is measured against those stamps
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(shift) }
	setShift := func(d time.Duration) { mu.Lock(); shift = d; mu.Unlock() }

	srv, err := mockidp.New(mockidp.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	path := filepath.Join(t.TempDir(), "authlab.db")
	n, err := SeedDemo(path, DemoSetup{Issuer: srv.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("SeedDemo created no profile")
	}
	if again, err := SeedDemo(path, DemoSetup{Issuer: srv.Issuer()}); err != nil || again != 0 {
		t.Fatalf("seeding twice created %d more profiles (err %v); demo profiles are seeded once", again, err)
	}

	m := New(Options{Backend: &StoreBackend{Path: path, Now: clock}, Theme: testTheme(), Now: clock, IdP: srv, Tick: 10 * time.Millisecond})
	tm := startTea(t, m, 120, 40)
	waitText(t, tm, "demo-client-credentials")
	press(tm, "/")
	tm.Type("demo-client-cred")
	press(tm, "enter", "enter")
	waitText(t, tm, "sub", "demo-cc", "✓ signature verified", "used · expires in")

	// the bar counts down with the clock, driven by ticks alone
	setShift(65 * time.Second)
	waitText(t, tm, "expires in 58m")

	setShift(0)
	if err := srv.SetFaults(mockidp.Faults{Skew: mockidp.Duration(120 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	press(tm, "r")
	waitText(t, tm, "clock is 2m00s", "ahead of yours", "✗ iat")

	// the IdP's live log saw the token requests
	fm := finalModel(t, tm)
	tokens := 0
	for _, e := range fm.idp.Log() {
		if e.Endpoint == mockidp.EPToken && e.Status == 200 {
			tokens++
		}
	}
	if tokens != 2 {
		t.Errorf("the IdP panel's log has %d successful token requests, want 2", tokens)
	}
	res := fm.run.Result()
	if res == nil || res.Skew == nil || res.Skew.Offset < 115*time.Second || res.Skew.Offset > 125*time.Second {
		t.Errorf("skew estimate = %+v, want about +120s", res.Skew)
	}
}
