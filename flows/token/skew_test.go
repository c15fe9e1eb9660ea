package token

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

func TestSkewFromDate(t *testing.T) {
	// Local send at 12:00:00.000, receive at 12:00:00.200; the server's Date
	// says 12:00:42 (so its clock read 12:00:42.000–12:00:42.999).
	sent := t0
	recv := t0.Add(200 * time.Millisecond)
	s, err := SkewFromDate(t0.Add(42*time.Second).Format(http.TimeFormat), sent, recv, "")
	if err != nil {
		t.Fatal(err)
	}
	// offset ∈ [42 s − 0.2 s, 43 s] → midpoint 42.4 s, half-width 0.6 s.
	if s.Offset != 42400*time.Millisecond || s.Uncertainty.Round(time.Millisecond) != 600*time.Millisecond {
		t.Fatalf("offset %v ± %v", s.Offset, s.Uncertainty)
	}
	if _, err := SkewFromDate("yesterday", sent, recv, ""); err == nil {
		t.Fatal("bad Date accepted")
	}
	ex := flows.Exchange{Method: "GET", URL: "https://idp/jwks", Started: sent, Duration: 200 * time.Millisecond,
		ResponseHeaders: http.Header{"Date": {t0.Add(-10 * time.Second).Format(http.TimeFormat)}}}
	s2, ok := SkewFromExchange(ex)
	if !ok || s2.Offset != -9600*time.Millisecond || s2.Source != "Date header of GET https://idp/jwks" {
		t.Fatalf("exchange: %+v %v", s2, ok)
	}
	if _, ok := SkewFromExchange(flows.Exchange{Err: "refused"}); ok {
		t.Fatal("failed exchange gave a skew")
	}
}

func TestSkewFromIssuedAtAndCombine(t *testing.T) {
	sent, recv := t0, t0.Add(50*time.Millisecond)
	a := SkewFromIssuedAt(t0.Add(-5*time.Second), sent, recv)
	// offset ∈ [-5 s − 50 ms, -4 s] → midpoint -4.525 s, ± 0.525 s
	if a.Offset != -4525*time.Millisecond || a.Source != "iat of a freshly issued token" {
		t.Fatalf("%+v", a)
	}
	b, _ := SkewFromDate(t0.Add(-5*time.Second).Format(http.TimeFormat), sent, t0.Add(2*time.Second), "Date")
	best, ok := CombineSkew(Skew{}, b, a)
	if !ok || best != a {
		t.Fatalf("the tighter estimate should win: %+v", best)
	}
	if _, ok := CombineSkew(); ok {
		t.Fatal("empty combine")
	}
}

func TestSkewVerdict(t *testing.T) {
	cases := []struct {
		off, unc, leeway time.Duration
		status           flows.Status
		want             string
	}{
		{42 * time.Second, time.Second, 30 * time.Second, flows.Fail, "the IdP's clock is 42 s ± 1 s ahead of yours; a 30 s leeway will reject its tokens for the first 12 s"},
		{-90 * time.Second, time.Second, 60 * time.Second, flows.Fail, "the IdP's clock is 1m30s ± 1 s behind yours; with a 1m00s leeway its tokens look expired 30 s before their exp"},
		{2 * time.Second, 500 * time.Millisecond, 60 * time.Second, flows.Pass, "the IdP's clock is 2 s ± 500 ms ahead of yours; within the 1m00s leeway"},
		{30 * time.Second, 2 * time.Second, 30 * time.Second, flows.Warn, "about the 30 s leeway"},
		{200 * time.Millisecond, 300 * time.Millisecond, 60 * time.Second, flows.Pass, "agrees with yours to within 300 ms"},
	}
	for _, c := range cases {
		s := Skew{Offset: c.off, Uncertainty: c.unc, Source: "test"}
		got := s.Check(c.leeway)
		if got.Status != c.status || !strings.Contains(got.Detail, c.want) || s.Verdict(c.leeway) != got.Detail {
			t.Errorf("offset %v: got %s %q, want %s %q", c.off, got.Status, got.Detail, c.status, c.want)
		}
	}
	if b, _ := (Skew{}).MarshalJSON(); string(b) != "null" {
		t.Fatal(string(b))
	}
	b, _ := Skew{Offset: 42 * time.Second, Uncertainty: time.Second, Source: "x"}.MarshalJSON()
	if string(b) != `{"offset_ms":42000,"uncertainty_ms":1000,"source":"x"}` {
		t.Fatal(string(b))
	}
}

func TestExplain(t *testing.T) {
	for _, c := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "auth_time", "acr", "amr", "azp", "at_hash", "c_hash",
		"client_id", "scope", "act", "may_act", "cnf", "cnf.x5t#S256", "cnf.jkt", "scp", "roles", "groups", "tid", "oid"} {
		if s, ok := Explain(c); !ok || len(s) < 10 {
			t.Errorf("no explanation for %q", c)
		}
	}
	if s, _ := Explain("cnf.jkt"); !strings.Contains(s, "RFC 9449") {
		t.Errorf("cnf.jkt: %q", s)
	}
	if _, ok := Explain("my_custom_claim"); ok {
		t.Error("explained an unknown claim")
	}
	if s, ok := ExplainHeader("kid"); !ok || !strings.Contains(s, "key id") {
		t.Error("kid header")
	}
}
