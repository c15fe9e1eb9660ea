package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/flows/bench"
	"authlab/store"
	benchview "authlab/views/bench"
)

// Bench messages carry the bench run's id, so a snapshot of a cancelled run
// never lands on the screen of the next one (as run messages do).
type (
	benchTargetMsg struct {
		profile, flow, target string
		err                   error
	}
	benchStartedMsg struct {
		id  int
		run BenchRun
		err error
	}
	benchSnapMsg struct {
		id   int
		snap bench.Snapshot
		h    BenchHandle
	}
	benchDoneMsg struct {
		id   int
		snap bench.Snapshot
		rep  *bench.Report
		err  error
	}
)

// benchable: bench repeats only flows that need no one at a browser.
func benchable(k store.Kind) bool {
	switch k {
	case store.KindClientCredentials, store.KindTokenExchange, store.KindMTLS, store.KindAPIKey, store.KindPassword, store.KindJWTBearer:
		return true
	}
	return false
}

// openBench shows the bench screen of a profile, not started.
func (m *Model) openBench(name string) tea.Cmd {
	bb, ok := m.opts.Backend.(Bencher)
	if !ok || name == "" {
		return nil
	}
	return func() tea.Msg {
		flow, target, err := bb.BenchTarget(name)
		return benchTargetMsg{profile: name, flow: flow, target: target, err: err}
	}
}

func (m *Model) handleBench(msg tea.Msg) tea.Cmd {
	switch x := msg.(type) {
	case benchTargetMsg:
		if m.benchCancel != nil { // a bench still running is replaced
			m.benchCancel()
			m.benchCancel = nil
		}
		if x.err != nil {
			m.bench.Refuse(x.profile, x.err.Error())
		} else {
			m.bench.Open(x.profile, x.flow, x.target, m.opts.Bench)
		}
		m.show(scrBench)
	case benchStartedMsg:
		if x.id != m.bench.ID() {
			return nil
		}
		if x.err != nil {
			m.benchCancel = nil
			m.bench.Finish(nil, x.err)
			return nil
		}
		m.bench.Started(x.run.Flow, x.run.Target)
		return waitBench(x.id, x.run.Handle)
	case benchSnapMsg:
		if x.id != m.bench.ID() {
			return nil // stale: its run was cancelled, nobody reads on
		}
		m.bench.Snapshot(x.snap)
		return waitBench(x.id, x.h)
	case benchDoneMsg:
		if x.id != m.bench.ID() {
			return nil
		}
		m.benchCancel = nil
		m.bench.Snapshot(x.snap)
		m.bench.Finish(x.rep, x.err)
	case benchview.ActionMsg:
		if x.RunID != m.bench.ID() {
			return nil
		}
		switch x.Action {
		case benchview.ActStart:
			return m.startBench()
		case benchview.ActCancel:
			m.cancelBench()
		}
	}
	return nil
}

func (m *Model) cancelBench() {
	if m.benchCancel != nil {
		m.benchCancel()
		m.benchCancel = nil
		m.bench.SetNote("cancelling…")
	}
}

// startBench starts a bench of the screen's profile with its settings.
func (m *Model) startBench() tea.Cmd {
	bb, ok := m.opts.Backend.(Bencher)
	if !ok || m.bench.Profile() == "" {
		return nil
	}
	if m.benchCancel != nil {
		m.benchCancel()
	}
	m.benchSeq++
	id := m.benchSeq
	ctx, cancel := context.WithCancel(m.life)
	m.benchCancel = cancel
	m.bench.Begin(id)
	name, cfg := m.bench.Profile(), m.bench.Settings().Config()
	return func() tea.Msg {
		run, err := bb.StartBench(ctx, name, cfg)
		if err == nil && run.Handle == nil {
			err = errors.New("the bench did not start")
		}
		return benchStartedMsg{id: id, run: run, err: err}
	}
}

