package console

import (
	"strings"
	"sync"
	"time"

	"authlab/mockidp"
)

// fakeIdP records faults and lets a test publish events.
type fakeIdP struct {
	mu      sync.Mutex
	faults  mockidp.Faults
	rotated int
	subs    []chan mockidp.Event
}

func newFakeIdP() *fakeIdP { return &fakeIdP{} }

func (f *fakeIdP) URL() string    { return "http://127.0.0.1:9090" }
func (f *fakeIdP) Issuer() string { return "http://127.0.0.1:9090" }
func (f *fakeIdP) Clients() []mockidp.Client {
	return []mockidp.Client{{ID: "demo-cc", GrantTypes: []string{"client_credentials"}}, {ID: "demo-native", GrantTypes: []string{"authorization_code", "refresh_token"}}}
}
func (f *fakeIdP) Faults() mockidp.Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}
func (f *fakeIdP) SetFaults(x mockidp.Faults) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = x
	return nil
}
func (f *fakeIdP) ResetFaults() { _ = f.SetFaults(mockidp.Faults{}) }
func (f *fakeIdP) RotateKey(time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotated++
	return nil
}
func (f *fakeIdP) Events(n int) (<-chan mockidp.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan mockidp.Event, n)
	f.subs = append(f.subs, ch)
	var once sync.Once
	return ch, func() { once.Do(func() {}) }
}

func (f *fakeIdP) publish(e mockidp.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.subs {
		s <- e
	}
}

// pinSpinner replaces the spinner's frame so frames of a running flow are
// comparable whatever number of ticks ran.
func pinSpinner(s string) string {
	for _, f := range []string{"|", "/", "-", "\\"} {
		s = strings.ReplaceAll(s, f+" running", "* running")
		s = strings.ReplaceAll(s, "  "+f+" ", "  * ")
	}
	return s
}
