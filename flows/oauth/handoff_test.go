package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

// deviceObs records the typed device hand-off and the steps.
type deviceObs struct {
	flows.ObserverFuncs
	devices []flows.DeviceAuthorization
	onCode  func()
}

func (o *deviceObs) Device(d flows.DeviceAuthorization) {
	o.devices = append(o.devices, d)
	if o.onCode != nil {
		o.onCode()
	}
}

func deviceServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device":
			json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "WDJB-MJHT",
				"verification_uri": "https://idp.test/device", "verification_uri_complete": "https://idp.test/device?user_code=WDJB-MJHT",
				"expires_in": 600, "interval": 1})
		case "/token":
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error": "authorization_pending"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The device grant hands the user code to a flows.DeviceObserver as a
// value, before polling, and the prose step still says it for the CLI.
// Cancelling while it waits ends the flow with an error that is
// context.Canceled for errors.Is.
func TestDeviceObserverGetsTheCodeAndCancelKeepsTheCause(t *testing.T) {
	srv := deviceServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps []flows.StepEvent
	obs := &deviceObs{onCode: cancel}
	obs.OnStep = func(e flows.StepEvent) {
		if e.Done {
			steps = append(steps, e)
		}
	}
	e, err := New(flows.Request{Flow: flows.FlowDevice, ClientID: "tv", Endpoints: flows.Endpoints{Device: srv.URL + "/device", Token: srv.URL + "/token"}},
		Options{Sleep: func(ctx context.Context, d time.Duration) error { <-ctx.Done(); return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(ctx, obs)
	if len(obs.devices) != 1 {
		t.Fatalf("device hand-offs: %+v", obs.devices)
	}
	d := obs.devices[0]
	if d.UserCode != "WDJB-MJHT" || d.VerificationURI != "https://idp.test/device" || d.VerificationURIComplete == "" || d.Interval != time.Second {
		t.Fatalf("device authorization %+v", d)
	}
	var prose bool
	for _, s := range steps {
		if s.Name == flows.StepUserCode && strings.Contains(s.Detail, "enter the code WDJB-MJHT") {
			prose = true
		}
	}
	if !prose {
		t.Fatalf("no %q step: %+v", flows.StepUserCode, steps)
	}
	if res.Err == nil || res.Err.Kind != flows.ErrCancelled || !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("cancelled device flow: %+v (Is Canceled: %v)", res.Err, errors.Is(res.Err, context.Canceled))
	}
}

// A cancelled request (not a wait) keeps the cause too.
func TestCancelledTokenRequestIsContextCanceled(t *testing.T) {
	srv := deviceServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, flows.Request{Flow: flows.FlowClientCredentials, ClientID: "c", ClientSecret: "s", Endpoints: flows.Endpoints{Token: srv.URL + "/token"}}, nil)
	if res.Err == nil || !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("error %+v is not context.Canceled", res.Err)
	}
}

// Engine messages name the request's fields, never a command-line flag.
func TestMissingTokenEndpointNamesTheField(t *testing.T) {
	noFlags := func(t *testing.T, fe *flows.Error) {
		t.Helper()
		if strings.Contains(fe.Message, "--") {
			t.Errorf("message names a flag: %q", fe.Message)
		}
		if !strings.Contains(fe.Message, string(flows.FieldTokenURL)) {
			t.Errorf("message does not name %s: %q", flows.FieldTokenURL, fe.Message)
		}
	}
	// Without an issuer and without the endpoint: refused up front.
	res := Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, ClientID: "c", ClientSecret: "s"}, nil)
	if res.Err == nil || res.Err.Kind != flows.ErrConfig {
		t.Fatalf("no endpoint: %+v", res.Err)
	}
	noFlags(t, res.Err)
	if got := res.Err.Explain(func(f flows.Field) string { return "<" + string(f) + ">" }); !strings.Contains(got, "<token_url>") || !strings.Contains(got, "<issuer>") {
		t.Errorf("a front end cannot rename the fields: %q", got)
	}
	// Discovery that has no token endpoint.
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL})
	})
	res = Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: srv.URL, ClientID: "c", ClientSecret: "s"}, nil)
	if res.Err == nil || res.Err.Kind != flows.ErrConfig {
		t.Fatalf("metadata without token endpoint: %+v", res.Err)
	}
	noFlags(t, res.Err)
}
