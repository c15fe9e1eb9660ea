package render

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable makes an untrusted string (a token claim, header, key id, issuer,
// profile field or server-sent error) safe to print on a terminal. C0 and C1
// control characters, DEL, invalid UTF-8 bytes, Unicode line separators and
// bidi overrides are shown as escapes (\x1b, \u009b, \u202e; \t \n \r as
// such), so a claim cannot clear the screen, set the clipboard (OSC 52) or
// reorder what the user reads. Ordinary printable Unicode is kept as is.
func Printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s // the common case: printable ASCII, no allocation
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, unsafeFormat(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeFormat reports the invisible characters that change how the rest of
// a line reads: bidi embeddings/overrides/isolates (Trojan Source) and the
// Unicode line and paragraph separators.
func unsafeFormat(r rune) bool {
	switch {
	case r == 0x200e, r == 0x200f, r == 0x061c: // LRM, RLM, ALM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE..RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI..PDI
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
