// Package bench is the bench screen: a profile's non-interactive flow
// repeated under load (flows/bench), with the settings before it starts
// (duration, concurrency, a fixed rate, SLO objectives), a progress bar,
// live counters and percentiles, the SLO gate's verdict, a sparkline of
// requests per second, a live latency histogram and the failures while it
// runs, then the final report. It does no I/O: the root model runs the
// bench and feeds it.
package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	fbench "authlab/flows/bench"
	"authlab/views/ui"
)

// Defaults of the console's bench: bounded, and gentle on a shared machine.
const (
	DefaultDuration    = fbench.DefaultDuration
	DefaultConcurrency = 8
)

// Settings bound a bench.
type Settings struct {
	Duration    time.Duration // 0: DefaultDuration
	Concurrency int           // 0: DefaultConcurrency
	Requests    int           // stop after this many (0: only the duration)
	// Rate is requests per second over all workers, on a fixed schedule
	// with latency counted from each request's slot (authlab bench
	// --rate); 0 is closed loop: each worker sends when its answer is in.
	Rate float64
	// SLO is the gate, in `authlab bench --slo` syntax
	// ("p95<50ms,success>=99.9%"); "" for none.
	SLO string
}

// Normalized fills the defaults.
func (s Settings) Normalized() Settings {
	if s.Duration <= 0 {
		s.Duration = DefaultDuration
	}
	if s.Concurrency <= 0 {
		s.Concurrency = DefaultConcurrency
	}
	if s.Requests < 0 {
		s.Requests = 0
	}
	if s.Rate < 0 {
		s.Rate = 0
	}
	s.SLO = strings.TrimSpace(s.SLO)
	return s
}

// Config is the flows/bench configuration of these settings.
func (s Settings) Config() fbench.Config {
	s = s.Normalized()
	return fbench.Config{Requests: s.Requests, Duration: s.Duration, Concurrency: s.Concurrency, Rate: s.Rate}
}

// Objectives parses the SLO with flows/bench (none when it is empty).
func (s Settings) Objectives() ([]fbench.Objective, error) {
	if strings.TrimSpace(s.SLO) == "" {
		return nil, nil
	}
	return fbench.ParseSLO(s.SLO)
}

func (s Settings) String() string {
	s = s.Normalized()
	out := fmt.Sprintf("duration %s · concurrency %d · %s", dur(s.Duration), s.Concurrency, rateText(s.Rate))
	if s.Requests > 0 {
		out += fmt.Sprintf(" · stop after %d requests", s.Requests)
	}
	return out
}

// Action is what the user asked for; the root model performs it.
type Action string

const (
	ActStart  Action = "start"
	ActCancel Action = "cancel"
)

// ActionMsg asks the root model to act on the bench.
type ActionMsg struct {
	Action Action
	RunID  int
}

// KeyMap is the bench screen's keys.
type KeyMap struct {
	Start, Rerun, Cancel        key.Binding
	Longer, Shorter, More, Less key.Binding
	Faster, Slower, Objectives  key.Binding
	Apply, Discard              key.Binding // in the SLO prompt
}

// DefaultKeyMap is the bench screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Start:   key.NewBinding(key.WithKeys("enter", "s"), key.WithHelp("enter", "start")),
		Rerun:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run again")),
		Cancel:  key.NewBinding(key.WithKeys("x"), key.WithHelp("x/esc", "cancel")),
		Longer:  key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "duration")),
		Shorter: key.NewBinding(key.WithKeys("-", "_")),
		More:    key.NewBinding(key.WithKeys(">", "."), key.WithHelp(">/<", "concurrency")),
		Less:    key.NewBinding(key.WithKeys("<", ",")),
		Faster:  key.NewBinding(key.WithKeys("]"), key.WithHelp("]/[", "rate")),
		Slower:  key.NewBinding(key.WithKeys("[")),
		// o: the objectives; also on a finished run, judged again
		Objectives: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "SLO")),
		Apply:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Discard:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "keep the old")),
	}
}

// Phase is where the bench is.
type Phase int

const (
	Idle    Phase = iota // settings shown, not started
	Running              // snapshots arriving
	Done                 // final report shown
	Refused              // the profile cannot be benched (interactive, broken)
)

