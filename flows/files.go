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
func ReadFileCapped(path string, max int64) ([]byte, error) {
	// Stat first so a device or FIFO is never even opened (opening some
	// devices has side effects).
	fi, err := os.Stat(path)
	if err != nil {
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
}

// ResolveSecret resolves a secret reference with the process environment
// and file system. See SecretSource.Resolve for the forms.
func ResolveSecret(ref string) ([]byte, error) { return SecretSource{}.Resolve(ref) }

// Resolve returns the bytes a secret reference stands for. Recognised forms:
//
//	env:NAME     the environment variable NAME (unset or empty is an error)
//	file:PATH    the file's content, trailing CR/LF dropped (a regular file
//	             of at most MaxSecretFileSize; empty is an error)
//	base64:B64   standard or URL alphabet, padding optional, spaces trimmed
//	hex:HEX      hexadecimal, spaces trimmed
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
// "env:NAME", "file:PATH", "base64", "hex" or "value".
func DescribeSecret(ref string) string {
	prefix, _, _ := strings.Cut(ref, ":")
	switch prefix {
	case "env", "file":
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
