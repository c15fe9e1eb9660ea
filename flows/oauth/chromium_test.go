package oauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/internal/browsertest"
	"authlab/mockidp/mockidptest"
)

// TestResponseModesInChromium runs the loopback listener's form_post and
// fragment paths in headless Chromium: the mock IdP's form_post page and
// the listener's fragment relay page run their scripts under their CSP
// nonces, and the login must complete by the requested mode.
func TestResponseModesInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	root := browsertest.Start(ctx, t) // one browser, a tab per mode
	idp := mockidptest.New(t)
	for _, mode := range []string{"form_post", "fragment", "form_post.jwt", "fragment.jwt"} {
		t.Run(mode, func(t *testing.T) {
			tab, tcancel := chromedp.NewContext(root)
			defer tcancel()
			final := make(chan string, 1)
			req := jwtReq(idp)
			req.ResponseMode = mode
			req.PAR = strings.HasSuffix(mode, ".jwt")
			e, err := oauth.New(req, oauth.Options{OpenURL: func(_ context.Context, u string) error {
				go func() {
					err := chromedp.Do(tab, chromedp.Navigate(u))
					var text string
					if err == nil {
						// Through the IdP's form_post page or the relay page
						// to the listener's last page.
						text, err = browsertest.WaitText(tab, `document.title === "authlab: Login complete" && document.body.innerText`)
					}
					if err != nil {
						text = "browser: " + err.Error()
					}
					final <- text
				}()
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			res := e.AuthCode(ctx, nil)
			mustOK(t, mode, res)
			if text := <-final; !strings.Contains(text, "authlab received the authorization response") {
				t.Fatalf("final page: %q", text)
			}
			want := "form_post"
			if strings.HasPrefix(mode, "fragment") {
				want = "fragment"
			}
			found := false
			for _, s := range res.Steps {
				if s.Name == "authorization" && strings.Contains(s.Detail, "callback received by "+want) {
					found = true
				}
			}
			if !found || !hasCheck(res.Checks, "response_mode", flows.Pass) {
				t.Fatalf("steps %+v checks %+v", res.Steps, res.Checks)
			}
		})
	}
}