// Model is the bench screen.
type Model struct {
	ctx      *ui.Context
	keys     KeyMap
	phase    Phase
	id       int
	profile  string
	flow     string
	target   string
	settings Settings
	snap     *fbench.Snapshot
	spark    []float64
	report   *fbench.Report
	err      string
	note     string
	w, h     int
	gate     gate
}

// New builds an empty bench screen.
func New(ctx *ui.Context) *Model {
	return &Model{ctx: ctx, keys: DefaultKeyMap(), gate: newGate()}
}

// ID is the bench run on screen; messages of other runs are stale.
func (m *Model) ID() int { return m.id }

// Phase reports where the bench is.
func (m *Model) Phase() Phase { return m.phase }

// Running reports whether a bench is going.
func (m *Model) Running() bool { return m.phase == Running }

// Profile is the profile on screen.
func (m *Model) Profile() string { return m.profile }

// Report is the finished run's report, or nil.
func (m *Model) Report() *fbench.Report { return m.report }

// Results are the SLO gate's verdicts: so far while running, on the
// report once it is in.
func (m *Model) Results() []fbench.SLOResult { return m.gate.results }

// Settings are the bounds the next start uses.
func (m *Model) Settings() Settings { return m.settings.Normalized() }

// Open shows a profile's bench, not started, with its settings. An SLO
// that does not parse is dropped, and the note says why.
func (m *Model) Open(profile, flow, target string, s Settings) {
	*m = Model{ctx: m.ctx, keys: m.keys, w: m.w, h: m.h, id: m.id, gate: newGate(),
		profile: profile, flow: flow, target: target, settings: s.Normalized()}
	objs, err := m.settings.Objectives()
	if err != nil {
		m.settings.SLO = ""
		m.note = "SLO ignored: " + err.Error()
	}
	m.gate.objs = objs
}

// Refuse shows why a profile cannot be benched.
func (m *Model) Refuse(profile, why string) {
	*m = Model{ctx: m.ctx, keys: m.keys, w: m.w, h: m.h, id: m.id, gate: newGate(),
		profile: profile, phase: Refused, err: why}
}

// Begin starts showing run id (snapshots follow).
func (m *Model) Begin(id int) {
	m.id, m.phase = id, Running
	m.snap, m.spark, m.report, m.err, m.note = nil, nil, nil, "", ""
	m.gate.results, m.gate.final = nil, false
}

// Started records what the run measures, once its setup is done.
func (m *Model) Started(flow, target string) {
	if flow != "" {
		m.flow = flow
	}
	if target != "" {
		m.target = target
	}
}

// maxSpark bounds the sparkline history (a long run keeps the latest).
const maxSpark = 512

// Snapshot shows a progress snapshot, and the gate's verdict so far.
func (m *Model) Snapshot(s fbench.Snapshot) {
	m.snap = &s
	if !m.gate.final {
		m.gate.results = liveResults(m.gate.objs, s)
	}
	if !s.Done {
		m.spark = append(m.spark, s.IntervalRPS)
		if len(m.spark) > maxSpark {
			m.spark = m.spark[len(m.spark)-maxSpark:]
		}
	}
}

// Finish shows the final report (nil with err when the run could not start).
func (m *Model) Finish(r *fbench.Report, err error) {
	m.phase = Done
	m.report = r
	m.note = ""
	if err != nil {
		m.err = err.Error()
	}
	m.gate.judge(r)
}

// SetNote shows a one-line note ("cancelling…").
func (m *Model) SetNote(s string) { m.note = s }

// SetSize is part of ui.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.gate.input.Width = max(10, w-len(m.gate.input.Prompt)-2)
}

// the values +/- and >/< step through
func durSteps() []time.Duration {
	return []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute}
}

func conSteps() []int { return []int{1, 2, 4, 8, 16, 32, 64} }

// rateSteps are requests per second; 0 is closed loop.
func rateSteps() []float64 { return []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000} }

// step moves v to the next (dir>0) or previous listed value.
func step[T int | time.Duration | float64](steps []T, v T, dir int) T {
	if dir > 0 {
		for _, s := range steps {
			if s > v {
				return s
			}
		}
		return steps[len(steps)-1]
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < v {
			return steps[i]
		}
	}
	return steps[0]
}

