package flows

import (
	"net/http"
	"sync"
	"time"
)

// Recorder is a flow in progress: it collects the flow's finished steps and
// exchanges into its Result and passes every report on to the caller's
// observer, one at a time (a grant reports from more than one goroutine: a
// callback listener, a key prefetch). It is itself a DeviceObserver that
// forwards to the caller's observer when that is one.
//
// It is also where a run's secrets are masked: it keeps the set of secret
// values the run knows (Secrets: what the flow registers, and every
// credential its recording client sends), masks them in each step and
// exchange before keeping or passing it on, and masks the whole result
// once more in Finish (a value learned late, a device code, is masked in
// earlier records too). Every front end prints, stores and exports the
// result it gets, so none of them masks on its own.
type Recorder struct {
	mu      sync.Mutex // guards res.Steps and res.Exchanges; serialises calls into obs
	res     *Result
	obs     Observer
	secrets Secrets
}

// NewRecorder starts the result of flow now; obs may be nil.
func NewRecorder(flow string, obs Observer) *Recorder {
	if obs == nil {
		obs = Discard
	}
	return &Recorder{res: &Result{Flow: flow, Started: time.Now()}, obs: obs}
}

// Result is the result being filled. Steps and Exchanges belong to the
// recorder until Finish; other fields are the flow's to set.
func (r *Recorder) Result() *Result { return r.res }

// Secrets is the run's set of known secret values; a flow adds what it
// was given (Secrets.AddRequest, AddKey) before it starts.
func (r *Recorder) Secrets() *Secrets { return &r.secrets }

// learnRequest is called by the recording client with each request it is
// about to send, before its exchange is reported.
func (r *Recorder) learnRequest(req *http.Request, body []byte) { r.secrets.LearnRequest(req, body) }

// Step reports ev and keeps it when it is finished.
func (r *Recorder) Step(ev StepEvent) {
	ev.Detail = r.secrets.Mask(ev.Detail)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Done {
		r.res.Steps = append(r.res.Steps, ev)
	}
	r.obs.Step(ev)
}

// Exchange keeps and reports one HTTP exchange.
func (r *Recorder) Exchange(ex Exchange) {
	ex = r.secrets.MaskExchange(ex)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Exchanges = append(r.res.Exchanges, ex)
	r.obs.Exchange(ex)
}

// Device hands the device authorization to the caller's observer when that
// wants it (DeviceObserver).
func (r *Recorder) Device(d DeviceAuthorization) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if do, ok := r.obs.(DeviceObserver); ok {
		do.Device(d)
	}
}

// Exchanges returns a copy of the exchanges recorded so far.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.res.Exchanges...)
}

// Run runs fn as the named step, reporting its start and its end with
// fn's detail (or its error) and duration.
func (r *Recorder) Run(name string, fn func() (string, error)) error {
	r.Step(StepEvent{Name: name})
	start := time.Now()
	detail, err := fn()
	ev := StepEvent{Name: name, Done: true, OK: err == nil, Detail: detail, Duration: time.Since(start)}
	if err != nil && detail == "" {
		ev.Detail = err.Error()
	}
	r.Step(ev)
	return err
}

// Note reports a finished informational step (no work of its own).
func (r *Recorder) Note(name, detail string, ok bool) {
	r.Step(StepEvent{Name: name, Done: true, OK: ok, Detail: detail})
}

// Finish records err (nil: the flow completed) and the duration and returns
// the result. Nothing may report after it.
func (r *Recorder) Finish(err error) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Duration = time.Since(r.res.Started)
	if err != nil {
		r.res.Fail(err)
	} else {
		r.res.OK = true
	}
	r.secrets.MaskResult(r.res)
	return r.res
}
