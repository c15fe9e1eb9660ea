package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Change says how one header parameter or claim differs between two tokens.
type Change string

const (
	Same    Change = "same"
	Added   Change = "added"   // only in B
	Removed Change = "removed" // only in A
	Changed Change = "changed"
)

// FieldDiff is one header parameter or claim of two tokens, side by side.
type FieldDiff struct {
	Part   string `json:"part"` // "header" or "claims"
	Name   string `json:"name"`
	Change Change `json:"change"`
	A      any    `json:"a,omitempty"`
	B      any    `json:"b,omitempty"`
	// AText and BText are the values as a person reads them (times in
	// words beside the date); "" when absent.
	AText string `json:"a_text,omitempty"`
	BText string `json:"b_text,omitempty"`
	// Meaning is what the difference does, where that is known ("aud
	// differs: an API that accepts A rejects B").
	Meaning string `json:"meaning,omitempty"`
}

// Diff compares two decoded JWTs.
type Diff struct {
	Fields []FieldDiff `json:"fields"`
	// SameClaims is true when every claim is the same (the header may still
	// differ: a new kid after key rotation is normal).
	SameClaims bool `json:"same_claims"`
	SameHeader bool `json:"same_header"`
	// ClaimsOnly is true when a header was missing, so only the claims
	// were compared (SameHeader says nothing then).
	ClaimsOnly bool `json:"claims_only,omitempty"`
}

// ClaimDifferences is how many claims differ.
func (d *Diff) ClaimDifferences() int {
	n := 0
	for _, f := range d.Fields {
		if f.Part == "claims" && f.Change != Same {
			n++
		}
	}
	return n
}

// Differences returns the fields that differ.
func (d *Diff) Differences() []FieldDiff {
	var out []FieldDiff
	for _, f := range d.Fields {
		if f.Change != Same {
			out = append(out, f)
		}
	}
	return out
}

// CompareTokens diffs the header and claims of a and b (both decoded JWS;
// a token without claims is an error: there is nothing to compare). now
// puts times in words.
func CompareTokens(a, b *Decoded, now time.Time) (*Diff, error) {
	for _, t := range []struct {
		name string
		d    *Decoded
	}{{"A", a}, {"B", b}} {
		if t.d == nil {
			return nil, fmt.Errorf("token %s is missing", t.name)
		}
		if t.d.Format != FormatJWS || t.d.Claims == nil {
			return nil, fmt.Errorf("token %s is %s: only a JWT (JWS) has claims to compare", t.name, describeFormat(t.d.Format))
		}
	}
	// a decoded JWS always has a header, even an empty one: compare it
	hdr := func(h map[string]any) map[string]any {
		if h == nil {
			return map[string]any{}
		}
		return h
	}
	return CompareClaims(Parts{Header: hdr(a.Header), Claims: a.Claims}, Parts{Header: hdr(b.Header), Claims: b.Claims}, now), nil
}

// Parts are the decoded header and claims of a token, as a history entry
// keeps them (never the token itself).
type Parts struct {
	Header map[string]any
	Claims map[string]any
}

// CompareClaims diffs two tokens' decoded parts. When either header is
// missing (an older history entry), only the claims are compared and
// ClaimsOnly says so. now puts times in words.
func CompareClaims(a, b Parts, now time.Time) *Diff {
	d := &Diff{SameClaims: true, SameHeader: true, ClaimsOnly: a.Header == nil || b.Header == nil}
	type part struct {
		name string
		a, b map[string]any
		same *bool
	}
	parts := []part{{"header", a.Header, b.Header, &d.SameHeader}, {"claims", a.Claims, b.Claims, &d.SameClaims}}
	if d.ClaimsOnly {
		parts = parts[1:]
	}
	for _, part := range parts {
		for _, k := range unionKeys(part.a, part.b) {
			av, aok := part.a[k]
			bv, bok := part.b[k]
			f := FieldDiff{Part: part.name, Name: k, A: av, B: bv}
			switch {
			case !aok:
				f.Change = Added
			case !bok:
				f.Change = Removed
			case sameValue(k, av, bv):
				f.Change = Same
			default:
				f.Change = Changed
			}
			if aok {
				f.AText = valueText(part.name, k, av, now)
			}
			if bok {
				f.BText = valueText(part.name, k, bv, now)
			}
			if f.Change != Same {
				*part.same = false
				f.Meaning = meaning(part.name, k, f.Change, av, bv)
			}
			d.Fields = append(d.Fields, f)
		}
	}
	return d
}

