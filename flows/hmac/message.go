package hmac

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"authlab/flows"
)

// Message is an HTTP request as signed or as captured: what a signer covers
// and a verifier recomputes from.
type Message struct {
	Method string
	URL    *url.URL // absolute: scheme and host included
	Header http.Header
	Body   []byte
}

// NewMessage builds a Message from a method, absolute URL, headers and body.
func NewMessage(method, rawURL string, header http.Header, body []byte) (*Message, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", rawURL, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("URL %q must be absolute (scheme://host/...)", rawURL)
	}
	if method == "" {
		method = http.MethodGet
	}
	if header == nil {
		header = http.Header{}
	}
	return &Message{Method: method, URL: u, Header: header, Body: body}, nil
}

// FromRequest captures a server-side request, reading (at most max bytes of)
// the body and putting it back so the next handler can read it too.
func FromRequest(r *http.Request, max int64) (*Message, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		if int64(len(b)) > max {
			return nil, fmt.Errorf("request body larger than %d bytes", max)
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	u := *r.URL
	u.Host = r.Host
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return &Message{Method: r.Method, URL: &u, Header: r.Header.Clone(), Body: body}, nil
}

// ParseRawRequest reads a captured request in HTTP/1.1 wire form ("POST
// /path HTTP/1.1", headers, blank line, body). Bare LF line ends are fine.
// A relative target is resolved against base (scheme and host) or, without
// base, against https:// and the Host header.
func ParseRawRequest(raw []byte, base *url.URL) (*Message, error) {
	raw = bytes.TrimLeft(raw, "\r\n")
	head, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head, body = raw[:i], raw[i+4:]
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head, body = raw[:i], raw[i+2:]
	}
	req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n\r\n"))))
	if err != nil {
		return nil, fmt.Errorf("captured request: not an HTTP/1.1 request (%v); the first line should read like \"POST /path HTTP/1.1\"", err)
	}
	if cl := req.Header.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("captured request: bad Content-Length %q", cl)
		}
		if n > len(body) {
			return nil, fmt.Errorf("captured request: Content-Length says %d bytes but the body has %d", n, len(body))
		}
		body = body[:n] // editors add a final newline the signer never saw
	} else if len(body) == 0 {
		body = nil
	}
	u := *req.URL
	if u.Host == "" {
		u.Host = req.Host
		if base != nil && base.Host != "" {
			u.Host = base.Host
		}
	}
	if u.Scheme == "" {
		u.Scheme = "https"
		if base != nil && base.Scheme != "" {
			u.Scheme = base.Scheme
		}
	}
	if u.Host == "" {
		return nil, flows.Errorf(flows.ErrConfig, "captured request: no Host header and no %s to say which host it went to", flows.FieldURL)
	}
	h := req.Header
	if req.Host != "" && h.Get("Host") == "" {
		h.Set("Host", req.Host) // http.ReadRequest moves Host out of the header map
	}
	return &Message{Method: req.Method, URL: &u, Header: h, Body: body}, nil
}

// headerValue is the RFC 9421 §2.1 value of a field: every field line
// trimmed, joined with ", ". The Host header lives in the URL in Go.
func (m *Message) headerValue(name string) (string, bool) {
	// Compare case-insensitively instead of canonicalising the name: a
	// lower-case component name would cost an allocation per lookup, and
	// keys set directly in the map need not be canonical.
	vs, ok := m.Header[name]
	if !ok && len(name) <= 64 {
		// Canonicalise on the stack; indexing a map with string(bytes)
		// does not allocate.
		var buf [64]byte
		up := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if up && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !up && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
			up = c == '-'
		}
		vs, ok = m.Header[string(buf[:len(name)])]
	}
	if !ok {
		for k, v := range m.Header {
			if strings.EqualFold(k, name) {
				vs, ok = v, true
				break
			}
		}
	}
	if !ok {
		if strings.EqualFold(name, "host") && m.URL != nil && m.URL.Host != "" {
			return m.URL.Host, true
		}
		return "", false
	}
	if len(vs) == 1 {
		return trimOWS(vs[0]), true
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = trimOWS(v)
	}
	return strings.Join(parts, ", "), true
}

