package bench

import "context"

// Handle is a run started in the background, for a live view: read
// Snapshots until Done is closed, then take the Report.
type Handle struct {
	snaps chan Snapshot
	done  chan struct{}
	rep   *Report
	err   error
}

// Start runs op under cfg in a goroutine. cfg.OnSnapshot, if set, is still
// called. The snapshot channel holds the latest snapshot only: a slow reader
// (a TUI redrawing at its own pace) skips stale ones and never slows the run.
// The final snapshot (Done set) is always delivered before Done closes.
func Start(ctx context.Context, cfg Config, op Op) *Handle {
	h := &Handle{snaps: make(chan Snapshot, 1), done: make(chan struct{})}
	user := cfg.OnSnapshot
	cfg.OnSnapshot = func(s Snapshot) {
		if user != nil {
			user(s)
		}
		for {
			select {
			case h.snaps <- s:
				return
			default:
			}
			select { // drop the stale one the reader has not taken
			case <-h.snaps:
			default:
			}
		}
	}
	go func() {
		defer close(h.done)
		h.rep, h.err = Run(ctx, cfg, op)
	}()
	return h
}

// Snapshots delivers progress; the channel is never closed (select on Done).
func (h *Handle) Snapshots() <-chan Snapshot { return h.snaps }

// Done is closed when the run has ended.
func (h *Handle) Done() <-chan struct{} { return h.done }

// Report waits for the run to end and returns its report.
func (h *Handle) Report() (*Report, error) {
	<-h.done
	return h.rep, h.err
}
