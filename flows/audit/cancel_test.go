package audit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"authlab/flows"
)

// TestAuditCancel: cancelling stops the audit at once; the cases that
// finished stand, none is reported from a request the cancel cut short.
func TestAuditCancel(t *testing.T) {
	k := testKeys(t)
	s := &resource{keys: k}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 6 {
			cancel()
		}
		s.ServeHTTP(w, r)
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(k.jwks) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rep := Run(ctx, Config{URL: srv.URL + "/api", Token: validToken(t, k), JWKSURL: srv.URL + "/jwks", Pace: -1}, nil)
	var fe *flows.Error
	if !errors.As(rep.Err, &fe) || fe.Kind != flows.ErrCancelled {
		t.Fatalf("err %v", rep.Err)
	}
	if len(rep.Cases) == 0 || len(rep.Cases) > 5 {
		t.Errorf("%d cases after a cancel at the 6th request", len(rep.Cases))
	}
	for _, c := range rep.Cases {
		if c.Verdict != Rejected || strings.Contains(c.Detail, "canceled") {
			t.Errorf("%s: %s %s", c.Name, c.Verdict, c.Detail)
		}
	}
	if rep.Requests > 7 {
		t.Errorf("%d requests after the cancel", rep.Requests)
	}
}
