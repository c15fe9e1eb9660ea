package hmac

import (
	"encoding/base64"
	"slices"
	"strings"
)

// The verifier's success path reads Signature-Input and Signature with the
// typed scanners below instead of the general RFC 8941 parser: no boxed
// values, no copies (every string is a slice of the header). They accept
// only the canonical form signers emit — plain quoted components without
// parameters, integer and string signature parameters, no duplicates — so
// what they accept means exactly what ParseDictionary would make of it, and
// the header text is its own serialization. Anything else returns false and
// the verifier takes the general path, which also explains every failure.

const (
	maxFastComponents = 16
	maxFastMembers    = 8
	maxFastSig        = 64 // decoded bytes; hmac-sha256 needs 32
)

// sigInput is one Signature-Input member read by parseSigInputFast.
type sigInput struct {
	label   string
	list    string // the inner list with its parameters, as sent: the @signature-params value
	inner   string // between the parentheses: the identifiers joined by ' '
	ids     [maxFastComponents]string
	n       int
	created int64
	expires int64
	nonce   string
	keyid   string
}

// parseSigInputFast reads a Signature-Input field into in, which must be
// zero: the first member labelled want (any label when want is empty).
func parseSigInputFast(s, want string, in *sigInput) bool {
	if len(s) > maxFieldLen {
		return false
	}
	p := sfParser{s: s}
	p.skipSP()
	var labels [maxFastMembers]string
	found := false
	for n := 0; ; n++ {
		key, err := p.key()
		if err != nil || p.peek() != '=' || n == len(labels) || slices.Contains(labels[:n], key) {
			return false
		}
		labels[n] = key
		p.pos++
		var ok bool
		if !found && (want == "" || key == want) {
			found = true
			in.label = key
			ok = p.fastInnerList(in)
		} else {
			other := sigInput{label: key} // parsed to validate, then dropped
			ok = p.fastInnerList(&other)
		}
		if !ok || !p.fastNext() {
			return false
		}
		if p.eof() {
			return found
		}
	}
}

// fastNext consumes the separator after a dictionary member; false when the
// text there is not one.
func (p *sfParser) fastNext() bool {
	p.skipOWS()
	if p.eof() {
		return true
	}
	if p.peek() != ',' {
		return false
	}
	p.pos++
	p.skipOWS()
	return !p.eof()
}

// fastInnerList reads `("a" "b");created=1;keyid="k"` into in: components
// separated by exactly one space, each parameter once.
func (p *sfParser) fastInnerList(in *sigInput) bool {
	start := p.pos
	if p.peek() != '(' {
		return false
	}
	p.pos++
	for p.peek() != ')' {
		if in.n > 0 {
			if p.peek() != ' ' {
				return false
			}
			p.pos++
		}
		idStart := p.pos
		if _, ok := p.fastString(); !ok || in.n == maxFastComponents {
			return false
		}
		in.ids[in.n] = p.s[idStart:p.pos]
		in.n++
	}
	in.inner = p.s[start+1 : p.pos]
	p.pos++
	var seen [6]bool // a repeated parameter takes the general path
	for p.peek() == ';' {
		p.pos++
		key, err := p.key()
		if err != nil || p.peek() != '=' {
			return false
		}
		p.pos++
		var slot int
		switch key {
		case "created", "expires":
			n, ok := p.fastInt()
			if !ok {
				return false
			}
			if key == "created" {
				slot, in.created = 0, n
			} else {
				slot, in.expires = 1, n
			}
		case "nonce", "keyid", "alg", "tag":
			v, ok := p.fastString()
			if !ok {
				return false
			}
			switch key {
			case "nonce":
				slot, in.nonce = 2, v
			case "keyid":
				slot, in.keyid = 3, v
			case "alg":
				if v != AlgHMACSHA256 {
					return false
				}
				slot = 4
			case "tag":
				slot = 5
			}
		default:
			return false
		}
		if seen[slot] {
			return false
		}
		seen[slot] = true
	}
	in.list = p.s[start:p.pos]
	return true
}

// fastString reads a quoted string of printable ASCII without escapes.
func (p *sfParser) fastString() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	rest := p.s[p.pos+1:]
	end := strings.IndexByte(rest, '"')
	if end < 0 || !plainString(rest[:end]) {
		return "", false
	}
	p.pos += end + 2
	return rest[:end], true
}

// fastInt reads a non-negative integer written canonically (no leading
// zeros, at most 15 digits), so the text is its own serialization.
func (p *sfParser) fastInt() (int64, bool) {
	start := p.pos
	var n int64
	for !p.eof() && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		n = n*10 + int64(p.s[p.pos]-'0')
		p.pos++
	}
	digits := p.pos - start
	if digits == 0 || digits > 15 || (digits > 1 && p.s[start] == '0') {
		return 0, false
	}
	return n, true
}

// parseSignatureFast reads a Signature field of `label=:base64:` members
// and returns label's bytes, decoded into dst.
func parseSignatureFast(s, label string, dst *[maxFastSig]byte) ([]byte, bool) {
	if len(s) > maxFieldLen {
		return nil, false
	}
	p := sfParser{s: s}
	p.skipSP()
	var keys [maxFastMembers]string
	var scratch [maxFastSig]byte
	var sig []byte
	for n := 0; ; n++ {
		key, err := p.key()
		if err != nil || p.peek() != '=' || n == len(keys) || slices.Contains(keys[:n], key) {
			return nil, false
		}
		keys[n] = key
		p.pos++
		if p.peek() != ':' {
			return nil, false
		}
		end := strings.IndexByte(p.s[p.pos+1:], ':')
		if end < 0 {
			return nil, false
		}
		enc := p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		// Decode every member, as the general parser would, so a broken
		// neighbour is reported there rather than ignored here.
		ok := true
		if key == label {
			sig, ok = decodeSFBytes(dst[:], enc)
		} else {
			_, ok = decodeSFBytes(scratch[:], enc)
		}
		if !ok {
			return nil, false
		}
		if !p.fastNext() {
			return nil, false
		}
		if p.eof() {
			return sig, len(sig) > 0
		}
	}
}

// decodeSFBytes decodes an sf-binary's base64 as sfParser.bytes does
// (standard alphabet, padding optional) into dst, without allocating.
func decodeSFBytes(dst []byte, enc string) ([]byte, bool) {
	enc = strings.TrimRight(enc, "=")
	var src [2 * maxFastSig]byte
	if len(enc) > len(src) || base64.RawStdEncoding.DecodedLen(len(enc)) > len(dst) {
		return nil, false
	}
	// Decode rejects every byte outside the alphabet (and a '=' left
	// inside) except CR and LF, which it skips; the general parser refuses those.
	if strings.IndexByte(enc, '\r') >= 0 || strings.IndexByte(enc, '\n') >= 0 {
		return nil, false
	}
	n := copy(src[:], enc)
	m, err := base64.RawStdEncoding.Decode(dst, src[:n])
	if err != nil {
		return nil, false
	}
	return dst[:m], true
}
