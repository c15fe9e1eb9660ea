package console

import (
	"context"
	"errors"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/mockidp/mockidptest"
)

// The console's run events are what the device grant hands its code to.
var _ flows.DeviceObserver = runEvents{}

type typedDeviceEvents struct {
	nopEvents
	devices []flows.DeviceAuthorization
	steps   []flows.StepEvent
	cancel  context.CancelFunc
}

func (d *typedDeviceEvents) Step(e flows.StepEvent) { d.steps = append(d.steps, e) }
func (d *typedDeviceEvents) Device(a flows.DeviceAuthorization) {
	d.devices = append(d.devices, a)
	d.cancel()
}

// The device profile's user code reaches the console as a typed value from
// the engine (no reading it back out of a step's prose); cancelling then
// ends the run with a context.Canceled error.
func TestDeviceCodeReachesTheConsoleTyped(t *testing.T) {
	srv := mockidptest.New(t)
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer(), HMACKeyID: hmac.DemoKeyID, HMACSecret: hmac.DemoSecret})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &typedDeviceEvents{cancel: cancel}
	res := (&StoreBackend{Path: path}).Run(ctx, RunRequest{Profile: "demo-device"}, ev)
	// Interval and expiry never appear in the prose: only the typed
	// hand-off carries them.
	if len(ev.devices) != 1 || ev.devices[0].UserCode == "" || !strings.HasPrefix(ev.devices[0].VerificationURI, srv.Issuer()) ||
		ev.devices[0].Interval <= 0 || ev.devices[0].ExpiresIn <= 0 {
		t.Fatalf("device hand-offs %+v", ev.devices)
	}
	for _, s := range ev.steps {
		if s.Name == flows.StepUserCode && !strings.Contains(s.Detail, ev.devices[0].UserCode) {
			t.Errorf("the step and the hand-off disagree: %q vs %+v", s.Detail, ev.devices[0])
		}
	}
	if res.Err == nil || !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("cancelled run: %+v", res.Err)
	}
}
