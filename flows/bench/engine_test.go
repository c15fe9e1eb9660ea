package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// At a fixed rate a server that stalls once holds back the requests queued
// behind the stalled one; measured from their scheduled send times they show
// the stall, so p99 does too (measured from the actual send, only the one
// stalled request would, and p99 would look healthy).
func TestRateLatencyCountsFromSchedule(t *testing.T) {
	const stall = 500 * time.Millisecond
	var n atomic.Int64
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 10 {
			select { // the injected stall, bounded by the test and the client
			case <-time.After(stall):
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.Write([]byte(`{"access_token":"x","token_type":"Bearer"}`))
	}))
	t.Cleanup(srv.Close)
	s, err := NewSetup(context.Background(), flows.Request{Endpoints: flows.Endpoints{Token: srv.URL + "/token"},
		ClientID: "c", ClientSecret: "s", Timeout: 10 * time.Second}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	op, ok := s.TokenOp(url.Values{"grant_type": {"client_credentials"}})
	if !ok {
		t.Fatal("no lean path")
	}
	// 150 slots 10 ms apart; the stall at the 10th holds back about 50 more.
	rep, err := Run(context.Background(), Config{Requests: 150, Concurrency: 1, Rate: 100, Duration: time.Minute}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 150 || rep.Latency.From != FromIntended {
		t.Fatalf("%d ok of 150, latency from %q", rep.OK, rep.Latency.From)
	}
	if rep.Latency.P99 < stall*8/10 {
		t.Errorf("p99 %v hides the %v stall", rep.Latency.P99, stall)
	}
	// The queued requests count too, not only the stalled one.
	late := 0
	for _, d := range rep.sorted {
		if d >= stall/2 {
			late++
		}
	}
	if late < 10 {
		t.Errorf("%d requests at or above %v, want the queue behind the stall (≥ 10)", late, stall/2)
	}
	var text strings.Builder
	rep.WriteText(&text, 20)
	if !strings.Contains(text.String(), "scheduled send time") || rep.JSON().LatencyMS.From != FromIntended {
		t.Errorf("the report does not say latency is from the schedule:\n%s", text.String())
	}
}

// Without a rate each worker sends when its previous answer is in, and the
// report says latency runs from the send.
func TestClosedLoopLatencyFromSend(t *testing.T) {
	rep, err := Run(context.Background(), Config{Requests: 10, Concurrency: 2},
		func(ctx context.Context) Outcome { return Outcome{OK: true, Latency: time.Millisecond} })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Latency.From != FromSent || rep.Latency.Max != time.Millisecond {
		t.Fatalf("from %q, max %v; want from the send, exactly the op's 1ms", rep.Latency.From, rep.Latency.Max)
	}
	var text strings.Builder
	rep.WriteText(&text, 20)
	if !strings.Contains(text.String(), "from each request's send") {
		t.Errorf("report:\n%s", text.String())
	}
}
