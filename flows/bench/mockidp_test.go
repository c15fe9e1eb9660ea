package bench

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/flows/mtls"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func demoSetup(t *testing.T, idp *mockidp.Server, conc int) *Setup {
	t.Helper()
	req := flows.Request{Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret", Timeout: 10 * time.Second}
	s, err := NewSetup(context.Background(), req, conc)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func ccOp(t *testing.T, s *Setup) Op {
	t.Helper()
	op, err := s.FlowOp(flows.FlowClientCredentials)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// 10% injected token endpoint errors show up as ~10% failures, all in the
// server_error group. The IdP draws faults at random without a seed, so the
// bound is binomial: n=2000, p=0.1 has σ≈13.4; ±6σ ≈ ±80 fails by chance
// with probability < 1e-8.
func TestInjectedErrorsShowAsFailures(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 8)
	op := ccOp(t, s)
	if err := idp.SetFaults(mockidp.Faults{Errors: map[string]mockidp.ErrorFault{
		mockidp.EPToken: {Status: 503, Error: "temporarily_unavailable", Fraction: 0.1}}}); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Requests: 2000, Concurrency: 8, Duration: time.Minute}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 2000 {
		t.Fatalf("%d requests completed (%d interrupted), want 2000", rep.Requests, rep.Interrupted)
	}
	if rep.Failed < 120 || rep.Failed > 280 {
		t.Fatalf("%d failures of 2000 with a 10%% fault; outside the binomial bound [120, 280]: %+v", rep.Failed, rep.Failures)
	}
	if len(rep.Failures) != 1 {
		t.Fatalf("failures in %d groups, want 1: %+v", len(rep.Failures), rep.Failures)
	}
	g := rep.Failures[0]
	if g.Status != 503 || g.OAuthError != "temporarily_unavailable" || g.Count != rep.Failed {
		t.Errorf("failure group %+v; want HTTP 503 temporarily_unavailable with all %d failures", g, rep.Failed)
	}
	if sr := rep.SuccessRate(); math.Abs(sr-90) > 4 {
		t.Errorf("success rate %.2f%%, want ~90%%", sr)
	}
}

// Latency added at the IdP shows in every percentile, and the SLO on it
// passes and fails as it should.
func TestAddedLatencyShowsInPercentiles(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 4)
	op := ccOp(t, s)
	base, err := Run(context.Background(), Config{Requests: 200, Concurrency: 4}, op)
	if err != nil {
		t.Fatal(err)
	}
	const added = 30 * time.Millisecond
	if err := idp.SetFaults(mockidp.Faults{Latency: map[string]mockidp.Duration{mockidp.EPToken: mockidp.Duration(added)}}); err != nil {
		t.Fatal(err)
	}
	slow, err := Run(context.Background(), Config{Requests: 200, Concurrency: 4}, op)
	if err != nil {
		t.Fatal(err)
	}
	if slow.OK != 200 || base.OK != 200 {
		t.Fatalf("failures: base %+v slow %+v", base.Failures, slow.Failures)
	}
	if slow.Latency.Min < added || slow.Latency.P50 < added {
		t.Errorf("with %v added: min %v p50 %v", added, slow.Latency.Min, slow.Latency.P50)
	}
	// Not "base + added": queueing for the CPU overlaps with the delay.
	if slow.Latency.P50 <= base.Latency.P50 || slow.Latency.P99 < added {
		t.Errorf("p50 %v → %v, p99 %v: the added %v does not show", base.Latency.P50, slow.Latency.P50, slow.Latency.P99, added)
	}
	objs, err := ParseSLO("p50>=30ms,p95<10s,success>=99.9%")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Evaluate(objs, slow) {
		if !r.Pass {
			t.Errorf("objective %s missed (was %s)", r.Objective, r.Actual)
		}
	}
	objs, _ = ParseSLO("p50<30ms")
	if r := Evaluate(objs, slow); r[0].Pass {
		t.Errorf("p50<30ms passed with %d ms added (p50 %s)", added.Milliseconds(), r[0].Actual)
	}
}

