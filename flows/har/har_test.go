package har_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/har"
	"authlab/flows/oauth"
	"authlab/mockidp/mockidptest"
)

// wire records every credential the client put on the wire, so the test
// can check each one is absent from the archive.
type wire struct {
	mu         sync.Mutex
	values     []string
	assertions []string
	next       http.RoundTripper
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	if a := r.Header.Get("Authorization"); a != "" {
		_, cred, _ := strings.Cut(a, " ")
		w.values = append(w.values, cred)
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
			_, secret, _ := strings.Cut(string(dec), ":")
			w.values = append(w.values, secret)
		}
	}
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if v, err := url.ParseQuery(string(b)); err == nil {
			for k, vs := range v {
				if flows.IsCredentialParam(k) {
					w.values = append(w.values, vs...)
				}
				if k == "client_assertion" {
					w.assertions = append(w.assertions, vs...)
				}
			}
		}
	}
	w.mu.Unlock()
	return w.next.RoundTrip(r)
}

func (w *wire) sent() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.values...)
}

// harFile mirrors the HAR 1.2 objects the test reads back.
type harFile struct {
	Log struct {
		Version string `json:"version"`
		Creator struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"creator"`
		Entries []struct {
			StartedDateTime string  `json:"startedDateTime"`
			Time            float64 `json:"time"`
			Request         struct {
				Method      string                         `json:"method"`
				URL         string                         `json:"url"`
				HTTPVersion string                         `json:"httpVersion"`
				Cookies     []struct{ Name, Value string } `json:"cookies"`
				Headers     []struct{ Name, Value string } `json:"headers"`
				QueryString []struct{ Name, Value string } `json:"queryString"`
				PostData    *struct {
					MimeType string `json:"mimeType"`
					Text     string `json:"text"`
				} `json:"postData"`
				HeadersSize *int `json:"headersSize"`
				BodySize    *int `json:"bodySize"`
			} `json:"request"`
			Response struct {
				Status      int                            `json:"status"`
				StatusText  string                         `json:"statusText"`
				HTTPVersion string                         `json:"httpVersion"`
				Cookies     []struct{ Name, Value string } `json:"cookies"`
				Headers     []struct{ Name, Value string } `json:"headers"`
				Content     *struct {
					Size     *int   `json:"size"`
					MimeType string `json:"mimeType"`
					Text     string `json:"text"`
				} `json:"content"`
				RedirectURL *string `json:"redirectURL"`
				HeadersSize *int    `json:"headersSize"`
				BodySize    *int    `json:"bodySize"`
			} `json:"response"`
			Cache   *struct{} `json:"cache"`
			Timings *struct {
				Send    *float64 `json:"send"`
				Wait    *float64 `json:"wait"`
				Receive *float64 `json:"receive"`
			} `json:"timings"`
		} `json:"entries"`
	} `json:"log"`
}

func parseHAR(t *testing.T, res *flows.Result, o har.Options) (harFile, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := har.Write(&buf, res, o); err != nil {
		t.Fatal(err)
	}
	var h harFile
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	l := h.Log
	if l.Version != "1.2" || l.Creator.Name != "authlab" || l.Creator.Version == "" || l.Entries == nil {
		t.Fatalf("log: version %q creator %+v", l.Version, l.Creator)
	}
	if len(l.Entries) != len(res.Exchanges) {
		t.Fatalf("%d entries, %d exchanges", len(l.Entries), len(res.Exchanges))
	}
	for i, e := range l.Entries {
		if _, err := time.Parse(time.RFC3339Nano, e.StartedDateTime); err != nil {
			t.Errorf("entry %d startedDateTime %q: %v", i, e.StartedDateTime, err)
		}
		rq, rs := e.Request, e.Response
		if rq.Method != res.Exchanges[i].Method || rq.URL == "" || rq.HTTPVersion == "" || rq.Cookies == nil || rq.Headers == nil ||
			rq.QueryString == nil || rq.HeadersSize == nil || rq.BodySize == nil {
			t.Errorf("entry %d request incomplete: %+v", i, rq)
		}
		if rs.Status != res.Exchanges[i].Status || rs.Content == nil || rs.Content.Size == nil || rs.RedirectURL == nil || rs.Cookies == nil ||
			rs.Headers == nil || rs.HeadersSize == nil || rs.BodySize == nil || e.Cache == nil {
			t.Errorf("entry %d response incomplete: %+v", i, rs)
		}
		if tm := e.Timings; tm == nil || tm.Send == nil || tm.Wait == nil || tm.Receive == nil || *tm.Wait < 0 || e.Time != *tm.Send+*tm.Wait+*tm.Receive {
			t.Errorf("entry %d timings %+v time %v", i, e.Timings, e.Time)
		}
	}
	return h, buf.String()
}

func absent(t *testing.T, doc, what string, values ...string) {
	t.Helper()
	for _, v := range values {
		if len(v) < 6 {
			continue
		}
		for _, form := range []string{v, url.QueryEscape(v)} {
			if strings.Contains(doc, form) {
				t.Errorf("%s %.8s… is in the HAR", what, v)
			}
		}
	}
}

// browse plays the browser: it follows the mock IdP's auto-approve
// redirect to the loopback callback and records the code it carried.
func browse(codes *[]string) func(context.Context, string) error {
	return func(ctx context.Context, u string) error {
		c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if code := r.URL.Query().Get("code"); code != "" {
				*codes = append(*codes, code)
			}
			return nil
		}}
		go func() {
			if resp, err := c.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

func run(t *testing.T, req flows.Request, tr http.RoundTripper, open func(context.Context, string) error) *flows.Result {
	t.Helper()
	req.Timeout, req.Wait = 10*time.Second, 20*time.Second
	eng, err := oauth.New(req, oauth.Options{Transport: tr, OpenURL: open})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res := eng.Run(context.Background(), flows.Discard)
	if res.Err != nil || res.Token == nil {
		t.Fatalf("%s: %v", req.Flow, res.Reason())
	}
	return res
}

// TestHARMasksEverySecret runs auth-code (Basic client auth), refresh and
// client credentials with private_key_jwt against the mock IdP and checks
// every credential that went on the wire, and every token that came back,
// is absent from the archive (tokens present only with Tokens).
func TestHARMasksEverySecret(t *testing.T) {
	idp := mockidptest.New(t)
	w := &wire{next: http.DefaultTransport}
	var codes []string
	web := flows.Request{Flow: flows.FlowAuthCode, Issuer: idp.Issuer(), ClientID: "demo-web", ClientSecret: "demo-web-secret",
		AuthMethod: flows.AuthClientSecretBasic, Scopes: []string{"openid", "offline_access", "api:read"}}
	code := run(t, web, w, browse(&codes))
	if len(codes) != 1 || code.Token.RefreshToken == "" {
		t.Fatalf("codes %d, refresh token %v", len(codes), code.Token.RefreshToken != "")
	}
	ref := web
	ref.Flow, ref.Token = flows.FlowRefresh, flows.Secret(code.Token.RefreshToken)
	ref.AuthMethod = flows.AuthClientSecretJWT // a client assertion on the wire
	ref.CallURL = idp.Issuer() + "/api/hello"
	refresh := run(t, ref, w, nil)
	post := flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc", ClientSecret: "demo-cc-secret",
		AuthMethod: flows.AuthClientSecretPost, Scopes: []string{"api:read"}}
	cc := run(t, post, w, nil)

	secrets := append([]string{"demo-web-secret", "demo-cc-secret", base64.StdEncoding.EncodeToString([]byte("demo-web:demo-web-secret"))}, w.sent()...)
	secrets = append(secrets, codes...)
	assertions := w.assertions
	if len(assertions) == 0 {
		t.Fatal("no client assertion was sent")
	}
	for _, res := range []*flows.Result{code, refresh, cc} {
		tokens := []string{res.Token.AccessToken, res.Token.RefreshToken, res.Token.IDToken}
		_, doc := parseHAR(t, res, har.Options{})
		absent(t, doc, res.Flow+": credential sent", secrets...)
		absent(t, doc, res.Flow+": token", tokens...)
		absent(t, doc, res.Flow+": earlier token", code.Token.AccessToken, code.Token.RefreshToken, code.Token.IDToken)

		_, doc = parseHAR(t, res, har.Options{Tokens: true, Version: "test"})
		absent(t, doc, res.Flow+" with tokens: secret", secrets[:3]...)
		absent(t, doc, res.Flow+" with tokens: client assertion", assertions...)
		if !strings.Contains(doc, res.Token.AccessToken) {
			t.Errorf("%s with tokens: the access token is not in the HAR", res.Flow)
		}
	}
	// The resource call sent the refreshed token as a Bearer credential:
	// --har-tokens puts it back in the Authorization header.
	h, _ := parseHAR(t, refresh, har.Options{Tokens: true})
	found := false
	for _, e := range h.Log.Entries {
		for _, hd := range e.Request.Headers {
			if hd.Name == "Authorization" && hd.Value == "Bearer "+refresh.Token.AccessToken {
				found = true
			}
		}
	}
	if !found {
		t.Error("with tokens: the resource call's Bearer token was not restored")
	}
}

func TestHAREmpty(t *testing.T) {
	h := har.Build(nil, har.Options{})
	if h.Log.Version != "1.2" || h.Log.Entries == nil || len(h.Log.Entries) != 0 {
		t.Fatalf("%+v", h.Log)
	}
}
