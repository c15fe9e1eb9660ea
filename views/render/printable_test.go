package render

import (
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/token"
)

// osc52 sets the clipboard and clears the screen when printed raw.
const osc52 = "x\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07\x1b[2J"

// assertNoControls fails when out holds any terminal control character.
func assertNoControls(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			t.Fatalf("%s: raw control %U reached the output:\n%q", what, r, out)
		}
	}
}

func TestPrintable(t *testing.T) {
	cases := map[string]string{
		"plain ascii":         "plain ascii",
		"ünïcødé ✓ 日本":        "ünïcødé ✓ 日本",
		osc52:                 `x\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07\x1b[2J`,
		"a\tb\nc\rd\x00\x7f":  `a\tb\nc\rd\x00\x7f`,
		"c1 \u009b2J":         `c1 \u009b2J`,
		"bad \x9b utf8":       `bad \x9b utf8`,
		"admin\u202e txt.exe": `admin\u202e txt.exe`,
		"line\u2028sep":       `line\u2028sep`,
	}
	for in, want := range cases {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		if got := Printable(Printable(in)); got != want {
			t.Errorf("Printable is not idempotent on %q: %q", in, got)
		}
	}
}

func TestRenderersEscapeTokenStrings(t *testing.T) {
	c := claims()
	c["sub"] = osc52
	c["nested"] = map[string]any{"deep": []any{osc52, "\u009b31m"}}
	c["name\x1b[31m"] = "v"
	c["del"] = "a\x7fb"
	h := map[string]any{"alg": "RS256", "kid": osc52, "typ": "JWT"}
	o := opts()

	claimsOut := Claims(c, o)
	assertNoControls(t, "Claims", claimsOut)
	for _, want := range []string{`x\x1b]52;c;`, `\x07\x1b[2J`, `name\x1b[31m`, `\u009b31m`, `a\x7fb`} {
		if !strings.Contains(claimsOut, want) {
			t.Errorf("Claims output lacks the escaped form %q:\n%s", want, claimsOut)
		}
	}

	headerOut := Header(h, o)
	assertNoControls(t, "Header", headerOut)
	if !strings.Contains(headerOut, `x\x1b]52;c;`) {
		t.Errorf("Header output lacks the escaped kid:\n%s", headerOut)
	}

	checksOut := Checks([]flows.Check{{Name: "kid", Status: flows.Fail, Detail: "no key " + osc52 + " in the JWKS"}}, o)
	assertNoControls(t, "Checks", checksOut)
	if !strings.Contains(checksOut, `x\x1b]52;c;`) {
		t.Errorf("Checks output lacks the escaped detail:\n%s", checksOut)
	}

	// The whole report, as `authlab token inspect` prints it.
	rep := &token.Report{Token: &token.Decoded{Format: token.FormatJWS, Header: h, Claims: c},
		Checks: []flows.Check{{Name: "iss", Status: flows.Fail, Detail: "issuer " + osc52}}}
	assertNoControls(t, "Report", Report(rep, token.Skew{}, o))
}