func TestRevocationProbeReportsTime(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 1)
	res, err := s.ProbeRevocation(context.Background(), RevocationConfig{Every: 20 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Refused || res.Via != ViaIntrospection || res.Polls < 1 || res.After <= 0 || res.After > 5*time.Second {
		t.Fatalf("probe result %+v; want refused via introspection with a time", res)
	}
	if res.AfterMS != ms(res.After) {
		t.Errorf("after_ms %v does not match %v", res.AfterMS, res.After)
	}
}

// A resource that never learns of revocations: the probe gives up at its
// bound and says so, rather than reporting a time.
func TestRevocationProbeGivesUp(t *testing.T) {
	idp := mockidptest.New(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(api.Close)
	s := demoSetup(t, idp, 1)
	start := time.Now()
	res, err := s.ProbeRevocation(context.Background(), RevocationConfig{Via: []string{ViaCall}, CallURL: api.URL,
		Every: 20 * time.Millisecond, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Refused || res.Polls < 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("probe result %+v; want a give-up after several polls", res)
	}
	if want := "still accepted"; !strings.Contains(res.Detail, want) {
		t.Errorf("detail %q lacks %q", res.Detail, want)
	}
}

func TestJWKSProbeSeesRotation(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 1)
	op, watch := s.JWKSOp(s.Endpoints.JWKS)
	if o := op(context.Background()); !o.OK {
		t.Fatalf("first fetch: %+v", o)
	}
	before := watch.KeyIDs()
	if err := idp.RotateKey(0); err != nil {
		t.Fatal(err)
	}
	if o := op(context.Background()); !o.OK {
		t.Fatalf("second fetch: %+v", o)
	}
	h := watch.History()
	if len(before) == 0 || len(h) != 1 || h[0].Fetch != 2 || len(h[0].Added) == 0 || len(h[0].Removed) == 0 {
		t.Fatalf("key ids %v then history %+v; want one change with keys added and removed", before, h)
	}
	if err := idp.SetFaults(mockidp.Faults{JWKS: mockidp.JWKS503}); err != nil {
		t.Fatal(err)
	}
	if o := op(context.Background()); o.OK || o.Status != 503 {
		t.Fatalf("JWKS outage: %+v", o)
	}
}

func TestCallOpUsesCachedToken(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 4)
	var fetches int
	inner, err := s.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokenCache(func(ctx context.Context) (flows.Secret, time.Time, error) {
		fetches++ // under the cache's mutex
		tok, err := inner.Get(ctx)
		return tok, time.Now().Add(time.Hour), err
	}, nil)
	rep, err := Run(context.Background(), Config{Requests: 200, Concurrency: 4}, s.CallOp(idp.URL()+"/api/hello", tokens))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 200 || fetches != 1 {
		t.Fatalf("ok %d of %d (%+v), token fetched %d times; want 200 ok and 1 fetch", rep.OK, rep.Requests, rep.Failures, fetches)
	}
	bad := NewTokenCache(func(context.Context) (flows.Secret, time.Time, error) { return "not-a-token", time.Time{}, nil }, nil)
	rep, err = Run(context.Background(), Config{Requests: 5}, s.CallOp(idp.URL()+"/api/hello", bad))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 5 || rep.Failures[0].Status != 401 {
		t.Fatalf("bad token: %+v", rep.Failures)
	}
}

func TestTokenCacheRenews(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	var n int
	c := NewTokenCache(func(context.Context) (flows.Secret, time.Time, error) {
		n++
		return flows.Secret("t"), now.Add(5 * time.Minute), nil
	}, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if _, err := c.Get(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(4*time.Minute + 31*time.Second) // inside the 30 s renewal margin
	if _, err := c.Get(context.Background()); err != nil || n != 2 {
		t.Fatalf("fetches %d (err %v); want a renewal 30s before expiry", n, err)
	}
}

func TestHMACOpSignsEachRequest(t *testing.T) {
	v := hmac.NewDemoVerifier(nil)
	srv := httptest.NewServer(v.Middleware(hmac.SchemeRFC9421, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	t.Cleanup(srv.Close)
	s, err := NewSetup(context.Background(), flows.Request{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.HMACOp(srv.URL+"/signed", HMACConfig{Key: hmac.NewKey([]byte(hmac.DemoSecret)), KeyID: hmac.DemoKeyID})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Requests: 50, Concurrency: 2}, good)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 50 {
		t.Fatalf("signed requests: %d ok, failures %+v", rep.OK, rep.Failures)
	}
	wrong, _ := s.HMACOp(srv.URL+"/signed", HMACConfig{Key: hmac.NewKey([]byte("wrong key")), KeyID: hmac.DemoKeyID})
	rep, _ = Run(context.Background(), Config{Requests: 5}, wrong)
	if rep.Failed != 5 || rep.Failures[0].Status != 401 {
		t.Fatalf("wrong key: %+v", rep.Failures)
	}
	if _, err := s.HMACOp(srv.URL, HMACConfig{}); err == nil {
		t.Error("an HMAC op without a key was accepted")
	}
}

func TestHandshakeOp(t *testing.T) {
	certs, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srvConf, err := certs.ServerTLSConfig(tls.RequireAndVerifyClientCert)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = srvConf
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		name, cert, key string
		ok              bool
	}{
		{"trusted client", certs.ClientCert, certs.ClientKey, true},
		{"untrusted client", certs.UntrustedCert, certs.UntrustedKey, false},
		{"no client certificate", "", "", false},
	} {
		s, err := NewSetup(context.Background(), flows.Request{CertFile: c.cert, KeyFile: c.key, CAFile: certs.CACert, Timeout: 5 * time.Second}, 2)
		if err != nil {
			t.Fatal(err)
		}
		op, err := s.HandshakeOp(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), Config{Requests: 20, Concurrency: 2}, op)
		if err != nil {
			t.Fatal(err)
		}
		if c.ok && (rep.OK != 20 || rep.Latency.P50 <= 0) {
			t.Errorf("%s: %d ok of %d, p50 %v, failures %+v", c.name, rep.OK, rep.Requests, rep.Latency.P50, rep.Failures)
		}
		if !c.ok && (rep.Failed != 20 || rep.Failures[0].Kind != string(flows.ErrTLS)) {
			t.Errorf("%s: %d failed of %d, groups %+v; want 20 TLS failures", c.name, rep.Failed, rep.Requests, rep.Failures)
		}
		s.Close()
	}
	if _, err := (&Setup{}).HandshakeOp("http://127.0.0.1/"); err == nil {
		t.Error("an http:// URL was accepted for a TLS handshake probe")
	}
}

func TestIssuanceProbe(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 1)
	res, err := s.ProbeIssuance(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]IssuanceResult{}
	for _, r := range res {
		got[r.Grant] = r
	}
	cc := got[flows.FlowClientCredentials]
	if cc.Report == nil || cc.Report.OK != 10 || cc.Report.Latency.P50 <= 0 {
		t.Fatalf("client credentials: %+v", cc)
	}
	if got[flows.FlowAuthCode].Skipped == "" || got[flows.FlowRefresh].Skipped == "" {
		t.Errorf("interactive grants and refresh without a token must be skipped: %+v", res)
	}
	if te := got[flows.FlowTokenExchange]; te.Report == nil && te.Skipped == "" {
		t.Errorf("token exchange neither measured nor skipped: %+v", te)
	}
}
