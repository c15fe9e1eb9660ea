package mockidp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkSignRS256 is the one-core RS256 signing rate (the ceiling for
// RS256 tokens): run with -cpu 1; compare hey's tokens/s against 1e9/ns_op.
func BenchmarkSignRS256(b *testing.B) { benchSign(b, "RS256") }

// BenchmarkSignES256 is the one-core ES256 signing rate.
func BenchmarkSignES256(b *testing.B) { benchSign(b, "ES256") }

func benchSign(b *testing.B, alg string) {
	s, err := New(Options{Issuer: "http://127.0.0.1:9090"})
	if err != nil {
		b.Fatal(err)
	}
	fs := s.faults.Load()
	payload := []byte(`{"iss":"http://127.0.0.1:9090","sub":"demo-cc","aud":"http://127.0.0.1:9090/api","client_id":"demo-cc","scope":"api:read api:write","jti":"abcdefghijklmnopqrstuv","iat":1700000000,"exp":1700003600}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.sign(fs, alg, false, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientCredentials is the token endpoint in-process (no network),
// in parallel on all cores.
func BenchmarkClientCredentialsES256(b *testing.B) { benchCC(b, "ES256") }
func BenchmarkClientCredentialsRS256(b *testing.B) { benchCC(b, "RS256") }

func benchCC(b *testing.B, alg string) {
	s, err := New(Options{Issuer: "http://127.0.0.1:9090", Alg: alg})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			postClientCredentials(b, h)
		}
	})
}

// BenchmarkClientCredentialsUnsigned is the token endpoint's own cost with
// signing taken out (the alg-none fault): routing, form, client
// authentication, claims and response. Compare it across changes; the
// signing share is BenchmarkSignES256.
func BenchmarkClientCredentialsUnsigned(b *testing.B) {
	s, err := New(Options{Issuer: "http://127.0.0.1:9090", Alg: "ES256"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.SetFaults(Faults{AlgNone: true}); err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		postClientCredentials(b, h)
	}
}

// BenchmarkClientCredentialsLoopback is the token endpoint over real
// loopback TCP with keep-alive, 32 concurrent clients (hey -c 32 in Go).
func BenchmarkClientCredentialsLoopback(b *testing.B) {
	s, err := New(Options{Alg: "ES256"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	u := s.URL() + "/token"
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", u, strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo-cc", "demo-cc-secret")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// postClientCredentials sends one demo-cc client_credentials request to h
// in-process and fails the benchmark unless it is answered 200.
func postClientCredentials(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-cc", "demo-cc-secret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}
