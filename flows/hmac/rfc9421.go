package hmac

import (
	"bytes"
	chmac "crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
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
		return nil, flows.Errorf(flows.ErrConfig, "%s: put signature parameters (created, keyid, ...) in their own settings, not after the list", FieldComponents)
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

// formEncode percent-encodes everything but ALPHA DIGIT * - . _ (RFC 9421 §2.2.8,
// the WHATWG form-urlencoded set). It differs from awsEncode (sigv4.go) on
// purpose: '*' stays and '~' is escaped here, the reverse of RFC 3986.
func formEncode(s string) string { return percentEncode(s, '*') }

// percentEncode escapes every byte but A-Z a-z 0-9 - . _ and the one extra
// byte a scheme keeps ('*' for RFC 9421 forms, '~' for RFC 3986). Neither
// net/url escaper matches these two sets exactly.
func percentEncode(s string, extra byte) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == extra {
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

// appendAuthority appends authority(u) without the intermediate string.
func appendAuthority(b []byte, u *url.URL) []byte {
	start := len(b)
	b = appendLower(b, u.Host)
	host := b[start:]
	switch {
	case bytes.HasSuffix(host, []byte(":443")) && strings.EqualFold(u.Scheme, "https"),
		bytes.HasSuffix(host, []byte(":80")) && strings.EqualFold(u.Scheme, "http"):
		b = b[:bytes.LastIndexByte(b, ':')]
	}
	return b
}

func targetURI(u *url.URL) string {
	return string(appendTargetURI(nil, u))
}

func appendTargetURI(b []byte, u *url.URL) []byte {
	b = appendLower(b, u.Scheme)
	b = append(b, "://"...)
	b = appendAuthority(b, u)
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	b = append(b, p...)
	if u.RawQuery != "" || u.ForceQuery {
		b = append(b, '?')
		b = append(b, u.RawQuery...)
	}
	return b
}

// appendLower appends s lower-cased without an intermediate string.
func appendLower(b []byte, s string) []byte {
	start := len(b)
	b = append(b, s...)
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c >= 0x80:
			return append(b[:start], strings.ToLower(s)...) // non-ASCII: let ToLower decide
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return b
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

// appendLine appends one `id: value` base line.
func appendLine(b []byte, id, v string) ([]byte, error) {
	if strings.IndexByte(v, '\n') >= 0 || strings.IndexByte(v, '\r') >= 0 {
		return b, fmt.Errorf("component %s has a line break in its value", id)
	}
	b = append(b, id...)
	b = append(b, ": "...)
	b = append(b, v...)
	return append(b, '\n'), nil
}

// appendComponent appends the base line(s) of one component.
func appendComponent(b []byte, id string, m *Message, it Item) ([]byte, error) {
	name, _ := it.Value.(string)
	if len(it.Params) == 0 && name != "" {
		return appendPlainComponent(b, id, name, m)
	}
	return appendComponentValues(b, id, m, it)
}

// appendPlainComponent appends a component without parameters; the common
// ones are written straight into the base without intermediate strings.
func appendPlainComponent(b []byte, id, name string, m *Message) ([]byte, error) {
	switch {
	case name == "@method":
		return appendLine(b, id, m.Method)
	case name == "@authority":
		return appendLine(b, id, authority(m.URL))
	case name == "@target-uri":
		b = append(b, id...)
		b = append(b, ": "...)
		b = appendTargetURI(b, m.URL)
		return append(b, '\n'), nil
	case name != "" && name[0] != '@':
		v, ok := m.headerValue(name)
		if !ok {
			return b, missingHeader(name)
		}
		return appendLine(b, id, v)
	}
	return appendComponentValues(b, id, m, Item{Value: name})
}

func appendComponentValues(b []byte, id string, m *Message, it Item) ([]byte, error) {
	vals, err := componentValues(m, it)
	if err != nil {
		return b, err
	}
	for _, v := range vals {
		if b, err = appendLine(b, id, v); err != nil {
			return b, err
		}
	}
	return b, nil
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

// appendBase appends the base from serialized identifiers, so signers and
// verifiers serialize each once, up to the last line's label: the caller
// appends the serialized @signature-params value.
func appendBase(b []byte, m *Message, items []Item, ids []string) ([]byte, error) {
	var err error
	for i, it := range items {
		if b, err = appendComponent(b, ids[i], m, it); err != nil {
			return b, err
		}
	}
	return append(b, `"@signature-params": `...), nil
}

func buildBase(m *Message, items []Item, ids []string, sigParams string) (string, error) {
	b, err := appendBase(make([]byte, 0, 512), m, items, ids)
	if err != nil {
		return "", err
	}
	return string(append(b, sigParams...)), nil
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
	// The @signature-params value is listHead, then created and expires
	// (which change per request), then listTail; both serialized once here.
	listHead string // ("@method" "@target-uri" ...)
	listTail string // ;keyid="k";nonce="n";alg="...";tag="t"
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
	p := opts.Params
	tail, err := SerializeParams((Params{KeyID: p.KeyID, Nonce: p.Nonce, Alg: p.Alg, Tag: p.Tag}).list(0))
	if err != nil {
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
	head := "(" + strings.Join(ids, " ") + ")"
	return &Signer9421{key: key, opts: opts, label: label, items: items, ids: ids, listHead: head, listTail: tail}, nil
}

// appendList appends the @signature-params value for this request: the
// prepared head and tail around created and expires.
func (s *Signer9421) appendList(b []byte, created int64) []byte {
	b = append(b, s.listHead...)
	if created != 0 {
		b = append(b, ";created="...)
		b = strconv.AppendInt(b, created, 10)
	}
	if e := s.opts.Params.Expires; e != 0 {
		b = append(b, ";expires="...)
		b = strconv.AppendInt(b, e, 10)
	}
	return append(b, s.listTail...)
}

// Sign signs m in place: it adds Content-Digest (when covered and absent),
// Date (likewise), Signature-Input and Signature.
func (s *Signer9421) Sign(m *Message) (*Signed, error) {
	opts := s.opts
	// The record, its header list and the added header values share one
	// allocation; the capped value slices keep a later Header.Add from
	// writing into a neighbour.
	a := &signedAlloc{Signed: Signed{Scheme: SchemeRFC9421, Label: s.label}}
	rec := &a.Signed
	rec.Headers = a.headers[:0]
	vals := a.vals[:0]
	add := func(name, value string) {
		vals = append(vals, value)
		m.Header[name] = vals[len(vals)-1 : len(vals) : len(vals)]
		rec.Headers = append(rec.Headers, HeaderField{Name: name, Value: value})
	}
	for _, it := range s.items {
		switch it.Value.(string) {
		case "content-digest":
			if getCanonical(m.Header, "Content-Digest") == "" {
				d, err := ContentDigest(opts.DigestAlg, m.Body)
				if err != nil {
					return nil, err
				}
				add("Content-Digest", d)
			}
		case "date":
			if getCanonical(m.Header, "Date") == "" {
				add("Date", opts.Now().UTC().Format(http.TimeFormat))
			}
		case "content-length":
			if getCanonical(m.Header, "Content-Length") == "" {
				add("Content-Length", strconv.Itoa(len(m.Body)))
			}
		}
	}
	created := opts.Params.Created
	if created == 0 && !opts.NoCreated {
		created = opts.Now().Unix()
	}
	// The base is built in the key's pooled buffer and MACed there. Then
	// the Signature-Input and Signature members are appended after it, and
	// one string conversion serves the base and both members as slices.
	st := s.key.state()
	defer s.key.put(st)
	b := st.base[:0]
	b = append(b, s.label...)
	b = append(b, '=')
	b = s.appendList(b, created)
	memberEnd := len(b)
	list := b[len(s.label)+1:] // the @signature-params value
	var err error
	if b, err = appendBase(b, m, s.items, s.ids); err != nil {
		st.base = b
		return nil, fmt.Errorf("rfc9421: %w", err)
	}
	b = append(b, list...)
	sum := st.sumOf(b[memberEnd:])
	baseEnd := len(b)
	b = append(b, s.label...)
	b = append(b, "=:"...)
	b = base64.StdEncoding.AppendEncode(b, sum)
	b = append(b, ':')
	st.base = b
	all := string(b)
	member, sigMember := all[:memberEnd], all[baseEnd:]
	rec.SignatureBase = all[memberEnd:baseEnd]
	rec.Signature = sigMember[len(s.label)+2 : len(sigMember)-1]
	add("Signature-Input", joinField(getCanonical(m.Header, "Signature-Input"), member))
	add("Signature", joinField(getCanonical(m.Header, "Signature"), sigMember))
	return rec, nil
}

type signedAlloc struct {
	Signed
	headers [4]HeaderField
	vals    [4]string
}

// Sign9421 signs m in place with hmac-sha256 (see Signer9421.Sign).
func Sign9421(m *Message, key Key, opts RFC9421Options) (*Signed, error) {
	s, err := NewSigner9421(key, opts)
	if err != nil {
		return nil, err
	}
	return s.Sign(m)
}

// getCanonical is Header.Get for a name already in canonical form: it
// skips re-canonicalising the name on every request.
func getCanonical(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// joinField appends a dictionary member to an existing field value, so a
// second signature (another label) does not erase the first.
func joinField(existing, member string) string {
	if existing == "" {
		return member
	}
	return existing + ", " + member
}