// waitBench delivers the next snapshot. The handle keeps only the latest,
// so a slow frame skips snapshots instead of slowing the run.
func waitBench(id int, h BenchHandle) tea.Cmd {
	return func() tea.Msg {
		select {
		case s := <-h.Snapshots():
			if !s.Done {
				return benchSnapMsg{id: id, snap: s, h: h}
			}
			rep, err := h.Report()
			return benchDoneMsg{id: id, snap: s, rep: rep, err: err}
		case <-h.Done():
			// the final snapshot is sent before Done closes; take it if the
			// select chose Done first
			var s bench.Snapshot
			select {
			case s = <-h.Snapshots():
			default:
			}
			s.Done = true
			rep, err := h.Report()
			return benchDoneMsg{id: id, snap: s, rep: rep, err: err}
		}
	}
}

// ---- StoreBackend ----

// benchProfile loads a profile and its request, refusing interactive kinds.
func (b *StoreBackend) benchProfile(name string) (store.Profile, flows.Request, error) {
	p, err := b.trustedProfile(name)
	if err != nil {
		return p, flows.Request{}, err
	}
	if !benchable(p.Kind) {
		return p, flows.Request{}, fmt.Errorf("%s is a %s profile: bench repeats flows that need no person (client credentials, token exchange, password, jwt-bearer, mTLS, API key)", name, p.Kind)
	}
	flow := ""
	if p.Kind == store.KindAPIKey {
		// the setup's settings only (TLS files), as `authlab bench` maps it
		flow = flows.FlowClientCredentials
	}
	req, err := b.flowRequest(p, flow)
	return p, req, err
}

// BenchTarget says what a bench of the profile repeats and where (before
// discovery: the token URL, or the issuer when that is all there is).
func (b *StoreBackend) BenchTarget(name string) (string, string, error) {
	p, req, err := b.benchProfile(name)
	if err != nil {
		return "", "", err
	}
	if p.Kind == store.KindAPIKey {
		return apikey.Flow, maskURL(p.TargetURL), nil
	}
	target := req.Endpoints.Token
	if target == "" && req.Issuer != "" {
		target = strings.TrimRight(req.Issuer, "/") + " (token endpoint from discovery)"
	}
	return flowLabel(req), maskURL(target), nil
}

func flowLabel(req flows.Request) string {
	if req.AuthMethod == flows.AuthTLSClient {
		return req.Flow + " (mTLS)"
	}
	return req.Flow
}

// StartBench prepares the profile's operation and starts the run; the
// setup's connections close when the run ends.
func (b *StoreBackend) StartBench(ctx context.Context, name string, cfg bench.Config) (BenchRun, error) {
	p, req, err := b.benchProfile(name)
	if err != nil {
		return BenchRun{}, err
	}
	s, err := bench.NewSetup(ctx, req, max(1, cfg.Concurrency))
	if err != nil {
		return BenchRun{}, err
	}
	run := BenchRun{Flow: flowLabel(req), Target: maskURL(s.Endpoints.Token)}
	var op bench.Op
	if p.Kind == store.KindAPIKey {
		// the request `authlab bench` repeats for this profile (bench.APIKeyOp)
		var ak apikey.Request
		if ak, err = apiKeyRequest(p); err == nil {
			op, err = s.APIKeyOp(ak)
		}
		run.Flow, run.Target = apikey.Flow, maskURL(ak.URL)
	} else {
		op, err = s.FlowOp(req.Flow)
	}
	if err != nil {
		s.Close()
		return BenchRun{}, err
	}
	run.Handle = bench.Start(ctx, cfg, op)
	go func() {
		<-run.Handle.Done()
		s.Close()
	}()
	return run, nil
}

// apiKeyRequest is an api-key profile's request (what a console run and
// a bench of it send); the key is resolved here.
func apiKeyRequest(p store.Profile) (apikey.Request, error) {
	sec, ok := p.Secrets[store.APIKey]
	if !ok || sec.IsZero() {
		return apikey.Request{}, fmt.Errorf("profile %s has no API key", p.Name)
	}
	key, err := sec.Resolve()
	if err != nil {
		return apikey.Request{}, fmt.Errorf("profile %s: API key: %v", p.Name, err)
	}
	return apikey.Request{URL: p.TargetURL, Key: key, Header: p.APIKeyHeader, Query: p.APIKeyQuery}, nil
}

// maskURL hides credentials a URL may carry before it is on screen.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	return flows.MaskURL(u)
}

// canBench: the backend can bench (the key and palette entry show only then).
func (m *Model) canBench() bool {
	_, ok := m.opts.Backend.(Bencher)
	return ok
}
