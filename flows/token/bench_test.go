package token

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The pair below is the issue's throughput comparison: the same RS256 token
// and key, authlab's full inspection with a warm JWKS cache against bare
// golang-jwt parsing. Run both in one `go test -bench` invocation.

func benchToken(b *testing.B) string {
	raw, err := os.ReadFile(filepath.Join(testdataDir, "rs256.jwt"))
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// benchIDP serves the testdata JWKS as an issuer would.
func benchIDP(b *testing.B) *idp {
	jwks, err := os.ReadFile(filepath.Join(testdataDir, "jwks.json"))
	if err != nil {
		b.Fatal(err)
	}
	return newIDP(&testing.T{}, jwks)
}

func BenchmarkInspectWarmJWKS(b *testing.B) {
	tok := benchToken(b)
	p := benchIDP(b)
	defer p.srv.Close()
	src := NewJWKS(JWKSOptions{URL: p.issue + "/jwks"})
	opts := Options{Keys: src, Issuer: "https://idp.example.test", Audience: []string{"https://api.example.test"}}
	if rep, err := Inspect(context.Background(), tok, opts); err != nil || !rep.Verified || !rep.OK() {
		b.Fatalf("warm-up failed: %v %+v", err, rep)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := Inspect(ctx, tok, opts)
		if err != nil || !rep.Verified {
			b.Fatal("not verified")
		}
	}
	if p.hitCount() != 1 {
		b.Fatalf("the cache refetched: %d hits", p.hitCount())
	}
}

func BenchmarkGolangJWTParse(b *testing.B) {
	tok := benchToken(b)
	pub := loadSigner(b, "rsa1").Public()
	keyfunc := func(*jwt.Token) (any, error) { return pub, nil }
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t, err := jwt.Parse(tok, keyfunc)
		if err != nil || !t.Valid {
			b.Fatal(err)
		}
	}
}

// BenchmarkPaired interleaves the two calls above, one of each per
// iteration, and reports the median time of each (a median shrugs off the
// preemptions of a shared, busy machine, which hit both sides alike) and
// authlab's throughput as a share of golang-jwt's.
func BenchmarkPaired(b *testing.B) {
	tok := benchToken(b)
	p := benchIDP(b)
	defer p.srv.Close()
	opts := Options{Keys: NewJWKS(JWKSOptions{URL: p.issue + "/jwks"}), Issuer: "https://idp.example.test", Audience: []string{"https://api.example.test"}}
	if rep, err := Inspect(context.Background(), tok, opts); err != nil || !rep.Verified {
		b.Fatal("warm-up failed")
	}
	pub := loadSigner(b, "rsa1").Public()
	keyfunc := func(*jwt.Token) (any, error) { return pub, nil }
	ctx := context.Background()
	var ours, theirs []time.Duration
	ourCall := func() {
		t0 := time.Now()
		rep, err := Inspect(ctx, tok, opts)
		ours = append(ours, time.Since(t0))
		if err != nil || !rep.Verified {
			b.Fatal("not verified")
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate the order so neither side always runs second.
		if i%2 == 0 {
			ourCall()
		}
		t1 := time.Now()
		tk, err := jwt.Parse(tok, keyfunc)
		theirs = append(theirs, time.Since(t1))
		if err != nil || !tk.Valid {
			b.Fatal(err)
		}
		if i%2 == 1 {
			ourCall()
		}
	}
	b.StopTimer()
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2])
	}
	mo, mt := median(ours), median(theirs)
	b.ReportMetric(mo, "authlab-median-ns")
	b.ReportMetric(mt, "golangjwt-median-ns")
	b.ReportMetric(100*mt/mo, "%throughput")
}