func describeFormat(f Format) string {
	switch f {
	case FormatJWE:
		return "encrypted (JWE)"
	case FormatOpaque:
		return "opaque"
	}
	return string(f)
}

// unionKeys: well-known names first in a fixed order, then the rest sorted.
func unionKeys(a, b map[string]any) []string {
	order := []string{"alg", "typ", "kid", "iss", "sub", "aud", "azp", "client_id", "scope", "scp", "exp", "nbf", "iat", "auth_time", "jti", "cnf"}
	seen := map[string]bool{}
	var out, rest []string
	for _, k := range order {
		_, aok := a[k]
		_, bok := b[k]
		if aok || bok {
			out = append(out, k)
			seen[k] = true
		}
	}
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// timeClaims are NumericDate claims (RFC 7519 and OIDC).
func isTimeClaim(k string) bool {
	switch k {
	case "exp", "nbf", "iat", "auth_time", "updated_at":
		return true
	}
	return false
}

// sameValue compares JSON values; aud is compared as a set ("a" and ["a"]
// name the same audience), scope as a set of words.
func sameValue(k string, a, b any) bool {
	switch k {
	case "aud":
		return slices.Equal(sortedSet(stringList(a)), sortedSet(stringList(b)))
	case "scope", "scp":
		return slices.Equal(sortedSet(scopeList(a)), sortedSet(scopeList(b)))
	}
	if isTimeClaim(k) {
		ta, aok := ClaimTime(a)
		tb, bok := ClaimTime(b)
		if aok && bok {
			return ta.Equal(tb)
		}
	}
	return bytes.Equal(canonical(a), canonical(b))
}

func canonical(v any) []byte {
	b, _ := json.Marshal(v) // map keys are sorted; json.Number stays as written
	return b
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, string(canonical(e)))
			}
		}
		return out
	}
	if v == nil {
		return nil
	}
	return []string{string(canonical(v))}
}

func scopeList(v any) []string {
	if s, ok := v.(string); ok {
		return strings.Fields(s)
	}
	return stringList(v)
}

