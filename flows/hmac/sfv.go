package hmac

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// A minimal RFC 8941 Structured Field Values parser and serializer: enough
// for Signature-Input (a dictionary of inner lists with parameters) and
// Signature (a dictionary of byte sequences). Bare items are int64, string,
// Token, []byte, bool or Decimal.

// Token is an sf-token bare item.
type Token string

// Decimal is an sf-decimal kept as its canonical text.
type Decimal string

// Param is one parameter; order matters for serialization.
type Param struct {
	Key   string
	Value any
}

// Item is a bare item with parameters.
type Item struct {
	Value  any
	Params []Param
}

// InnerList is a parenthesised list of items with parameters.
type InnerList struct {
	Items  []Item
	Params []Param
}

// Member is one dictionary member: an Item or an InnerList.
type Member struct {
	Key  string
	Item *Item
	List *InnerList
}

const maxFieldLen = 16 << 10 // header values beyond this are rejected, not parsed

type sfParser struct {
	s   string
	pos int
}

func (p *sfParser) errf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *sfParser) eof() bool { return p.pos >= len(p.s) }
func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}
func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.pos] == ' ' {
		p.pos++
	}
}
func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// ParseDictionary parses an sf-dictionary (RFC 8941 §4.2.2).
func ParseDictionary(s string) ([]Member, error) {
	if len(s) > maxFieldLen {
		return nil, fmt.Errorf("field value longer than %d bytes", maxFieldLen)
	}
	p := &sfParser{s: s}
	p.skipSP()
	var out []Member
	for !p.eof() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		m := Member{Key: key}
		if p.peek() == '=' {
			p.pos++
			if p.peek() == '(' {
				l, err := p.innerList()
				if err != nil {
					return nil, err
				}
				m.List = l
			} else {
				it, err := p.item()
				if err != nil {
					return nil, err
				}
				m.Item = &it
			}
		} else {
			params, err := p.params()
			if err != nil {
				return nil, err
			}
			m.Item = &Item{Value: true, Params: params}
		}
		// A later duplicate key overrides the earlier one (§4.2.2).
		replaced := false
		for i := range out {
			if out[i].Key == key {
				out[i] = m
				replaced = true
			}
		}
		if !replaced {
			out = append(out, m)
		}
		p.skipOWS()
		if p.eof() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, p.errf("expected ',' between dictionary members, found %q", p.peek())
		}
		p.pos++
		p.skipOWS()
		if p.eof() {
			return nil, p.errf("trailing comma")
		}
	}
	return out, nil
}

// ParseInnerList parses "(item item ...);params" as a whole string.
func ParseInnerList(s string) (*InnerList, error) {
	if len(s) > maxFieldLen {
		return nil, fmt.Errorf("field value longer than %d bytes", maxFieldLen)
	}
	p := &sfParser{s: s}
	p.skipSP()
	l, err := p.innerList()
	if err != nil {
		return nil, err
	}
	p.skipSP()
	if !p.eof() {
		return nil, p.errf("unexpected %q after the list", p.peek())
	}
	return l, nil
}

func (p *sfParser) innerList() (*InnerList, error) {
	if p.peek() != '(' {
		return nil, p.errf("expected '('")
	}
	p.pos++
	l := &InnerList{Items: make([]Item, 0, 8)}
	for !p.eof() {
		p.skipSP()
		if p.peek() == ')' {
			p.pos++
			params, err := p.params()
			if err != nil {
				return nil, err
			}
			l.Params = params
			return l, nil
		}
		it, err := p.item()
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, it)
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, p.errf("expected ' ' or ')' in inner list, found %q", c)
		}
	}
	return nil, p.errf("inner list not closed with ')'")
}

func (p *sfParser) item() (Item, error) {
	v, err := p.bareItem()
	if err != nil {
		return Item{}, err
	}
	params, err := p.params()
	if err != nil {
		return Item{}, err
	}
	return Item{Value: v, Params: params}, nil
}

