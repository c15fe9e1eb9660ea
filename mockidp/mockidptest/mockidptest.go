// Package mockidptest starts the mock IdP for a test in one line. It lives
// apart from mockidp so the authlab binary does not link package testing.
package mockidptest

import (
	"testing"

	"authlab/mockidp"
)

// New starts a mock IdP on 127.0.0.1:0 with the demo configuration (edited
// by opts) and closes it when the test ends. Issuer is the listener URL.
func New(t testing.TB, opts ...mockidp.Option) *mockidp.Server {
	t.Helper()
	var o mockidp.Options
	for _, f := range opts {
		f(&o)
	}
	s, err := mockidp.New(o)
	if err != nil {
		t.Fatalf("mockidp: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("mockidp: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
