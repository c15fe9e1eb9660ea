package hmac

import (
	chmac "crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultComponents are covered when the user names none.
const DefaultComponents = `"@method" "@target-uri" "content-digest" "date"`

// DefaultLabel names the signature in Signature-Input / Signature.
const DefaultLabel = "sig1"

// AlgHMACSHA256 is the RFC 9421 algorithm name this package implements.
const AlgHMACSHA256 = "hmac-sha256"

// Scheme names, as on the command line.
const (
	SchemeRFC9421 = "rfc9421"
	SchemeSigV4   = "aws-sigv4"
	SchemeStripe  = "stripe"
	SchemeGitHub  = "github"
)

// HeaderField is one header a signer added, in the order it added them.
type HeaderField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Signed records what a signer did: exactly what was signed and which
// headers it added. It never holds the key.
type Signed struct {
	Scheme           string        `json:"scheme"`
	Label            string        `json:"label,omitempty"`
	SignatureBase    string        `json:"signature_base,omitempty"`
	CanonicalRequest string        `json:"canonical_request,omitempty"`
	StringToSign     string        `json:"string_to_sign,omitempty"`
	Headers          []HeaderField `json:"headers_added"`
	Signature        string        `json:"signature"`
}

func (s *Signed) add(m *Message, name, value string) {
	m.Header.Set(name, value)
	s.Headers = append(s.Headers, HeaderField{Name: name, Value: value})
}

// Params are the RFC 9421 signature parameters. Zero values are omitted.
type Params struct {
	Created int64 // Unix seconds; 0 means "now" when signing (see NoCreated)
	Expires int64
	Nonce   string
	Alg     string // omitted unless set; only hmac-sha256 is accepted
	KeyID   string
	Tag     string
}

// RFC9421Options configure Sign9421.
type RFC9421Options struct {
	Label      string // DefaultLabel when empty
	Components string // space-separated component identifiers; DefaultComponents when empty
	Params     Params
	NoCreated  bool             // omit created instead of defaulting it to now
	DigestAlg  string           // Content-Digest algorithm added when covered and missing: sha-256 (default) or sha-512
	Now        func() time.Time // clock for created and an added Date; time.Now when nil
}

// ParseComponents reads `"@method" "content-type";bs` into items.
func ParseComponents(s string) ([]Item, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultComponents
	}
	if !strings.HasPrefix(s, "(") {
		s = "(" + s + ")"
	}
	l, err := ParseInnerList(s)
	if err != nil {
		return nil, fmt.Errorf("components: %v (write them quoted and space-separated, like %s)", err, DefaultComponents)
	}
	if len(l.Params) > 0 {
		return nil, fmt.Errorf("components: put signature parameters in --created/--keyid/... flags, not after the list")
	}
	seen := map[string]bool{}
	for _, it := range l.Items {
		name, ok := it.Value.(string)
		if !ok {
			return nil, fmt.Errorf("components: %v is not a quoted component name", it.Value)
		}
		if name != strings.ToLower(name) {
			return nil, fmt.Errorf("components: %q must be lower-case (field names are compared lower-cased)", name)
		}
		id, _ := SerializeItem(it)
		if seen[id] {
			return nil, fmt.Errorf("components: %s is listed twice", id)
		}
		seen[id] = true
	}
	return l.Items, nil
}