// trimOWS is strings.Trim(s, " \t") without building a cutset per call.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// ContentDigest computes an RFC 9530 Content-Digest value (sha-256 or sha-512).
func ContentDigest(alg string, body []byte) (string, error) {
	switch alg {
	case "sha-256", "":
		sum := sha256.Sum256(body)
		return digestMember("sha-256", sum[:]), nil
	case "sha-512":
		sum := sha512.Sum512(body)
		return digestMember("sha-512", sum[:]), nil
	}
	return "", fmt.Errorf("digest algorithm %q not supported (sha-256, sha-512)", alg)
}

// digestMember renders alg=:base64: in one allocation.
func digestMember(alg string, sum []byte) string {
	var enc [88]byte // base64 of a SHA-512 sum
	n := base64.StdEncoding.EncodedLen(len(sum))
	base64.StdEncoding.Encode(enc[:n], sum)
	var b strings.Builder
	b.Grow(len(alg) + 3 + n)
	b.WriteString(alg)
	b.WriteString("=:")
	b.Write(enc[:n])
	b.WriteByte(':')
	return b.String()
}

// contentDigestMatches is the verifier's fast check for the common case,
// a lone sha-256 or sha-512 member in canonical form: it compares text,
// parsing nothing. false means "not shown to match": use CheckContentDigest.
func contentDigestMatches(header string, body []byte) bool {
	var enc [88]byte // base64 of a SHA-512 sum
	var n int
	switch {
	case len(header) == len("sha-256=::")+44 && strings.HasPrefix(header, "sha-256=:"):
		sum := sha256.Sum256(body)
		n = base64.StdEncoding.EncodedLen(len(sum))
		base64.StdEncoding.Encode(enc[:], sum[:])
	case len(header) == len("sha-512=::")+88 && strings.HasPrefix(header, "sha-512=:"):
		sum := sha512.Sum512(body)
		n = base64.StdEncoding.EncodedLen(len(sum))
		base64.StdEncoding.Encode(enc[:], sum[:])
	default:
		return false
	}
	return header[len(header)-1] == ':' && string(enc[:n]) == header[len("sha-256=:"):len(header)-1]
}

// CheckContentDigest verifies every supported digest in a Content-Digest
// header against the body. It returns a sentence saying what differs.
func CheckContentDigest(header string, body []byte) error {
	members, err := ParseDictionary(header)
	if err != nil {
		return fmt.Errorf("Content-Digest is not a structured dictionary: %v", err)
	}
	checked := 0
	for _, m := range members {
		if m.Item == nil {
			continue
		}
		got, ok := m.Item.Value.([]byte)
		if !ok {
			return fmt.Errorf("Content-Digest %s is not a byte sequence (:base64:)", m.Key)
		}
		var sum []byte
		switch m.Key {
		case "sha-256":
			s := sha256.Sum256(body)
			sum = s[:]
		case "sha-512":
			s := sha512.Sum512(body)
			sum = s[:]
		default:
			continue // unknown algorithms are ignored (RFC 9530 §2)
		}
		checked++
		if !bytes.Equal(sum, got) {
			want, _ := ContentDigest(m.Key, body)
			return fmt.Errorf("the body does not match its Content-Digest: the header says %s=:%s: but the %d-byte body hashes to %s (body changed after signing, or digested before encoding)",
				m.Key, base64.StdEncoding.EncodeToString(got), len(body), want)
		}
	}
	if checked == 0 {
		return fmt.Errorf("Content-Digest has no sha-256 or sha-512 member")
	}
	return nil
}

// Render prints m in HTTP/1.1 wire form for display and for --request
// files: request line, Host, the other headers sorted, blank line, body.
// mask transforms header values for display (nil: as is).
func (m *Message) Render(mask func(http.Header) http.Header) string {
	var b strings.Builder
	b.WriteString(m.Method + " " + m.URL.RequestURI() + " HTTP/1.1\n")
	h := m.Header
	if mask != nil {
		h = mask(h)
	}
	host := h.Get("Host")
	if host == "" {
		host = m.URL.Host
	}
	b.WriteString("Host: " + host + "\n")
	keys := make([]string, 0, len(h))
	for k := range h {
		if !strings.EqualFold(k, "Host") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	if len(m.Body) > 0 && h.Get("Content-Length") == "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(m.Body)) + "\n")
	}
	b.WriteString("\n")
	if len(m.Body) > 0 {
		if printable(m.Body) {
			b.Write(m.Body)
		} else {
			fmt.Fprintf(&b, "(%d bytes of binary body)", len(m.Body))
		}
	}
	return b.String()
}

func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
