package flows

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MaxKeyFileSize caps keys, certificates, JWKS and token files read from
// disk: real ones are a few KiB.
const MaxKeyFileSize = 1 << 20

// ReadFileCapped reads a local file given on the command line or in a
// profile (keys, certificates, JWKS, tokens, request bodies). It refuses
// anything but a regular file, so /dev/zero, a FIFO or a directory fail at
// once instead of hanging or eating memory, and it never reads more than
// max+1 bytes. A missing file keeps the *fs.PathError (errors.Is with
// fs.ErrNotExist works).
//
// A key or secret pasted where its path belongs (`--key "$(cat key.pem)"`)
// is never echoed: a value that is plainly not a path is refused with what
// it looks like, and a failure for a value that does not look like a path
// says so instead of quoting it (see DisplayPath).
func ReadFileCapped(path string, max int64) ([]byte, error) {
	if kind := NotAPathKind(path); kind != "" {
		return nil, &NotAPathError{Kind: kind}
	}
	// Stat first so a device or FIFO is never even opened (opening some
	// devices has side effects).
	fi, err := os.Stat(path)
	if err != nil {
		if !LooksLikePath(path) {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, &NotAPathError{Kind: DescribeValue(path), Err: err}
		}
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	// O_NONBLOCK: if the path was swapped for a FIFO after the Stat, the open
	// still returns at once; the Fstat below then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// NotAPathError is a value given where a file path was expected that is
// not one (or, when Err is set, was not found and does not look like one).
// Its message says what the value looks like and never quotes it.
type NotAPathError struct {
	Kind string // "a PEM private key", "a JWT", ... (DescribeValue)
	Err  error  // the file system's error, when the value was tried as a path
}

func (e *NotAPathError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v; the value (not shown) looks like %s, not a file path", e.Err, e.Kind)
	}
	return "the value looks like " + e.Kind + ", not a path: save it to a file and pass that file's path"
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) work for a missing file.
func (e *NotAPathError) Unwrap() error { return e.Err }

// NotAPathKind is what v looks like when it cannot be a file path at all
// (a PEM block, JSON, a JWT, several lines), else "".
func NotAPathKind(v string) string {
	t := strings.TrimSpace(v)
	switch {
	case strings.Contains(t, "-----BEGIN "), strings.HasPrefix(t, "{"), strings.ContainsAny(t, "\r\n"), looksLikeJWT(t):
		return DescribeValue(v)
	}
	return ""
}

func looksLikeJWT(v string) bool {
	parts := strings.Split(v, ".")
	return (len(parts) == 3 || len(parts) == 5) && strings.HasPrefix(v, "eyJ") && !strings.ContainsAny(v, "/\\ ")
}

// DescribeValue says what a value looks like without quoting it, for
// messages about a value given to a key, secret or path flag: "a PEM
// private key", "a PEM certificate", "a PEM public key", "a PEM block",
// "a JWK", "a JWK Set", "a JSON document", "a JWT", "a file path", or
// "a literal value (N characters)".
func DescribeValue(v string) string {
	t := strings.TrimSpace(v)
	switch {
	case strings.Contains(t, "-----BEGIN "):
		_, after, _ := strings.Cut(t, "-----BEGIN ")
		typ, _, _ := strings.Cut(after, "-----")
		switch {
		case strings.HasSuffix(typ, "PRIVATE KEY"):
			return "a PEM private key"
		case typ == "CERTIFICATE":
			return "a PEM certificate"
		case strings.HasSuffix(typ, "PUBLIC KEY"):
			return "a PEM public key"
		}
		return "a PEM block"
	case strings.HasPrefix(t, "{"):
		switch {
		case strings.Contains(t, `"keys"`):
			return "a JWK Set"
		case strings.Contains(t, `"kty"`):
			return "a JWK"
		}
		return "a JSON document"
	case looksLikeJWT(t):
		return "a JWT"
	case strings.ContainsAny(t, "\r\n"):
		return "a multi-line value"
	case LooksLikePath(v):
		return "a file path"
	}
	return fmt.Sprintf("a literal value (%d characters)", len([]rune(v)))
}

// LooksLikePath reports whether v plainly reads as a file path: a key or
// certificate file extension, a leading /, ./, ../ or ~/, or a directory
// part that exists. Base64 secrets may start with "/" too, so '+' and '='
// (base64 alphabet and padding) say "not a path".
func LooksLikePath(v string) bool {
	if v == "" || strings.ContainsAny(v, "+=\r\n\t") || NotAPathKind(v) != "" {
		return false
	}
	lower := strings.ToLower(v)
	for _, ext := range []string{".pem", ".key", ".crt", ".cer", ".der", ".pub", ".jwk", ".jwks", ".json", ".txt", ".p8", ".http", ".db"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	for _, p := range []string{"/", "./", "../", "~/", `.\`, `..\`} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	if i := strings.LastIndexAny(v, "/"+string(os.PathSeparator)); i > 0 {
		if st, err := os.Stat(v[:i]); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

// DisplayPath is how a message names a value given for a file path: the
// path when it looks like one, else what the value looks like, so a key or
// secret given by mistake is never echoed.
func DisplayPath(v string) string {
	if LooksLikePath(v) {
		return v
	}
	return "(" + DescribeValue(v) + ")"
}

// WritePrivateFile writes data readable by the owner only. It writes a
// temporary file in the same directory, fsyncs it and renames it over path:
// a reader never sees half a file, an existing file's looser mode (0644) is
// not kept, and a symlink at path is replaced rather than followed.
func WritePrivateFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; Chmod makes it explicit regardless of
	// platform defaults.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	// Best effort: persist the rename itself.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// MaxSecretFileSize caps a file:PATH secret; real secrets are bytes, PEM
// keys a few KiB.
const MaxSecretFileSize = 1 << 20

// SecretSource resolves secret references. Its fields let tests supply an
// environment and files; nil fields use the process environment and
// ReadFileCapped.
type SecretSource struct {
	LookupEnv func(name string) (string, bool)
	ReadFile  func(path string) ([]byte, error)
	// CommandStderr receives a cmd: program's stderr (nil: os.Stderr);
	// CommandTimeout bounds it (0: DefaultSecretCommandTimeout).
	CommandStderr  io.Writer
	CommandTimeout time.Duration
}

// ResolveSecret resolves a secret reference with the process environment
// and file system. See SecretSource.Resolve for the forms.
func ResolveSecret(ref string) ([]byte, error) { return SecretSource{}.Resolve(ref) }

// Resolve returns the bytes a secret reference stands for. Recognised forms:
//
//	env:NAME     the environment variable NAME (unset or empty is an error)
//	file:PATH    the file's content, trailing CR/LF dropped (a regular file
//	             of at most MaxSecretFileSize; empty is an error)
//	cmd:PROGRAM ARGS...  the program's stdout, one trailing newline dropped
//	             (argv split as SplitCommand does, no shell; at most
//	             MaxSecretCommandOutput bytes within CommandTimeout; a
//	             failure names the reference and exit status, never stdout)
//	base64:B64   standard or URL alphabet, padding optional, spaces trimmed
//	hex:HEX      hexadecimal, spaces trimmed
//	raw:VALUE    VALUE byte for byte: a literal secret that itself starts
//	             with env:, file:, cmd:, base64:, hex: or raw:
//	anything else  the value itself, byte for byte
//
// Other "word:" prefixes are literal values (a secret may contain a colon).
// Errors name the reference form (env:NAME, file:PATH, base64:…), never the
// secret itself.
func (s SecretSource) Resolve(ref string) ([]byte, error) {
	if ref == "" {
		return nil, errors.New("no secret given (a value, env:NAME, file:PATH, base64:… or hex:…)")
	}
	prefix, rest, _ := strings.Cut(ref, ":")
	switch prefix {
	case "raw":
		if rest == "" {
			return nil, errors.New(`"raw:" holds no value (raw:VALUE)`)
		}
		return []byte(rest), nil
	case "env":
		if rest == "" || strings.ContainsAny(rest, "= \t\r\n") {
			return nil, fmt.Errorf("%q is not an environment variable reference (env:NAME)", ref)
		}
		lookup := s.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(rest)
		if !ok {
			return nil, fmt.Errorf("env:%s: the environment variable is not set", rest)
		}
		if v == "" {
			return nil, fmt.Errorf("env:%s: the environment variable is empty", rest)
		}
		return []byte(v), nil
	case "file":
		if rest == "" {
			return nil, errors.New(`"file:" names no file (file:PATH)`)
		}
		read := s.ReadFile
		if read == nil {
			read = func(p string) ([]byte, error) { return ReadFileCapped(p, MaxSecretFileSize) }
		}
		b, err := read(rest)
		if err != nil {
			return nil, fmt.Errorf("file:%s: %w", rest, unwrapPathError(err))
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, fmt.Errorf("file:%s: the file is empty", rest)
		}
		return b, nil
	case "cmd":
		return runSecretCommand(ref, rest, s.CommandTimeout, s.CommandStderr)
	case "base64":
		v := strings.TrimRight(strings.TrimSpace(rest), "=")
		b, err := base64.RawStdEncoding.DecodeString(v)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(v)
		}
		if err != nil || len(b) == 0 {
			return nil, errors.New("base64:…: not valid base64")
		}
		return b, nil
	case "hex":
		b, err := hex.DecodeString(strings.TrimSpace(rest))
		if err != nil || len(b) == 0 {
			return nil, errors.New("hex:…: not valid hexadecimal")
		}
		return b, nil
	}
	return []byte(ref), nil
}

// DescribeSecret says how a secret reference was given, without its value:
// "env:NAME", "file:PATH", "cmd:PROGRAM ARGS...", "base64", "hex" or
// "value" (raw:VALUE too).
func DescribeSecret(ref string) string {
	prefix, _, _ := strings.Cut(ref, ":")
	switch prefix {
	case "env", "file", "cmd": // the command line is not the secret; its output is
		return ref
	case "base64", "hex":
		return prefix
	}
	return "value"
}

// unwrapPathError drops the "open PATH:" wrapper: the caller names the path.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
