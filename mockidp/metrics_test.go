package mockidp_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"

	"authlab/internal/testtools"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics from loopback (no admin token) and parses it.
func scrape(t *testing.T, s *mockidp.Server) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: status %d: %s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return body, fams
}

// metricValue is the counter or gauge value (or histogram count) of the
// series of family name whose labels include want; -1 when absent.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestMetricsCountsEachKind(t *testing.T) {
	s := mockidptest.New(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	for range 2 {
		if st, body := postToken(t, s, cc, "demo-cc", "demo-cc-secret"); st != 200 {
			t.Fatalf("client_credentials: %d %v", st, body)
		}
	}
	// One with an event subscriber: counted once, client still known.
	_, stop := s.Events(64)
	if st, _ := postToken(t, s, cc, "demo-cc", "demo-cc-secret"); st != 200 {
		t.Fatalf("client_credentials with subscriber: %d", st)
	}
	stop()
	for range 2 {
		if st, _ := postToken(t, s, cc, "demo-cc", "wrong-secret"); st != 401 {
			t.Fatalf("bad secret: %d, want 401", st)
		}
	}
	// A code redeemed, its refresh token rotated and reused, the code replayed.
	code, v, conf := codeFor(t, s, "http://127.0.0.1/callback")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}, "redirect_uri": {conf.RedirectURL}}
	st, tok := postToken(t, s, form, "demo-web", "demo-web-secret")
	if st != 200 {
		t.Fatalf("code: %d %v", st, tok)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	if st, _ := postToken(t, s, rf, "demo-web", "demo-web-secret"); st != 200 {
		t.Fatalf("refresh: %d", st)
	}
	if st, _ := postToken(t, s, rf, "demo-web", "demo-web-secret"); st != 400 {
		t.Fatalf("refresh reuse: %d, want 400", st)
	}
	if st, _ := postToken(t, s, form, "demo-web", "demo-web-secret"); st != 400 {
		t.Fatalf("code replay: %d, want 400", st)
	}
	for _, p := range []string{"/jwks", "/no/such/path-with-demo-cc-secret"} {
		resp, err := http.Get(s.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := s.SetFaults(mockidp.Faults{AlgNone: true}); err != nil {
		t.Fatal(err)
	}

	body, fams := scrape(t, s)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"authlab_idp_requests_total", map[string]string{"endpoint": "token", "status": "200"}, 5},
		{"authlab_idp_requests_total", map[string]string{"endpoint": "token", "status": "401"}, 2},
		{"authlab_idp_requests_total", map[string]string{"endpoint": "token", "status": "400"}, 2},
		{"authlab_idp_requests_total", map[string]string{"endpoint": "authorize", "status": "302"}, 1},
		{"authlab_idp_requests_total", map[string]string{"endpoint": "jwks", "status": "200"}, 1},
		{"authlab_idp_requests_total", map[string]string{"endpoint": "other", "status": "404"}, 1},
		{"authlab_idp_request_duration_seconds", map[string]string{"endpoint": "token"}, 9},
		{"authlab_idp_tokens_issued_total", map[string]string{"grant_type": "client_credentials", "client_id": "demo-cc"}, 3},
		{"authlab_idp_tokens_issued_total", map[string]string{"grant_type": mockidp.GrantTokenExchange, "client_id": "demo-cc"}, 0},
		{"authlab_idp_tokens_issued_total", map[string]string{"grant_type": "authorization_code", "client_id": "demo-web"}, 1},
		{"authlab_idp_tokens_issued_total", map[string]string{"grant_type": "refresh_token", "client_id": "demo-web"}, 1},
		{"authlab_idp_oauth_errors_total", map[string]string{"endpoint": "token", "error": "invalid_client"}, 2},
		{"authlab_idp_oauth_errors_total", map[string]string{"endpoint": "token", "error": "invalid_grant"}, 2},
		{"authlab_idp_oauth_errors_total", map[string]string{"endpoint": "other", "error": "not_found"}, 1},
		{"authlab_idp_replays_refused_total", map[string]string{"kind": "code"}, 1},
		{"authlab_idp_replays_refused_total", map[string]string{"kind": "refresh_token"}, 1},
		{"authlab_idp_replays_refused_total", map[string]string{"kind": "dpop_jti"}, 0},
		{"authlab_idp_faults_active", map[string]string{"fault": "alg_none"}, 1},
		{"authlab_idp_faults_active", map[string]string{"fault": "latency"}, 0},
	} {
		if got := metricValue(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A client may not use a grant it is not registered for: no series.
	if got := metricValue(fams, "authlab_idp_tokens_issued_total", map[string]string{"grant_type": "authorization_code", "client_id": "demo-cc"}); got != -1 {
		t.Errorf("demo-cc authorization_code series exists (%v)", got)
	}
	if bytes.Contains(body, []byte("/no/such")) || bytes.Contains(body, []byte("demo-cc-secret")) {
		t.Errorf("exposition carries a raw path or secret:\n%s", body)
	}
	jwks := string(s.JWKS())
	keys := fams["authlab_idp_signing_key_info"].GetMetric()
	if len(keys) != 3 {
		t.Fatalf("signing_key_info: %d series, want 3 (one per algorithm)", len(keys))
	}
	for _, m := range keys {
		for _, l := range m.GetLabel() {
			if l.GetName() == "kid" && !strings.Contains(jwks, `"`+l.GetValue()+`"`) {
				t.Errorf("signing_key_info kid %q not in the JWKS", l.GetValue())
			}
		}
	}
	// Rotation shows at the next scrape.
	if err := s.RotateKey(0); err != nil {
		t.Fatal(err)
	}
	_, fams2 := scrape(t, s)
	old := map[string]bool{}
	for _, m := range keys {
		for _, l := range m.GetLabel() {
			old[l.GetValue()] = true
		}
	}
	for _, m := range fams2["authlab_idp_signing_key_info"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "kid" && old[l.GetValue()] {
				t.Errorf("kid %q still listed after rotation", l.GetValue())
			}
		}
	}
}

func TestMetricsNeedAdminTokenOffLoopback(t *testing.T) {
	s := mockidptest.New(t)
	h := s.Handler()
	req := httptest.NewRequest("GET", "/metrics", nil) // RemoteAddr 192.0.2.1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("off loopback without token: %d, want 401", w.Code)
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "authlab_idp_signing_key_info") {
		t.Fatalf("off loopback with token: %d", w.Code)
	}
	// Loopback, but a rebinding Host: refused too.
	req = httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Host = "attacker.example:80"
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code == 200 {
		t.Fatalf("loopback with foreign Host: 200")
	}
}

