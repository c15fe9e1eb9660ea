// Package token decodes, verifies and checks tokens (JWS, JWE, opaque),
// estimates clock skew against an IdP and explains claims in plain words.
// It is UI-free: renderers live in views/render.
package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"authlab/flows"
)

// MaxTokenSize caps what Decode accepts; real tokens are a few KiB.
const MaxTokenSize = 64 << 10

// Format says what kind of token a string is.
type Format string

const (
	FormatJWS    Format = "jws"
	FormatJWE    Format = "jwe"
	FormatOpaque Format = "opaque"
)

// Decoded is a token taken apart, without any verification.
type Decoded struct {
	Format Format `json:"format"`
	// Header is the (protected) JOSE header; nil for opaque tokens.
	Header map[string]any `json:"header,omitempty"`
	// Claims is the JWS payload; numbers are json.Number so nothing is
	// rounded. Nil for JWE and opaque tokens.
	Claims map[string]any `json:"claims,omitempty"`
	// Parts are the raw base64url segments (3 for JWS, 5 for JWE).
	Parts []string `json:"-"`
	// Signature is the decoded JWS signature.
	Signature []byte `json:"-"`
	// Length is the token's length in bytes.
	Length int `json:"length"`
	// Fingerprint is flows.Fingerprint of the token (hex SHA-256).
	Fingerprint string `json:"fingerprint"`
	// Hint says what an opaque input more likely is (HTML), or "".
	Hint string `json:"hint,omitempty"`
}

// htmlHint is said of input that starts like markup: usually an error or
// login page pasted instead of the token.
const htmlHint = "this looks like HTML, not a token (an error or login page?)"

// DecodeError says precisely why a string is not a well-formed token.
type DecodeError struct {
	Segment string // "header", "claims", "signature", ... or "" for the whole token
	Offset  int    // byte offset inside the segment, -1 when not applicable
	Msg     string
}

func (e *DecodeError) Error() string {
	switch {
	case e.Segment != "" && e.Offset >= 0:
		return fmt.Sprintf("token %s segment: %s at offset %d", e.Segment, e.Msg, e.Offset)
	case e.Segment != "":
		return fmt.Sprintf("token %s segment: %s", e.Segment, e.Msg)
	}
	return "token: " + e.Msg
}

var jwsSegments = []string{"header", "claims", "signature"}
var jweSegments = []string{"header", "encrypted key", "initialization vector", "ciphertext", "authentication tag"}

// Decode takes a token apart. Three segments are a JWS, five a JWE; a string
// without dots (or that does not start like a JOSE header) is opaque.
func Decode(raw string) (*Decoded, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, &DecodeError{Offset: -1, Msg: "empty input"}
	}
	if len(raw) > MaxTokenSize {
		return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("%d bytes is larger than the %d KiB limit; is this really a token?", len(raw), MaxTokenSize>>10)}
	}
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		return nil, &DecodeError{Offset: -1, Msg: `starts with "Bearer "; pass the token without the auth scheme`}
	}
	looksHTML := raw[0] == '<'
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x21 || c > 0x7e {
			msg := fmt.Sprintf("byte %d is %q; tokens are printable ASCII without spaces", i, rune(c))
			if looksHTML {
				msg = htmlHint
			}
			return nil, &DecodeError{Offset: -1, Msg: msg}
		}
	}
	d := &Decoded{Length: len(raw), Fingerprint: flows.Fingerprint(raw)}
	n := strings.Count(raw, ".") + 1
	looksJOSE := strings.HasPrefix(raw, "eyJ") // base64url of `{"`
	switch {
	case isPASETO(raw):
		d.Format = FormatOpaque // not a JOSE token; nothing to decode without its key
		return d, nil
	case n == 3 || (n == 5 && looksJOSE):
	case n == 5 && raw[0] == '.':
		// "....": five segments, the protected header empty.
		return nil, &DecodeError{Segment: "header", Offset: -1, Msg: "empty protected header; a JWE is header.encrypted_key.iv.ciphertext.tag with a base64url JSON header"}
	case strings.Trim(raw, ".") == "":
		return nil, &DecodeError{Offset: -1, Msg: "only dots; a JWS is header.claims.signature"}
	case looksJOSE:
		return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("has %d segments; a JWS has 3 (header.claims.signature) and a JWE 5", n)}
	default:
		d.Format = FormatOpaque
		if looksHTML {
			d.Hint = htmlHint
		}
		return d, nil
	}
	d.Parts = strings.Split(raw, ".")
	names := jwsSegments
	if n == 5 {
		names = jweSegments
		d.Format = FormatJWE
	} else {
		d.Format = FormatJWS
	}
	hdr, err := b64(d.Parts[0], names[0])
	if err != nil {
		return nil, err
	}
	if d.Header, err = jsonObject(hdr, "header"); err != nil {
		return nil, err
	}
	if d.Format == FormatJWE {
		for i := 1; i < 5; i++ {
			if _, err := b64(d.Parts[i], names[i]); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	payload, err := b64(d.Parts[1], "claims")
	if err != nil {
		return nil, err
	}
	if d.Signature, err = b64(d.Parts[2], "signature"); err != nil {
		return nil, err
	}
	if d.Claims, err = jsonObject(payload, "claims"); err != nil {
		return nil, err
	}
	for _, c := range []string{"exp", "nbf", "iat", "auth_time"} {
		v, ok := d.Claims[c]
		if !ok {
			continue
		}
		num, isNum := v.(json.Number)
		if !isNum {
			return nil, &DecodeError{Segment: "claims", Offset: -1, Msg: fmt.Sprintf("%q is %s, not a number of seconds since 1970 (RFC 7519 NumericDate)", c, describeJSON(v))}
		}
		f, err := num.Float64()
		if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
			return nil, &DecodeError{Segment: "claims", Offset: -1, Msg: fmt.Sprintf("%q is %s, out of range for a date", c, num)}
		}
	}
	return d, nil
}

