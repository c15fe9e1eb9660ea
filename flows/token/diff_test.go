package token

import (
	"strings"
	"testing"
	"time"
)

func mintForDiff(t *testing.T, kid string, claims map[string]any) *Decoded {
	t.Helper()
	raw, err := Mint(MintOptions{Claims: claims, Kid: kid, Key: MintKey{Key: []byte("diff-test-secret-0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func field(t *testing.T, d *Diff, part, name string) FieldDiff {
	t.Helper()
	for _, f := range d.Fields {
		if f.Part == part && f.Name == name {
			return f
		}
	}
	t.Fatalf("no %s %s in the diff", part, name)
	return FieldDiff{}
}

// TestCompareTokensEachClaimType: a string (iss, sub), a number/time (exp,
// iat), an array aud, an object cnf, a claim missing on either side.
func TestCompareTokensEachClaimType(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	base := map[string]any{"iss": "https://idp.example", "sub": "alice", "aud": []any{"api", "billing"}, "scope": "read write",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "one", "cnf": map[string]any{"jkt": "AAA"}, "tenant": "t1"}
	a := mintForDiff(t, "k1", base)
	b := map[string]any{}
	for k, v := range base {
		b[k] = v
	}
	b["iss"] = "https://other.example"
	b["aud"] = "api"                           // array → string, one audience lost
	b["exp"] = now.Add(5 * time.Minute).Unix() // 55 min earlier
	b["iat"] = now.Add(-2 * time.Hour).Unix()  // 2h earlier
	b["cnf"] = map[string]any{"jkt": "BBB"}    // object changed
	b["scope"] = "write"                       // a scope lost
	delete(b, "tenant")                        // removed
	b["acr"] = "mfa"                           // added
	d, err := CompareTokens(a, mintForDiff(t, "k2", b), now)
	if err != nil {
		t.Fatal(err)
	}
	if d.SameClaims || d.SameHeader {
		t.Fatalf("same claims %v header %v", d.SameClaims, d.SameHeader)
	}
	for _, c := range []struct {
		part, name string
		change     Change
		meaning    string
	}{
		{"header", "kid", Changed, "another key"},
		{"claims", "iss", Changed, "a verifier configured for A's issuer rejects B"},
		{"claims", "aud", Changed, "aud differs: an API that accepts A (audience billing) rejects B"},
		{"claims", "exp", Changed, "B expires 55 min earlier"},
		{"claims", "iat", Changed, "B was issued 2h earlier"},
		{"claims", "cnf", Changed, "another key or certificate"},
		{"claims", "scope", Changed, "B lacks read"},
		{"claims", "tenant", Removed, ""},
		{"claims", "acr", Added, "authentication strength"},
		{"claims", "sub", Same, ""},
		{"claims", "jti", Same, ""},
	} {
		f := field(t, d, c.part, c.name)
		if f.Change != c.change || !strings.Contains(f.Meaning, c.meaning) {
			t.Errorf("%s %s: %s %q, want %s %q", c.part, c.name, f.Change, f.Meaning, c.change, c.meaning)
		}
	}
	if f := field(t, d, "claims", "exp"); !strings.Contains(f.AText, "(in 1h)") || !strings.Contains(f.BText, "(in 5 min)") || !strings.Contains(f.AText, "2023-11-14") {
		t.Errorf("exp in words: %q / %q", f.AText, f.BText)
	}
	if f := field(t, d, "claims", "tenant"); f.BText != "" || f.AText != "t1" {
		t.Errorf("removed claim texts %q / %q", f.AText, f.BText)
	}
}

func TestCompareTokensSameClaims(t *testing.T) {
	c := map[string]any{"sub": "alice", "aud": "api", "exp": 2_000_000_000}
	c2 := map[string]any{"sub": "alice", "aud": []any{"api"}, "exp": 2_000_000_000} // same audience, written as an array
	d, err := CompareTokens(mintForDiff(t, "k1", c), mintForDiff(t, "k2", c2), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !d.SameClaims || d.SameHeader || len(d.Differences()) != 1 {
		t.Fatalf("same claims %v, header %v, differences %+v", d.SameClaims, d.SameHeader, d.Differences())
	}
}

func TestCompareTokensRefusesOpaque(t *testing.T) {
	op, _ := Decode("opaque-token-value")
	if _, err := CompareTokens(mintForDiff(t, "", map[string]any{"sub": "x"}), op, time.Now()); err == nil || !strings.Contains(err.Error(), "token B is opaque") {
		t.Fatalf("err %v", err)
	}
}

func TestWords(t *testing.T) {
	for d, want := range map[time.Duration]string{42 * time.Second: "42 s", 55 * time.Minute: "55 min", 3*time.Hour + 5*time.Minute: "3h 5 min",
		2 * time.Hour: "2h", 52 * time.Hour: "2 days 4h", -time.Minute: "1 min"} {
		if got := Words(d); got != want {
			t.Errorf("Words(%v) = %q, want %q", d, got, want)
		}
	}
}
