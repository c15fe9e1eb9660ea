package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/flows/hmac"
)

// landing is the redirect's target, another port of 127.0.0.1: it
// records each credential that arrived there.
type landing struct {
	mu  sync.Mutex
	got map[string]int // header name → requests that carried it
	n   int
}

func (l *landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	for _, h := range []string{"X-Api-Key", "Authorization", "Signature", "Signature-Input"} {
		if r.Header.Get(h) != "" {
			l.got[h]++
		}
	}
}

func (l *landing) seen() (int, map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := map[string]int{}
	for k, v := range l.got {
		got[k] = v
	}
	return l.n, got
}

// TestBenchFollowsNoRedirect: an api-key request (the key in X-API-Key),
// an HMAC-signed request and a Bearer call to a server that redirects to
// another 127.0.0.1 port are not followed: no credential arrives there,
// and each request counts as the 302 it got.
func TestBenchFollowsNoRedirect(t *testing.T) {
	land := &landing{got: map[string]int{}}
	other := httptest.NewServer(land)
	t.Cleanup(other.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	s, err := NewSetup(context.Background(), flows.Request{Timeout: 5 * time.Second}, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	key := apikey.Request{URL: redirector.URL + "/data", Key: "demo-api-key-0123456789", Header: "X-API-Key"}
	signed, err := s.HMACOp(redirector.URL+"/signed", HMACConfig{Key: hmac.NewKey([]byte(hmac.DemoSecret)), KeyID: hmac.DemoKeyID})
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokenCache(func(context.Context) (flows.Secret, time.Time, error) {
		return flows.Secret("bearer-token-0123456789"), time.Now().Add(time.Hour), nil
	}, nil)
	ops := map[string]Op{
		"api key": s.RequestOp(apikey.Flow, key.Build),
		"hmac":    signed,
		"call":    s.CallOp(redirector.URL+"/api", tokens),
	}
	for name, op := range ops {
		rep, err := Run(context.Background(), Config{Requests: 6, Concurrency: 2}, op)
		if err != nil {
			t.Fatal(name, err)
		}
		if rep.OK != 0 || rep.Failed != 6 || len(rep.Failures) != 1 || rep.Failures[0].Status != http.StatusFound {
			t.Errorf("%s: ok %d failed %d, failures %+v; want 6 × HTTP 302", name, rep.OK, rep.Failed, rep.Failures)
		}
	}
	if n, got := land.seen(); n != 0 {
		t.Errorf("%d requests reached the redirect's target, credentials %v", n, got)
	}

	// Control: a client that follows redirects delivers the key there.
	req, err := key.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, got := land.seen(); got["X-Api-Key"] != 1 || got["Authorization"] != 0 {
		t.Errorf("control: a following client delivered %v; the test cannot see a leak", got)
	}
}
