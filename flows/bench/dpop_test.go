package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

func dpopSetup(t *testing.T, idp *mockidp.Server, conc int, alg string) *Setup {
	t.Helper()
	req := flows.Request{Issuer: idp.Issuer(), ClientID: "demo-dpop", ClientSecret: "demo-dpop-secret",
		Timeout: 10 * time.Second, DPoP: true, DPoPAlg: alg}
	s, err := NewSetup(context.Background(), req, conc)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	t.Cleanup(s.Close)
	if s.DPoPKey() == nil {
		t.Fatal("setup has no DPoP key")
	}
	return s
}

// Every token the lean client credentials op gets from demo-dpop (a client
// that refuses requests without a proof and refuses a replayed jti) is
// DPoP-bound, counted at the IdP, and the report carries the proof cost.
func TestBenchDPoPEveryTokenBound(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			idp := mockidptest.New(t)
			events, unsubscribe := idp.Events(1024)
			defer unsubscribe()
			s := dpopSetup(t, idp, 4, alg)
			op, ok := s.TokenOp(url.Values{"grant_type": {"client_credentials"}})
			if !ok {
				t.Fatal("client_secret_basic with DPoP did not take the lean path")
			}
			const n = 200
			rep, err := Run(context.Background(), Config{Requests: n, Concurrency: 4, Duration: time.Minute}, op)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK != n {
				t.Fatalf("%d of %d requests succeeded: %+v", rep.OK, n, rep.Failures)
			}
			bound, seen := 0, 0
			deadline := time.After(10 * time.Second) // events are published just after each answer
			for seen < n {
				select {
				case ev := <-events:
					if ev.Endpoint != mockidp.EPToken {
						continue
					}
					seen++
					if ev.ClientID == "demo-dpop" && ev.Error == "" && strings.Contains(ev.Exchange.ResponseBody, `"token_type":"DPoP"`) {
						bound++
					}
					if ev.Dropped > 0 {
						t.Fatalf("the event stream dropped %d events", ev.Dropped)
					}
				case <-deadline:
					t.Fatalf("only %d token events of %d arrived", seen, n)
				}
			}
			if bound != n {
				t.Fatalf("%d of %d issued tokens are DPoP-bound", bound, n)
			}
			if err := s.DPoPReport(rep); err != nil {
				t.Fatal(err)
			}
			d := rep.DPoP
			if d == nil || d.Proofs != n || d.P50 <= 0 || d.P99 < d.P50 || d.Measured != ProofsInRun || d.Alg != alg || d.JKT != s.DPoPKey().JKT() {
				t.Fatalf("DPoP stats %+v; want %d proofs timed per request with %s", d, n, alg)
			}
			if d.P50 >= rep.Latency.P50 {
				t.Errorf("proof p50 %s is not below the request p50 %s it is part of", d.P50, rep.Latency.P50)
			}
			var text bytes.Buffer
			rep.WriteText(&text, 20)
			if !strings.Contains(text.String(), "dpop         "+alg+" proof p50 ") {
				t.Errorf("no dpop line in the report:\n%s", text.String())
			}
			b, _ := json.Marshal(rep)
			var j struct {
				DPoP struct {
					ProofUS float64 `json:"proof_us"`
					Proofs  int64   `json:"proofs"`
					JKT     string  `json:"jkt"`
				} `json:"dpop"`
			}
			if err := json.Unmarshal(b, &j); err != nil || j.DPoP.ProofUS <= 0 || j.DPoP.Proofs != n || j.DPoP.JKT == "" {
				t.Errorf("JSON dpop %+v (%v) from %s", j.DPoP, err, b)
			}
		})
	}
}

