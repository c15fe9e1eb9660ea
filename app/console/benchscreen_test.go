package console

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"authlab/flows/bench"
	"authlab/mockidp/mockidptest"
	benchview "authlab/views/bench"
)

// fakeHandle is a bench run the test drives: every snapshot it sends is
// read by the console before the send returns (unbuffered).
type fakeHandle struct {
	snaps chan bench.Snapshot
	done  chan struct{}
	rep   *bench.Report
	err   error
}

func newFakeHandle() *fakeHandle {
	return &fakeHandle{snaps: make(chan bench.Snapshot), done: make(chan struct{})}
}

func (h *fakeHandle) Snapshots() <-chan bench.Snapshot { return h.snaps }
func (h *fakeHandle) Done() <-chan struct{}            { return h.done }
func (h *fakeHandle) Report() (*bench.Report, error)   { <-h.done; return h.rep, h.err }

// send delivers a snapshot, failing the test instead of hanging.
func (h *fakeHandle) send(t *testing.T, s bench.Snapshot) {
	t.Helper()
	select {
	case h.snaps <- s:
	case <-time.After(30 * time.Second):
		t.Fatal("the console did not read a bench snapshot within 30s")
	}
}

// finish sends the final snapshot and the report.
func (h *fakeHandle) finish(t *testing.T, s bench.Snapshot, rep *bench.Report) {
	t.Helper()
	h.rep = rep
	s.Done = true
	h.send(t, s)
	close(h.done)
}

// benchBackend is the fake backend plus a bench whose handles the test drives.
type benchBackend struct {
	*fakeBackend
	mu      sync.Mutex
	handles chan *fakeHandle
	ctxs    []context.Context
	cfgs    []bench.Config
}

func newBenchBackend() *benchBackend {
	return &benchBackend{fakeBackend: &fakeBackend{rows: fixtureRows()}, handles: make(chan *fakeHandle, 4)}
}

func (b *benchBackend) BenchTarget(name string) (string, string, error) {
	if strings.Contains(name, "auth-code") || strings.Contains(name, "device") {
		return "", "", fmt.Errorf("%s is interactive: bench repeats non-interactive flows only", name)
	}
	return "client-credentials", "http://127.0.0.1:9090/token", nil
}

func (b *benchBackend) StartBench(ctx context.Context, name string, cfg bench.Config) (BenchRun, error) {
	h := newFakeHandle()
	b.mu.Lock()
	b.ctxs = append(b.ctxs, ctx)
	b.cfgs = append(b.cfgs, cfg)
	b.mu.Unlock()
	b.handles <- h
	return BenchRun{Flow: "client-credentials", Target: "http://127.0.0.1:9090/token", Handle: h}, nil
}

func (b *benchBackend) nextHandle(t *testing.T) *fakeHandle {
	t.Helper()
	select {
	case h := <-b.handles:
		return h
	case <-time.After(30 * time.Second):
		t.Fatal("no bench started within 30s")
		return nil
	}
}

// waitCancelled fails the test with why unless the i-th bench's context ends.
func (b *benchBackend) waitCancelled(t *testing.T, i int, why string) {
	t.Helper()
	b.mu.Lock()
	ctx := b.ctxs[i]
	b.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal(why)
	}
}

