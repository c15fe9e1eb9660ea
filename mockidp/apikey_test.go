package mockidp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// getAPIKey calls /api/key with the key in the header and/or the query ("" = not sent).
func getAPIKey(t *testing.T, s *mockidp.Server, header, query string) (int, http.Header, map[string]any, string) {
	t.Helper()
	u := s.URL() + "/api/key"
	if query != "" {
		u += "?" + url.Values{mockidp.APIKeyQuery: {query}}.Encode()
	}
	req, _ := http.NewRequest("GET", u, nil)
	if header != "" {
		req.Header.Set(mockidp.APIKeyHeader, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, m, string(b)
}

func TestAPIKeyResource(t *testing.T) {
	s := mockidptest.New(t)
	const wrong = "authlab-demo-api-kex"
	cases := []struct {
		name          string
		header, query string
		status        int
		err, via      string
	}{
		{"right key in the header", mockidp.DemoAPIKey, "", 200, "", "header"},
		{"right key in the query", "", mockidp.DemoAPIKey, 200, "", "query"},
		{"wrong key in the header", wrong, "", 401, "invalid_api_key", ""},
		{"wrong key in the query", "", wrong, 401, "invalid_api_key", ""},
		{"a prefix of the key", mockidp.DemoAPIKey[:10], "", 401, "invalid_api_key", ""},
		{"no key", "", "", 401, "invalid_api_key", ""},
		{"two keys", mockidp.DemoAPIKey, mockidp.DemoAPIKey, 400, "invalid_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, h, m, body := getAPIKey(t, s, c.header, c.query)
			if st != c.status || (c.err != "" && m["error"] != c.err) || (c.via != "" && m["via"] != c.via) {
				t.Fatalf("got %d %v, want %d %q via %q", st, m, c.status, c.err, c.via)
			}
			if st != 200 {
				wa := h.Get("WWW-Authenticate")
				if !strings.HasPrefix(wa, "APIKey ") || !strings.Contains(wa, `header="X-API-Key"`) || !strings.Contains(wa, `error="`+c.err+`"`) {
					t.Errorf("WWW-Authenticate %q", wa)
				}
			}
			for _, k := range []string{c.header, c.query} {
				if k != "" && strings.Contains(body, k) {
					t.Errorf("the answer echoes the key: %s", body)
				}
			}
		})
	}
}

// /api/key counts as the api endpoint; a refused key is an invalid_api_key
// error series, and the key never reaches the exposition.
func TestAPIKeyMetrics(t *testing.T) {
	s := mockidptest.New(t)
	getAPIKey(t, s, mockidp.DemoAPIKey, "")
	getAPIKey(t, s, "", "authlab-guessed-api-key")
	getAPIKey(t, s, "authlab-guessed-api-key", "")
	body, fams := scrape(t, s)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"authlab_idp_requests_total", map[string]string{"endpoint": "api", "status": "200"}, 1},
		{"authlab_idp_requests_total", map[string]string{"endpoint": "api", "status": "401"}, 2},
		{"authlab_idp_oauth_errors_total", map[string]string{"endpoint": "api", "error": "invalid_api_key"}, 2},
	} {
		if got := metricValue(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if strings.Contains(string(body), "authlab-guessed-api-key") || strings.Contains(string(body), mockidp.DemoAPIKey) {
		t.Error("the exposition carries a key")
	}
}

// The event stream (the console's mock IdP panel) never shows a key, in
// the header or the query, short or long.
func TestAPIKeyMaskedInEvents(t *testing.T) {
	s := mockidptest.New(t)
	events, stop := s.Events(16)
	defer stop()
	getAPIKey(t, s, mockidp.DemoAPIKey, "")
	getAPIKey(t, s, "", "shortk")
	for range 2 {
		var ev mockidp.Event
		select {
		case ev = <-events:
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), mockidp.DemoAPIKey) || strings.Contains(string(b), "shortk") {
			t.Errorf("event shows the key: %s", b)
		}
		if ev.Endpoint != "api" {
			t.Errorf("endpoint %q", ev.Endpoint)
		}
	}
}

func TestAPIKeyFromConfig(t *testing.T) {
	cfg, err := mockidp.ParseConfig([]byte(`{"api_key":"a-key-from-the-config"}`))
	if err != nil {
		t.Fatal(err)
	}
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	if st, _, m, _ := getAPIKey(t, s, "a-key-from-the-config", ""); st != 200 {
		t.Fatalf("configured key: %d %v", st, m)
	}
	if st, _, _, _ := getAPIKey(t, s, mockidp.DemoAPIKey, ""); st != 401 {
		t.Fatalf("the demo key after the config replaced it: %d", st)
	}
	cfg.APIKey = ""
	s = mockidptest.New(t, mockidp.WithConfig(cfg))
	if st, _, _, _ := getAPIKey(t, s, "", "anything"); st != 401 {
		t.Fatalf("no key configured accepted a key: %d", st)
	}
}
