package mockidp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func ccToken(t *testing.T, s *mockidp.Server) (*oauth2.Token, error) {
	t.Helper()
	return (&clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:read"}, AuthStyle: oauth2.AuthStyleInHeader}).Token(ctxT(t))
}

func mustCC(t *testing.T, s *mockidp.Server) string {
	t.Helper()
	tok, err := ccToken(t, s)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// verifyAccess verifies an access token against the IdP's JWKS the way an
// API gateway would (go-oidc's remote key set, audience and typ aside).
func verifyAccess(t *testing.T, s *mockidp.Server, tok string) error {
	t.Helper()
	ks := oidc.NewRemoteKeySet(ctxT(t), s.URL()+"/jwks")
	v := oidc.NewVerifier(s.URL(), ks, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"RS256", "ES256", "EdDSA"}})
	_, err := v.Verify(ctxT(t), tok)
	return err
}

func TestFaultSkewShiftsClaimsAndDate(t *testing.T) {
	s := mockidptest.New(t)
	if err := s.SetFaults(mockidp.Faults{Skew: mockidp.Duration(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	if d := time.Since(date); d < 119*time.Minute || d > 121*time.Minute {
		t.Errorf("Date header is %s behind, want 2h", d)
	}
	iat := decodeClaims(t, mustCC(t, s))["iat"].(float64)
	if d := time.Since(time.Unix(int64(iat), 0)); d < 119*time.Minute {
		t.Errorf("iat is %s behind, want 2h", d)
	}
	s.ResetFaults()
	iat = decodeClaims(t, mustCC(t, s))["iat"].(float64)
	if d := time.Since(time.Unix(int64(iat), 0)); d > time.Minute {
		t.Errorf("after reset iat is %s behind", d)
	}
}

func TestFaultLatencyRespectsClientTimeout(t *testing.T) {
	s := mockidptest.New(t)
	s.SetFaults(mockidp.Faults{Latency: map[string]mockidp.Duration{mockidp.EPToken: mockidp.Duration(300 * time.Millisecond)}})
	start := time.Now()
	mustCC(t, s)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("token took %s with 300ms latency", d)
	}
	// Other endpoints are not delayed; a short client timeout fails the token call.
	s.SetFaults(mockidp.Faults{Latency: map[string]mockidp.Duration{mockidp.EPToken: mockidp.Duration(time.Minute)}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := (&clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token"}).Token(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("1 minute latency with a 200ms client: %v", err)
	}
	s.ResetFaults()
	mustCC(t, s)
}

func TestFaultErrorsCountAndFraction(t *testing.T) {
	s := mockidptest.New(t)
	s.SetFaults(mockidp.Faults{Errors: map[string]mockidp.ErrorFault{mockidp.EPToken: {Status: 503, Error: "temporarily_unavailable", Count: 2}}})
	for i := 0; i < 2; i++ {
		_, err := ccToken(t, s)
		assertOAuthErr(t, err, 503, "temporarily_unavailable", "")
	}
	mustCC(t, s) // the third succeeds
	s.SetFaults(mockidp.Faults{Errors: map[string]mockidp.ErrorFault{mockidp.EPToken: {Fraction: 0.5}}})
	fails := 0
	for i := 0; i < 200; i++ {
		if _, err := ccToken(t, s); err != nil {
			assertOAuthErr(t, err, 500, "server_error", "")
			fails++
		}
	}
	if fails < 60 || fails > 140 {
		t.Errorf("fraction 0.5 failed %d of 200", fails)
	}
	s.ResetFaults()
	for i := 0; i < 20; i++ {
		mustCC(t, s)
	}
}

func TestFaultJWKSOutages(t *testing.T) {
	s := mockidptest.New(t)
	tok := mustCC(t, s)
	if err := verifyAccess(t, s, tok); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	for _, mode := range []string{mockidp.JWKS503, mockidp.JWKSEmpty, mockidp.JWKSGarbage} {
		s.SetFaults(mockidp.Faults{JWKS: mode})
		if err := verifyAccess(t, s, tok); err == nil {
			t.Errorf("JWKS %s: a verifier still verified", mode)
		}
	}
	// Hang: bounded by the client's context, and by HangLimit.
	s.SetFaults(mockidp.Faults{JWKS: mockidp.JWKSHang})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/jwks", nil)
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("hang: %v after %s", err, time.Since(start))
	}
	s.SetFaults(mockidp.Faults{JWKS: mockidp.JWKSHang, HangLimit: mockidp.Duration(100 * time.Millisecond)})
	resp, err := http.Get(s.URL() + "/jwks")
	if err != nil || resp.StatusCode != 504 {
		t.Errorf("bounded hang: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	s.ResetFaults()
	if err := verifyAccess(t, s, tok); err != nil {
		t.Errorf("after reset: %v", err)
	}
}

func TestFaultKeyAndTokenShape(t *testing.T) {
	s := mockidptest.New(t)
	s.SetFaults(mockidp.Faults{UnknownKey: true})
	tok := mustCC(t, s)
	if err := verifyAccess(t, s, tok); err == nil {
		t.Error("token signed with an unpublished key verified")
	}
	if st, _ := callHello(t, s, tok); st != 401 {
		t.Errorf("/api/hello with an unknown-key token: %d", st)
	}
	s.SetFaults(mockidp.Faults{AlgNone: true})
	tok = mustCC(t, s)
	if h := decodeHeader(t, tok); h["alg"] != "none" || !strings.HasSuffix(tok, ".") {
		t.Errorf("alg none token header %v", h)
	}
	if err := verifyAccess(t, s, tok); err == nil {
		t.Error("alg none verified")
	}
	s.SetFaults(mockidp.Faults{Lifetime: mockidp.Duration(30 * time.Second)})
	c := decodeClaims(t, mustCC(t, s))
	if c["exp"].(float64)-c["iat"].(float64) != 30 {
		t.Errorf("lifetime override: iat %v exp %v", c["iat"], c["exp"])
	}
	s.SetFaults(mockidp.Faults{Expired: true})
	tok = mustCC(t, s)
	if exp := decodeClaims(t, tok)["exp"].(float64); int64(exp) >= time.Now().Unix() {
		t.Errorf("expired fault: exp %v is not in the past", exp)
	}
	if st, wa := callHello(t, s, tok); st != 401 || !strings.Contains(wa, "expired") {
		t.Errorf("expired token at /api/hello: %d %q", st, wa)
	}
	s.ResetFaults()
	tok = mustCC(t, s)
	if err := verifyAccess(t, s, tok); err != nil {
		t.Errorf("after reset: %v", err)
	}
	if st, _ := callHello(t, s, tok); st != 200 {
		t.Errorf("after reset /api/hello: %d", st)
	}
}

func TestRotateWithGraceAndDrop(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s := mockidptest.New(t, mockidp.WithClock(func() time.Time { return clock() }))
	old := mustCC(t, s)
	if err := s.RotateKey(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	fresh := mustCC(t, s)
	if decodeHeader(t, old)["kid"] == decodeHeader(t, fresh)["kid"] {
		t.Fatal("rotation kept the kid")
	}
	if st, _ := callHello(t, s, old); st != 200 {
		t.Errorf("old-key token during grace: %d", st)
	}
	if !strings.Contains(string(s.JWKS()), decodeHeader(t, old)["kid"].(string)) {
		t.Error("old key not in the JWKS during grace")
	}
	now = now.Add(11 * time.Minute)
	if strings.Contains(string(s.JWKS()), decodeHeader(t, old)["kid"].(string)) {
		t.Error("old key still published after grace")
	}
	// Drop at once.
	tok := mustCC(t, s)
	if err := s.RotateKey(0); err != nil {
		t.Fatal(err)
	}
	if st, wa := callHello(t, s, tok); st != 401 || !strings.Contains(wa, "no key") {
		t.Errorf("token of a dropped key: %d %q", st, wa)
	}
}

func TestKeysPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	a := mockidptest.New(t, mockidp.WithKeysDir(dir))
	jwks := string(a.JWKS())
	a.Close()
	b := mockidptest.New(t, mockidp.WithKeysDir(dir))
	if string(b.JWKS()) != jwks {
		t.Errorf("restart changed the JWKS:\n%s\n%s", jwks, b.JWKS())
	}
	if err := b.RotateKey(time.Hour); err != nil {
		t.Fatal(err)
	}
	c := mockidptest.New(t, mockidp.WithKeysDir(dir))
	if string(c.JWKS()) != string(b.JWKS()) {
		t.Error("rotated keys (with the old one in grace) were not persisted")
	}
}

func TestAdminAPIAndEvents(t *testing.T) {
	s := mockidptest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/_authlab/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("events content type %q", resp.Header.Get("Content-Type"))
	}
	// PATCH a fault through the admin API; the client sees it.
	body := `{"errors":{"token":{"status":400,"error":"invalid_scope","count":1}}}`
	preq, _ := http.NewRequest("PATCH", s.URL()+"/_authlab/faults", strings.NewReader(body))
	presp, err := http.DefaultClient.Do(preq)
	if err != nil || presp.StatusCode != 200 {
		t.Fatalf("PATCH faults: %v %v", presp, err)
	}
	presp.Body.Close()
	_, err = ccToken(t, s)
	assertOAuthErr(t, err, 400, "invalid_scope", "")
	rresp, err := http.Post(s.URL()+"/_authlab/reset", "", nil)
	if err != nil || rresp.StatusCode != 200 {
		t.Fatalf("reset: %v %v", rresp, err)
	}
	rresp.Body.Close()
	if !s.Faults().IsZero() {
		t.Errorf("faults after reset: %+v", s.Faults())
	}
	mustCC(t, s)
	// The stream shows the failed and the good token request, secrets masked.
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var tokenEvents []mockidp.Event
	for len(tokenEvents) < 2 && sc.Scan() {
		var e mockidp.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Endpoint == mockidp.EPToken {
			tokenEvents = append(tokenEvents, e)
		}
	}
	if len(tokenEvents) != 2 {
		t.Fatalf("token events: %d", len(tokenEvents))
	}
	if e := tokenEvents[0]; e.Exchange.Status != 400 || e.Error != "invalid_scope" || !strings.Contains(e.Fault, "error") {
		t.Errorf("faulted event = %+v", e)
	}
	e := tokenEvents[1]
	raw, _ := json.Marshal(e)
	if e.Exchange.Status != 200 || e.ClientID != "demo-cc" || e.Grant != "client_credentials" ||
		strings.Contains(string(raw), "demo-cc-secret") || strings.Contains(string(raw), "eyJ") {
		t.Errorf("good event leaks or lacks data: %s", raw)
	}
}

func TestAdminNeedsTokenFromNonLoopback(t *testing.T) {
	s, err := mockidp.New(mockidp.Options{Issuer: "http://idp.example", AdminToken: "adm-token-1"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(remote, auth string) int {
		req, _ := http.NewRequest("GET", "http://idp.example/_authlab/faults", nil)
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := &recorder{h: http.Header{}}
		s.Handler().ServeHTTP(rec, req)
		return rec.code
	}
	if c := call("127.0.0.1:5555", ""); c != 200 {
		t.Errorf("loopback: %d", c)
	}
	if c := call("192.0.2.7:5555", ""); c != 401 {
		t.Errorf("remote without token: %d", c)
	}
	if c := call("192.0.2.7:5555", "Bearer wrong"); c != 401 {
		t.Errorf("remote with a wrong token: %d", c)
	}
	if c := call("192.0.2.7:5555", "Bearer adm-token-1"); c != 200 {
		t.Errorf("remote with the token: %d", c)
	}
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return len(b), nil
}
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}

func TestEventsDropForSlowSubscriber(t *testing.T) {
	s := mockidptest.New(t)
	ch, cancel := s.Events(1)
	for i := 0; i < 5; i++ {
		mustCC(t, s)
	}
	first := <-ch
	if first.Endpoint != mockidp.EPToken {
		t.Errorf("first event %+v", first)
	}
	mustCC(t, s) // delivered, reporting the 4 missed in between
	next := <-ch
	if next.Dropped != 4 {
		t.Errorf("dropped = %d, want 4", next.Dropped)
	}
	cancel()
	if _, ok := <-ch; ok {
		t.Error("channel open after cancel")
	}
	_ = io.Discard
}

func TestFaultValidation(t *testing.T) {
	s := mockidptest.New(t)
	for _, f := range []mockidp.Faults{
		{Errors: map[string]mockidp.ErrorFault{"tokn": {}}},
		{Latency: map[string]mockidp.Duration{"jwks": mockidp.Duration(-time.Second)}},
		{JWKS: "flaky"},
		{Errors: map[string]mockidp.ErrorFault{"token": {Status: 200}}},
		{Errors: map[string]mockidp.ErrorFault{"token": {Fraction: 1.5}}},
	} {
		if err := s.SetFaults(f); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("faults %+v: %v, want a one-line error", f, err)
		}
	}
	if !s.Faults().IsZero() {
		t.Error("a rejected fault set was applied")
	}
	req, _ := http.NewRequest("PUT", s.URL()+"/_authlab/faults", strings.NewReader(`{"jwks":"flaky"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("admin PUT of a bad fault: %d", resp.StatusCode)
	}
}
