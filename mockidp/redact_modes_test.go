package mockidp_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"authlab/mockidp/mockidptest"
)

// The event stream hides the code however the authorization response
// carries it: a form_post hidden field, or a JARM response JWT (whose
// payload holds the code) in a redirect or a form_post.
func TestEventsMaskCodeInEveryResponseMode(t *testing.T) {
	s := mockidptest.New(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	field := regexp.MustCompile(`name="(code|response)" value="([^"]+)"`)
	for _, mode := range []string{"form_post", "query.jwt", "form_post.jwt", "fragment.jwt"} {
		t.Run(mode, func(t *testing.T) {
			events, stop := s.Events(16)
			defer stop()
			conf := oauth2.Config{ClientID: "demo-web", Endpoint: endpoint(s), RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"openid"}}
			u := conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("response_mode", mode))
			resp, err := noFollow.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// What the client got: the code, or the JARM JWT.
			var code, jarm string
			if m := field.FindStringSubmatch(string(body)); m != nil {
				code = m[2]
			} else if loc, err := resp.Location(); err == nil {
				q := loc.Query()
				if strings.HasPrefix(mode, "fragment") {
					q, _ = url.ParseQuery(loc.Fragment)
				}
				code = q.Get("response")
			}
			if strings.HasSuffix(mode, ".jwt") {
				jarm, code = code, jarmCode(t, code)
			}
			if code == "" {
				t.Fatalf("no code in the %s response: %d %s", mode, resp.StatusCode, body)
			}
			var ev any
			select {
			case ev = <-events:
			case <-time.After(5 * time.Second):
				t.Fatal("no event")
			}
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), code) {
				t.Errorf("event shows the code: %s", b)
			}
			if jarm != "" && strings.Contains(string(b), jarm) {
				t.Errorf("event shows the JARM response: %s", b)
			}
		})
	}
}

// jarmCode reads the code claim of a JARM response (signature unchecked:
// only what a reader of the event could read matters here).
func jarmCode(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("JARM response %q is not a JWS", tok)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(p, &c); err != nil {
		t.Fatal(err)
	}
	return c.Code
}
