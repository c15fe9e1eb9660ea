package bench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"authlab/flows"
)

func TestRunCountsAndGroupsFailures(t *testing.T) {
	var n atomic.Int64
	op := func(ctx context.Context) Outcome {
		i := n.Add(1)
		switch {
		case i%10 == 0:
			return Outcome{Status: 400, OAuthError: "invalid_client", Err: &flows.Error{Kind: flows.ErrOAuth, Message: "token endpoint: invalid_client"}}
		case i%25 == 0:
			return Outcome{Err: flows.Errorf(flows.ErrNetwork, "token endpoint: connection refused")}
		}
		return Outcome{OK: true, Status: 200, Latency: time.Duration(i) * time.Microsecond}
	}
	rep, err := Run(context.Background(), Config{Requests: 1000, Concurrency: 8, Duration: 30 * time.Second}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 1000 || n.Load() != 1000 {
		t.Fatalf("requests %d, op called %d times; want 1000", rep.Requests, n.Load())
	}
	if rep.StopReason != StopCount {
		t.Errorf("stop reason %q, want %q", rep.StopReason, StopCount)
	}
	// 100 multiples of 10; multiples of 25 that are not multiples of 10: 40-20 = 20.
	if rep.Failed != 120 || len(rep.Failures) != 2 {
		t.Fatalf("failed %d in %+v; want 120 in 2 groups", rep.Failed, rep.Failures)
	}
	g := rep.Failures[0]
	if g.Count != 100 || g.Status != 400 || g.OAuthError != "invalid_client" || g.Label() != "HTTP 400 invalid_client" {
		t.Errorf("first group %+v (label %q)", g, g.Label())
	}
	if g := rep.Failures[1]; g.Count != 20 || g.Kind != "network" || g.Label() != "network" {
		t.Errorf("second group %+v (label %q)", g, g.Label())
	}
	if got := rep.SuccessRate(); got != 88 {
		t.Errorf("success rate %.2f, want 88", got)
	}
	if rep.Latency.Method != MethodExact || rep.Latency.Max < rep.Latency.P99 || rep.Latency.Min > rep.Latency.P50 {
		t.Errorf("latency stats inconsistent: %+v", rep.Latency)
	}
}

func TestRunDurationBoundAndSnapshots(t *testing.T) {
	var mu sync.Mutex
	var snaps []Snapshot
	op := func(ctx context.Context) Outcome {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return Outcome{Err: ctx.Err()}
		}
		return Outcome{OK: true}
	}
	cfg := Config{Duration: 300 * time.Millisecond, Concurrency: 4, SnapshotEvery: 20 * time.Millisecond,
		OnSnapshot: func(s Snapshot) { mu.Lock(); snaps = append(snaps, s); mu.Unlock() }}
	rep, err := Run(context.Background(), cfg, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.StopReason != StopDuration || rep.Requests == 0 {
		t.Fatalf("stop %q after %d requests", rep.StopReason, rep.Requests)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(snaps) < 3 {
		t.Fatalf("only %d snapshots in 300ms at 20ms", len(snaps))
	}
	last := snaps[len(snaps)-1]
	if !last.Done || last.Requests != rep.Requests || last.OK != rep.OK {
		t.Errorf("final snapshot %+v does not match report (%d requests)", last, rep.Requests)
	}
	for i := 1; i < len(snaps); i++ {
		if snaps[i].Requests < snaps[i-1].Requests {
			t.Fatalf("snapshot %d went backwards", i)
		}
	}
}

func TestRunRateLimit(t *testing.T) {
	start := time.Now()
	rep, err := Run(context.Background(), Config{Requests: 40, Concurrency: 8, Rate: 200},
		func(ctx context.Context) Outcome { return Outcome{OK: true} })
	if err != nil {
		t.Fatal(err)
	}
	// 40 slots 5ms apart: the last one starts 195ms after the first.
	if el := time.Since(start); el < 195*time.Millisecond || rep.Requests != 40 {
		t.Fatalf("%d requests in %v; the limit allows 40 in no less than 195ms", rep.Requests, el)
	}
	if rep.Throughput > 210 {
		t.Errorf("throughput %.1f/s exceeds the 200/s limit", rep.Throughput)
	}
}

func TestRunCancelAndInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	op := func(ctx context.Context) Outcome {
		if n.Add(1) == 50 {
			cancel()
		}
		if n.Load() >= 50 {
			<-ctx.Done() // in flight when cancelled
			return Outcome{Err: ctx.Err()}
		}
		return Outcome{OK: true}
	}
	rep, err := Run(ctx, Config{Concurrency: 1, Duration: 10 * time.Second}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.StopReason != StopCancelled || rep.Requests != 49 || rep.Interrupted != 1 || rep.Failed != 0 {
		t.Fatalf("stop %q, %d requests, %d interrupted, %d failed; want cancelled, 49, 1, 0",
			rep.StopReason, rep.Requests, rep.Interrupted, rep.Failed)
	}

	// A server that never answers: the grace period ends the run, and the
	// stuck calls are interrupted, not failures.
	start := time.Now()
	rep, err = Run(context.Background(), Config{Concurrency: 3, Duration: 50 * time.Millisecond, Grace: 50 * time.Millisecond},
		func(ctx context.Context) Outcome { <-ctx.Done(); return Outcome{Err: ctx.Err()} })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 0 || rep.Interrupted != 3 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d requests, %d interrupted; want 0 and 3", rep.Requests, rep.Interrupted)
	}
}

func TestConfigValidation(t *testing.T) {
	op := func(ctx context.Context) Outcome { return Outcome{OK: true} }
	for _, c := range []Config{{Requests: -1}, {Duration: -time.Second}, {Concurrency: -2}, {Concurrency: MaxConcurrency + 1}, {Rate: -1}} {
		if _, err := Run(context.Background(), c, op); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := Run(context.Background(), Config{Requests: 1}, nil); err == nil {
		t.Error("nil op accepted")
	}
	if _, err := Run(context.Background(), Config{Requests: 3}, func(ctx context.Context) Outcome { return Outcome{Err: errors.New("x")} }); err != nil {
		t.Error(err)
	}
}
