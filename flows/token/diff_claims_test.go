package token

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCompareClaimsPerType: one case per kind of value a claim or header
// parameter holds, with the change and meaning each must report.
func TestCompareClaimsPerType(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	hdr := map[string]any{"alg": "RS256", "kid": "k1", "typ": "at+jwt"}
	for _, c := range []struct {
		name       string
		part, key  string
		a, b       any // nil: absent on that side
		change     Change
		meaning    string // substring; "" when none is expected
		aText      string // substring of A's text, when set
		sameClaims bool
	}{
		{"string", "claims", "sub", "alice", "bob", Changed, "a different subject", "alice", false},
		{"string same", "claims", "sub", "alice", "alice", Same, "", "", true},
		{"array aud lost", "claims", "aud", []any{"api", "billing"}, []any{"api"}, Changed, "accepts A (audience billing) rejects B", "", false},
		{"array aud gained", "claims", "aud", "api", []any{"api", "ledger"}, Changed, "B is also accepted by ledger", "", false},
		{"array aud as set", "claims", "aud", []any{"b", "a"}, []any{"a", "b", "a"}, Same, "", "", true},
		{"array other order matters", "claims", "roles", []any{"a", "b"}, []any{"b", "a"}, Changed, "", `["a","b"]`, false},
		{"number", "claims", "tier", json.Number("2"), float64(3), Changed, "", "2", false},
		{"number json.Number vs float64", "claims", "tier", json.Number("2"), float64(2), Same, "", "", true},
		{"time exp earlier", "claims", "exp", now.Add(time.Hour).Unix(), float64(now.Add(5 * time.Minute).Unix()), Changed, "B expires 55 min earlier", "(in 1h)", false},
		{"time exp removed", "claims", "exp", now.Unix(), nil, Removed, "B never expires", "2023-11-14 22:13:20 UTC", false},
		{"time nbf added", "claims", "nbf", nil, now.Unix(), Added, "not valid before", "", false},
		{"nested object", "claims", "cnf", map[string]any{"jkt": "AAA"}, map[string]any{"jkt": "BBB"}, Changed, "bound to another key", `{"jkt":"AAA"}`, false},
		{"nested object key order", "claims", "act", map[string]any{"sub": "svc", "iss": "x"}, map[string]any{"iss": "x", "sub": "svc"}, Same, "", "", true},
		{"nested object deeper", "claims", "act", map[string]any{"sub": "svc", "act": map[string]any{"sub": "u1"}}, map[string]any{"sub": "svc", "act": map[string]any{"sub": "u2"}}, Changed, "", "u1", false},
		{"header alg", "header", "alg", "RS256", "HS256", Changed, "a verifier that pins A's alg rejects B", "RS256", true},
		{"header kid", "header", "kid", "k1", "k2", Changed, "normal after key rotation", "k1", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := Parts{Header: clone(hdr), Claims: map[string]any{"iss": "https://idp.example"}}
			b := Parts{Header: clone(hdr), Claims: map[string]any{"iss": "https://idp.example"}}
			pa, pb := a.Claims, b.Claims
			if c.part == "header" {
				pa, pb = a.Header, b.Header
			}
			if c.a != nil {
				pa[c.key] = c.a
			}
			if c.b != nil {
				pb[c.key] = c.b
			}
			d := CompareClaims(a, b, now)
			f := field(t, d, c.part, c.key)
			if f.Change != c.change {
				t.Fatalf("%s %s: change %s, want %s", c.part, c.key, f.Change, c.change)
			}
			if c.meaning == "" && f.Change == Same && f.Meaning != "" {
				t.Errorf("a field that is the same has a meaning %q", f.Meaning)
			}
			if !strings.Contains(f.Meaning, c.meaning) {
				t.Errorf("meaning %q, want it to contain %q", f.Meaning, c.meaning)
			}
			if c.aText != "" && !strings.Contains(f.AText, c.aText) {
				t.Errorf("A text %q, want it to contain %q", f.AText, c.aText)
			}
			if d.SameClaims != c.sameClaims {
				t.Errorf("SameClaims = %v, want %v", d.SameClaims, c.sameClaims)
			}
			if d.SameHeader != (c.part != "header" || c.change == Same) || d.ClaimsOnly {
				t.Errorf("SameHeader %v ClaimsOnly %v", d.SameHeader, d.ClaimsOnly)
			}
			if c.change != Same && d.ClaimDifferences() != map[bool]int{true: 1, false: 0}[c.part == "claims"] {
				t.Errorf("ClaimDifferences = %d", d.ClaimDifferences())
			}
		})
	}
}

// TestCompareClaimsWithoutHeader: an older history entry has no header, so
// only claims are compared, and the diff says so.
func TestCompareClaimsWithoutHeader(t *testing.T) {
	a := Parts{Claims: map[string]any{"sub": "alice"}}
	b := Parts{Header: map[string]any{"alg": "RS256"}, Claims: map[string]any{"sub": "alice"}}
	d := CompareClaims(a, b, time.Now())
	if !d.ClaimsOnly || !d.SameClaims {
		t.Fatalf("ClaimsOnly %v SameClaims %v", d.ClaimsOnly, d.SameClaims)
	}
	for _, f := range d.Fields {
		if f.Part == "header" {
			t.Fatalf("a header field was compared without both headers: %+v", f)
		}
	}
}

// TestCompareClaimsMatchesCompareTokens: history keeps the decoded parts
// through JSON (numbers come back as float64); comparing those gives the
// same diff as comparing the tokens themselves, as `token diff` does.
func TestCompareClaimsMatchesCompareTokens(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ta := mintForDiff(t, "k1", map[string]any{"sub": "alice", "aud": "api", "exp": now.Add(time.Hour).Unix(), "cnf": map[string]any{"jkt": "A"}})
	tb := mintForDiff(t, "k2", map[string]any{"sub": "alice", "aud": "other", "exp": now.Add(5 * time.Minute).Unix(), "n": 1.5})
	want, err := CompareTokens(ta, tb, now)
	if err != nil {
		t.Fatal(err)
	}
	got := CompareClaims(Parts{roundTrip(t, ta.Header), roundTrip(t, ta.Claims)}, Parts{roundTrip(t, tb.Header), roundTrip(t, tb.Claims)}, now)
	if len(got.Fields) != len(want.Fields) || got.SameClaims != want.SameClaims || got.SameHeader != want.SameHeader {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for i := range want.Fields {
		w, g := want.Fields[i], got.Fields[i]
		if w.Part != g.Part || w.Name != g.Name || w.Change != g.Change || w.Meaning != g.Meaning || w.AText != g.AText || w.BText != g.BText {
			t.Errorf("field %d: got %+v, want %+v", i, g, w)
		}
	}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func roundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
