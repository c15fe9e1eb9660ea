package render

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"authlab/flows"
	"authlab/flows/token"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func num(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

func claims() map[string]any {
	return map[string]any{
		"iss":       "https://idp.example.test",
		"sub":       "user-42",
		"aud":       []any{"api", "client-1"},
		"azp":       "client-1",
		"iat":       num(now.Add(-45 * time.Minute).Unix()),
		"exp":       num(now.Add(15 * time.Minute).Unix()),
		"nbf":       num(now.Add(-45 * time.Minute).Unix()),
		"scope":     "openid profile email api.read api.write offline_access a-rather-long-scope-name-to-force-wrapping",
		"cnf":       map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
		"x_custom":  true,
		"roles":     []any{"admin", "reader"},
		"auth_time": num(now.Add(-2 * time.Hour).Unix()),
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "render", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./views/render -update)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func opts() Options {
	return Options{Width: 80, Now: now, Loc: time.FixedZone("CET", 3600)}
}

func TestClaimsGolden(t *testing.T) {
	o := opts()
	golden(t, "claims.txt", Claims(claims(), o))
	o.Explain = true
	golden(t, "claims_explain.txt", Claims(claims(), o))
	o.Width = 40
	golden(t, "claims_narrow.txt", Claims(claims(), o))
}

func TestChecksGolden(t *testing.T) {
	cs := []flows.Check{
		{Name: "signature", Status: flows.Pass, Detail: `RS256, verified with kid "k1" RSA 2048-bit from JWKS https://idp.example.test/jwks`},
		{Name: "exp", Status: flows.Fail, Detail: "expired 42 s ago (at 2026-11-27 11:59:18Z); leeway 30 s"},
		{Name: "typ", Status: flows.Warn, Detail: "typ is JWT; RFC 9068 access tokens say at+jwt, and resource servers that follow it reject anything else"},
	}
	golden(t, "checks.txt", Checks(cs, opts()))
}

func TestExpiryBarGolden(t *testing.T) {
	o := opts()
	var b strings.Builder
	for _, c := range []struct{ start, exp time.Duration }{
		{-45 * time.Minute, 15 * time.Minute},
		{-time.Hour, -42 * time.Second},
		{-5 * time.Minute, 55 * time.Minute},
		{-59 * time.Minute, time.Minute},
	} {
		b.WriteString(ExpiryBar(now.Add(c.start), now.Add(c.exp), o) + "\n")
	}
	b.WriteString(ExpiryBar(time.Time{}, now.Add(time.Hour), o) + "\n")
	b.WriteString(ExpiryBar(time.Time{}, time.Time{}, o) + "\n")
	golden(t, "expiry.txt", b.String())
	if !strings.Contains(b.String(), "75% of 1h00m used · expires in 15m00s") {
		t.Fatal("bar text")
	}
}

func TestSkewGolden(t *testing.T) {
	o := opts()
	var b strings.Builder
	for _, s := range []token.Skew{
		{Offset: 42 * time.Second, Uncertainty: time.Second, Source: "Date header of GET https://idp.example.test/jwks"},
		{Offset: -3 * time.Second, Uncertainty: 600 * time.Millisecond, Source: "iat of a freshly issued token"},
		{Offset: -2 * time.Minute, Uncertainty: time.Second, Source: "Date header of GET https://idp.example.test/.well-known/openid-configuration"},
	} {
		b.WriteString(SkewLine(s, 30*time.Second, o) + "\n" + SkewGauge(s, 30*time.Second, o) + "\n")
	}
	b.WriteString(SkewLine(token.Skew{}, 30*time.Second, o) + "\n")
	golden(t, "skew.txt", b.String())
}

func TestWidthAndColor(t *testing.T) {
	o := opts()
	o.Explain = true
	for _, w := range []int{40, 80, 120} {
		o.Width = w
		for _, s := range []string{Claims(claims(), o), Checks([]flows.Check{{Name: "x", Status: flows.Fail, Detail: strings.Repeat("word ", 60)}}, o)} {
			for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
				if n := utf8.RuneCountInString(line); n > w {
					t.Fatalf("width %d: line of %d: %q", w, n, line)
				}
			}
		}
	}
	o = opts()
	plain := Checks([]flows.Check{{Name: "exp", Status: flows.Fail, Detail: "expired"}}, o)
	if strings.Contains(plain, "\x1b[") {
		t.Fatalf("colour without Color: %q", plain)
	}
	o.Color = true
	colored := Checks([]flows.Check{{Name: "exp", Status: flows.Fail, Detail: "expired"}}, o)
	if !strings.Contains(colored, "\x1b[") || !strings.Contains(colored, "✗") {
		t.Fatalf("no colour with Color: %q", colored)
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "now", 252 * time.Second: "in 4m12s", -3 * time.Hour: "3h00m ago", -50 * time.Hour: "2d2h ago",
	} {
		if got := Relative(now.Add(d), now); got != want {
			t.Errorf("Relative(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestReportGolden(t *testing.T) {
	d := &token.Decoded{Format: token.FormatJWS, Header: map[string]any{"alg": "RS256", "kid": "k1", "typ": "at+jwt"}, Claims: claims()}
	r := &token.Report{Token: d, Leeway: 30 * time.Second, Checks: []flows.Check{{Name: "signature", Status: flows.Pass, Detail: "RS256"}}}
	skew := token.Skew{Offset: 42 * time.Second, Uncertainty: time.Second, Source: "Date header of GET https://idp.example.test/jwks"}
	golden(t, "report.txt", Report(r, skew, opts()))
	opaque := &token.Report{Token: &token.Decoded{Format: token.FormatOpaque, Length: 22, Fingerprint: strings.Repeat("ab", 32)}}
	golden(t, "report_opaque.txt", Report(opaque, token.Skew{}, opts()))
}
