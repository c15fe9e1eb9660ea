package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/flows/oauth/oauthtest"
)

func TestMessyServer(t *testing.T) {
	srv, err := oauthtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// What each failing case's message must say, so the error is one a
	// developer can act on.
	wantMsg := map[string][]string{
		"html-error":              {"HTTP 502", "HTML page", `"502 Bad Gateway"`},
		"html-200":                {"HTML page", "Sign in to your account"},
		"oauth-error":             {"invalid_scope", "scope 'admin' is not allowed", "https://idp.example.com/docs/errors#invalid_scope", "HTTP 400"},
		"oauth-error-200":         {"bad_verification_code", "incorrect or expired"},
		"www-authenticate":        {"HTTP 401", "WWW-Authenticate", "invalid_client", "client authentication failed"},
		"invalid-json":            {"invalid JSON"},
		"no-access-token":         {"without an access_token", "expires_in, token_type"},
		"issuer-mismatch":         {"https://login.example.com/issuer-mismatch", srv.URL + "/issuer-mismatch"},
		"token-redirect":          {"redirect", "HTTP 301", "never followed"},
		"discovery-redirect-loop": {"redirected more than 5 times"},
		"huge-body":               {"more than 1048576 bytes"},
		"gzip-bomb":               {"more than 1048576 bytes"},
		"huge-headers":            {"response headers"},
		"slow":                    {"did not answer within 300ms"},
	}
	wantKind := map[string]flows.ErrorKind{"oauth-error": flows.ErrOAuth, "oauth-error-200": flows.ErrOAuth, "www-authenticate": flows.ErrOAuth,
		"slow": flows.ErrNetwork, "html-error": flows.ErrProtocol}
	for _, c := range oauthtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan *flows.Result, 1)
			go func() {
				done <- oauth.Run(ctx, flows.Request{Flow: flows.FlowClientCredentials, Issuer: srv.URL + "/" + c.Name,
					ClientID: "c", ClientSecret: "s", Scopes: []string{"api:read"}, Timeout: c.Timeout}, nil)
			}()
			var res *flows.Result
			select {
			case res = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("the flow hung")
			}
			if res.OK != c.WantOK || res.Failed() == c.WantOK {
				t.Fatalf("%s: ok=%v failed=%v reason=%q", c.What, res.OK, res.Failed(), res.Reason())
			}
			if c.WantOK {
				return
			}
			if res.Err == nil || strings.Contains(res.Err.Message, "\n") {
				t.Fatalf("want a one-line error, got %+v", res.Err)
			}
			for _, w := range wantMsg[c.Name] {
				if !strings.Contains(res.Err.Message, w) {
					t.Errorf("message %q lacks %q", res.Err.Message, w)
				}
			}
			if k, ok := wantKind[c.Name]; ok && res.Err.Kind != k {
				t.Errorf("kind %s, want %s", res.Err.Kind, k)
			}
		})
	}
}

func TestMessyTolerantDetails(t *testing.T) {
	srv, err := oauthtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	run := func(name string) *flows.Result {
		return oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: srv.URL + "/" + name,
			ClientID: "c", ClientSecret: "s", Scopes: []string{"api:read"}}, nil)
	}
	r := run("expires-in-string")
	if r.Token.ExpiresIn != 3600 || !hasCheck(r.Checks, "expires_in", flows.Warn) {
		t.Errorf("expires_in as string: %d %+v", r.Token.ExpiresIn, r.Checks)
	}
	r = run("form-response")
	if r.Token.AccessToken != "gho_16C7e42F292c6912E7710c838347Ae178B4a" || r.Token.Scope != "api:read" || !hasCheck(r.Checks, "response format", flows.Warn) {
		t.Errorf("form response: %+v %+v", r.Token, r.Checks)
	}
	// JSON output keeps the response as received.
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"token":{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a"`) {
		t.Errorf("json %s", b)
	}
	r = run("missing-scope")
	if !hasCheck(r.Checks, "scope", flows.Pass) {
		t.Errorf("missing scope: %+v", r.Checks)
	}
	r = run("token-type-lowercase")
	if !hasCheck(r.Checks, "token_type", flows.Pass) {
		t.Errorf("lowercase bearer: %+v", r.Checks)
	}
}

// deviceServer answers device authorization without an interval, then
// polls with pending, slow_down, then the given final answer.
func deviceServer(t *testing.T, final func(w http.ResponseWriter)) string {
	var mu sync.Mutex
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device":
			json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH", "verification_url": "https://idp.example/device", "expires_in": "600"})
		case "/token":
			mu.Lock()
			polls++
			n := polls
			mu.Unlock()
			switch n {
			case 1:
				w.WriteHeader(400)
				json.NewEncoder(w).Encode(map[string]string{"error": "authorization_pending"})
			case 2:
				w.WriteHeader(400)
				json.NewEncoder(w).Encode(map[string]string{"error": "slow_down"})
			default:
				final(w)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDevicePollingRules(t *testing.T) {
	for _, c := range []struct {
		name   string
		final  func(w http.ResponseWriter)
		wantOK bool
		want   string
	}{
		{"approved", func(w http.ResponseWriter) {
			json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60})
		}, true, ""},
		{"expired", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "expired_token"})
		}, false, "expired before the user approved"},
		{"denied", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "access_denied"})
		}, false, "denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := deviceServer(t, c.final)
			var slept []time.Duration
			var shown string
			obs := flows.ObserverFuncs{OnStep: func(e flows.StepEvent) {
				if e.Name == "enter the user code" {
					shown = e.Detail
				}
			}}
			eng, err := oauth.New(flows.Request{Flow: flows.FlowDevice, ClientID: "dev",
				Endpoints: flows.Endpoints{Device: base + "/device", Token: base + "/token"}},
				oauth.Options{Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			res := eng.Run(context.Background(), obs)
			if res.OK != c.wantOK {
				t.Fatalf("ok=%v reason=%q", res.OK, res.Reason())
			}
			if !c.wantOK && !strings.Contains(res.Err.Message, c.want) {
				t.Fatalf("message %q lacks %q", res.Err.Message, c.want)
			}
			// No interval → 5 s (RFC 8628 3.2); slow_down adds 5 s (3.5).
			want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}
			if len(slept) != 3 || slept[0] != want[0] || slept[1] != want[1] || slept[2] != want[2] {
				t.Fatalf("intervals %v, want %v", slept, want)
			}
			if !strings.Contains(shown, "https://idp.example/device") || !strings.Contains(shown, "ABCD-EFGH") {
				t.Fatalf("user prompt %q", shown)
			}
		})
	}
}

func TestDeviceGivesUpAtExpiry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/device" {
			json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "U", "verification_uri": "https://x/d", "expires_in": 12, "interval": 5})
			return
		}
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": "authorization_pending"})
	}))
	defer srv.Close()
	polls := 0
	eng, _ := oauth.New(flows.Request{Flow: flows.FlowDevice, ClientID: "dev", Endpoints: flows.Endpoints{Device: srv.URL + "/device", Token: srv.URL + "/token"}},
		oauth.Options{Sleep: func(context.Context, time.Duration) error { polls++; return nil }})
	res := eng.Run(context.Background(), nil)
	if res.OK || polls != 2 || !strings.Contains(res.Reason(), "did not approve within 12s") {
		t.Fatalf("polls=%d reason=%q", polls, res.Reason())
	}
}
