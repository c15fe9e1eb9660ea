// Package hmac signs and verifies HMAC-authenticated HTTP requests: RFC 9421
// HTTP Message Signatures (hmac-sha256), AWS Signature Version 4, and the
// Stripe and GitHub webhook styles. Every signer returns a record of exactly
// what it signed (signature base, canonical request, string to sign) and the
// headers it added; the verifier recomputes and, on a mismatch, points at the
// first difference a developer can act on. Keys mask themselves in output.
package hmac

import (
	"bytes"
	chmac "crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"

	"authlab/flows"
)

// Key is HMAC key material. It never prints itself: fmt verbs, JSON and
// text marshalling all render flows.Masked.
type Key struct {
	b []byte
	// alts are other plausible readings of the same user input (a plain
	// value that is also valid base64, say); the verifier tries them to say
	// "the signer decoded the key differently", never to accept a request.
	alts []altKey
	src  string // how the key was given ("env:NAME", "base64", ...), never the value
	// macs holds keyed HMAC states: HMAC absorbs the key into two hash
	// blocks once, and Reset restores that state, so signing many requests
	// does not re-derive it every time. Shared by copies of the Key.
	macs *sync.Pool
}

// macState is one pooled keyed HMAC with room for its sum and a signature
// base, so the RFC 9421 success path allocates neither per request.
type macState struct {
	h    hash.Hash
	sum  [sha256.Size]byte
	base []byte
}

func withPool(k Key) Key {
	b := k.b
	k.macs = &sync.Pool{New: func() any { return &macState{h: chmac.New(sha256.New, b)} }}
	return k
}

// state takes a keyed HMAC from the pool; give it back with put.
func (k Key) state() *macState {
	if k.macs == nil {
		return &macState{h: chmac.New(sha256.New, k.b)}
	}
	return k.macs.Get().(*macState)
}

func (k Key) put(st *macState) {
	if k.macs != nil && cap(st.base) <= 64<<10 { // do not pin huge bases
		k.macs.Put(st)
	}
}

// sumOf computes HMAC-SHA256(key, msg) into st.sum and returns it; valid
// until st goes back to the pool.
func (st *macState) sumOf(msg []byte) []byte {
	st.h.Reset()
	st.h.Write(msg)
	return st.h.Sum(st.sum[:0])
}

// mac is HMAC-SHA256(key, msg).
func (k Key) mac(msg []byte) []byte {
	if k.macs == nil {
		return macSHA256(k.b, msg)
	}
	st := k.state()
	out := append(make([]byte, 0, sha256.Size), st.sumOf(msg)...)
	k.put(st)
	return out
}

type altKey struct {
	how string
	b   []byte
}

// NewKey wraps raw key bytes.
func NewKey(b []byte) Key { return withPool(Key{b: append([]byte(nil), b...), src: "bytes"}) }

// Bytes returns the key material. Callers must not print it.
func (k Key) Bytes() []byte { return k.b }

// IsZero reports whether no key was given.
func (k Key) IsZero() bool { return len(k.b) == 0 }

// Source says how the key was given (never the value).
func (k Key) Source() string { return k.src }

func (k Key) String() string                { return flows.Masked }
func (k Key) GoString() string              { return flows.Masked }
func (k Key) Format(f fmt.State, verb rune) { f.Write([]byte(flows.Masked)) }
func (k Key) MarshalJSON() ([]byte, error)  { return []byte(`"` + flows.Masked + `"`), nil }
func (k Key) MarshalText() ([]byte, error)  { return []byte(flows.Masked), nil }
func (k *Key) UnmarshalJSON(b []byte) error { return errors.New("hmac keys are not read from JSON") }

// KeySource resolves the user's --key without knowing where env and files
// come from, so tests need no real environment.
type KeySource struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// DefaultKeySource reads the process environment and the file system; files
// go through the capped reader so file:/dev/zero or a FIFO fails at once.
func DefaultKeySource() KeySource {
	return KeySource{Getenv: os.Getenv, ReadFile: func(p string) ([]byte, error) {
		return flows.ReadFileCapped(p, flows.MaxSecretFileSize)
	}}
}

// ParseKey reads a key given as a value, env:NAME, file:PATH, hex:HEX,
// base64:B64 (standard or URL alphabet, padding optional) or raw:VALUE (the
// value byte for byte, for one that starts with a prefix). A file's trailing
// newline is dropped; errors name the form, never the value.
func (s KeySource) ParseKey(spec string) (Key, error) {
	if spec == "" {
		return Key{}, flows.Errorf(flows.ErrConfig, "no HMAC key: pass %s (a value, env:NAME, file:PATH, hex:… or base64:…)", FieldKey)
	}
	prefix, rest, hasPrefix := strings.Cut(spec, ":")
	if hasPrefix {
		switch prefix {
		case "raw": // a literal key that itself starts with env:, file:, ...
			if rest == "" {
				return Key{}, errors.New(`key "raw:" holds no value (raw:VALUE)`)
			}
			k := plainKey([]byte(rest))
			k.src = "value"
			return withPool(k), nil
		case "env":
			if s.Getenv == nil {
				return Key{}, errors.New("key env:" + rest + ": no environment")
			}
			v := s.Getenv(rest)
			if v == "" {
				return Key{}, fmt.Errorf("key env:%s: the variable is empty or unset", rest)
			}
			k := plainKey([]byte(v))
			k.src = "env:" + rest
			return withPool(k), nil
		case "file":
			if s.ReadFile == nil {
				return Key{}, errors.New("key file:" + rest + ": no file system")
			}
			b, err := s.ReadFile(rest)
			if err != nil {
				return Key{}, fmt.Errorf("key file:%s: %w", rest, err)
			}
			b = bytes.TrimRight(b, "\r\n")
			if len(b) == 0 {
				return Key{}, fmt.Errorf("key file:%s: the file is empty", rest)
			}
			k := plainKey(b)
			k.src = "file:" + rest
			return withPool(k), nil
		case "hex":
			b, err := hex.DecodeString(strings.TrimSpace(rest))
			if err != nil || len(b) == 0 {
				return Key{}, errors.New("key hex:…: not valid hexadecimal")
			}
			return withPool(Key{b: b, src: "hex", alts: []altKey{{"the hex text itself, not decoded", []byte(rest)}}}), nil
		case "base64":
			b, err := decodeBase64(strings.TrimSpace(rest))
			if err != nil || len(b) == 0 {
				return Key{}, errors.New("key base64:…: not valid base64")
			}
			return withPool(Key{b: b, src: "base64", alts: []altKey{{"the base64 text itself, not decoded", []byte(rest)}}}), nil
		}
	}
	k := plainKey([]byte(spec))
	k.src = "value"
	return withPool(k), nil
}

// plainKey uses the bytes as given and remembers the decodings a signer
// might have applied instead.
func plainKey(b []byte) Key {
	k := Key{b: b}
	s := strings.TrimSpace(string(b))
	if d, err := decodeBase64(s); err == nil && len(d) > 0 && len(s)%4 == 0 {
		k.alts = append(k.alts, altKey{"base64-decoded (pass it as base64:…)", d})
	}
	if d, err := hex.DecodeString(s); err == nil && len(d) > 0 {
		k.alts = append(k.alts, altKey{"hex-decoded (pass it as hex:…)", d})
	}
	return k
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
