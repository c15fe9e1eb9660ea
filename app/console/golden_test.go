package console

import (
	"context"
	"testing"
	"time"

	"authlab/flows"
	"authlab/mockidp"
	"authlab/views/history"
)

// Each golden test drives the real program (teatest) to a screen with fixed
// data and a fixed clock, then compares the final frame at 120×40 and 80×24.

func TestGoldenProfiles(t *testing.T) {
	for _, sz := range sizes {
		b := &fakeBackend{rows: fixtureRows(), details: fixtureDetails()}
		tm := startTea(t, newTestModel(b), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		press(tm, "j", "j")
		// the detail pane of the selection (beside at 120, below at 80)
		waitText(t, tm, "demo-client-credentials · client-credentials", "client_secret_basic")
		golden(t, sizeName("profiles", sz.w, sz.h), finalModel(t, tm).View())
	}
}

func TestGoldenProfilesFilterAndConfirm(t *testing.T) {
	for _, sz := range sizes {
		b := &fakeBackend{rows: fixtureRows()}
		tm := startTea(t, newTestModel(b), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		press(tm, "/", "c", "r", "e", "d", "enter", "d")
		waitText(t, tm, "Delete profile", "demo-broken-wrong-secret · client-credentials")
		golden(t, sizeName("profiles_filter_confirm", sz.w, sz.h), finalModel(t, tm).View())
	}
}

func TestGoldenRunTabs(t *testing.T) {
	for _, sz := range sizes {
		for _, tab := range []struct {
			name string
			keys []string
		}{
			{"run_token", nil},
			{"run_exchanges", []string{"2"}},
			{"run_exchange_detail", []string{"2", "j", "enter"}},
			{"run_checks", []string{"3"}},
			{"run_raw", []string{"4"}},
		} {
			b := &fakeBackend{rows: fixtureRows()}
			tm := startTea(t, newTestModel(b), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, "j", "j", "enter")
			waitText(t, tm, "Raw JSON")
			press(tm, tab.keys...)
			golden(t, sizeName(tab.name, sz.w, sz.h), finalModel(t, tm).View())
		}
	}
}

func TestGoldenWaitingStates(t *testing.T) {
	for _, sz := range sizes {
		for _, c := range []struct {
			name string
			run  func(ctx context.Context, req RunRequest, ev Events) *flows.Result
			want string
		}{
			{"run_auth_code_waiting", func(ctx context.Context, req RunRequest, ev Events) *flows.Result {
				ev.Step(flows.StepEvent{Name: "discovery", Done: true, OK: true, Duration: 3 * time.Millisecond})
				ev.Step(flows.StepEvent{Name: "authorization"})
				ev.AuthURL("http://127.0.0.1:9090/authorize?client_id=demo-native&code_challenge=abc&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A41234%2Fcallback&response_type=code&scope=openid&state=xyz")
				<-ctx.Done()
				return &flows.Result{Flow: "auth-code", Err: flows.Errorf(flows.ErrCancelled, "cancelled")}
			}, "Waiting for the browser"},
			{"run_device_waiting", func(ctx context.Context, req RunRequest, ev Events) *flows.Result {
				ev.Step(flows.StepEvent{Name: "device authorization", Done: true, OK: true, Duration: 4 * time.Millisecond})
				ev.Device(flows.DeviceAuthorization{UserCode: "WDJB-MJHT", VerificationURI: "http://127.0.0.1:9090/device",
					VerificationURIComplete: "http://127.0.0.1:9090/device?user_code=WDJB-MJHT", Interval: 5 * time.Second})
				for range 2 {
					ev.Exchange(flows.Exchange{Step: "device poll", Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 400,
						ResponseBody: `{"error":"authorization_pending"}`})
				}
				ev.Step(flows.StepEvent{Name: "waiting for approval"})
				<-ctx.Done()
				return &flows.Result{Flow: "device", Err: flows.Errorf(flows.ErrCancelled, "cancelled")}
			}, "last: authorization_pending"},
		} {
			b := &fakeBackend{rows: fixtureRows(), runFn: c.run}
			m := newTestModel(b, func(o *Options) { o.QR = func(string) string { return "[qr]\n[qr]" } })
			tm := startTea(t, m, sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			if c.name == "run_device_waiting" {
				press(tm, "j", "j", "j")
			}
			press(tm, "enter")
			waitText(t, tm, c.want)
			fm := finalModel(t, tm)
			frame := fm.View()
			// the spinner frame depends on how many ticks ran; pin it
			golden(t, sizeName(c.name, sz.w, sz.h), pinSpinner(frame))
		}
	}
}

func TestGoldenPastedToken(t *testing.T) {
	for _, sz := range sizes {
		b := &fakeBackend{rows: fixtureRows()}
		tm := startTea(t, newTestModel(b), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		press(tm, "t")
		waitText(t, tm, "Inspect a token")
		tm.Type("eyJhbGciOiJSUzI1NiJ9.e30.sig")
		press(tm, "enter")
		waitText(t, tm, "CLAIMS")
		golden(t, sizeName("inspector_pasted", sz.w, sz.h), finalModel(t, tm).View())
	}
}

func TestGoldenHistory(t *testing.T) {
	for _, sz := range sizes {
		b := &fakeBackend{rows: fixtureRows(), hist: map[string][]history.Entry{
			"demo-auth-code-pkce": {
				{Time: fixedNow.Add(-3 * time.Hour), Flow: "auth-code", OK: true, Checks: fixtureResult().Checks,
					Exchanges: []string{"POST http://127.0.0.1:9090/token → 200 (5ms)"}, Tokens: []string{"access_token jwt sha256:ab12cd34ef56 sub=alice"}},
				{Time: fixedNow.Add(-5 * time.Hour), Flow: "auth-code", OK: false, Error: "authorization: access_denied"},
			}}}
		tm := startTea(t, newTestModel(b), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		press(tm, "h")
		waitText(t, tm, "read-only")
		golden(t, sizeName("history", sz.w, sz.h), finalModel(t, tm).View())
	}
}

func TestGoldenEditorAndHelpAndPalette(t *testing.T) {
	for _, sz := range sizes {
		for _, c := range []struct {
			name string
			keys []string
			want string
		}{
			{"help_full", []string{"?"}, "ctrl+p"},
			{"palette", []string{"ctrl+p", "r", "u", "n"}, "Commands"},
		} {
			b := &fakeBackend{rows: fixtureRows()}
			tm := startTea(t, newTestModel(b), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, c.keys...)
			waitText(t, tm, c.want)
			golden(t, sizeName(c.name, sz.w, sz.h), finalModel(t, tm).View())
		}
	}
}

func TestGoldenIdPPanel(t *testing.T) {
	for _, sz := range sizes {
		idp := newFakeIdP()
		b := &fakeBackend{rows: fixtureRows()}
		tm := startTea(t, newTestModel(b, func(o *Options) { o.IdP = idp }), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		idp.publish(mockidp.Event{Time: fixedNow, Endpoint: "token", ClientID: "demo-cc",
			Exchange: flows.Exchange{Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 200}})
		idp.publish(mockidp.Event{Time: fixedNow.Add(time.Second), Endpoint: "token", ClientID: "demo-cc", Error: "invalid_client",
			Exchange: flows.Exchange{Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 401}})
		press(tm, "m")
		waitText(t, tm, "invalid_client")
		press(tm, "enter", "enter", "enter") // skew: +40s, +2m, then -2m
		waitText(t, tm, "-2m0s")
		golden(t, sizeName("idp_panel", sz.w, sz.h), finalModel(t, tm).View())
		if got := idp.Faults().Skew.D(); got != -2*time.Minute {
			t.Errorf("IdP skew = %v, want -2m (the panel must apply the fault)", got)
		}
	}
}
