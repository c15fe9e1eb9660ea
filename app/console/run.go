package console

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
)

// Messages of a run carry its id (gh-dash style), so a message of a
// cancelled or superseded run never lands on the screen of the current one.
type (
	runStepMsg struct {
		id int
		ev flows.StepEvent
	}
	runExchangeMsg struct {
		id int
		x  flows.Exchange
	}
	runAuthURLMsg struct {
		id  int
		url string
	}
	runDeviceMsg struct {
		id int
		d  flows.DeviceAuthorization
	}
	runDoneMsg struct {
		id  int
		res *flows.Result
	}
	// runMsg wraps every run message with the channel to read the next one from.
	runMsg struct {
		ch    <-chan tea.Msg
		inner tea.Msg
	}
)

// runEvents turns observer calls on the flow's goroutine into messages. A
// send never outlives the run: once ctx ends (cancel, quit) sends are dropped.
type runEvents struct {
	id  int
	ctx context.Context
	ch  chan<- tea.Msg
}

func (e runEvents) send(m tea.Msg) {
	select {
	case e.ch <- m:
	case <-e.ctx.Done():
	}
}

func (e runEvents) Step(ev flows.StepEvent)            { e.send(runStepMsg{e.id, ev}) }
func (e runEvents) Exchange(x flows.Exchange)          { e.send(runExchangeMsg{e.id, x}) }
func (e runEvents) AuthURL(u string)                   { e.send(runAuthURLMsg{e.id, u}) }
func (e runEvents) Device(d flows.DeviceAuthorization) { e.send(runDeviceMsg{e.id, d}) }

// startRun runs req on its own goroutine and returns the command that
// delivers its first message. A panic inside the flow is recovered and
// reported as a failed run, so the console (and the terminal) survive it.
func startRun(life, ctx context.Context, b Backend, id int, req RunRequest) tea.Cmd {
	ch := make(chan tea.Msg, 64)
	ev := runEvents{id: id, ctx: ctx, ch: ch}
	go func() {
		defer close(ch)
		res := safeRun(ctx, b, req, ev)
		// the final message is delivered even after a cancel, so the screen
		// shows the cancelled result; only quitting the console drops it.
		select {
		case ch <- runDoneMsg{id: id, res: res}:
		case <-life.Done():
		}
	}()
	return waitRun(ch)
}

func safeRun(ctx context.Context, b Backend, req RunRequest, ev Events) (res *flows.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = &flows.Result{Flow: req.Flow, OK: false,
				Err: flows.Errorf(flows.ErrProtocol, "internal error: the flow panicked: %v (please report this)", r)}
		}
	}()
	res = b.Run(ctx, req, ev)
	if res == nil {
		res = &flows.Result{Flow: req.Flow, Err: flows.Errorf(flows.ErrProtocol, "the flow returned no result")}
	}
	return res
}

func waitRun(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return runMsg{ch: ch, inner: m}
	}
}

func runLabel(req RunRequest, kind string) string {
	if req.Flow != "" {
		return req.Flow
	}
	if kind != "" {
		return kind
	}
	return "run"
}