func sortedSet(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// minus is what a has and b lacks.
func minus(a, b []string) []string {
	var out []string
	for _, s := range sortedSet(a) {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// valueText renders a value for a person: times as a date and in words.
func valueText(part, k string, v any, now time.Time) string {
	if part == "claims" && isTimeClaim(k) {
		if t, ok := ClaimTime(v); ok {
			return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + relWords(t, now) + ")"
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	return string(canonical(v))
}

// relWords is "in 55 min" or "3h 5 min ago".
func relWords(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > 0:
		return "in " + Words(d)
	case d < 0:
		return Words(-d) + " ago"
	}
	return "now"
}

// Words renders a duration as people say it: "42 s", "55 min", "3h 5 min",
// "2 days 4h".
func Words(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	itoa := func(n time.Duration) string { return strconv.FormatInt(int64(n), 10) }
	switch {
	case d < time.Minute:
		return itoa(d/time.Second) + " s"
	case d < time.Hour:
		return itoa(d/time.Minute) + " min"
	case d < 48*time.Hour:
		h, m := d/time.Hour, d%time.Hour/time.Minute
		if m == 0 {
			return itoa(h) + "h"
		}
		return itoa(h) + "h " + itoa(m) + " min"
	}
	days, h := d/(24*time.Hour), d%(24*time.Hour)/time.Hour
	if h == 0 {
		return itoa(days) + " days"
	}
	return itoa(days) + " days " + itoa(h) + "h"
}

// meaning explains what a difference does, for the claims where that is
// known; "" elsewhere.
func meaning(part, k string, c Change, a, b any) string {
	if part == "header" {
		switch k {
		case "alg":
			return "signed with another algorithm: a verifier that pins A's alg rejects B"
		case "kid":
			return "signed with another key: the verifier's JWKS must hold both (normal after key rotation)"
		case "typ":
			return "typ differs: a verifier that checks typ (RFC 9068 at+jwt, RFC 8725) may accept only one of them"
		case "x5c", "x5t#S256", "jku", "jwk":
			return "the key is found another way: verifiers that resolve keys differently may reject one"
		}
		return ""
	}
	switch {
	case k == "aud":
		lost, gained := minus(stringList(a), stringList(b)), minus(stringList(b), stringList(a))
		var parts []string
		if len(lost) > 0 {
			parts = append(parts, "an API that accepts A (audience "+strings.Join(lost, ", ")+") rejects B")
		}
		if len(gained) > 0 {
			parts = append(parts, "B is also accepted by "+strings.Join(gained, ", "))
		}
		if len(parts) == 0 {
			return "aud differs"
		}
		return "aud differs: " + strings.Join(parts, "; ")
	case k == "scope" || k == "scp":
		lost, gained := minus(scopeList(a), scopeList(b)), minus(scopeList(b), scopeList(a))
		var parts []string
		if len(lost) > 0 {
			parts = append(parts, "B lacks "+strings.Join(lost, " ")+": calls that need it are refused with B")
		}
		if len(gained) > 0 {
			parts = append(parts, "B also grants "+strings.Join(gained, " "))
		}
		return "scope differs: " + strings.Join(parts, "; ")
	case k == "iss":
		if c == Changed {
			return "iss differs: a verifier configured for A's issuer rejects B"
		}
		return "only one names an issuer: a verifier that requires iss rejects the other"
	case k == "sub":
		return "a different subject (user or client): the API sees someone else"
	case k == "azp" || k == "client_id":
		return "issued to a different client"
	case k == "jti":
		return "a different token id (expected for two tokens)"
	case k == "cnf":
		switch c {
		case Added:
			return "B is sender-constrained (bound to a key or certificate); A is a bearer token"
		case Removed:
			return "A is sender-constrained; B is a bearer token anyone holding it can use"
		}
		return "bound to another key or certificate: B needs B's proof key, A's does not fit"
	case k == "exp":
		ta, aok := ClaimTime(a)
		tb, bok := ClaimTime(b)
		switch {
		case aok && bok:
			return "B expires " + earlierLater(tb.Sub(ta))
		case c == Removed:
			return "B never expires (no exp): most verifiers refuse that"
		case c == Added:
			return "A never expires (no exp); B does"
		}
	case k == "iat":
		if ta, aok := ClaimTime(a); aok {
			if tb, bok := ClaimTime(b); bok {
				return "B was issued " + earlierLater(tb.Sub(ta))
			}
		}
	case k == "nbf":
		if ta, aok := ClaimTime(a); aok {
			if tb, bok := ClaimTime(b); bok {
				return "B becomes valid " + earlierLater(tb.Sub(ta))
			}
		}
		if c == Added {
			return "B is not valid before its nbf"
		}
	case k == "auth_time":
		return "the user signed in at another time: APIs that require a recent login (max_age) may refuse the older"
	case k == "acr" || k == "amr":
		return "a different authentication strength: APIs that require step-up may accept only one"
	}
	return ""
}

func earlierLater(d time.Duration) string {
	switch {
	case d < 0:
		return Words(-d) + " earlier"
	case d > 0:
		return Words(d) + " later"
	}
	return "at the same time"
}
