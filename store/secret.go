package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"authlab/flows"
)

// SecretKind names one secret of a profile.
type SecretKind string

const (
	ClientSecret SecretKind = "client_secret"
	HMACKey      SecretKind = "hmac_key"
	PrivateKey   SecretKind = "private_key" // PEM, for private_key_jwt
	APIKey       SecretKind = "api_key"
	DPoPKey      SecretKind = "dpop_key"      // PEM or private JWK, the DPoP proof key (RFC 9449)
	Password     SecretKind = "user_password" // the resource owner's, for the password grant (flag --password)
	AssertionKey SecretKind = "assertion_key" // PEM or private JWK (or a path) signing jwt-bearer assertions
)

// SecretKinds lists every kind of secret a profile may hold.
func SecretKinds() []SecretKind {
	return []SecretKind{ClientSecret, HMACKey, PrivateKey, APIKey, DPoPKey, Password, AssertionKey}
}

// Valid reports whether k is a known secret kind.
func (k SecretKind) Valid() bool {
	for _, x := range SecretKinds() {
		if k == x {
			return true
		}
	}
	return false
}

// Flag is the `authlab profile add` flag that sets this secret.
func (k SecretKind) Flag() string {
	if k == Password {
		return "--password"
	}
	return "--" + strings.ReplaceAll(string(k), "_", "-")
}