// fixedBench runs the real engine over a deterministic operation (latency
// a triangle up to 21 ms, every 50th request an invalid_client) and returns its final
// snapshot and report with the wall-clock fields fixed, so frames are stable.
func fixedBench(t *testing.T, n int) (bench.Snapshot, *bench.Report) {
	t.Helper()
	var last bench.Snapshot
	var i int
	var mu sync.Mutex
	op := func(ctx context.Context) bench.Outcome {
		mu.Lock()
		i++
		k := i
		mu.Unlock()
		lat := time.Duration(1+k%20+k%23) * time.Millisecond / 2 // a triangle
		if k%50 == 0 {
			return bench.Outcome{Status: 401, OAuthError: "invalid_client", Err: errors.New("client authentication failed"), Latency: lat}
		}
		return bench.Outcome{OK: true, Status: 200, Latency: lat}
	}
	rep, err := bench.Run(context.Background(), bench.Config{Requests: n, Concurrency: 1, Duration: time.Minute,
		OnSnapshot: func(s bench.Snapshot) { last = s }}, op)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != int64(n) {
		t.Fatalf("fixture bench completed %d requests, want %d", rep.Requests, n)
	}
	rep.Started = fixedClock()
	rep.Elapsed = 4200 * time.Millisecond
	rep.Throughput = float64(n) / 4.2
	last.Elapsed = rep.Elapsed
	last.Throughput = rep.Throughput
	last.IntervalRPS = 0
	last.Done = false // the tests say when the run ends
	return last, rep
}

// running feeds a bench screen a series of snapshots of one growing run.
func feedRunning(t *testing.T, h *fakeHandle, final bench.Snapshot) {
	rps := []float64{120, 180, 240, 260, 250, 230, 270, 300, 280, 290, 260, 310}
	for i, r := range rps {
		s := final
		s.Elapsed = time.Duration(i+1) * 350 * time.Millisecond
		s.IntervalRPS = r
		if i == len(rps)-1 {
			s.Elapsed = 4200 * time.Millisecond
		}
		h.send(t, s)
	}
}

func TestGoldenBench(t *testing.T) {
	final, rep := fixedBench(t, 1000)
	for _, sz := range sizes {
		for _, done := range []bool{false, true} {
			b := newBenchBackend()
			tm := startTea(t, newTestModel(b), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, "j", "j", "b")
			waitText(t, tm, "to start")
			press(tm, "enter")
			h := b.nextHandle(t)
			feedRunning(t, h, final)
			name := "bench_running"
			if done {
				h.finish(t, final, rep)
				waitText(t, tm, "finished")
				name = "bench_finished"
			} else {
				waitText(t, tm, "4.2s / 10s")
			}
			golden(t, sizeName(name, sz.w, sz.h), finalModel(t, tm).View())
		}
	}
}

// TestBenchScreen drives start → snapshots → done → back, then a cancel, and
// checks that a stale snapshot of the cancelled run is dropped.
func TestBenchScreen(t *testing.T) {
	final, rep := fixedBench(t, 200)
	b := newBenchBackend()
	m := newTestModel(b, func(o *Options) { o.Bench = benchview.Settings{Duration: 5 * time.Second, Concurrency: 4} })
	tm := startTea(t, m, 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "b")
	waitText(t, tm, "duration 5s · concurrency 4")
	press(tm, ">", "+") // concurrency 8, duration 10s
	waitText(t, tm, "duration 10s · concurrency 8")
	press(tm, "enter")
	h := b.nextHandle(t)
	h.send(t, final)
	waitText(t, tm, "x/esc", "cancel")
	h.finish(t, final, rep)
	waitText(t, tm, "finished", "stopped: count")
	b.mu.Lock()
	cfg := b.cfgs[0]
	b.mu.Unlock()
	if cfg.Concurrency != 8 || cfg.Duration != 10*time.Second {
		t.Errorf("bench started with concurrency %d, duration %s; want 8 and 10s as set on screen", cfg.Concurrency, cfg.Duration)
	}

	// run again, then cancel with x: the run's context ends
	press(tm, "r")
	h2 := b.nextHandle(t)
	h2.send(t, final)
	press(tm, "x")
	b.waitCancelled(t, 1, "x did not cancel the bench's context")
	crep := *rep
	crep.StopReason = bench.StopCancelled
	h2.finish(t, final, &crep)
	waitText(t, tm, "stopped: cancelled")

	// a third run cancelled with esc, then esc goes back to the profiles
	press(tm, "r")
	h3 := b.nextHandle(t)
	h3.send(t, final)
	press(tm, "esc")
	b.waitCancelled(t, 2, "esc did not cancel the running bench")
	crep3 := crep
	crep3.Elapsed = 3100 * time.Millisecond
	h3.finish(t, final, &crep3)
	waitText(t, tm, "stopped: cancelled after 3.1s")
	press(tm, "esc")
	fm := finalModel(t, tm)
	if fm.screen != scrProfiles {
		t.Fatalf("esc after the bench went to %s, want the profiles", fm.screen)
	}

	// a snapshot of an old run never reaches the screen of the current one
	before := fm.bench.View()
	stale := final
	stale.Requests = 987654
	fm.Update(benchSnapMsg{id: 1, snap: stale, h: h})
	if after := fm.bench.View(); after != before || strings.Contains(after, "987654") {
		t.Fatal("a stale snapshot changed the bench screen")
	}
}