// Update handles the screen's keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if m.gate.prompting {
		return m.gate.update(msg, m.keys, m.report, &m.settings)
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	act := func(a Action) tea.Cmd {
		id := m.id
		return func() tea.Msg { return ActionMsg{Action: a, RunID: id} }
	}
	switch m.phase {
	case Idle:
		switch {
		case key.Matches(k, m.keys.Start):
			return act(ActStart)
		case key.Matches(k, m.keys.Longer):
			m.settings.Duration = step(durSteps(), m.settings.Duration, 1)
		case key.Matches(k, m.keys.Shorter):
			m.settings.Duration = step(durSteps(), m.settings.Duration, -1)
		case key.Matches(k, m.keys.More):
			m.settings.Concurrency = step(conSteps(), m.settings.Concurrency, 1)
		case key.Matches(k, m.keys.Less):
			m.settings.Concurrency = step(conSteps(), m.settings.Concurrency, -1)
		case key.Matches(k, m.keys.Faster):
			m.settings.Rate = step(rateSteps(), m.settings.Rate, 1)
		case key.Matches(k, m.keys.Slower):
			m.settings.Rate = step(rateSteps(), m.settings.Rate, -1)
		case key.Matches(k, m.keys.Objectives):
			return m.gate.open(m.settings.SLO)
		}
	case Running:
		if key.Matches(k, m.keys.Cancel) {
			return act(ActCancel)
		}
	case Done:
		switch {
		case key.Matches(k, m.keys.Rerun):
			return act(ActStart)
		case key.Matches(k, m.keys.Objectives):
			return m.gate.open(m.settings.SLO)
		}
	}
	return nil
}

// Typing is part of ui.Typer: the SLO prompt has focus.
func (m *Model) Typing() bool { return m.gate.prompting }

// Back is part of ui.Backer: esc cancels a running bench (the root model
// owns its context) before it leaves the screen.
func (m *Model) Back() (tea.Cmd, bool) {
	if m.phase != Running {
		return nil, false
	}
	id := m.id
	return func() tea.Msg { return ActionMsg{Action: ActCancel, RunID: id} }, true
}

// ShortHelp is part of ui.Component.
func (m *Model) ShortHelp() []key.Binding {
	if m.gate.prompting {
		return []key.Binding{m.keys.Apply, m.keys.Discard}
	}
	switch m.phase {
	case Idle:
		// >/< is in the text above and in the full help: the line fits 80
		return []key.Binding{m.keys.Start, m.keys.Longer, m.keys.Faster, m.keys.Objectives}
	case Running:
		return []key.Binding{m.keys.Cancel}
	case Done:
		return []key.Binding{m.keys.Rerun, m.keys.Objectives}
	}
	return nil
}

// FullHelp is part of ui.Component.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Start, m.keys.Longer, m.keys.More, m.keys.Faster, m.keys.Objectives},
		{m.keys.Cancel, m.keys.Rerun},
	}
}

// ---- view ----

// View draws the screen; it only reads the model.
func (m *Model) View() string {
	t := m.ctx.Theme
	w := max(20, m.w)
	var out []string
	add := func(s string) { out = append(out, ui.Truncate(s, w)) }
	title := t.Title.Render("Bench "+m.profile) + t.Subtle.Render(" · ") + m.flow
	switch m.phase {
	case Running:
		title += t.Subtle.Render(" · running")
	case Done:
		title += t.Subtle.Render(" · finished")
	}
	add(title)
	if m.phase == Refused {
		add("")
		add(t.Fail.Render("✗ ") + m.err)
		add(t.Subtle.Render("bench repeats flows that need no person: client credentials, token exchange, password, jwt-bearer, mTLS, API key."))
		return strings.Join(out, "\n")
	}
	add(t.Subtle.Render("target   ") + m.target)
	add(t.Subtle.Render("settings ") + m.settings.String())
	if m.phase == Idle || m.gate.prompting {
		add(t.Subtle.Render("gate     ") + m.gate.spec())
	}
	// the CLI's warning before a load on a host that is not this machine
	if warn := fbench.RateWarning(m.target, m.settings.Normalized().Rate); warn != "" && m.phase != Done {
		add(t.Warn.Render(warn))
	}
	if m.gate.prompting {
		out = append(out, m.gate.promptView(t, w)...)
		return strings.Join(out, "\n")
	}
	if m.phase == Idle {
		if m.note != "" {
			add(t.Warn.Render(m.note))
		}
		add("")
		add("Press " + t.Key.Render("enter") + " to start; " + t.Key.Render("+/-") + " duration, " + t.Key.Render(">/<") + " concurrency, " +
			t.Key.Render("]/[") + " rate, " + t.Key.Render("o") + " the SLO.")
		add(t.Subtle.Render("The bench stops at the first bound reached; x or esc cancels it while it runs."))
		add(t.Subtle.Render("Rate 0 is closed loop: each worker sends once its last answer is in. A rate"))
		add(t.Subtle.Render("sends on a fixed schedule; latency counts from each slot, so stalls show."))
		return strings.Join(out, "\n")
	}
	add(m.progress(w))
	if m.note != "" {
		add(t.Warn.Render(m.note))
	}
	if m.err != "" {
		add(t.Error.Render("✗ " + m.err))
	}
	if m.phase == Done && m.report != nil {
		out = append(out, m.reportView(w, m.h-len(out))...)
	} else if m.snap != nil {
		out = append(out, m.liveView(w, m.h-len(out))...)
	} else if m.phase == Running {
		add(t.Subtle.Render("preparing (discovery, first connection)…"))
		out = append(out, m.gate.view(t, w)...)
	}
	return strings.Join(out, "\n")
}

