package flows

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSecretNeverPrints(t *testing.T) {
	const v = "s3cr3t-Value"
	r := Request{Flow: FlowClientCredentials, ClientID: "c", ClientSecret: v, Token: "tok-Value"}
	outs := []string{
		fmt.Sprint(r), fmt.Sprintf("%v %+v %s %q %x %#v", r.ClientSecret, r.ClientSecret, r.ClientSecret, r.ClientSecret, r.ClientSecret, r.ClientSecret),
		fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r.Token), r.String(),
	}
	b, _ := json.Marshal(r)
	outs = append(outs, string(b))
	for _, o := range outs {
		if strings.Contains(o, v) || strings.Contains(o, "tok-Value") || strings.Contains(o, fmt.Sprintf("%x", v)) {
			t.Fatalf("secret leaked: %s", o)
		}
	}
	if r.ClientSecret.Reveal() != v || !strings.Contains(string(b), Masked) {
		t.Fatalf("reveal %q json %s", r.ClientSecret.Reveal(), b)
	}
	if Secret("").String() != "" {
		t.Fatal("an empty secret should print empty")
	}
}

func TestTokenResponseLenient(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int64
		ok   bool
	}{{float64(3600), 3600, true}, {"3600", 3600, true}, {json.Number("60"), 60, true}, {"soon", 0, false}, {" 42 ", 42, true}} {
		tr := NewTokenResponse(map[string]any{"expires_in": c.v, "scope": []any{"a", "b"}}, mustTime("2026-01-02T03:04:05Z"))
		if tr.ExpiresIn != c.want || tr.HasExpiresIn != c.ok || tr.Scope != "a b" {
			t.Errorf("%v: %d %v %q", c.v, tr.ExpiresIn, tr.HasExpiresIn, tr.Scope)
		}
	}
}

func TestResultJSONShape(t *testing.T) {
	r := &Result{Flow: "x", Exchanges: []Exchange{{Method: "POST", URL: "http://i/token", Status: 200, Duration: 1500000, RequestBody: "client_secret=" + Masked}}}
	r.Fail(Errorf(ErrOAuth, "boom"))
	b, _ := json.Marshal(r)
	s := string(b)
	for _, want := range []string{`"flow":"x"`, `"ok":false`, `"error":{"kind":"oauth","message":"boom"}`, `"checks":[]`, `"exchanges":[{"method":"POST","url":"http://i/token","status":200,"duration_ms":1.5}]`} {
		if !strings.Contains(s, want) {
			t.Errorf("json %s lacks %s", s, want)
		}
	}
	if strings.Contains(s, "request_body") {
		t.Errorf("json carries exchange bodies: %s", s)
	}
	if r.Reason() != "boom" || !r.Failed() {
		t.Errorf("reason %q", r.Reason())
	}
}

func mustTime(s string) (t time.Time) {
	t, _ = time.Parse(time.RFC3339, s)
	return t
}
