package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Log-linear histogram (the HDR idea): every power of two is split into
// 2^subBits equal buckets, so a bucket's width is at most 1/128 of its value
// and the midpoint is within ±0.4% of any value recorded in it. Values are
// nanoseconds; the range ends past an hour, which every run is bounded below.
const (
	subBits    = 7
	subCount   = 1 << subBits
	maxExp     = 43 // 2^43 ns ≈ 2.4 h
	numBuckets = (maxExp - subBits + 1) * subCount
)

// Histogram counts latencies in log-linear buckets. Record is lock-free (one
// atomic add on a counter only its worker writes), so a snapshot can read it
// while the worker runs without a mutex on the request path.
type Histogram struct {
	counts [numBuckets]atomic.Int64
}

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits // ≥ 1
	if e > maxExp-subBits {
		return numBuckets - 1
	}
	// The top subBits bits of v, minus the leading one, pick the sub-bucket.
	sub := int(v>>(e-1)) - subCount
	return e*subCount + sub
}

// bucketBounds returns [lo, hi) of bucket i in nanoseconds.
func bucketBounds(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i) + 1
	}
	e := i / subCount
	sub := int64(i%subCount) + subCount
	lo = sub << (e - 1)
	return lo, lo + 1<<(e-1)
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) { h.counts[bucketOf(int64(d))].Add(1) }

// addTo adds this histogram's counts into dst (a plain array, for merging).
func (h *Histogram) addTo(dst *[numBuckets]int64) (n int64) {
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			dst[i] += c
			n += c
		}
	}
	return n
}

// Buckets is a merged, immutable histogram.
type Buckets struct {
	counts *[numBuckets]int64
	total  int64
}

func newBuckets() Buckets { return Buckets{counts: new([numBuckets]int64)} }

func (b *Buckets) add(h *Histogram) { b.total += h.addTo(b.counts) }

// Total is the number of recorded values.
func (b Buckets) Total() int64 { return b.total }

// Quantile is the nearest-rank q-quantile (0 < q ≤ 1) approximated by the
// midpoint of the bucket holding the rank: the value of rank ⌈q·n⌉.
func (b Buckets) Quantile(q float64) time.Duration {
	if b.total == 0 || b.counts == nil {
		return 0
	}
	rank := nearestRank(q, int(b.total))
	var seen int64
	for i, c := range b.counts {
		seen += c
		if seen >= int64(rank) {
			lo, hi := bucketBounds(i)
			return time.Duration(lo + (hi-lo-1)/2)
		}
	}
	return 0
}

// nearestRank is the 1-based rank ⌈q·n⌉ clamped to [1, n]: the smallest
// value such that at least q of the values are ≤ it (no interpolation, so the
// answer is always a latency that was observed).
func nearestRank(q float64, n int) int {
	if n <= 0 {
		return 0
	}
	// A small epsilon keeps 0.95*100 = 95.00000000000001 at rank 95.
	r := int(q*float64(n) - 1e-9)
	if float64(r) < q*float64(n)-1e-9 {
		r++
	}
	if r < 1 {
		r = 1
	}
	if r > n {
		r = n
	}
	return r
}

// Percentile returns the nearest-rank q-quantile of sorted (ascending).
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[nearestRank(q, len(sorted))-1]
}