// b64 decodes one base64url segment, naming the segment and offset of the first bad byte.
func b64(seg, name string) ([]byte, error) {
	if seg == "" && name != "signature" && name != "encrypted key" {
		return nil, &DecodeError{Segment: name, Offset: -1, Msg: "is empty"}
	}
	// Fast path: decode first, and only scan for the bad byte on failure.
	if len(seg)%4 != 1 {
		if out, err := base64.RawURLEncoding.DecodeString(seg); err == nil {
			return out, nil
		}
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			hint := ""
			switch c {
			case '+', '/':
				hint = " (standard base64; JWTs use base64url: - and _)"
			case '=':
				hint = " (padding; JWTs use unpadded base64url)"
			}
			return nil, &DecodeError{Segment: name, Offset: i, Msg: fmt.Sprintf("bad base64url byte %q%s", rune(c), hint)}
		}
	}
	if len(seg)%4 == 1 {
		return nil, &DecodeError{Segment: name, Offset: len(seg) - 1, Msg: "bad base64url length (truncated?)"}
	}
	_, err := base64.RawURLEncoding.DecodeString(seg)
	if ce, ok := err.(base64.CorruptInputError); ok {
		return nil, &DecodeError{Segment: name, Offset: int(ce), Msg: "bad base64url (non-zero trailing bits?)"}
	}
	return nil, &DecodeError{Segment: name, Offset: -1, Msg: fmt.Sprintf("bad base64url: %v", err)}
}

func jsonObject(b []byte, name string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		msg := "is not JSON"
		if se, ok := err.(*json.SyntaxError); ok {
			return nil, &DecodeError{Segment: name, Offset: int(se.Offset), Msg: msg + ": " + se.Error()}
		}
		return nil, &DecodeError{Segment: name, Offset: -1, Msg: msg + ": " + err.Error()}
	}
	if dec.More() {
		return nil, &DecodeError{Segment: name, Offset: int(dec.InputOffset()), Msg: "has data after the JSON value"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &DecodeError{Segment: name, Offset: -1, Msg: fmt.Sprintf("is %s, not a JSON object", describeJSON(v))}
	}
	return m, nil
}

func describeJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("a string (%q)", x)
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// SigningInput is what a JWS signature covers: header.claims.
func (d *Decoded) SigningInput() string {
	if d.Format != FormatJWS {
		return ""
	}
	return d.Parts[0] + "." + d.Parts[1]
}

// HeaderString returns a string header parameter ("" when absent or not a string).
func (d *Decoded) HeaderString(name string) string {
	s, _ := d.Header[name].(string)
	return s
}

// Alg, Kid and Typ are the usual header parameters.
func (d *Decoded) Alg() string { return d.HeaderString("alg") }
func (d *Decoded) Kid() string { return d.HeaderString("kid") }
func (d *Decoded) Typ() string { return d.HeaderString("typ") }

// String returns a string claim ("" when absent or not a string).
func (d *Decoded) String(claim string) string {
	s, _ := d.Claims[claim].(string)
	return s
}

// Time returns a NumericDate claim (exp, nbf, iat, auth_time, ...).
func (d *Decoded) Time(claim string) (time.Time, bool) {
	return ClaimTime(d.Claims[claim])
}

// ClaimTime converts a NumericDate value (json.Number or float64) to a time.
func ClaimTime(v any) (time.Time, bool) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false
		}
	case float64:
		f = x
	case int64:
		f = float64(x)
	case int:
		f = float64(x)
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// Audience returns aud as a list (it may be a string or an array of strings).
func (d *Decoded) Audience() []string {
	switch x := d.Claims["aud"].(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, v := range x {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// isPASETO spots PASETO tokens (v1–v4, local or public), which have dots but
// are not JWTs.
func isPASETO(raw string) bool {
	return len(raw) > 9 && raw[0] == 'v' && raw[1] >= '1' && raw[1] <= '4' && raw[2] == '.' &&
		(strings.HasPrefix(raw[3:], "local.") || strings.HasPrefix(raw[3:], "public."))
}
