package console

import (
	"net/url"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/mockidp"
	"authlab/views/idp"
)

// IdP is the running mock IdP as the console uses it; *mockidp.Server
// satisfies it.
type IdP interface {
	URL() string
	Issuer() string
	Clients() []mockidp.Client
	Faults() mockidp.Faults
	SetFaults(mockidp.Faults) error
	ResetFaults()
	RotateKey(grace time.Duration) error
	Events(buffer int) (<-chan mockidp.Event, func())
}

// deviceApprover is the mock IdP's shortcut for the /device page, so a demo
// can approve a device code from the console.
type deviceApprover interface {
	ApproveDevice(userCode, username string, approve bool) error
}

type (
	idpEventMsg struct {
		gen int
		ch  <-chan mockidp.Event
		ev  mockidp.Event
	}
	idpFaultsMsg struct {
		seq int
		f   mockidp.Faults
		err error
		msg string
	}
)

// openIdP shows the mock IdP panel, or says there is no IdP to show.
func (m *Model) openIdP() tea.Cmd {
	if m.opts.IdP == nil {
		m.note("no mock IdP in this session: `authlab demo` embeds one", true)
		return nil
	}
	m.idp.SetInfo(idpInfo(m.opts.IdP))
	m.show(scrIdP)
	return nil
}

func (m *Model) idpReset() idp.ActionMsg  { return idp.ActionMsg{Seq: m.idp.Next(), Reset: true} }
func (m *Model) idpRotate() idp.ActionMsg { return idp.ActionMsg{Seq: m.idp.Next(), Rotate: true} }

// subscribeIdP reads the IdP's event stream for the live log, one event
// per command, for as long as the console runs.
func (m *Model) subscribeIdP() tea.Cmd {
	ch, cancel := m.opts.IdP.Events(256)
	m.idpSub = cancel
	m.idpGen++
	return waitIdP(m.idpGen, ch)
}

func waitIdP(gen int, ch <-chan mockidp.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return nil
		}
		return idpEventMsg{gen: gen, ch: ch, ev: ev}
	}
}

func (m *Model) handleIdP(msg tea.Msg) tea.Cmd {
	switch x := msg.(type) {
	case idpEventMsg:
		if x.gen != m.idpGen {
			return nil
		}
		m.idp.AddEvent(viewEvent(x.ev))
		return waitIdP(x.gen, x.ch)
	case idpFaultsMsg:
		if x.err != nil {
			m.note("IdP: "+x.err.Error(), true)
			return nil
		}
		// an answer to an older change would undo newer key presses on screen
		if x.seq == m.idp.Latest() {
			m.idp.SetFaults(viewFaults(x.f))
		}
		m.note(x.msg, false)
	}
	return nil
}

func viewEvent(e mockidp.Event) idp.Event {
	path := e.Exchange.URL
	if u, err := url.Parse(path); err == nil && u.Path != "" {
		path = u.Path
	}
	return idp.Event{Time: e.Time, Method: e.Exchange.Method, Path: path, Endpoint: e.Endpoint,
		Status: e.Exchange.Status, Client: e.ClientID, Error: e.Error, Fault: e.Fault, Dropped: e.Dropped}
}

func idpInfo(s IdP) idp.Info {
	var cl []string
	dpop := false
	for _, c := range s.Clients() {
		cl = append(cl, c.ID+" ("+strings.Join(c.GrantTypes, ",")+")")
		dpop = dpop || c.DPoPBound
	}
	return idp.Info{URL: s.URL(), Issuer: s.Issuer(), Clients: cl, Faults: viewFaults(s.Faults()), DPoP: dpop}
}

func viewFaults(f mockidp.Faults) idp.Faults {
	v := idp.Faults{Skew: f.Skew.D(), Latency: f.Latency["*"].D(), JWKS: f.JWKS,
		UnknownKey: f.UnknownKey, AlgNone: f.AlgNone, Lifetime: f.Lifetime.D(), Expired: f.Expired,
		DPoPNonceStorm: f.DPoPNonceStorm, DPoPBearerOnly: f.DPoPBearerOnly}
	for ep, ef := range f.Errors {
		v.ErrorEndpoint, v.ErrorCode, v.ErrorStatus = ep, ef.Error, ef.Status
		break
	}
	return v
}

// applyFaults writes the panel's view onto the IdP's faults, keeping what
// the panel does not show (per-endpoint latency set from elsewhere, ...).
func applyFaults(cur mockidp.Faults, v idp.Faults) mockidp.Faults {
	f := cur
	f.Skew = mockidp.Duration(v.Skew)
	lat := map[string]mockidp.Duration{}
	for k, d := range cur.Latency {
		if k != "*" {
			lat[k] = d
		}
	}
	if v.Latency > 0 {
		lat["*"] = mockidp.Duration(v.Latency)
	}
	f.Latency = lat
	f.Errors = nil
	if v.ErrorEndpoint != "" {
		f.Errors = map[string]mockidp.ErrorFault{v.ErrorEndpoint: {Status: v.ErrorStatus, Error: v.ErrorCode}}
	}
	f.JWKS = v.JWKS
	f.UnknownKey, f.AlgNone, f.Expired = v.UnknownKey, v.AlgNone, v.Expired
	f.DPoPNonceStorm, f.DPoPBearerOnly = v.DPoPNonceStorm, v.DPoPBearerOnly
	f.Lifetime = mockidp.Duration(v.Lifetime)
	return f
}

// idpOrder keeps admin changes in key-press order: commands run
// concurrently, and each fault change carries the whole fault set, so one
// older than a change already applied is dropped instead of undoing it.
type idpOrder struct {
	mu      sync.Mutex
	applied int
}

func (m *Model) idpAction(a idp.ActionMsg) tea.Cmd {
	s := m.opts.IdP
	if s == nil {
		return nil
	}
	seq, order := a.Seq, m.idpOrder
	return func() tea.Msg {
		order.mu.Lock()
		defer order.mu.Unlock()
		// a whole fault set older than one applied would undo it; rotate
		// and reset are events and always happen
		if a.Faults != nil && seq < order.applied {
			return nil
		}
		order.applied = max(order.applied, seq)
		switch {
		case a.Reset:
			s.ResetFaults()
			return idpFaultsMsg{seq: seq, f: s.Faults(), msg: "IdP faults reset"}
		case a.Rotate:
			if err := s.RotateKey(5 * time.Minute); err != nil {
				return idpFaultsMsg{err: err}
			}
			return idpFaultsMsg{seq: seq, f: s.Faults(), msg: "signing key rotated (old key kept 5m in the JWKS)"}
		case a.Faults != nil:
			if err := s.SetFaults(applyFaults(s.Faults(), *a.Faults)); err != nil {
				return idpFaultsMsg{err: err}
			}
			return idpFaultsMsg{seq: seq, f: s.Faults(), msg: "IdP faults updated"}
		}
		return nil
	}
}