func (p *sfParser) params() ([]Param, error) {
	var out []Param
	for p.peek() == ';' {
		p.pos++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		var v any = true
		if p.peek() == '=' {
			p.pos++
			v, err = p.bareItem()
			if err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range out {
			if out[i].Key == key {
				out[i].Value = v
				replaced = true
			}
		}
		if !replaced {
			if out == nil {
				out = make([]Param, 0, 4)
			}
			out = append(out, Param{Key: key, Value: v})
		}
	}
	return out, nil
}

func (p *sfParser) key() (string, error) {
	c := p.peek()
	if !(c >= 'a' && c <= 'z') && c != '*' {
		if p.eof() {
			return "", p.errf("expected a key, found the end")
		}
		return "", p.errf("keys start with a lower-case letter or '*', found %q", c)
	}
	s, i := p.s, p.pos+1 // locals: the loop runs per character of every key
	for i < len(s) {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*' {
			i++
			continue
		}
		break
	}
	start := p.pos
	p.pos = i
	return s[start:i], nil
}

func (p *sfParser) bareItem() (any, error) {
	c := p.peek()
	switch {
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '"':
		return p.str()
	case c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		return p.token(), nil
	case c == ':':
		return p.bytes()
	case c == '?':
		p.pos++
		switch p.peek() {
		case '1':
			p.pos++
			return true, nil
		case '0':
			p.pos++
			return false, nil
		}
		return nil, p.errf("boolean must be ?0 or ?1")
	}
	if p.eof() {
		return nil, p.errf("expected a value, found the end")
	}
	return nil, p.errf("unexpected %q where a value should start", c)
}

func (p *sfParser) number() (any, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	if c := p.peek(); c < '0' || c > '9' {
		return nil, p.errf("expected a digit")
	}
	dot := -1
	for !p.eof() {
		c := p.s[p.pos]
		if c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		if c == '.' && dot < 0 {
			dot = p.pos
			p.pos++
			continue
		}
		break
	}
	num := p.s[start:p.pos]
	digits := strings.TrimPrefix(num, "-")
	if dot < 0 {
		if len(digits) > 15 {
			return nil, p.errf("integer %s has more than 15 digits", num)
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return nil, p.errf("bad integer %s", num)
		}
		return n, nil
	}
	ip, fp, _ := strings.Cut(digits, ".")
	if len(ip) > 12 || len(fp) == 0 || len(fp) > 3 {
		return nil, p.errf("bad decimal %s", num)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return nil, p.errf("bad decimal %s", num)
	}
	return Decimal(formatDecimal(f)), nil
}

func formatDecimal(f float64) string {
	s := strconv.FormatFloat(f, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

func (p *sfParser) str() (string, error) {
	p.pos++ // opening quote
	// Fast path: no escapes before the closing quote.
	if end := strings.IndexByte(p.s[p.pos:], '"'); end >= 0 && plainString(p.s[p.pos:p.pos+end]) {
		v := p.s[p.pos : p.pos+end]
		p.pos += end + 1
		return v, nil
	}
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == '\\':
			if p.eof() {
				return "", p.errf("string ends after a backslash")
			}
			n := p.s[p.pos]
			if n != '"' && n != '\\' {
				return "", p.errf("only \\\" and \\\\ may be escaped in a string")
			}
			b.WriteByte(n)
			p.pos++
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", p.errf("strings hold printable ASCII only")
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errf("string not closed with '\"'")
}

func (p *sfParser) token() Token {
	start := p.pos
	p.pos++
	for !p.eof() {
		c := p.s[p.pos]
		if isTchar(c) || c == ':' || c == '/' {
			p.pos++
			continue
		}
		break
	}
	return Token(p.s[start:p.pos])
}

func isTchar(c byte) bool {
	if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *sfParser) bytes() ([]byte, error) {
	p.pos++
	end := strings.IndexByte(p.s[p.pos:], ':')
	if end < 0 {
		return nil, p.errf("byte sequence not closed with ':'")
	}
	enc := p.s[p.pos : p.pos+end]
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=') {
			return nil, p.errf("byte sequence holds %q, not base64", c)
		}
	}
	// Be lenient about padding as the RFC allows, but not about the alphabet.
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return nil, p.errf("byte sequence is not valid base64")
	}
	p.pos += end + 1
	return b, nil
}