// componentValues returns the base value(s) of one component of m.
func componentValues(m *Message, it Item) ([]string, error) {
	name, _ := it.Value.(string)
	if strings.HasPrefix(name, "@") {
		return derivedValues(m, name, it.Params)
	}
	var key string
	bs := false
	for _, p := range it.Params {
		switch p.Key {
		case "bs":
			bs = true
		case "key":
			k, ok := p.Value.(string)
			if !ok {
				return nil, fmt.Errorf("%q;key needs a string value", name)
			}
			key = k
		default:
			return nil, fmt.Errorf("component parameter ;%s on %q is not supported here (supported: ;bs, ;key)", p.Key, name)
		}
	}
	if bs && key != "" {
		return nil, fmt.Errorf("%q: ;bs and ;key cannot be combined", name)
	}
	if bs {
		vs := m.Header.Values(name)
		if len(vs) == 0 {
			return nil, missingHeader(name)
		}
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = ":" + base64.StdEncoding.EncodeToString([]byte(strings.Trim(v, " \t"))) + ":"
		}
		return []string{strings.Join(parts, ", ")}, nil
	}
	v, ok := m.headerValue(name)
	if !ok {
		return nil, missingHeader(name)
	}
	if key != "" {
		dict, err := ParseDictionary(v)
		if err != nil {
			return nil, fmt.Errorf("%q;key=%q: the header is not a structured dictionary: %v", name, key, err)
		}
		for _, mem := range dict {
			if mem.Key != key {
				continue
			}
			if mem.List != nil {
				s, err := SerializeInnerList(mem.List)
				return []string{s}, err
			}
			s, err := SerializeItem(*mem.Item)
			return []string{s}, err
		}
		return nil, &missingErr{name: name, msg: fmt.Sprintf("%q has no member %q", name, key)}
	}
	return []string{v}, nil
}

type missingErr struct{ name, msg string }

func (e *missingErr) Error() string { return e.msg }

func missingHeader(name string) error {
	return &missingErr{name: name, msg: fmt.Sprintf("the request has no %s header, but the signature covers %q", http.CanonicalHeaderKey(name), name)}
}

func derivedValues(m *Message, name string, params []Param) ([]string, error) {
	var qpName string
	for _, p := range params {
		if p.Key == "name" && name == "@query-param" {
			s, ok := p.Value.(string)
			if !ok {
				return nil, fmt.Errorf(`"@query-param";name needs a string value`)
			}
			qpName = s
			continue
		}
		return nil, fmt.Errorf("component parameter ;%s on %q is not supported", p.Key, name)
	}
	u := m.URL
	switch name {
	case "@method":
		return []string{m.Method}, nil
	case "@target-uri":
		return []string{targetURI(u)}, nil
	case "@authority":
		return []string{authority(u)}, nil
	case "@scheme":
		return []string{strings.ToLower(u.Scheme)}, nil
	case "@request-target":
		return []string{u.RequestURI()}, nil
	case "@path":
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		return []string{p}, nil
	case "@query":
		return []string{"?" + u.RawQuery}, nil
	case "@query-param":
		if qpName == "" {
			return nil, fmt.Errorf(`"@query-param" needs ;name="..."`)
		}
		var out []string
		for _, pair := range strings.Split(u.RawQuery, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("query parameter %q is not validly percent-encoded", pair)
			}
			if dk == qpName {
				out = append(out, formEncode(dv))
			}
		}
		if len(out) == 0 {
			return nil, &missingErr{name: "@query-param", msg: fmt.Sprintf("the URL has no query parameter %q, but the signature covers it", qpName)}
		}
		return out, nil
	case "@status":
		return nil, fmt.Errorf(`"@status" applies to responses; this is a request`)
	}
	return nil, fmt.Errorf("unknown derived component %q (known: @method @target-uri @authority @scheme @request-target @path @query @query-param)", name)
}

// formEncode percent-encodes everything but ALPHA DIGIT * - . _ (RFC 9421 §2.2.8).
func formEncode(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// authority is host[:port], lower-cased, without the scheme's default port.
func authority(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case strings.EqualFold(u.Scheme, "https") && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case strings.EqualFold(u.Scheme, "http") && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}

func targetURI(u *url.URL) string {
	var b strings.Builder
	writeTargetURI(&b, u)
	return b.String()
}

func writeTargetURI(b *strings.Builder, u *url.URL) {
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteString("://")
	b.WriteString(authority(u))
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	b.WriteString(p)
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(u.RawQuery)
	}
}