// Without DPoP the report has no DPoP stats, and DPoPReport adds none.
func TestBenchNoDPoPNoStats(t *testing.T) {
	idp := mockidptest.New(t)
	s := demoSetup(t, idp, 2)
	rep, err := Run(context.Background(), Config{Requests: 20, Concurrency: 2}, ccOp(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DPoPReport(rep); err != nil || rep.DPoP != nil {
		t.Fatalf("DPoP stats %+v (%v) without --dpop", rep.DPoP, err)
	}
	if b, _ := json.Marshal(rep); bytes.Contains(b, []byte(`"dpop"`)) {
		t.Errorf("JSON has a dpop member without --dpop: %s", b)
	}
}

// An IdP that requires nonces: the lean op retries once with the nonce it
// was given, keeps the latest one, and every request succeeds.
func TestBenchDPoPNonceRetry(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.DPoPNonce = true
	idp := mockidptest.New(t, mockidp.WithConfig(cfg))
	s := dpopSetup(t, idp, 1, "")
	op := ccOp(t, s)
	rep, err := Run(context.Background(), Config{Requests: 30, Concurrency: 1}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 30 {
		t.Fatalf("%d of 30 succeeded: %+v", rep.OK, rep.Failures)
	}
	if rep.DPoP == nil || rep.DPoP.NonceRetries < 1 || rep.DPoP.NonceRetries > 30 {
		t.Fatalf("nonce retries %+v; want between 1 and one per request", rep.DPoP)
	}
	if rep.DPoP.Proofs != 30 {
		t.Fatalf("proofs timed %d, want one timing per request", rep.DPoP.Proofs)
	}
}

// A nonce storm: each request retries once, then fails with
// use_dpop_nonce; no request loops.
func TestBenchDPoPNonceStormNotLooped(t *testing.T) {
	idp := mockidptest.New(t)
	s := dpopSetup(t, idp, 2, "")
	op := ccOp(t, s)
	if err := idp.UpdateFaults(func(f *mockidp.Faults) { f.DPoPNonceStorm = true }); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Requests: 10, Concurrency: 2}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 10 || len(rep.Failures) != 1 || rep.Failures[0].OAuthError != dpop.ErrUseNonce {
		t.Fatalf("%d failed, groups %+v; want all 10 as use_dpop_nonce", rep.Failed, rep.Failures)
	}
	if rep.DPoP == nil || rep.DPoP.NonceRetries != 10 {
		t.Fatalf("nonce retries %+v, want exactly one per request", rep.DPoP)
	}
}

// --flow call with DPoP: the token source's DPoP-bound token is presented
// as DPoP with a fresh proof carrying ath; the demo resource accepts each.
func TestBenchDPoPCall(t *testing.T) {
	idp := mockidptest.New(t)
	s := dpopSetup(t, idp, 2, "")
	tokens, err := s.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Requests: 40, Concurrency: 2}, s.CallOp(idp.URL()+"/api/hello", tokens))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 40 {
		t.Fatalf("%d of 40 calls succeeded: %+v", rep.OK, rep.Failures)
	}
	if rep.DPoP == nil || rep.DPoP.Proofs != 40 {
		t.Fatalf("DPoP stats %+v, want 40 proofs", rep.DPoP)
	}
}

// Ops that sign inside the engine get a proof cost measured before the run.
func TestBenchDPoPEngineOpCalibrated(t *testing.T) {
	idp := mockidptest.New(t)
	s := dpopSetup(t, idp, 1, "")
	tokens, err := s.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s2 := *s
	s2.Request = s.FlowRequest(flows.FlowUserinfo, tok)
	op, err := s2.FlowOp(flows.FlowUserinfo)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Requests: 5}, op)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DPoPReport(rep); err != nil {
		t.Fatal(err)
	}
	if rep.DPoP == nil || rep.DPoP.Measured != ProofsBefore || rep.DPoP.Proofs != calibrationProofs || rep.DPoP.P50 <= 0 {
		t.Fatalf("DPoP stats %+v; want a calibration of %d proofs", rep.DPoP, calibrationProofs)
	}
}

// A header value that could break the request is refused, not spliced in.
func TestRawAppendWithHeader(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1/token")
	c := newRawClient(http.MethodPost, u, http.Header{"Accept": {"application/json"}}, []byte("a=b"), nil, time.Second, 1)
	got, ok := c.appendWithHeader(nil, "DPoP", "x.y.z")
	if !ok || !bytes.HasSuffix(got, []byte("\r\nDPoP: x.y.z\r\n\r\na=b")) || !bytes.HasPrefix(got, c.head) {
		t.Fatalf("%q", got)
	}
	if _, ok := c.appendWithHeader(nil, "DPoP", "x\r\nEvil: 1"); ok {
		t.Fatal("a CR/LF value was spliced into the request")
	}
}
