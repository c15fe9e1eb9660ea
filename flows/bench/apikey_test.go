package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/apikey"
)

// TestAPIKeyOp: the right key in its header is a success; a server that
// refuses it and echoes it back is a 401 whose failure example shows the
// key masked; a request that is not valid is refused before any run.
func TestAPIKeyOp(t *testing.T) {
	const good, bad = "right-key-0123456789", "wrong-key-9876543210"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Key") == good {
			fmt.Fprint(w, "ok")
			return
		}
		http.Error(w, "unknown key "+r.Header.Get("X-Key"), http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	s, err := NewSetup(context.Background(), flows.Request{Timeout: 5 * time.Second}, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	run := func(key string) *Report {
		t.Helper()
		op, err := s.APIKeyOp(apikey.Request{URL: srv.URL + "/data", Key: key, Header: "X-Key"})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), Config{Requests: 8, Concurrency: 2}, op)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := run(good); rep.OK != 8 || rep.Failed != 0 {
		t.Errorf("right key: ok %d failed %d, want 8 ok", rep.OK, rep.Failed)
	}
	rep := run(bad)
	if rep.OK != 0 || len(rep.Failures) != 1 || rep.Failures[0].Status != http.StatusUnauthorized {
		t.Fatalf("wrong key: ok %d failures %+v, want 8 × 401", rep.OK, rep.Failures)
	}
	ex := rep.Failures[0].Example
	if strings.Contains(ex, bad) || !strings.Contains(ex, "unknown key "+flows.Masked) {
		t.Errorf("failure example %q: want the echoed key masked", ex)
	}
	if _, err := s.APIKeyOp(apikey.Request{URL: srv.URL, Key: ""}); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("a request without a key: %v, want the reason", err)
	}
}
