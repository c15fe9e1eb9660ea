package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"authlab/flows/bench"
)

// benchExportFlags send a run's SLIs to Prometheus: a Pushgateway, a file.
type benchExportFlags struct {
	push      string
	instance  string
	metrics   string
	pushEvery time.Duration
}

func addBenchExportFlags(fs *pflag.FlagSet, e *benchExportFlags) {
	fs.StringVar(&e.push, "push", "", "push the run's metrics to this Prometheus Pushgateway URL (job "+bench.PushJob+") every few seconds and at the end")
	fs.StringVar(&e.instance, "instance", "", "grouping key of --push: one per machine or shell (default HOST-PID)")
	fs.StringVar(&e.metrics, "metrics", "", "write the run's metrics in the Prometheus text format to FILE at the end")
	fs.DurationVar(&e.pushEvery, "push-every", bench.DefaultPushEvery, "period of --push during the run")
	fs.MarkHidden("push-every")
}

// benchExport is a run's metrics on their way out; nil when not asked for.
type benchExport struct {
	f        *benchExportFlags
	m        *bench.Metrics
	p        *bench.Pusher
	stopOnce sync.Once
	stopPush func()
}

// startExport checks the flags, hooks the metrics onto cfg's snapshots and
// starts the periodic pushes.
func startExport(ctx context.Context, stderr io.Writer, f *benchExportFlags, cfg *bench.Config, flow, profile string) (*benchExport, error) {
	if f.push == "" && f.metrics == "" {
		if f.instance != "" {
			return nil, usageErr("--instance needs --push URL")
		}
		return nil, nil
	}
	e := &benchExport{f: f, m: bench.NewMetrics(flow, profile)}
	if f.push != "" {
		inst := f.instance
		if inst == "" {
			inst = bench.DefaultInstance()
		}
		p, err := e.m.NewPusher(f.push, inst, 10*time.Second)
		if err != nil {
			return nil, usageErr("--push: %v", err)
		}
		e.p = p
	}
	prev := cfg.OnSnapshot
	if prev == nil {
		// Nobody draws progress: a snapshot a second is plenty for pushes.
		cfg.SnapshotEvery = time.Second
	}
	cfg.OnSnapshot = func(s bench.Snapshot) {
		e.m.Observe(s)
		if prev != nil {
			prev(s)
		}
	}
	if e.p != nil {
		var warned sync.Once
		e.stopPush = e.p.PushEvery(ctx, f.pushEvery, func(err error) {
			warned.Do(func() { fmt.Fprintf(stderr, "authlab: %v (the run goes on; the final push will retry)\n", err) })
		})
	}
	return e, nil
}

// stop ends the periodic pushes (safe on nil and twice).
func (e *benchExport) stop() {
	if e == nil || e.stopPush == nil {
		return
	}
	e.stopOnce.Do(e.stopPush)
}

// finish records the SLO verdicts and pushes and writes the final counts.
func (e *benchExport) finish(results []bench.SLOResult) error {
	if e == nil {
		return nil
	}
	e.stop()
	e.m.SetSLO(results)
	if e.f.metrics != "" {
		if err := e.m.WriteFile(e.f.metrics); err != nil {
			return fmt.Errorf("--metrics: %w", err)
		}
	}
	if e.p != nil {
		// Not the run's context: after Ctrl-C the final counts still go out.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.p.Push(ctx); err != nil {
			return fmt.Errorf("--push: final counts not pushed: %w", err)
		}
	}
	return nil
}
