package flows

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// A context or transport failure turned into *Error keeps its cause, so a
// front end can tell a cancelled flow from a failed one with errors.Is.
func TestErrorKeepsItsCause(t *testing.T) {
	e := Wrap(ErrCancelled, context.Canceled, "device: cancelled while waiting (%v)", context.Canceled)
	if !errors.Is(e, context.Canceled) || e.Kind != ErrCancelled || e.Message != "device: cancelled while waiting (context canceled)" {
		t.Fatalf("Wrap: %+v, Is=%v", e, errors.Is(e, context.Canceled))
	}
	if errors.Is(Errorf(ErrCancelled, "no cause"), context.Canceled) {
		t.Fatal("Errorf invented a cause")
	}
	// Through the recording client: a cancelled request.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewClient(ClientOptions{}, nil).Get(ctx, "token", srv.URL, nil)
	var fe *Error
	if !errors.As(err, &fe) || !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v (%T): not a *Error wrapping context.Canceled", err, err)
	}
	// And through a result.
	r := &Result{}
	r.Fail(err)
	if !errors.Is(r.Err, context.Canceled) {
		t.Fatal("the result's error lost the cause")
	}
	r = &Result{}
	r.Fail(errors.Join(errors.New("plain"), context.DeadlineExceeded))
	if !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatal("a plain error's cause is lost in Fail")
	}
}

// Engine messages name fields; Explain lets a front end name them its way,
// nested errors included.
func TestErrorExplainNamesFieldsForAFrontEnd(t *testing.T) {
	inner := Errorf(ErrConfig, "no token endpoint: the metadata has none; pass %s", FieldTokenURL)
	if inner.Message != "no token endpoint: the metadata has none; pass token_url" {
		t.Fatalf("neutral message %q", inner.Message)
	}
	outer := Errorf(ErrConfig, "profile p: %v; needs %s", inner, Fields{FieldAuthURL, FieldTokenURL})
	flag := func(f Field) string { return "--" + strings.ReplaceAll(string(f), "_", "-") }
	if got := outer.Explain(flag); got != "profile p: no token endpoint: the metadata has none; pass --token-url; needs --auth-url, --token-url" {
		t.Fatalf("explained %q", got)
	}
	if got := Errorf(ErrConfig, "100%% plain").Explain(flag); got != "100% plain" {
		t.Fatalf("a message without fields: %q", got)
	}
}

type deviceSeen struct {
	ObserverFuncs
	got []DeviceAuthorization
}

func (d *deviceSeen) Device(a DeviceAuthorization) { d.got = append(d.got, a) }

// The recorder keeps finished steps and exchanges, serialises reports from
// several goroutines and hands the device code only to observers that want it.
func TestRecorder(t *testing.T) {
	obs := &deviceSeen{}
	var calls int
	obs.OnStep = func(StepEvent) { calls++ } // unsynchronised on purpose: the recorder serialises
	rec := NewRecorder(FlowDevice, obs)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); rec.Note(StepUserCode, "x", true) }()
	}
	wg.Wait()
	if err := rec.Run("boom", func() (string, error) { return "", Errorf(ErrNetwork, "down") }); err == nil {
		t.Fatal("Run lost the error")
	}
	rec.Exchange(Exchange{Method: "GET"})
	rec.Device(DeviceAuthorization{UserCode: "ABCD-EFGH"})
	NewRecorder(FlowDevice, ObserverFuncs{}).Device(DeviceAuthorization{UserCode: "ignored"}) // no DeviceObserver: no panic
	res := rec.Finish(Errorf(ErrNetwork, "down"))
	if len(res.Steps) != 9 || calls != 10 || len(res.Exchanges) != 1 || res.OK || res.Err == nil {
		t.Fatalf("steps %d, calls %d, exchanges %d, ok %v", len(res.Steps), calls, len(res.Exchanges), res.OK)
	}
	if len(obs.got) != 1 || obs.got[0].UserCode != "ABCD-EFGH" {
		t.Fatalf("device hand-off %+v", obs.got)
	}
	if !res.Steps[0].AsksUser() || res.Steps[8].AsksUser() {
		t.Fatal("AsksUser")
	}
}

// $BROWSER is a command, not a shell line: a missing one is an error that
// names it, and an empty entry names no command.
func TestOpenBrowserCommand(t *testing.T) {
	if err := OpenBrowser("/nonexistent/authlab-browser --new-tab", "http://127.0.0.1/"); err == nil || !strings.Contains(err.Error(), "/nonexistent/authlab-browser") {
		t.Fatalf("missing command: %v", err)
	}
	if err := OpenBrowser(":firefox", "http://127.0.0.1/"); err == nil {
		t.Fatal("an empty first entry was run")
	}
}
