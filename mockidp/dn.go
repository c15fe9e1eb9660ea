package mockidp

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// dnAttr is one attribute of a relative distinguished name.
type dnAttr struct {
	oid   asn1.ObjectIdentifier
	value string // the decoded value
	der   []byte // set instead of value for a #hex value that is not a string
}

// dn is a distinguished name as RDNs, in RFC 4514 order (most specific first).
type dn [][]dnAttr

// dnNames are the attribute type names RFC 4514 3 lists, plus the usual
// extras found in certificate subjects.
var dnNames = map[string]string{
	"CN": "2.5.4.3", "SERIALNUMBER": "2.5.4.5", "C": "2.5.4.6", "L": "2.5.4.7", "ST": "2.5.4.8",
	"STREET": "2.5.4.9", "O": "2.5.4.10", "OU": "2.5.4.11", "POSTALCODE": "2.5.4.17",
	"DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1", "EMAILADDRESS": "1.2.840.113549.1.9.1",
}

func attrOID(typ string) (asn1.ObjectIdentifier, error) {
	if d, ok := dnNames[strings.ToUpper(typ)]; ok {
		typ = d
	}
	parts := strings.Split(typ, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("unknown attribute type %q", typ)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (len(p) > 1 && p[0] == '0') {
			return nil, fmt.Errorf("unknown attribute type %q", typ)
		}
		oid[i] = n
	}
	return oid, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// parseDN reads an RFC 4514 distinguished name ("CN=acme\, inc,O=authlab"):
// escapes (\, and \2C), multi-valued RDNs (+) and #hex values. Unescaped
// spaces around types and values are not significant.
func parseDN(s string) (dn, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out dn
	var cur []dnAttr
	i := 0
	for {
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, fmt.Errorf("DN %q: %q has no '='", s, strings.TrimSpace(s[i:]))
		}
		oid, err := attrOID(strings.TrimSpace(s[i : i+eq]))
		if err != nil {
			return nil, fmt.Errorf("DN %q: %w", s, err)
		}
		i += eq + 1
		for i < len(s) && s[i] == ' ' {
			i++
		}
		a := dnAttr{oid: oid}
		if i < len(s) && s[i] == '#' {
			k := i + 1
			for k < len(s) && isHexDigit(s[k]) {
				k++
			}
			der, err := hex.DecodeString(s[i+1 : k])
			if err != nil || len(der) == 0 {
				return nil, fmt.Errorf("DN %q: bad #hex value", s)
			}
			var str string
			if rest, err := asn1.Unmarshal(der, &str); err == nil && len(rest) == 0 {
				a.value = str
			} else {
				a.der = der
			}
			for i = k; i < len(s) && s[i] == ' '; i++ {
			}
		} else {
			var b []byte
			keep := 0 // length of b up to its last significant byte
		value:
			for i < len(s) {
				switch c := s[i]; c {
				case ',', '+':
					break value
				case '\\':
					switch {
					case i+1 < len(s) && strings.IndexByte(` "#+,;<=>\`, s[i+1]) >= 0:
						b = append(b, s[i+1])
						i += 2
					case i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
						v, _ := hex.DecodeString(s[i+1 : i+3])
						b = append(b, v[0])
						i += 3
					default:
						return nil, fmt.Errorf("DN %q: bad escape at byte %d", s, i)
					}
					keep = len(b)
				case '"', ';', '<', '>', 0:
					return nil, fmt.Errorf("DN %q: %q must be escaped", s, c)
				default:
					b = append(b, c)
					if c != ' ' {
						keep = len(b)
					}
					i++
				}
			}
			a.value = string(b[:keep])
			if !utf8.ValidString(a.value) {
				return nil, fmt.Errorf("DN %q: value is not UTF-8", s)
			}
		}
		cur = append(cur, a)
		if i >= len(s) {
			return append(out, cur), nil
		}
		if s[i] == ',' {
			out = append(out, cur)
			cur = nil
		} else if s[i] != '+' {
			return nil, fmt.Errorf("DN %q: unexpected %q after a #hex value", s, s[i])
		}
		i++
	}
}

func (a dnAttr) matches(t pkix.AttributeTypeAndValue) bool {
	if !a.oid.Equal(t.Type) {
		return false
	}
	if a.der != nil {
		b, err := asn1.Marshal(t.Value)
		return err == nil && string(b) == string(a.der)
	}
	v, ok := t.Value.(string)
	return ok && v == a.value
}

// rdnEqual compares two RDNs as sets of attributes.
func rdnEqual(want []dnAttr, got pkix.RelativeDistinguishedNameSET) bool {
	if len(want) != len(got) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if w.matches(g) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// subjectMatches compares a configured DN with the certificate's subject as
// parsed RDNs, never as strings: each configured RDN must be an RDN of the
// subject, and for every attribute type the configured DN names the subject
// may hold no other value ("CN=demo-mtls" matches "CN=demo-mtls,O=authlab"
// but not a second CN). Values compare exactly. An empty DN matches any
// subject.
func subjectMatches(want dn, cert *x509.Certificate) bool {
	if len(want) == 0 {
		return true
	}
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil || len(rest) > 0 {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range seq {
			if rdnEqual(w, g) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	// No extra values of a named type: count them on both sides.
	for _, w := range want {
		for _, a := range w {
			n, m := 0, 0
			for _, r := range want {
				for _, b := range r {
					if b.oid.Equal(a.oid) {
						n++
					}
				}
			}
			for _, r := range seq {
				for _, t := range r {
					if t.Type.Equal(a.oid) {
						m++
					}
				}
			}
			if n != m {
				return false
			}
		}
	}
	return true
}
