package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// demoJWTKey is the published test key of the mock IdP's demo-jwt client.
const demoJWTKey = "../../testdata/mockidp/demo-jwt.key"

// formBrowser plays a browser for every response mode: it follows
// redirects, submits a form_post page's form, and for a fragment redirect
// loads the listener's relay page and posts the fragment back the way its
// script does (same origin). Real Chromium runs these paths in
// TestResponseModesInChromium.
func formBrowser(t *testing.T) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		go func() {
			if err := browse(u); err != nil {
				t.Errorf("browser: %v", err)
			}
		}()
		return nil
	}
}

// The form_post pages of the mock IdP and of zitadel's OP.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"\s*/?>`)
var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

func noFollow() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func browse(u string) error {
	hc := noFollow()
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	return walk(hc, resp)
}

// walk goes on from resp to the loopback listener's final page.
func walk(hc *http.Client, resp *http.Response) error {
	next := func(resp *http.Response) (string, string, error) {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			return resp.Header.Get("Location"), "", nil
		}
		return "", string(body), nil
	}
	var err error
	loc, body, err := next(resp)
	for range 8 {
		if err != nil {
			return err
		}
		switch {
		case loc != "":
			target, frag, _ := strings.Cut(loc, "#")
			if frag != "" {
				// The relay page must come back; then its script posts.
				if resp, err = hc.Get(target); err != nil {
					return err
				}
				_, page, _ := next(resp)
				if !strings.Contains(page, `id="relay"`) {
					return fmt.Errorf("no relay page at %s: %.200s", target, page)
				}
				tu, _ := url.Parse(target)
				req, _ := http.NewRequest("POST", target, strings.NewReader(frag))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", tu.Scheme+"://"+tu.Host)
				resp, err = hc.Do(req)
			} else {
				base := resp.Request.URL
				if u, perr := base.Parse(loc); perr == nil {
					loc = u.String()
				}
				resp, err = hc.Get(loc)
			}
			if err != nil {
				return err
			}
			loc, body, err = next(resp)
		case formAction.MatchString(body):
			action := htmlUnescape(formAction.FindStringSubmatch(body)[1])
			form := url.Values{}
			for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
				form.Add(htmlUnescape(m[1]), htmlUnescape(m[2]))
			}
			if resp, err = hc.PostForm(action, form); err != nil {
				return err
			}
			loc, body, err = next(resp)
		default:
			if !strings.Contains(body, "Login complete") {
				return fmt.Errorf("ended on %.300s", body)
			}
			return nil
		}
	}
	return fmt.Errorf("too many steps")
}

func htmlUnescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`)
	return r.Replace(s)
}

func jwtReq(idp *mockidp.Server) flows.Request {
	return flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-jwt", PrivateKey: demoJWTKey, KeyID: "demo-jwt-1",
		Scopes: []string{"openid", "api:read"}, Wait: 20 * time.Second}
}

func runAuthCode(t *testing.T, req flows.Request) *flows.Result {
	t.Helper()
	return runAuthCodeWith(t, req, formBrowser(t))
}

// quietBrowser is formBrowser for runs that fail: the page's complaint is expected.
func quietBrowser(ctx context.Context, u string) error {
	go func() { _ = browse(u) }()
	return nil
}

func runAuthCodeWith(t *testing.T, req flows.Request, open func(context.Context, string) error) *flows.Result {
	t.Helper()
	e, err := oauth.New(req, oauth.Options{OpenURL: open})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	return e.AuthCode(context.Background(), nil)
}

func checkStatus(res *flows.Result, name string) flows.Status {
	for _, c := range res.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

func TestPARRequestObjectJARMAgainstMockIdP(t *testing.T) {
	idp := mockidptest.New(t)
	req := jwtReq(idp)
	req.PAR, req.RequestObject, req.ResponseMode = true, true, "jwt"
	res := runAuthCode(t, req)
	mustOK(t, "par+jar+jarm", res)
	// The browser got only client_id and request_uri.
	u, _ := url.Parse(res.AuthURL)
	if q := u.Query(); len(q) != 2 || q.Get("client_id") != "demo-jwt" || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("authorization URL %s", res.AuthURL)
	}
	var push *flows.Exchange
	for i, ex := range res.Exchanges {
		if ex.Step == "pushed authorization request" {
			push = &res.Exchanges[i]
		}
	}
	if push == nil || push.Status != 201 || !strings.Contains(push.RequestBody, "request=") || strings.Contains(push.RequestBody, "code_challenge=") {
		t.Fatalf("PAR exchange %+v", push)
	}
	for _, name := range []string{"par expires_in", "jarm signature", "jarm iss", "jarm aud", "jarm exp", "response_mode"} {
		if st := checkStatus(res, name); st != flows.Pass {
			t.Errorf("check %s = %q; checks %+v", name, st, res.Checks)
		}
	}
	var sawObject, sawPush bool
	for _, s := range res.Steps {
		if s.Name == "request object" && strings.Contains(s.Detail, `"typ":"oauth-authz-req+jwt"`) && strings.Contains(s.Detail, `"aud":"`+idp.Issuer()+`"`) {
			sawObject = true
		}
		if s.Name == "pushed authorization request" && strings.Contains(s.Detail, "expires_in 60 s") {
			sawPush = true
		}
	}
	if !sawObject || !sawPush {
		t.Fatalf("steps %+v", res.Steps)
	}
}

func TestResponseModesAgainstMockIdP(t *testing.T) {
	idp := mockidptest.New(t)
	for _, mode := range flows.ResponseModes() {
		for _, par := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/par=%v", mode, par), func(t *testing.T) {
				req := jwtReq(idp)
				req.ResponseMode, req.PAR = mode, par
				req.RequestObject = !par // JAR without PAR, PAR without JAR
				res := runAuthCode(t, req)
				mustOK(t, mode, res)
				if st := checkStatus(res, "response_mode"); st != flows.Pass {
					t.Fatalf("response_mode check %q: %+v", st, res.Checks)
				}
				if strings.HasSuffix(mode, "jwt") != (checkStatus(res, "jarm signature") == flows.Pass) {
					t.Fatalf("jarm checks for %s: %+v", mode, res.Checks)
				}
			})
		}
	}
}

func TestPARRequiredByMetadata(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.RequirePAR = true
	idp := mockidptest.New(t, mockidp.WithConfig(cfg))
	// Not asked for: the metadata's require_pushed_authorization_requests turns it on.
	res := runAuthCode(t, flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-native", Wait: 20 * time.Second})
	mustOK(t, "auto PAR", res)
	if !strings.Contains(res.AuthURL, "request_uri=") {
		t.Fatalf("PAR not used: %s", res.AuthURL)
	}
}

func TestPARWithDPoPBindsTheCode(t *testing.T) {
	idp := mockidptest.New(t)
	res := runAuthCode(t, flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-dpop", ClientSecret: "demo-dpop-secret",
		DPoP: true, Shape: flows.Shape{PAR: true}, Wait: 20 * time.Second})
	mustOK(t, "PAR + DPoP", res)
	proofs := 0
	for _, ex := range res.Exchanges {
		if ex.Step == "pushed authorization request" && ex.DPoP != nil {
			proofs++
		}
	}
	if proofs != 1 || !strings.EqualFold(res.Token.TokenType, "DPoP") {
		t.Fatalf("PAR proofs %d, token_type %s", proofs, res.Token.TokenType)
	}
}

func TestJARMFailures(t *testing.T) {
	idp := mockidptest.New(t)
	t.Run("expired", func(t *testing.T) {
		if err := idp.SetFaults(mockidp.Faults{Expired: true}); err != nil {
			t.Fatal(err)
		}
		defer idp.SetFaults(mockidp.Faults{})
		req := jwtReq(idp)
		req.ResponseMode = "query.jwt"
		res := runAuthCodeWith(t, req, quietBrowser)
		if res.OK || checkStatus(res, "jarm exp") != flows.Fail || !strings.Contains(res.Reason(), "JARM response: expired") {
			t.Fatalf("ok=%v reason %q checks %+v", res.OK, res.Reason(), res.Checks)
		}
	})
	t.Run("error inside the JWT", func(t *testing.T) {
		req := jwtReq(idp)
		req.ResponseMode, req.Scopes = "fragment.jwt", []string{"openid", "admin"}
		res := runAuthCodeWith(t, req, quietBrowser)
		if res.OK || res.Err == nil || res.Err.OAuthError != "invalid_scope" || checkStatus(res, "jarm signature") != flows.Pass {
			t.Fatalf("ok=%v err %+v checks %+v", res.OK, res.Err, res.Checks)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		if err := idp.SetFaults(mockidp.Faults{UnknownKey: true}); err != nil {
			t.Fatal(err)
		}
		defer idp.SetFaults(mockidp.Faults{})
		req := jwtReq(idp)
		req.ResponseMode, req.Wait = "form_post.jwt", 3*time.Second
		res := runAuthCodeWith(t, req, quietBrowser) // the listener refuses the response and waits on
		if res.OK || !strings.Contains(res.Reason(), "does not verify with the issuer's keys") {
			t.Fatalf("ok=%v reason %q", res.OK, res.Reason())
		}
	})
}

func TestAuthorizationRequestConfigErrors(t *testing.T) {
	idp := mockidptest.New(t)
	for name, c := range map[string]struct {
		edit func(*flows.Request)
		want string
	}{
		"unknown mode": {func(r *flows.Request) { r.ResponseMode = "web_message" }, "response_mode \"web_message\""},
		"no request key": {func(r *flows.Request) {
			r.PrivateKey, r.AuthMethod, r.ClientSecret, r.RequestObject = "", flows.AuthClientSecretBasic, "x", true
		}, "request_object needs a signing key"},
		"bad RAR":          {func(r *flows.Request) { r.AuthorizationDetails = json.RawMessage(`{"type":"x"}`) }, "want a JSON array"},
		"RAR without type": {func(r *flows.Request) { r.AuthorizationDetails = json.RawMessage(`[{"actions":["read"]}]`) }, "no string type"},
	} {
		t.Run(name, func(t *testing.T) {
			req := jwtReq(idp)
			c.edit(&req)
			res := runAuthCode(t, req)
			if res.OK || res.Err == nil || res.Err.Kind != flows.ErrConfig || !strings.Contains(res.Reason(), c.want) {
				t.Fatalf("ok=%v err %+v", res.OK, res.Err)
			}
		})
	}
}

func TestAuthorizationDetailsAgainstMockIdP(t *testing.T) {
	idp := mockidptest.New(t)
	details := `[{"type":"payment_initiation","actions":["initiate"],"instructedAmount":{"currency":"EUR","amount":"123.50"}}]`
	for _, shape := range []string{"plain", "par+jar"} {
		t.Run(shape, func(t *testing.T) {
			req := jwtReq(idp)
			req.AuthorizationDetails = json.RawMessage(details)
			req.PAR, req.RequestObject = shape != "plain", shape != "plain"
			res := runAuthCode(t, req)
			mustOK(t, "RAR "+shape, res)
			if checkStatus(res, "authorization_details") != flows.Pass {
				t.Fatalf("checks %+v", res.Checks)
			}
			granted, _ := json.Marshal(res.Token.Raw["authorization_details"])
			if !strings.Contains(string(granted), `"payment_initiation"`) {
				t.Fatalf("token response %v", res.Token.Raw)
			}
			if ad := res.AccessToken.Claims["authorization_details"]; ad == nil {
				t.Fatalf("access token claims %v", res.AccessToken.Claims)
			}
			// The token request carried the details too (RFC 9396 6.1).
			for _, ex := range res.Exchanges {
				if ex.Step == "token request" && !strings.Contains(ex.RequestBody, "authorization_details=") {
					t.Fatalf("token request body %s", ex.RequestBody)
				}
			}
			// And introspection reports them (RFC 9396 9.2).
			e, err := oauth.New(flows.Request{Flow: flows.FlowIntrospect, Issuer: idp.Issuer(), ClientID: "demo-web", ClientSecret: "demo-web-secret", Token: flows.Secret(res.Token.AccessToken)}, oauth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			in := e.Introspect(context.Background(), res.Token.AccessToken, nil)
			if in.Introspection["authorization_details"] == nil {
				t.Fatalf("introspection %v", in.Introspection)
			}
		})
	}
	// A type the server does not know: invalid_authorization_details.
	req := jwtReq(idp)
	req.AuthorizationDetails = json.RawMessage(`[{"type":"crypto_withdrawal"}]`)
	res := runAuthCodeWith(t, req, quietBrowser)
	if res.OK || res.Err == nil || res.Err.OAuthError != "invalid_authorization_details" {
		t.Fatalf("ok=%v err %+v", res.OK, res.Err)
	}
}
