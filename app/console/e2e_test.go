package console

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
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

	srv := mockidptest.New(t, mockidp.WithClock(clock))
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

type nopEvents struct{}

func (nopEvents) Step(flows.StepEvent)             {}
func (nopEvents) Exchange(flows.Exchange)          {}
func (nopEvents) AuthURL(string)                   {}
func (nopEvents) Device(flows.DeviceAuthorization) {}

// TestDemoProfilesRun runs the demo profiles that need no user against the
// mock IdP through the real backend, as the console does.
func TestDemoProfilesRun(t *testing.T) {
	srv := mockidptest.New(t)
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer(), HMACKeyID: hmac.DemoKeyID, HMACSecret: hmac.DemoSecret})
	b := &StoreBackend{Path: path}
	ctx := context.Background()
	for _, c := range []struct {
		profile, flow string
		ok            bool
		want          string
	}{
		{"demo-client-credentials", "", true, ""},
		{"demo-broken-wrong-secret", "", false, "invalid_client"},
		{"demo-token-exchange", "", true, ""},
		{"demo-hmac", "", true, ""},
		{"demo-client-credentials", "introspect", true, ""},
		{"demo-client-credentials", "call", true, ""},
		{"demo-dpop", "", true, ""},
		{"demo-dpop", "call", true, ""},
		{"demo-password", "", true, ""},
		{"demo-jwt-bearer", "", true, ""},
		{"demo-jwt-bearer", "introspect", true, ""},
	} {
		res := b.Run(ctx, RunRequest{Profile: c.profile, Flow: c.flow}, nopEvents{})
		if res.Failed() == c.ok {
			t.Errorf("%s %s: failed=%v (%s), want ok=%v", c.profile, c.flow, res.Failed(), res.Reason(), c.ok)
		}
		if c.profile == "demo-dpop" && c.flow == "" && (res.Token == nil || !strings.EqualFold(res.Token.TokenType, "DPoP")) {
			t.Errorf("demo-dpop %s: token %+v, want a DPoP-bound token", c.flow, res.Token)
		}
		if c.want != "" && (res.Err == nil || !strings.Contains(res.Err.OAuthError+res.Err.Message, c.want)) {
			t.Errorf("%s: error %+v, want it to name %s", c.profile, res.Err, c.want)
		}
	}
	hist, err := b.History("demo-client-credentials")
	if err != nil || len(hist) != 3 {
		t.Fatalf("history has %d runs (err %v), want 3", len(hist), err)
	}
	for _, h := range hist {
		for _, line := range append(h.Tokens, h.Exchanges...) {
			if strings.Contains(line, "eyJ") || strings.Contains(line, "demo-cc-secret") {
				t.Errorf("history holds a bearer token or secret: %q", line)
			}
		}
	}
}

// TestExportImportRoundTrip: an exported profile deletes and imports back,
// and the export holds no secret value.
func TestExportImportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authlab.db")
	if _, err := SeedDemo(path, DemoSetup{Issuer: "http://127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	b := &StoreBackend{Path: path}
	out, err := b.Export("demo-client-credentials")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "demo-cc-secret") {
		t.Fatalf("the export holds the secret value:\n%s", data)
	}
	if err := b.Delete("demo-client-credentials"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Import(out); err != nil || n != 1 {
		t.Fatalf("import: %d, %v", n, err)
	}
	if _, err := b.Import(out); err == nil {
		t.Error("importing an existing name must fail, not replace")
	}
	f, err := b.Form("demo-client-credentials")
	if err != nil || f.Fields["client_id"] != "demo-cc" {
		t.Errorf("imported profile: %+v, %v", f, err)
	}
}

// deviceEvents hands the user code to the test as the console would show it.
type deviceEvents struct {
	nopEvents
	codes chan flows.DeviceAuthorization
}

func (d deviceEvents) Device(x flows.DeviceAuthorization) { d.codes <- x }

// TestDemoDeviceApproved: the device profile shows its user code through
// the console's events, the user approves, the run ends with a token.
func TestDemoDeviceApproved(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.Lifetimes.DevicePollInterval = mockidp.Duration(time.Second)
	srv := mockidptest.New(t, mockidp.WithConfig(cfg))
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer()})
	ev := deviceEvents{codes: make(chan flows.DeviceAuthorization, 1)}
	approved := make(chan error, 1)
	go func() {
		select {
		case d := <-ev.codes:
			if d.VerificationURI == "" {
				approved <- fmt.Errorf("no verification URI in %+v", d)
				return
			}
			approved <- srv.ApproveDevice(d.UserCode, "alice", true)
		case <-time.After(10 * time.Second):
			approved <- fmt.Errorf("no device code shown")
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := (&StoreBackend{Path: path}).Run(ctx, RunRequest{Profile: "demo-device"}, ev)
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if res.Failed() || res.AccessToken == nil {
		t.Fatalf("device run failed: %s", res.Reason())
	}
	if sub, _ := res.AccessToken.Claims["sub"].(string); sub != "alice" {
		t.Errorf("token sub = %q, want alice", sub)
	}
}

// TestDemoFAPI2ProfileRuns: the demo-fapi2 profile (PAR, request object,
// JARM, DPoP, private_key_jwt) logs in through the backend as the console
// runs it, an HTTP client standing in for the browser.
func TestDemoFAPI2ProfileRuns(t *testing.T) {
	srv := mockidptest.New(t)
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	browser := &http.Client{Timeout: 20 * time.Second}
	b := &StoreBackend{Path: path, OpenURL: func(u string) error {
		go func() {
			if resp, err := browser.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}}
	res := b.Run(ctx, RunRequest{Profile: "demo-fapi2"}, nopEvents{})
	if res.Failed() {
		t.Fatalf("demo-fapi2: %s", res.Reason())
	}
	for _, want := range []string{"par expires_in", "jarm signature", "dpop token_type"} {
		found := false
		for _, c := range res.Checks {
			found = found || (c.Name == want && c.Status == flows.Pass)
		}
		if !found {
			t.Errorf("no passing %q check in %+v", want, res.Checks)
		}
	}
}