func TestBenchRefusesInteractiveProfile(t *testing.T) {
	b := newBenchBackend()
	m := newTestModel(b)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(profilesMsg{rows: b.rows})
	name := ""
	for i, r := range b.rows {
		if strings.Contains(r.Name, "auth-code") || strings.Contains(r.Name, "device") {
			name = r.Name
			for range i {
				m.Update(keyMsg("j"))
			}
			break
		}
	}
	if name == "" {
		t.Skip("no interactive profile in the fixtures")
	}
	cmd := m.openBench(m.prof.Selected())
	m.Update(cmd())
	v := m.View()
	if m.screen != scrBench || !strings.Contains(v, "interactive") {
		t.Fatalf("bench of %s: want a refusal on the bench screen, got:\n%s", name, v)
	}
	if m.bench.Phase() != benchview.Refused {
		t.Fatalf("phase %v, want Refused", m.bench.Phase())
	}
	// enter does nothing on a refusal
	if c := m.bench.Update(keyMsg("enter")); c != nil {
		t.Fatal("enter on a refused bench produced a command")
	}
}

// benchDemoCC opens, in a console on a store seeded for a fresh mock IdP,
// the bench of the demo client credentials profile with settings s, and
// waits for ready on screen.
func benchDemoCC(t *testing.T, s benchview.Settings, ready string) *teatest.TestModel {
	t.Helper()
	srv := mockidptest.New(t)
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer()})
	tm := startTea(t, New(Options{Backend: &StoreBackend{Path: path}, Theme: testTheme(), Bench: s}), 120, 40)
	waitText(t, tm, "demo-client-credentials")
	press(tm, "/")
	tm.Type("demo-client-cred")
	press(tm, "enter", "b")
	waitText(t, tm, ready)
	return tm
}

// TestEndToEndBench benches the demo client credentials profile against the
// real mock IdP through the console: 200 requests, all successful.
func TestEndToEndBench(t *testing.T) {
	tm := benchDemoCC(t, benchview.Settings{Requests: 200, Concurrency: 4, Duration: 30 * time.Second}, "to start")
	press(tm, "enter")
	waitText(t, tm, "finished")
	fm := finalModel(t, tm)
	v := fm.View()
	for _, want := range []string{"requests 200", "ok 200", "failed 0", "success 100.0%", "stopped: count", "200 / 200 requests", "/token"} {
		if !strings.Contains(v, want) {
			t.Errorf("final frame lacks %q:\n%s", want, v)
		}
	}
}

// sloBench opens the bench of staging-gateway, sets the rate to 5/s with
// ]]] and the SLO through the o prompt, and checks both are on screen.
func sloBench(t *testing.T, b *benchBackend, w, h int) *teatest.TestModel {
	t.Helper()
	tm := startTea(t, newTestModel(b), w, h)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "b")
	waitText(t, tm, "to start")
	press(tm, "]", "]", "]")
	waitText(t, tm, "rate 5/s")
	press(tm, "o")
	waitText(t, tm, "SLO: ")
	tm.Type("p95<10ms,success>=99.9%,rps>=100")
	press(tm, "enter")
	waitText(t, tm, "gate     p95<10ms, success>=99.9%, rps>=100")
	return tm
}