// SignatureBase builds the RFC 9421 §2.5 signature base for the covered
// components (with the signature parameters as the list's parameters).
// The error of a missing header is a *missingErr naming it.
func SignatureBase(m *Message, covered *InnerList) (string, error) {
	ids, err := componentIDs(covered.Items)
	if err != nil {
		return "", err
	}
	params, err := SerializeInnerList(covered)
	if err != nil {
		return "", err
	}
	return buildBase(m, covered.Items, ids, params)
}

// writeComponent appends the base line(s) of one component; the common
// components are written straight into the base without intermediate strings.
func writeComponent(b *strings.Builder, id string, m *Message, it Item) error {
	name, _ := it.Value.(string)
	line := func(v string) error {
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("component %s has a line break in its value", id)
		}
		b.WriteString(id)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
		return nil
	}
	if len(it.Params) == 0 && name != "" {
		switch {
		case name == "@method":
			return line(m.Method)
		case name == "@authority":
			return line(authority(m.URL))
		case name == "@target-uri":
			b.WriteString(id)
			b.WriteString(": ")
			writeTargetURI(b, m.URL)
			b.WriteByte('\n')
			return nil
		case name[0] != '@':
			v, ok := m.headerValue(name)
			if !ok {
				return missingHeader(name)
			}
			return line(v)
		}
	}
	vals, err := componentValues(m, it)
	if err != nil {
		return err
	}
	for _, v := range vals {
		if err := line(v); err != nil {
			return err
		}
	}
	return nil
}

