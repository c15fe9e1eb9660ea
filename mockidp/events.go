package mockidp

import (
	"sync"
	"sync/atomic"
	"time"

	"authlab/flows"
)

// Event is one request and its response at the IdP, with client secrets and
// tokens masked, for the TUI's live log and the admin event stream.
type Event struct {
	Seq      uint64         `json:"seq"`
	Time     time.Time      `json:"time"`
	Endpoint string         `json:"endpoint"`
	ClientID string         `json:"client_id,omitempty"`
	Grant    string         `json:"grant_type,omitempty"`
	Error    string         `json:"error,omitempty"`  // OAuth error answered, if any
	Fault    string         `json:"fault,omitempty"`  // fault applied, if any
	Remote   string         `json:"remote,omitempty"` // caller address
	Exchange flows.Exchange `json:"exchange"`
	// Dropped counts events this subscriber missed before this one because
	// it read too slowly.
	Dropped uint64 `json:"dropped,omitempty"`
}

type subscriber struct {
	ch      chan Event
	dropped uint64
}

// broker fans events out without ever blocking the server: a subscriber
// whose buffer is full misses events (and is told how many).
type broker struct {
	n    atomic.Int32 // subscriber count, read on the hot path without the lock
	seq  atomic.Uint64
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

func (b *broker) active() bool { return b.n.Load() > 0 }

func (b *broker) subscribe(buf int) (<-chan Event, func()) {
	if buf <= 0 {
		buf = 256
	}
	s := &subscriber{ch: make(chan Event, buf)}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.n.Add(1)
	b.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			if _, ok := b.subs[s]; ok {
				delete(b.subs, s)
				b.n.Add(-1)
				close(s.ch)
			}
			b.mu.Unlock()
		})
	}
}

func (b *broker) publish(e Event) {
	e.Seq = b.seq.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		ev := e
		ev.Dropped = s.dropped
		select {
		case s.ch <- ev:
			s.dropped = 0
		default:
			s.dropped++
		}
	}
}

func (b *broker) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		delete(b.subs, s)
		b.n.Add(-1)
		close(s.ch)
	}
}