// progress is the bar of the run's bound: the duration, or the request
// count when that bound is nearer.
func (m *Model) progress(w int) string {
	t := m.ctx.Theme
	s := m.settings.Normalized()
	var el time.Duration
	var n int64
	if m.snap != nil {
		el, n = m.snap.Elapsed, m.snap.Requests
	}
	if m.phase == Done && m.report != nil {
		el, n = m.report.Elapsed, m.report.Requests
	}
	frac := float64(el) / float64(s.Duration)
	label := dur(el) + " / " + dur(s.Duration)
	if s.Requests > 0 {
		if f := float64(n) / float64(s.Requests); f > frac {
			frac = f
			label = fmt.Sprintf("%d / %d requests", n, s.Requests)
		}
	}
	if m.phase == Done && m.err == "" && m.report != nil && m.report.StopReason != fbench.StopCancelled {
		frac = 1
	}
	frac = min(max(frac, 0), 1)
	bw := max(10, min(50, w-len(label)-8))
	full := int(frac*float64(bw) + 0.5)
	bar := t.Accent.Render(strings.Repeat("█", full)) + t.Subtle.Render(strings.Repeat("░", bw-full))
	return fmt.Sprintf("%s %3d%%  %s", bar, int(frac*100+0.5), label)
}

// dur renders a bound or an elapsed time in tenths of a second ("4.2s", "10s").
func dur(d time.Duration) string {
	if d < 100*time.Millisecond {
		return "0s"
	}
	return ui.Duration(d.Round(100 * time.Millisecond))
}

func pct(ok, n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(ok)/float64(n))
}

func ms(d time.Duration) string { return fbench.FormatDuration(d) }

func (m *Model) counters(n, ok, failed int64, rps float64) string {
	t := m.ctx.Theme
	f := t.Pass
	if failed > 0 {
		f = t.Fail
	}
	return fmt.Sprintf("%s %d   %s %s   %s %s   %s %.1f/s   %s %s",
		t.Subtle.Render("requests"), n, t.Subtle.Render("ok"), t.Pass.Render(fmt.Sprint(ok)),
		t.Subtle.Render("failed"), f.Render(fmt.Sprint(failed)), t.Subtle.Render("rps"), rps,
		t.Subtle.Render("success"), pct(ok, n))
}

func (m *Model) liveView(w, room int) []string {
	t := m.ctx.Theme
	s := m.snap
	out := []string{
		"",
		m.counters(s.Requests, s.OK, s.Failed, s.Throughput),
		fmt.Sprintf("%s %s   %s %s   %s %s", t.Subtle.Render("p50"), ms(s.P50), t.Subtle.Render("p95"), ms(s.P95), t.Subtle.Render("p99"), ms(s.P99)),
		t.Subtle.Render("rps      ") + t.Accent.Render(Sparkline(m.spark, w-18)) + t.Subtle.Render(fmt.Sprintf(" %.0f/s", s.IntervalRPS)),
	}
	out = append(out, m.gate.view(t, w)...)
	fails := failureLines(t, s.Failures, w)
	histRoom := room - len(out) - 2 - len(fails)
	if len(fails) > 0 {
		histRoom--
	}
	out = append(out, "", t.Title.Render("Latency"))
	out = append(out, histogram(s.Latency.Bins(min(12, max(1, histRoom))), w, histRoom)...)
	if len(fails) > 0 {
		out = append(out, "")
		out = append(out, fails...)
	}
	return cut(out, room, w)
}

