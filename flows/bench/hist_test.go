package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNearestRankKnownDistribution(t *testing.T) {
	// The textbook nearest-rank example: ordinal rank ⌈P/100·N⌉.
	s := []time.Duration{15, 20, 35, 40, 50}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.05, 15}, {0.30, 20}, {0.40, 20}, {0.50, 35}, {1.0, 50}} {
		if got := Percentile(s, c.q); got != c.want {
			t.Errorf("p%g of %v = %d, want %d", c.q*100, s, got, c.want)
		}
	}
	// 1..1000 ms uniform: the q-quantile is exactly q·1000 ms.
	u := make([]time.Duration, 1000)
	for i := range u {
		u[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500}, {0.9, 900}, {0.95, 950}, {0.99, 990}, {0.999, 999}, {1, 1000}} {
		if got := Percentile(u, c.q); got != c.want*time.Millisecond {
			t.Errorf("p%g = %v, want %v", c.q*100, got, c.want*time.Millisecond)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("empty input must give 0")
	}
}

func TestBucketsAreContiguousAndTight(t *testing.T) {
	prevHi := int64(0)
	for i := 0; i < numBuckets; i++ {
		lo, hi := bucketBounds(i)
		if lo != prevHi {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if lo >= subCount && float64(hi-lo)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d [%d,%d) wider than 1/%d of its value", i, lo, hi, subCount)
		}
		for _, v := range []int64{lo, hi - 1} {
			if b := bucketOf(v); b != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, b, i)
			}
		}
		prevHi = hi
	}
	if bucketOf(math.MaxInt64) != numBuckets-1 || bucketOf(-5) != 0 {
		t.Fatal("out-of-range values must clamp")
	}
}

// The histogram's quantiles agree with the exact ones within its precision
// on a skewed (log-normal) latency distribution.
func TestHistogramQuantilesMatchExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	s := make([]time.Duration, 200000)
	for i := range s {
		d := time.Duration(math.Exp(rng.NormFloat64()*0.8) * float64(2*time.Millisecond))
		s[i] = d
		h.Record(d)
	}
	slices.Sort(s)
	b := newBuckets()
	b.add(&h)
	if b.Total() != int64(len(s)) {
		t.Fatalf("total %d, want %d", b.Total(), len(s))
	}
	for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		exact, approx := Percentile(s, q), b.Quantile(q)
		if rel := math.Abs(float64(approx-exact)) / float64(exact); rel > 0.5/subCount+1e-9 {
			t.Errorf("p%g: histogram %v, exact %v (%.3f%% off)", q*100, approx, exact, rel*100)
		}
	}
}

func TestBinsAndBars(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		h.Record(10 * time.Millisecond) // a peak in the first row
	}
	b := newBuckets()
	b.add(&h)
	bins := b.Bins(10)
	var sum int64
	for _, x := range bins {
		sum += x.Count
	}
	if sum != 200 || len(bins) != 10 {
		t.Fatalf("bins %+v: %d rows with %d values, want 10 rows with 200", bins, len(bins), sum)
	}
	if bins[0].Count < 100 || bins[0].Count <= bins[5].Count {
		t.Fatalf("the peak should be in the first row: %+v", bins)
	}
	out := RenderBars(bins, 20)
	if RenderBars(bins, 20) != out {
		t.Fatal("RenderBars is not deterministic")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("want 10 lines, got %q", out)
	}
	// The peak row is exactly width cells of full blocks.
	if want := "████████████████████ "; !strings.Contains(lines[0], want) {
		t.Errorf("peak row %q lacks a full bar %q", lines[0], want)
	}
	for i, l := range lines {
		if bins[i].Count > 0 && !strings.ContainsAny(l, "█▏▎▍▌▋▊▉") {
			t.Errorf("non-empty row %d has no bar: %q", i, l)
		}
	}
}
