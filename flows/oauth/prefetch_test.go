package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/mockidp"
)

// gatedIdP serves the mock IdP behind a wrapper that sees the JWKS request
// arrive (jwksSeen) and lets a test hold the token or JWKS answers.
type gatedIdP struct {
	srv      *httptest.Server
	jwksSeen chan struct{}
	once     sync.Once
}

func newGatedIdP(t *testing.T, token, jwks func(w http.ResponseWriter, r *http.Request, g *gatedIdP) bool) *gatedIdP {
	t.Helper()
	idp, err := mockidp.New(mockidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedIdP{jwksSeen: make(chan struct{})}
	h := idp.Handler()
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/jwks":
			g.once.Do(func() { close(g.jwksSeen) })
			if jwks != nil && !jwks(w, r, g) {
				return
			}
		case strings.HasSuffix(r.URL.Path, "/token"):
			if token != nil && !token(w, r, g) {
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func steps(res *flows.Result) []string {
	var s []string
	for _, ex := range res.Exchanges {
		s = append(s, ex.Step)
	}
	return s
}

// The token endpoint answers only once the JWKS has been asked for: a client
// that fetched the keys after the token would get a 503 here. The keys still
// verify the token, and the exchanges read in flow order.
func TestJWKSFetchedAlongsideTokenRequest(t *testing.T) {
	g := newGatedIdP(t, func(w http.ResponseWriter, r *http.Request, g *gatedIdP) bool {
		select {
		case <-g.jwksSeen:
			return true
		case <-time.After(10 * time.Second): // bounded: fail, never hang
			http.Error(w, "the JWKS was not requested while the token request was in flight", http.StatusServiceUnavailable)
			return false
		}
	}, nil)
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: g.srv.URL,
		ClientID: "demo-cc", ClientSecret: "demo-cc-secret"}, nil)
	if !res.OK {
		t.Fatalf("flow failed: %s", res.Reason())
	}
	if got := strings.Join(steps(res), ", "); got != "discovery, token request, jwks" {
		t.Fatalf("exchanges %s, want discovery, token request, jwks", got)
	}
	verified := false
	for _, c := range res.Checks {
		if strings.Contains(c.Name, "signature") && c.Status == flows.Pass {
			verified = true
		}
	}
	if !verified {
		t.Fatalf("no passing signature check with the prefetched keys: %+v", res.Checks)
	}
}

// A flow that fails at the token endpoint does not wait for a JWKS that
// hangs: the fetch is cancelled with the flow and its exchange says so.
func TestJWKSPrefetchCancelledWithFlow(t *testing.T) {
	g := newGatedIdP(t, func(w http.ResponseWriter, r *http.Request, g *gatedIdP) bool {
		<-g.jwksSeen // the prefetch is in flight before the token request fails
		return true
	}, func(w http.ResponseWriter, r *http.Request, g *gatedIdP) bool {
		<-r.Context().Done() // hangs until the client gives up
		return false
	})
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: g.srv.URL,
		ClientID: "demo-cc", ClientSecret: "wrong", Timeout: time.Minute}, nil)
	if res.OK || res.Err == nil || res.Err.OAuthError != "invalid_client" {
		t.Fatalf("want invalid_client, got %+v", res.Err)
	}
	if got := strings.Join(steps(res), ", "); got != "discovery, token request, jwks" {
		t.Fatalf("exchanges %s, want discovery, token request, jwks", got)
	}
	if ex := res.Exchanges[2]; !strings.Contains(ex.Err, "prefetch cancelled") {
		t.Fatalf("jwks exchange error %q, want it to say the prefetch was cancelled", ex.Err)
	}
	// Cancelled, not timed out: the per-call timeout is a minute.
	if res.Duration > 30*time.Second {
		t.Fatalf("the flow took %v: it waited for the JWKS", res.Duration)
	}
}