func (m *Model) reportView(w, room int) []string {
	t := m.ctx.Theme
	r := m.report
	l := r.Latency
	out := []string{
		"",
		m.counters(r.Requests, r.OK, r.Failed, r.Throughput),
		fmt.Sprintf("%s %s  %s %s  %s %s  %s %s  %s %s  %s %s",
			t.Subtle.Render("min"), ms(l.Min), t.Subtle.Render("p50"), ms(l.P50), t.Subtle.Render("p90"), ms(l.P90),
			t.Subtle.Render("p95"), ms(l.P95), t.Subtle.Render("p99"), ms(l.P99), t.Subtle.Render("max"), ms(l.Max)),
	}
	stop := fmt.Sprintf("stopped: %s after %s", r.StopReason, dur(r.Elapsed))
	if r.Interrupted > 0 {
		stop += fmt.Sprintf(" (%d in flight not counted)", r.Interrupted)
	}
	out = append(out, t.Subtle.Render(stop))
	if len(m.spark) > 0 {
		out = append(out, t.Subtle.Render("rps      ")+t.Accent.Render(Sparkline(m.spark, w-18)))
	}
	out = append(out, m.gate.view(t, w)...)
	fails := failureLines(t, r.Failures, w)
	histRoom := room - len(out) - 2 - len(fails)
	if len(fails) > 0 {
		histRoom--
	}
	title := "Latency"
	if l.From == fbench.FromIntended {
		title = "Latency from each request's scheduled send (--rate)"
	}
	out = append(out, "", t.Title.Render(title))
	out = append(out, histogram(r.Bins(min(12, max(1, histRoom))), w, histRoom)...)
	if len(fails) > 0 {
		out = append(out, "")
		out = append(out, fails...)
	}
	return cut(out, room, w)
}

func histogram(bins []fbench.Bin, w, room int) []string {
	if len(bins) == 0 {
		return []string{"  (no completed request yet)"}
	}
	// RenderBars' width is the bar's: leave room for the label and the count
	rows := strings.Split(strings.TrimRight(fbench.RenderBars(bins, max(10, min(w-24, 72))), "\n"), "\n")
	if room < 1 {
		room = 1
	}
	if len(rows) > room {
		rows = rows[:room]
	}
	return rows
}

// failureLines groups failures by status / OAuth error, largest first as
// flows/bench orders them; at most 4 groups, then a count of the rest.
func failureLines(t *ui.Theme, gs []fbench.FailureGroup, w int) []string {
	if len(gs) == 0 {
		return nil
	}
	out := []string{t.Title.Render("Failures")}
	for i, g := range gs {
		if i == 4 {
			out = append(out, t.Subtle.Render(fmt.Sprintf("  … %d more groups", len(gs)-4)))
			break
		}
		out = append(out, ui.Truncate(fmt.Sprintf("  %s %6d  %s", t.Fail.Render(ui.Pad(g.Label(), max(34, w/3))), g.Count, t.Subtle.Render(g.Example)), w))
	}
	return out
}

func cut(lines []string, room, w int) []string {
	if room < 0 {
		room = 0
	}
	if len(lines) > room {
		lines = lines[:room]
	}
	for i := range lines {
		lines[i] = ui.Truncate(lines[i], w)
	}
	return lines
}

const sparkChars = "▁▂▃▄▅▆▇█"

// Sparkline draws the latest values (at most width) scaled to their maximum.
func Sparkline(vals []float64, width int) string {
	if width <= 0 || len(vals) == 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	hi := 0.0
	for _, v := range vals {
		hi = max(hi, v)
	}
	sparkRunes := []rune(sparkChars)
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if hi > 0 && v > 0 {
			i = int(v / hi * float64(len(sparkRunes)-1))
			i = min(max(i, 0), len(sparkRunes)-1)
		}
		b.WriteRune(sparkRunes[i])
	}
	return b.String()
}