// SerializeBare renders one bare item canonically.
func SerializeBare(v any) (string, error) {
	var b strings.Builder
	if err := writeBare(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeBare appends one bare item; the serializers share one builder so a
// signature base costs one allocation, not one per item.
func writeBare(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case int64:
		if x > 999999999999999 || x < -999999999999999 {
			return fmt.Errorf("integer %d out of range", x)
		}
		var buf [20]byte
		b.Write(strconv.AppendInt(buf[:0], x, 10))
		return nil
	case int:
		return writeBare(b, int64(x))
	case Decimal:
		b.WriteString(string(x))
		return nil
	case string:
		b.WriteByte('"')
		if plainString(x) {
			b.WriteString(x)
		} else {
			for i := 0; i < len(x); i++ {
				c := x[i]
				if c < 0x20 || c > 0x7e {
					return fmt.Errorf("string %q holds a non-printable character", x)
				}
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		return nil
	case Token:
		if len(x) == 0 {
			return fmt.Errorf("empty token")
		}
		b.WriteString(string(x))
		return nil
	case []byte:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(x))
		b.WriteByte(':')
		return nil
	case bool:
		if x {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
		return nil
	}
	return fmt.Errorf("cannot serialize %T", v)
}

// SerializeParams renders ;key=value parameters (true values bare).
func SerializeParams(ps []Param) (string, error) {
	var b strings.Builder
	err := writeParams(&b, ps)
	return b.String(), err
}

func writeParams(b *strings.Builder, ps []Param) error {
	for _, p := range ps {
		b.WriteByte(';')
		b.WriteString(p.Key)
		if v, ok := p.Value.(bool); ok && v {
			continue
		}
		b.WriteByte('=')
		if err := writeBare(b, p.Value); err != nil {
			return err
		}
	}
	return nil
}

// SerializeItem renders an item with its parameters.
func SerializeItem(it Item) (string, error) {
	var b strings.Builder
	err := writeItem(&b, it)
	return b.String(), err
}

func writeItem(b *strings.Builder, it Item) error {
	if err := writeBare(b, it.Value); err != nil {
		return err
	}
	return writeParams(b, it.Params)
}

// SerializeInnerList renders (a b);params.
func SerializeInnerList(l *InnerList) (string, error) {
	var b strings.Builder
	b.Grow(128)
	err := writeInnerList(&b, l)
	return b.String(), err
}

func writeInnerList(b *strings.Builder, l *InnerList) error {
	b.WriteByte('(')
	for i, it := range l.Items {
		if i > 0 {
			b.WriteByte(' ')
		}
		if err := writeItem(b, it); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return writeParams(b, l.Params)
}

// SerializeDictionary renders members separated by ", ".
func SerializeDictionary(ms []Member) (string, error) {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Key)
		switch {
		case m.List != nil:
			s, err := SerializeInnerList(m.List)
			if err != nil {
				return "", err
			}
			b.WriteByte('=')
			b.WriteString(s)
		case m.Item != nil:
			if v, ok := m.Item.Value.(bool); ok && v {
				ps, err := SerializeParams(m.Item.Params)
				if err != nil {
					return "", err
				}
				b.WriteString(ps)
				continue
			}
			s, err := SerializeItem(*m.Item)
			if err != nil {
				return "", err
			}
			b.WriteByte('=')
			b.WriteString(s)
		default:
			return "", fmt.Errorf("member %s has no value", m.Key)
		}
	}
	return b.String(), nil
}

// plainString reports whether s is printable ASCII without '"' or '\\'.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
