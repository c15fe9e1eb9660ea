package apikey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/flows/har"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// everywhere is what a result prints, stores and exports: its JSON, its
// exchanges (with headers), its HAR and its reason.
func everywhere(t *testing.T, res *flows.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(res); err != nil {
		t.Fatal(err)
	}
	for _, ex := range res.Exchanges {
		json.NewEncoder(&b).Encode(ex)
	}
	if err := har.Write(&b, res, har.Options{Tokens: true}); err != nil {
		t.Fatal(err)
	}
	b.WriteString(res.Reason())
	for _, s := range res.Steps {
		b.WriteString(s.Detail)
	}
	return b.String()
}

func assertNoKey(t *testing.T, res *flows.Result, key string) {
	t.Helper()
	all := everywhere(t, res)
	for _, form := range []string{key, url.QueryEscape(key)} {
		if strings.Contains(all, form) {
			t.Fatalf("the key %q shows in the result: %.600s", form, all)
		}
	}
}

func TestSendAgainstMockIdP(t *testing.T) {
	idp := mockidptest.New(t)
	target := idp.URL() + "/api/key"
	t.Run("default header", func(t *testing.T) {
		res := apikey.Send(context.Background(), apikey.Request{URL: target, Key: mockidp.DemoAPIKey}, nil)
		if !res.OK || res.Failed() || res.Call == nil || res.Call.Status != 200 || !strings.Contains(res.Call.Body, `"via":"header"`) {
			t.Fatalf("ok=%v reason=%q call=%+v", res.OK, res.Reason(), res.Call)
		}
		if len(res.Exchanges) != 1 || res.Exchanges[0].RequestHeaders.Get("X-API-Key") != flows.Masked {
			t.Fatalf("exchanges %+v", res.Exchanges)
		}
		assertNoKey(t, res, mockidp.DemoAPIKey)
	})
	t.Run("query parameter", func(t *testing.T) {
		res := apikey.Send(context.Background(), apikey.Request{URL: target, Key: mockidp.DemoAPIKey, Query: mockidp.APIKeyQuery}, nil)
		if !res.OK || res.Call == nil || !strings.Contains(res.Call.Body, `"via":"query"`) {
			t.Fatalf("ok=%v reason=%q call=%+v", res.OK, res.Reason(), res.Call)
		}
		u, err := url.Parse(res.Exchanges[0].URL)
		if err != nil || u.Query().Get(mockidp.APIKeyQuery) != flows.Masked {
			t.Fatalf("exchange URL %q", res.Exchanges[0].URL)
		}
		assertNoKey(t, res, mockidp.DemoAPIKey)
	})
	for _, c := range []struct{ name, key string }{{"wrong key", "authlab-demo-api-kez"}, {"short wrong key", "abc"}} {
		t.Run(c.name, func(t *testing.T) {
			res := apikey.Send(context.Background(), apikey.Request{URL: target, Key: c.key, Query: mockidp.APIKeyQuery}, nil)
			if !res.Failed() || res.Err == nil || res.Err.Kind != flows.ErrCheck || res.Err.Status != 401 {
				t.Fatalf("want a failed check with 401, got %+v", res.Err)
			}
			if !strings.Contains(res.Err.Message, "invalid_api_key") || len(res.Checks) != 1 || !strings.Contains(res.Checks[0].Detail, `WWW-Authenticate: APIKey`) {
				t.Errorf("the reason does not explain: %q, checks %+v", res.Err.Message, res.Checks)
			}
			if res.Call == nil || !strings.Contains(res.Call.WWWAuthenticate, `header="X-API-Key"`) {
				t.Errorf("call %+v", res.Call)
			}
			if u, _ := url.Parse(res.Exchanges[0].URL); u.Query().Get(mockidp.APIKeyQuery) != flows.Masked {
				t.Errorf("exchange URL %q", res.Exchanges[0].URL)
			}
			if c.key != "abc" {
				assertNoKey(t, res, c.key)
			}
		})
	}
}

// A server that reflects the key everywhere it can, under a custom header.
func TestKeyMaskedWhenReflected(t *testing.T) {
	const key = "reflected-api-key-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Header.Get("Api-Token")
		w.Header().Set("X-Echo", k)
		w.Header().Set("WWW-Authenticate", `APIKey error="bad key `+k+`"`)
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"bad","error_description":"key ` + k + ` refused"}`))
	}))
	defer srv.Close()
	res := apikey.Send(context.Background(), apikey.Request{URL: srv.URL, Key: key, Header: "Api-Token"}, nil)
	if !res.Failed() || res.Err.Status != 403 {
		t.Fatalf("%+v", res.Err)
	}
	if got := res.Exchanges[0].RequestHeaders.Get("Api-Token"); got != flows.Masked {
		t.Fatalf("custom header recorded as %q", got)
	}
	assertNoKey(t, res, key)
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var reached atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	res := apikey.Send(context.Background(), apikey.Request{URL: srv.URL, Key: "redirected-api-key"}, nil)
	if !res.Failed() || !strings.Contains(res.Reason(), "not followed") {
		t.Fatalf("reason %q", res.Reason())
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

func TestValidate(t *testing.T) {
	base := apikey.Request{URL: "http://127.0.0.1:1/api", Key: "k"}
	cases := []struct {
		name string
		edit func(*apikey.Request)
		want string
	}{
		{"no key", func(r *apikey.Request) { r.Key = "" }, "no API key"},
		{"header and query", func(r *apikey.Request) { r.Header, r.Query = "X-Key", "key" }, "not both"},
		{"bad header name", func(r *apikey.Request) { r.Header = "X Key:" }, "not a header name"},
		{"no URL", func(r *apikey.Request) { r.URL = "" }, "no URL"},
		{"not http", func(r *apikey.Request) { r.URL = "ftp://host/x" }, "http or https"},
		{"parameter already in the URL", func(r *apikey.Request) { r.Query, r.URL = "key", "http://h/x?key=1" }, "already has"},
		{"line break in the key", func(r *apikey.Request) { r.Key = "a\nb" }, "line break"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base
			c.edit(&r)
			err := r.Validate()
			var fe *flows.Error
			if err == nil || !strings.Contains(err.Error(), c.want) || !asFlows(err, &fe) || fe.Kind != flows.ErrConfig {
				t.Fatalf("Validate() = %v, want a config error with %q", err, c.want)
			}
			if res := apikey.Send(context.Background(), r, nil); res.Err == nil || res.Err.Kind != flows.ErrConfig || len(res.Exchanges) != 0 {
				t.Fatalf("Send with %s: %+v, %d exchanges", c.name, res.Err, len(res.Exchanges))
			}
		})
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("valid request: %v", err)
	}
}

func asFlows(err error, fe **flows.Error) bool {
	e, ok := err.(*flows.Error)
	*fe = e
	return ok
}

// Build is what bench repeats: the same request Send sends.
func TestBuildPlacesTheKey(t *testing.T) {
	r := apikey.Request{URL: "http://127.0.0.1:1/api?a=1", Key: "the-key"}
	hr, err := r.Build(context.Background())
	if err != nil || hr.Header.Get(apikey.DefaultHeader) != "the-key" || hr.URL.Query().Get("a") != "1" || hr.Method != "GET" {
		t.Fatalf("%v %+v", err, hr)
	}
	r.Query = "key"
	hr, err = r.Build(context.Background())
	if err != nil || hr.URL.Query().Get("key") != "the-key" || hr.Header.Get(apikey.DefaultHeader) != "" {
		t.Fatalf("%v %+v", err, hr)
	}
}
