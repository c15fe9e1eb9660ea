package mockidp

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// readPostForm must give exactly what r.ParseForm gives for the bodies the
// token endpoint sees, including escapes, repeats and malformed input.
func TestReadPostFormMatchesParseForm(t *testing.T) {
	bodies := []string{
		"grant_type=client_credentials",
		"grant_type=client_credentials&scope=api:read",
		"a=1&a=2&b=",
		"&&a=1&&",
		"k",
		"=v",
		"",
		"scope=api%3Aread+api%3Awrite&client_id=demo-cc",
		"scope=api:read+api:write",
		"a=1;b=2",
		"a=%zz",
		"resource=https://a.example/x&resource=https://b.example/y",
	}
	for _, body := range bodies {
		fast := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		ref := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		for _, r := range []*http.Request{fast, ref} {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		errFast := readPostForm(fast)
		errRef := ref.ParseForm()
		if (errFast != nil) != (errRef != nil) {
			t.Fatalf("body %q: error %v, ParseForm says %v", body, errFast, errRef)
		}
		if errRef == nil && !reflect.DeepEqual(fast.PostForm, ref.PostForm) {
			t.Fatalf("body %q: got %v, ParseForm gives %v", body, fast.PostForm, ref.PostForm)
		}
	}
}

// Values share one backing array: appending to one key must not overwrite
// the next key's value.
func TestReadPostFormValuesAreIndependent(t *testing.T) {
	r := httptest.NewRequest("POST", "/token", strings.NewReader("a=1&b=2"))
	if err := readPostForm(r); err != nil {
		t.Fatal(err)
	}
	r.PostForm["a"] = append(r.PostForm["a"], "x")
	if got := r.PostForm["b"]; len(got) != 1 || got[0] != "2" {
		t.Fatalf("b = %q after appending to a", got)
	}
}

func TestReadPostFormShortBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=x"))
	r.ContentLength = 40 // the client promised more than it sent
	if err := readPostForm(r); err == nil {
		t.Fatal("a body shorter than Content-Length was accepted")
	}
}

// basicAuth must agree with net/http's Request.BasicAuth on every input.
func TestBasicAuthMatchesNetHTTP(t *testing.T) {
	b64s := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	headers := []string{
		"",
		"Basic " + b64s("demo-cc:demo-cc-secret"),
		"basic " + b64s("demo-cc:demo-cc-secret"),
		"BASIC " + b64s("a%3Ab:c"),
		"Basic " + b64s("a:b:c"),
		"Basic " + b64s(":"),
		"Basic " + b64s("nocolon"),
		"Basic " + b64s("id:"+strings.Repeat("s", 300)), // longer than the stack buffer
		"Basic !!!",
		"Basic",
		"Basic ",
		"Bearer abc",
		"Basicx" + b64s("a:b"),
	}
	for _, h := range headers {
		r := httptest.NewRequest("POST", "/token", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		u, p, ok := basicAuth(r)
		wu, wp, wok := r.BasicAuth()
		if u != wu || p != wp || ok != wok {
			t.Fatalf("header %q: got (%q, %q, %v), net/http gives (%q, %q, %v)", h, u, p, ok, wu, wp, wok)
		}
	}
}