// TestGoldenBenchSLO: the settings with a rate and an SLO, then the gate's
// verdict live (so far) and on the finished report; the fixture run
// (98% success, p95 about 17 ms, 238 requests/s) misses two of three.
func TestGoldenBenchSLO(t *testing.T) {
	final, rep := fixedBench(t, 1000)
	for _, sz := range sizes {
		for _, phase := range []string{"settings", "running", "finished"} {
			b := newBenchBackend()
			tm := sloBench(t, b, sz.w, sz.h)
			if phase != "settings" {
				press(tm, "enter")
				h := b.nextHandle(t)
				feedRunning(t, h, final)
				waitText(t, tm, "4.2s / 10s", "so far missed (2 of 3)")
				if phase == "finished" {
					h.finish(t, final, rep)
					waitText(t, tm, "finished", "✗ missed 2 of 3")
				}
			}
			fm := finalModel(t, tm)
			golden(t, sizeName("bench_slo_"+phase, sz.w, sz.h), fm.View())
			if phase == "finished" {
				got := fm.bench.Results()
				want := bench.Evaluate(mustSLO(t, "p95<10ms,success>=99.9%,rps>=100"), rep)
				if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[0].Pass || got[1].Pass || !got[2].Pass {
					t.Errorf("gate %+v, want bench.Evaluate's %+v", got, want)
				}
			}
		}
	}
}

func mustSLO(t *testing.T, s string) []bench.Objective {
	t.Helper()
	o, err := bench.ParseSLO(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestBenchRateReachesTheEngine: the rate set on screen is the run's
// configuration; a bad SLO is refused in the prompt with its reason.
func TestBenchRateReachesTheEngine(t *testing.T) {
	b := newBenchBackend()
	tm := sloBench(t, b, 120, 40)
	press(tm, "o")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU}) // clear the prompt
	tm.Type("p99<fast")
	press(tm, "enter")
	waitText(t, tm, `bad latency "fast"`)
	press(tm, "esc", "enter")
	h := b.nextHandle(t)
	final, rep := fixedBench(t, 100)
	h.finish(t, final, rep)
	waitText(t, tm, "finished")
	fm := finalModel(t, tm)
	b.mu.Lock()
	cfg := b.cfgs[0]
	b.mu.Unlock()
	if cfg.Rate != 5 {
		t.Errorf("the bench ran at rate %g, want 5 as set on screen", cfg.Rate)
	}
	if s := fm.bench.Settings().SLO; s != "p95<10ms,success>=99.9%,rps>=100" {
		t.Errorf("esc after a refused SLO left %q", s)
	}
}

// TestEndToEndBenchRateAndGate benches the demo client credentials profile
// against the mock IdP at a fixed rate with an SLO: the engine paces the
// requests (the last of 30 at 100/s leaves after 290 ms), measures from
// each request's slot, and the gate passes.
func TestEndToEndBenchRateAndGate(t *testing.T) {
	tm := benchDemoCC(t, benchview.Settings{Requests: 30, Concurrency: 2, Duration: 30 * time.Second, Rate: 100, SLO: "success>=99%,max<30s"}, "rate 100/s")
	press(tm, "enter")
	waitText(t, tm, "finished")
	fm := finalModel(t, tm)
	v := fm.View()
	for _, want := range []string{"requests 30", "ok 30", "scheduled send", "✓ met: all 2 objectives", "✓ pass  success>=99%"} {
		if !strings.Contains(v, want) {
			t.Errorf("final frame lacks %q:\n%s", want, v)
		}
	}
	rep := fm.bench.Report()
	if rep == nil || rep.Rate != 100 || rep.Latency.From != bench.FromIntended || rep.Elapsed < 290*time.Millisecond {
		t.Fatalf("report %+v: want rate 100, latency from the schedule, at least 290ms", rep)
	}
}
