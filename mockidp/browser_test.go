package mockidp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"authlab/internal/browsertest"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

func TestBrowserLoginPage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	browser := browsertest.Start(ctx, t)
	s := mockidptest.New(t, mockidp.WithLogin())
	got := make(chan url.Values, 1)
	cb := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><body><p id="done">callback reached</p></body></html>`))
	}))
	cb.Start() // httptest binds 127.0.0.1:0
	t.Cleanup(cb.Close)

	conf := oauth2.Config{ClientID: "demo-web", ClientSecret: "demo-web-secret", Endpoint: endpoint(s),
		RedirectURL: cb.URL + "/callback", Scopes: []string{"openid", "profile"}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))

	err := chromedp.Do(browser,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("username"), "bob"),
		chromedp.SendKeys(chromedp.ID("password"), "bob"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	var q url.Values
	select {
	case q = <-got:
	case <-ctx.Done():
		t.Fatal("callback never reached")
	}
	if q.Get("state") != "browser-state" || q.Get("iss") != s.URL() || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	tok, err := conf.Exchange(ctxT(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if sub := decodeClaims(t, tok.AccessToken)["sub"]; sub != "bob" {
		t.Errorf("sub = %v, want bob (who signed in)", sub)
	}
}

func TestLoginFormCSRF(t *testing.T) {
	s := mockidptest.New(t, mockidp.WithLogin())
	conf := oauth2.Config{ClientID: "demo-web", Endpoint: endpoint(s), RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"openid"}}
	resp, err := noRedirect().Get(conf.AuthCodeURL("s"))
	if err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		page.WriteString(string(buf[:n]))
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(page.String(), `id="login"`) {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	form := url.Values{"login_id": {hiddenValue(t, page.String(), "login_id")}, "csrf_token": {hiddenValue(t, page.String(), "csrf_token")},
		"username": {"alice"}, "password": {"alice"}, "action": {"approve"}}
	// Without the cookie (a cross-site post cannot carry it): refused.
	resp, err = noRedirect().PostForm(s.URL()+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Errorf("login without the CSRF cookie: %d", resp.StatusCode)
	}
}
