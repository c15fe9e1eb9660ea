package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"authlab/flows"
)

// cannedIdP answers discovery and a fixed token response, so benchmarks
// measure the client side alone.
func cannedIdP(b *testing.B) *httptest.Server {
	b.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Write([]byte(`{"issuer":"` + srv.URL + `","token_endpoint":"` + srv.URL + `/token","jwks_uri":"` + srv.URL + `/jwks"}`))
		case "/token":
			w.Write([]byte(`{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vLWNjIn0.c2ln","token_type":"Bearer","expires_in":3600}`))
		default:
			http.NotFound(w, r)
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkClientCredentialsOp is the client-side cost of one token request
// through the engine (compare: BenchmarkRawPost, a bare net/http POST).
func BenchmarkClientCredentialsOp(b *testing.B) {
	srv := cannedIdP(b)
	s, err := NewSetup(context.Background(), flows.Request{Issuer: srv.URL, ClientID: "c", ClientSecret: "s", Timeout: 5 * time.Second}, 4)
	if err != nil {
		b.Fatal(err)
	}
	op, err := s.FlowOp(flows.FlowClientCredentials)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if o := op(context.Background()); !o.OK {
			b.Fatal(o.Err)
		}
	}
}

func BenchmarkRawPost(b *testing.B) {
	srv := cannedIdP(b)
	c := &http.Client{Transport: NewTransport(nil, 4)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", stringsReader("grant_type=client_credentials"))
		req.SetBasicAuth("c", "s")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		drain(resp)
	}
}

// BenchmarkRecord is the engine's per-request bookkeeping.
func BenchmarkRecord(b *testing.B) {
	w := &worker{failures: map[failKey]*FailureGroup{}, sampleCap: 1 << 20}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w.record(Outcome{OK: true, Latency: time.Duration(i%5000) * time.Microsecond})
	}
}

// BenchmarkSnapshot32 is one progress snapshot over 32 workers (taken every
// 100 ms by default, off the request path).
func BenchmarkSnapshot32(b *testing.B) {
	ws := make([]*worker, 32)
	for i := range ws {
		ws[i] = &worker{failures: map[failKey]*FailureGroup{}, sampleCap: 1024}
		for j := 0; j < 1000; j++ {
			ws[i].record(Outcome{OK: true, Latency: time.Duration(j) * time.Microsecond})
		}
	}
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		takeSnapshot(ws, start, Snapshot{}, false)
	}
}
