package dpop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"authlab/flows"
)

// Nonce limits: a server nonce is an opaque NQCHAR string (RFC 9449 8);
// anything longer than MaxNonceLen or outside NQCHAR is not kept.
const (
	MaxNonceLen     = 512
	DefaultMaxHosts = 64
)

// Nonces keeps the latest nonce of each server (by origin), bounded: the
// oldest server is forgotten first. Safe for concurrent use.
type Nonces struct {
	mu    sync.Mutex
	max   int
	m     map[string]string
	order []string // origins, oldest first
}

// NewNonces returns a cache for at most max servers (DefaultMaxHosts when ≤ 0).
func NewNonces(max int) *Nonces {
	if max <= 0 {
		max = DefaultMaxHosts
	}
	return &Nonces{max: max, m: map[string]string{}}
}

// Origin is the key nonces are kept under: scheme://host[:port], lower case.
func Origin(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return strings.ToLower(target)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// Get returns the nonce last seen from target's server, or "".
func (n *Nonces) Get(target string) string {
	if n == nil {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[Origin(target)]
}

// Set keeps nonce for target's server; an invalid nonce is ignored and
// reported false.
func (n *Nonces) Set(target, nonce string) bool {
	if n == nil || !ValidNonce(nonce) {
		return false
	}
	o := Origin(target)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.m[o]; !ok {
		for len(n.order) >= n.max {
			delete(n.m, n.order[0])
			n.order = n.order[1:]
		}
		n.order = append(n.order, o)
	}
	n.m[o] = nonce
	return true
}

// Observe keeps the DPoP-Nonce of any response (RFC 9449 8.2: a server
// may send a fresh nonce on any answer).
func (n *Nonces) Observe(target string, h http.Header) {
	if v := h.Get(NonceHeader); v != "" {
		n.Set(target, v)
	}
}

// Len is the number of servers with a nonce.
func (n *Nonces) Len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.m)
}

// ValidNonce: 1*NQCHAR (%x21 / %x23-5B / %x5D-7E), at most MaxNonceLen.
func ValidNonce(s string) bool {
	if s == "" || len(s) > MaxNonceLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// NonceChallenge reports whether a response demands a (new) nonce, and the
// nonce it sent: an authorization server answers 400 with error
// use_dpop_nonce (RFC 9449 8), a resource server 401 with
// `WWW-Authenticate: DPoP error="use_dpop_nonce"` (9). Either sends the
// nonce in DPoP-Nonce.
func NonceChallenge(resp *flows.Response) (nonce string, challenged bool) {
	if resp == nil {
		return "", false
	}
	switch resp.Status {
	case http.StatusBadRequest:
		body := bytes.TrimSpace(resp.Body)
		if len(body) == 0 || body[0] != '{' {
			return "", false
		}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error != ErrUseNonce {
			return "", false
		}
	case http.StatusUnauthorized:
		if !challengeSays(resp.Header.Values("WWW-Authenticate"), ErrUseNonce) {
			return "", false
		}
	default:
		return "", false
	}
	return resp.Header.Get(NonceHeader), true
}

// challengeSays: some DPoP challenge carries error="code".
func challengeSays(values []string, code string) bool {
	for _, v := range values {
		for _, part := range splitChallenges(v) {
			scheme, params, _ := strings.Cut(strings.TrimSpace(part), " ")
			if !strings.EqualFold(scheme, Scheme) {
				continue
			}
			if strings.Contains(params, `error="`+code+`"`) || strings.Contains(params, "error="+code) {
				return true
			}
		}
	}
	return false
}

// splitChallenges cuts a WWW-Authenticate value before each scheme token
// that follows a comma outside quotes (`Bearer realm="x", DPoP algs="..."`).
func splitChallenges(v string) []string {
	var out []string
	start, inQ := 0, false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inQ = !inQ
		case ',':
			if inQ {
				continue
			}
			rest := strings.TrimLeft(v[i+1:], " ")
			tok, after, _ := strings.Cut(rest, " ")
			if tok != "" && !strings.Contains(tok, "=") && after != "" {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// NonceError is a nonce challenge on the retry that carried the nonce the
// server had just asked for: the server keeps demanding new ones (or its
// nonces are broken). authlab reports it instead of looping.
type NonceError struct {
	Target string
	Nonce  string // the nonce the retry carried
	Next   string // the nonce the server then sent
}

func (e *NonceError) Error() string {
	next := "no new nonce"
	if e.Next != "" {
		next = "another nonce"
	}
	return fmt.Sprintf("%s asked for a new DPoP nonce again on the retry that carried the one it had sent (%s): the server rejects every nonce (nonce storm or broken nonce rotation); not retrying further", e.Target, next)
}

// Do sends a request with a proof and, when the answer is a nonce
// challenge carrying a nonce, once more with that nonce: the one retry of
// RFC 9449 8 and 9. send builds a fresh proof for the nonce it is given
// ("" for none). The nonce of every answer is kept. On a second
// challenge it returns that answer and a *NonceError.
func Do(n *Nonces, target string, send func(nonce string) (*flows.Response, error)) (resp *flows.Response, retries int, err error) {
	nonce := n.Get(target)
	resp, err = send(nonce)
	if resp != nil {
		n.Observe(target, resp.Header)
	}
	if err != nil {
		return resp, 0, err
	}
	next, challenged := NonceChallenge(resp)
	if !challenged || next == "" || !ValidNonce(next) {
		return resp, 0, nil
	}
	resp, err = send(next)
	if resp != nil {
		n.Observe(target, resp.Header)
	}
	if err != nil {
		return resp, 1, err
	}
	if again, challenged := NonceChallenge(resp); challenged {
		return resp, 1, &NonceError{Target: target, Nonce: next, Next: again}
	}
	return resp, 1, nil
}