func TestMetricsPassPromtool(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	s := mockidptest.New(t)
	postToken(t, s, url.Values{"grant_type": {"client_credentials"}}, "demo-cc", "demo-cc-secret")
	postToken(t, s, url.Values{"grant_type": {"client_credentials"}}, "demo-cc", "nope")
	body, _ := scrape(t, s)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n--- exposition:\n%s", err, out, body)
	}
}

// TestMetricsCountPasswordGrantTokens: a password grant's token is counted
// under its own grant_type, not "other".
func TestMetricsCountPasswordGrantTokens(t *testing.T) {
	s := mockidptest.New(t)
	pw := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob"}, "scope": {"api:read"}}
	if st, body := postToken(t, s, pw, "demo-password", "demo-password-secret"); st != 200 {
		t.Fatalf("password grant: %d %v", st, body)
	}
	_, fams := scrape(t, s)
	if got := metricValue(fams, "authlab_idp_tokens_issued_total", map[string]string{"grant_type": "password", "client_id": "demo-password"}); got != 1 {
		t.Fatalf("password tokens counted %v, want 1", got)
	}
	if got := metricValue(fams, "authlab_idp_tokens_issued_total", map[string]string{"grant_type": "other", "client_id": "demo-password"}); got > 0 {
		t.Fatalf("password token counted as other (%v)", got)
	}
}
