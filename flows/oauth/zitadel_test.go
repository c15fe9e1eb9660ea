package oauth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"authlab/flows"
	"authlab/flows/oauth"
)

// zitadelOP starts zitadel/oidc's example OpenID Provider (an OpenID
// certified library) in-process on 127.0.0.1:0 with in-memory storage and
// a confidential web client "web"/"secret" whose only redirect URI is
// redirect. It returns the issuer.
func zitadelOP(t *testing.T, redirect string) string {
	return serveZitadelOP(t, redirect, func(st *storage.Storage) exampleop.Storage { return st })
}

// serveZitadelOP is zitadelOP with the storage that wrap makes of the
// example storage (to give the OP more keys, say).
func serveZitadelOP(t *testing.T, redirect string, wrap func(*storage.Storage) exampleop.Storage) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d/", ln.Addr().(*net.TCPAddr).Port)
	clients := map[string]*storage.Client{"web": storage.WebClient("web", "secret", redirect)}
	st := wrap(storage.NewStorageWithClients(storage.NewUserStore(issuer), clients))
	// A discarding logger: SetupServer installs it as slog's default, which
	// silences its per-request log lines (this test binary only).
	router := exampleop.SetupServer(issuer, st, slog.New(slog.DiscardHandler), false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return issuer
}

// loopbackCallback is a listener for the engine's loopback redirect and
// its redirect URI, to register with the OP before the flow starts.
func loopbackCallback(t *testing.T) (net.Listener, string) {
	t.Helper()
	cb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return cb, fmt.Sprintf("http://127.0.0.1:%d/callback", cb.Addr().(*net.TCPAddr).Port)
}

// zitadelSignIn plays the user on the example OP's login form: it follows
// the authorization URL u to the form, then posts the credentials with
// post, whose cookie jar carries the login session, and returns the
// answer to that post.
func zitadelSignIn(post *http.Client, u, username, password string) (*http.Response, error) {
	get := &http.Client{Jar: post.Jar, Timeout: 10 * time.Second}
	resp, err := get.Get(u)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no login form at %s: %.300s", resp.Request.URL, body)
	}
	action := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	resp, err = post.PostForm(action.String(), url.Values{"id": {string(m[1])}, "username": {username}, "password": {password}})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return resp, nil
}

// loginFormBrowser plays the user in a browser: it signs in on the
// example OP's form and follows the redirects to the loopback callback.
func loginFormBrowser(t *testing.T, username, password string) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		go func() {
			resp, err := zitadelSignIn(hc, u, username, password)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "return to your terminal") {
				t.Errorf("browser: after login got HTTP %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
			}
		}()
		return nil
	}
}

func TestZitadelClientCredentials(t *testing.T) {
	issuer := zitadelOP(t, "http://127.0.0.1:1/callback")
	res := oauth.Run(context.Background(), flows.Request{
		Flow: flows.FlowClientCredentials, Issuer: issuer,
		ClientID: "sid1", ClientSecret: "verysecret", Scopes: []string{"openid"},
	}, nil)
	if !res.OK {
		t.Fatalf("client credentials failed: %+v", res.Err)
	}
	if res.Token.AccessToken == "" || !strings.EqualFold(res.Token.TokenType, "bearer") {
		t.Fatalf("token response %v", res.Token.Raw)
	}
	// discovery, then the token request and the JWKS prefetch side by side.
	steps := map[string]int{}
	var ex flows.Exchange
	for _, e := range res.Exchanges {
		steps[e.Step]++
		if e.Step == "token request" {
			ex = e
		}
	}
	if len(res.Exchanges) != 3 || res.Exchanges[0].Step != "discovery" || steps["token request"] != 1 || steps["jwks"] != 1 {
		t.Fatalf("exchanges %+v", res.Summaries())
	}
	// The secret never shows in the recorded exchange.
	if got := ex.RequestHeaders.Get("Authorization"); got != "Basic "+flows.Masked {
		t.Fatalf("Authorization recorded as %q", got)
	}
	if res.Skew == nil {
		t.Fatal("no skew estimate")
	}
}

func TestZitadelAuthCodeRefreshIntrospectRevoke(t *testing.T) {
	cb, redirect := loopbackCallback(t)
	issuer := zitadelOP(t, redirect)
	hostname := "127.0.0.1"
	req := flows.Request{
		Flow: flows.FlowAuthCode, Issuer: issuer, ClientID: "web", ClientSecret: "secret",
		Scopes: []string{"openid", "profile", "offline_access"}, Wait: 20 * time.Second,
	}
	var steps []string
	obs := flows.ObserverFuncs{OnStep: func(e flows.StepEvent) {
		if e.Done {
			steps = append(steps, e.Name)
		}
	}}
	eng, err := oauth.New(req, oauth.Options{Listener: cb, OpenURL: loginFormBrowser(t, "test-user@"+hostname, "verysecure")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := eng.AuthCode(ctx, obs)
	if !res.OK {
		t.Fatalf("auth code failed: %+v (steps %v)", res.Err, steps)
	}
	if flows.AnyFailed(res.Checks) {
		t.Fatalf("failed checks: %+v", res.Checks)
	}
	if res.IDToken == nil || !res.IDToken.Verified {
		t.Fatalf("ID token not verified: %+v", res.IDToken)
	}
	for _, want := range []string{"id_token nonce", "id_token signature", "id_token aud", "id_token iss", "id_token at_hash"} {
		if !hasCheck(res.Checks, want, flows.Pass) {
			t.Errorf("no passing %q check in %+v", want, res.Checks)
		}
	}
	if res.IDToken.Claims["sub"] != "id1" {
		t.Errorf("sub %v", res.IDToken.Claims["sub"])
	}
	rt := res.Token.RefreshToken
	if rt == "" {
		t.Fatal("no refresh token (offline_access)")
	}

	// Refresh: zitadel's example storage rotates refresh tokens.
	ref := eng.Refresh(ctx, rt, nil)
	if !ref.OK || ref.RefreshRotated == nil || !*ref.RefreshRotated {
		t.Fatalf("refresh: ok=%v rotated=%v err=%+v", ref.OK, ref.RefreshRotated, ref.Err)
	}
	at := ref.Token.AccessToken

	in := eng.Introspect(ctx, at, nil)
	if !in.OK || in.Active == nil || !*in.Active || in.Failed() {
		t.Fatalf("introspect: %+v %+v", in.Err, in.Checks)
	}
	if in.Introspection["sub"] != "id1" {
		t.Errorf("introspection %v", in.Introspection)
	}

	rv := eng.Revoke(ctx, at, nil)
	if !rv.OK || rv.RevocationConfirmed == nil || !*rv.RevocationConfirmed || rv.Failed() {
		t.Fatalf("revoke: %+v confirmed=%v checks=%+v", rv.Err, rv.RevocationConfirmed, rv.Checks)
	}
	// And introspection now fails the flow, as scripts expect.
	in2 := eng.Introspect(ctx, at, nil)
	if !in2.Failed() || in2.Active == nil || *in2.Active {
		t.Fatalf("introspect after revoke: active=%v", in2.Active)
	}
}

func hasCheck(cs []flows.Check, name string, st flows.Status) bool {
	for _, c := range cs {
		if c.Name == name && c.Status == st {
			return true
		}
	}
	return false
}
