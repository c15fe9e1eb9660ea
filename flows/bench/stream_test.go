package bench

import (
	"context"
	"testing"
	"time"
)

func TestStartStreamsSnapshots(t *testing.T) {
	op := func(ctx context.Context) Outcome {
		select {
		case <-time.After(200 * time.Microsecond):
		case <-ctx.Done():
		}
		return Outcome{OK: true}
	}
	h := Start(context.Background(), Config{Duration: 200 * time.Millisecond, Concurrency: 2, SnapshotEvery: 10 * time.Millisecond}, op)
	var last Snapshot
	n := 0
	for !last.Done {
		select {
		case s := <-h.Snapshots():
			if s.Requests < last.Requests {
				t.Fatalf("snapshot went backwards: %d after %d", s.Requests, last.Requests)
			}
			last = s
			n++
		case <-time.After(10 * time.Second):
			t.Fatal("no final snapshot")
		}
	}
	rep, err := h.Report()
	if err != nil {
		t.Fatal(err)
	}
	<-h.Done()
	if n < 2 || last.Requests != rep.Requests || last.Requests == 0 {
		t.Fatalf("%d snapshots, final %d requests, report %d", n, last.Requests, rep.Requests)
	}
}