func secretKindNames() string {
	var s []string
	for _, k := range SecretKinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func sortedSecretKinds(m map[SecretKind]Secret) []SecretKind {
	keys := make([]SecretKind, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// storedPrefix starts every placeholder authlab writes instead of a stored
// secret value; reading one back means "keep the stored value".
const storedPrefix = "<stored secret"

// maxSecretFile caps what a file: reference may read.
const maxSecretFile = 1 << 20

// Secret is either a value kept in the store or a reference resolved at run
// time: "env:NAME" (an environment variable), "file:PATH" (a file's
// contents, trailing newlines trimmed) or "cmd:PROGRAM ARGS..." (a
// program's output, such as a password manager's). The value never prints: fmt shows the
// reference or a mask, and JSON writes the reference or a placeholder.
type Secret struct {
	ref   string // "env:NAME" or "file:PATH"; empty for a stored value
	value string // the stored value; empty for a reference
	keep  bool   // a placeholder was read: keep whatever the store holds
	// untrusted is set when the store loaded a secret that was not
	// confirmed for the hosts its profile sends it to: Resolve refuses it.
	untrusted *UntrustedError
}

// ParseSecret reads a flag or import value: "env:NAME", "file:PATH", a
// "<stored secret...>" placeholder (keep the stored value), or a literal.
func ParseSecret(s string) Secret {
	switch {
	case strings.HasPrefix(s, "env:"), strings.HasPrefix(s, "file:"), strings.HasPrefix(s, "cmd:"):
		return Secret{ref: s}
	case strings.HasPrefix(s, storedPrefix):
		return Secret{keep: true}
	}
	return Secret{value: s}
}

// SecretValue is a stored secret holding v.
func SecretValue(v string) Secret { return Secret{value: v} }

// KeepStored is the placeholder secret: saving it keeps what the store holds
// for that kind (with the hosts it was confirmed for).
func KeepStored() Secret { return Secret{keep: true} }

// Confirmed is false for a secret the store loaded that was not confirmed
// for the hosts its profile sends it to (see Profile.TrustError).
func (s Secret) Confirmed() bool { return s.untrusted == nil }

// IsZero reports whether the secret is unset.
func (s Secret) IsZero() bool { return s.ref == "" && s.value == "" && !s.keep }

// IsRef reports whether the secret is an env: or file: reference.
func (s Secret) IsRef() bool { return s.ref != "" }

// Ref is the env:/file: reference, or "" for a stored value.
func (s Secret) Ref() string { return s.ref }

func (s Secret) check() error {
	if r, ok := controlChar(s.ref, false); ok { // references are shown; values never are
		return fmt.Errorf("contains the control character U+%04X (terminal escapes are not allowed)", r)
	}
	switch {
	case strings.HasPrefix(s.ref, "env:"):
		name := strings.TrimPrefix(s.ref, "env:")
		if name == "" || strings.ContainsAny(name, "= \t\r\n") {
			return fmt.Errorf("%q is not an environment variable reference (env:NAME)", s.ref)
		}
	case strings.HasPrefix(s.ref, "file:"):
		if strings.TrimPrefix(s.ref, "file:") == "" {
			return errors.New(`"file:" names no file (file:PATH)`)
		}
	case strings.HasPrefix(s.ref, "cmd:"):
		// It runs a program: like file:, an imported one waits for trust.
		if argv, err := flows.SplitCommand(strings.TrimPrefix(s.ref, "cmd:")); err != nil || len(argv) == 0 {
			return fmt.Errorf("%q names no program to run (cmd:PROGRAM ARGS...)", s.ref)
		}
	}
	return nil
}

// Resolve returns the secret's value, reading the environment variable or
// file a reference names (flows.SecretSource does the reading: files must be
// regular and at most 1 MiB, trailing newlines are dropped, an empty value is
// an error). Errors name the reference, never a value.
func (s Secret) Resolve() (string, error) {
	switch {
	case s.untrusted != nil:
		// Checked before anything is read: an imported file: reference
		// must not even be opened for a host nobody confirmed.
		return "", s.untrusted
	case s.keep:
		return "", errors.New("secret placeholder was never replaced by the stored value")
	case s.ref == "":
		return s.value, nil
	case !strings.HasPrefix(s.ref, "env:") && !strings.HasPrefix(s.ref, "file:") && !strings.HasPrefix(s.ref, "cmd:"):
		return "", fmt.Errorf("secret reference %q is neither env:NAME, file:PATH nor cmd:PROGRAM", s.ref)
	}
	var readErr error
	src := flows.SecretSource{ReadFile: func(p string) ([]byte, error) {
		b, err := flows.ReadFileCapped(p, maxSecretFile)
		readErr = err
		return b, err
	}}
	b, err := src.Resolve(s.ref)
	if err == nil {
		return string(b), nil
	}
	// Keep this package's wording; flows' errors name the form the same way.
	if name, ok := strings.CutPrefix(s.ref, "env:"); ok {
		if _, set := os.LookupEnv(name); !set && s.check() == nil {
			return "", fmt.Errorf("secret %s: environment variable %s is not set", s.ref, name)
		}
	}
	var pe *os.PathError
	switch {
	case readErr == nil:
		return "", fmt.Errorf("secret %w", err)
	case errors.As(readErr, &pe):
		return "", fmt.Errorf("secret %s: cannot read the file: %w", s.ref, pe.Err)
	case strings.Contains(readErr.Error(), "larger than"):
		return "", fmt.Errorf("secret %s: the file is larger than 1 MiB", s.ref)
	}
	return "", fmt.Errorf("secret %s: cannot read the file: %v", s.ref, readErr)
}

// String shows the reference, or a mask for a stored value.
func (s Secret) String() string {
	switch {
	case s.ref != "":
		return s.ref
	case s.keep:
		return storedPrefix + ">"
	case s.value != "":
		return "•••••• (stored)"
	}
	return ""
}

// Format makes every fmt verb (%v %+v %#v %s %q ...) print String(), so a
// stored value cannot leak through a debug print of a Profile.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	io.WriteString(f, s.String())
}

// placeholder is what JSON shows instead of a stored value.
func (k SecretKind) placeholder() string {
	return storedPrefix + ": set with " + k.Flag() + ">"
}

// MarshalJSON writes the reference, or a placeholder for a stored value.
// Only Export with IncludeSecrets writes values.
func (s Secret) MarshalJSON() ([]byte, error) {
	switch {
	case s.ref != "":
		return marshalNoEscape(s.ref)
	case s.value != "" || s.keep:
		return marshalNoEscape(storedPrefix + ">")
	}
	return []byte(`""`), nil
}

// marshalNoEscape keeps '<' and '>' readable in placeholders.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// UnmarshalJSON reads what ParseSecret reads.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("want a string (a value, env:NAME or file:PATH)")
	}
	*s = ParseSecret(v)
	return nil
}

// storedSecret is the on-disk form inside a secrets record.
type storedSecret struct {
	Ref   string `json:"ref,omitempty"`
	Value string `json:"value,omitempty"`
	// Confirmed: a person entered or confirmed the secret for Origins
	// (scheme://host:port, sorted); a run refuses it for any other origin.
	Confirmed bool     `json:"confirmed,omitempty"`
	Origins   []string `json:"origins,omitempty"`
}

// secretsRecord is the value of the secrets bucket for one profile.
type secretsRecord struct {
	V       int                         `json:"v"`
	Secrets map[SecretKind]storedSecret `json:"secrets"`
}

// secretsOf turns a record into the profile's secrets, marking those not
// confirmed for origins so that Resolve refuses them.
func secretsOf(profile string, r secretsRecord, origins []string) map[SecretKind]Secret {
	if len(r.Secrets) == 0 {
		return nil
	}
	m := make(map[SecretKind]Secret, len(r.Secrets))
	for k, st := range r.Secrets {
		m[k] = Secret{ref: st.Ref, value: st.Value, untrusted: st.refusal(profile, k, origins)}
	}
	return m
}