func componentIDs(items []Item) ([]string, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		id, err := SerializeItem(it)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// buildBase writes the base from serialized identifiers and the serialized
// @signature-params value, so signers and verifiers serialize each once.
func buildBase(m *Message, items []Item, ids []string, sigParams string) (string, error) {
	var b strings.Builder
	b.Grow(512)
	for i, it := range items {
		if err := writeComponent(&b, ids[i], m, it); err != nil {
			return "", err
		}
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(sigParams)
	return b.String(), nil
}

func (p Params) list(created int64) []Param {
	var ps []Param
	if created != 0 {
		ps = append(ps, Param{"created", created})
	}
	if p.Expires != 0 {
		ps = append(ps, Param{"expires", p.Expires})
	}
	if p.KeyID != "" {
		ps = append(ps, Param{"keyid", p.KeyID})
	}
	if p.Nonce != "" {
		ps = append(ps, Param{"nonce", p.Nonce})
	}
	if p.Alg != "" {
		ps = append(ps, Param{"alg", p.Alg})
	}
	if p.Tag != "" {
		ps = append(ps, Param{"tag", p.Tag})
	}
	return ps
}

func macSHA256(key, msg []byte) []byte {
	h := chmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// Signer9421 is a prepared RFC 9421 hmac-sha256 signer: label and
// components are checked and parsed once, for clients signing many requests.
type Signer9421 struct {
	key   Key
	opts  RFC9421Options
	label string
	items []Item
	ids   []string
}

// NewSigner9421 validates the options and prepares a signer.
func NewSigner9421(key Key, opts RFC9421Options) (*Signer9421, error) {
	if key.IsZero() {
		return nil, fmt.Errorf("rfc9421: no key")
	}
	if opts.Params.Alg != "" && opts.Params.Alg != AlgHMACSHA256 {
		return nil, fmt.Errorf("rfc9421: alg %q not supported; authlab signs with %s", opts.Params.Alg, AlgHMACSHA256)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	label := opts.Label
	if label == "" {
		label = DefaultLabel
	}
	if _, err := ParseDictionary(label + "=1"); err != nil || strings.ContainsAny(label, "=;, ") {
		return nil, fmt.Errorf("rfc9421: label %q must be lower-case letters, digits, _ - . *", label)
	}
	if _, err := (Params{Nonce: opts.Params.Nonce, KeyID: opts.Params.KeyID, Tag: opts.Params.Tag}).serialize(0); err != nil {
		return nil, fmt.Errorf("rfc9421: signature parameters: %v", err)
	}
	items, err := ParseComponents(opts.Components)
	if err != nil {
		return nil, err
	}
	ids, err := componentIDs(items)
	if err != nil {
		return nil, err
	}
	return &Signer9421{key: key, opts: opts, label: label, items: items, ids: ids}, nil
}

// sigParams is the serialized @signature-params value, written from the
// prepared identifiers without re-serializing the components each time.
func (s *Signer9421) sigParams(created int64) (string, error) {
	var b strings.Builder
	b.Grow(160)
	b.WriteByte('(')
	for i, id := range s.ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id)
	}
	b.WriteByte(')')
	p := s.opts.Params
	var num [20]byte
	writeInt := func(key string, n int64) {
		b.WriteString(key)
		b.Write(strconv.AppendInt(num[:0], n, 10))
	}
	if created != 0 {
		writeInt(";created=", created)
	}
	if p.Expires != 0 {
		writeInt(";expires=", p.Expires)
	}
	for _, kv := range [...]struct{ k, v string }{{";keyid=", p.KeyID}, {";nonce=", p.Nonce}, {";alg=", p.Alg}, {";tag=", p.Tag}} {
		if kv.v == "" {
			continue
		}
		b.WriteString(kv.k)
		if err := writeBare(&b, kv.v); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func (p Params) serialize(created int64) (string, error) {
	return SerializeParams(p.list(created))
}

// Sign signs m in place: it adds Content-Digest (when covered and absent),
// Date (likewise), Signature-Input and Signature.
func (s *Signer9421) Sign(m *Message) (*Signed, error) {
	opts := s.opts
	rec := &Signed{Scheme: SchemeRFC9421, Label: s.label, Headers: make([]HeaderField, 0, 4)}
	for _, it := range s.items {
		switch it.Value.(string) {
		case "content-digest":
			if m.Header.Get("Content-Digest") == "" {
				d, err := ContentDigest(opts.DigestAlg, m.Body)
				if err != nil {
					return nil, err
				}
				rec.add(m, "Content-Digest", d)
			}
		case "date":
			if m.Header.Get("Date") == "" {
				rec.add(m, "Date", opts.Now().UTC().Format(http.TimeFormat))
			}
		case "content-length":
			if m.Header.Get("Content-Length") == "" {
				rec.add(m, "Content-Length", strconv.Itoa(len(m.Body)))
			}
		}
	}
	created := opts.Params.Created
	if created == 0 && !opts.NoCreated {
		created = opts.Now().Unix()
	}
	list, err := s.sigParams(created)
	if err != nil {
		return nil, fmt.Errorf("rfc9421: %w", err)
	}
	base, err := buildBase(m, s.items, s.ids, list)
	if err != nil {
		return nil, fmt.Errorf("rfc9421: %w", err)
	}
	sig := s.key.mac([]byte(base))
	rec.SignatureBase = base
	rec.Signature = base64.StdEncoding.EncodeToString(sig)
	rec.add(m, "Signature-Input", joinField(m.Header.Get("Signature-Input"), s.label+"="+list))
	rec.add(m, "Signature", joinField(m.Header.Get("Signature"), s.label+"=:"+rec.Signature+":"))
	return rec, nil
}

// Sign9421 signs m in place with hmac-sha256 (see Signer9421.Sign).
func Sign9421(m *Message, key Key, opts RFC9421Options) (*Signed, error) {
	s, err := NewSigner9421(key, opts)
	if err != nil {
		return nil, err
	}
	return s.Sign(m)
}

// joinField appends a dictionary member to an existing field value, so a
// second signature (another label) does not erase the first.
func joinField(existing, member string) string {
	if existing == "" {
		return member
	}
	return existing + ", " + member
}
