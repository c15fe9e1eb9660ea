package bench

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"authlab/flows"
)

// rawFor builds a rawClient POSTing "a=b" to srv's /token.
func rawFor(t *testing.T, srv *httptest.Server, timeout time.Duration) *rawClient {
	t.Helper()
	u, _ := url.Parse(srv.URL + "/token")
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	c := newRawClient(http.MethodPost, u, h, []byte("a=b"), nil, timeout, 4)
	if c == nil {
		t.Fatal("no raw client for", u)
	}
	t.Cleanup(c.Close)
	return c
}

// countConns counts the connections srv accepts.
func countConns(srv *httptest.Server) *atomic.Int64 {
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func TestRawClientKeepAliveAndRetry(t *testing.T) {
	var closeNext atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Method != http.MethodPost || r.PostForm.Get("a") != "b" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "unexpected request", 400)
			return
		}
		if closeNext.CompareAndSwap(true, false) {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte(`{"access_token":"x"}`))
	}))
	conns := countConns(srv)
	srv.Start()
	t.Cleanup(srv.Close)
	c := rawFor(t, srv, 5*time.Second)
	var buf bytes.Buffer
	do := func(what string) {
		t.Helper()
		ans, err := c.Do(context.Background(), &buf)
		if err != nil || ans.Status != 200 || string(ans.Body) != `{"access_token":"x"}` {
			t.Fatalf("%s: %d %q %v", what, ans.Status, ans.Body, err)
		}
	}
	for range 5 {
		do("keep-alive")
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 sequential requests used %d connections, want 1", n)
	}
	// The server drops the idle connection: the next request is sent again
	// on a new one instead of failing.
	srv.CloseClientConnections()
	do("after the server closed the idle connection")
	// Connection: close is honoured: the next request dials.
	closeNext.Store(true)
	do("answered with Connection: close")
	do("after Connection: close")
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (first, after the close, after Connection: close)", n)
	}
}

func TestRawClientChunkedAndCaps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "chunked":
			w.Write([]byte(`{"access_token":`))
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Write([]byte(`"x"}`))
		case "big-header":
			w.Header().Set("X-Big", strings.Repeat("h", flows.MaxResponseHeader+1))
		case "big-body":
			w.Write(bytes.Repeat([]byte("b"), int(flows.MaxResponseBody)+10))
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	var buf bytes.Buffer
	for _, tc := range []struct{ name, want string }{
		{"chunked", ""}, {"big-header", "response headers"}, {"big-body", "more than"},
	} {
		u.RawQuery = "case=" + tc.name
		c := newRawClient(http.MethodGet, u, http.Header{}, nil, nil, 5*time.Second, 1)
		ans, err := c.Do(context.Background(), &buf)
		c.Close()
		switch {
		case tc.want == "" && (err != nil || string(ans.Body) != `{"access_token":"x"}`):
			t.Errorf("%s: %q %v", tc.name, ans.Body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestRawClientCancelAndTimeout(t *testing.T) {
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select { // held until the test ends or the client goes away
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c := rawFor(t, srv, time.Minute)
	go func() {
		_, err := c.Do(ctx, new(bytes.Buffer))
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v, want context.Canceled", err)
	}

	c = rawFor(t, srv, 50*time.Millisecond)
	_, err := c.Do(context.Background(), new(bytes.Buffer))
	if !flows.IsTimeout(err) {
		t.Fatalf("stalled server: %v, want a timeout", err)
	}
}

// The lean token op goes through the raw client and Setup.Close closes its
// connections.
func TestTokenOpRawConnectionsClosed(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"access_token":"x","token_type":"Bearer"}`))
	}))
	closed := make(chan struct{}, 4)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s, err := NewSetup(context.Background(), flows.Request{Endpoints: flows.Endpoints{Token: srv.URL + "/token"}, ClientID: "c", ClientSecret: "s"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	op, ok := s.TokenOp(url.Values{"grant_type": {"client_credentials"}})
	if !ok {
		t.Fatal("no lean path")
	}
	if o := op(context.Background()); !o.OK {
		t.Fatalf("%+v", o)
	}
	if s.conns == nil || len(s.conns.fns) != 1 {
		t.Fatal("the raw client is not tracked by the setup")
	}
	s.Close()
	select { // the server sees the close on its own goroutine
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection is still open 5s after Setup.Close")
	}
}
