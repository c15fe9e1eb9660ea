package flows

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readWithin runs ReadFileCapped with a deadline so a regression (a hang on a
// device or FIFO) fails the test instead of stalling the suite.
func readWithin(t *testing.T, path string, max int64) ([]byte, error) {
	t.Helper()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := ReadFileCapped(path, max)
		ch <- res{b, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-ctx.Done():
		t.Fatalf("ReadFileCapped(%s) did not return within 5s", path)
		return nil, nil
	}
}

func TestReadFileCappedRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := readWithin(t, p, 5)
	if err != nil || string(b) != "hello" {
		t.Fatalf("got %q, %v; want hello at exactly the cap", b, err)
	}
}

func TestReadFileCappedOversize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(p, bytes.Repeat([]byte("a"), 101), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readWithin(t, p, 100)
	if err == nil || err.Error() != p+" is larger than 100 bytes" {
		t.Fatalf("err = %v", err)
	}
}

func TestReadFileCappedRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	for _, p := range []string{"/dev/zero", fifo, dir} {
		if p == "/dev/zero" {
			if _, err := os.Stat(p); err != nil {
				t.Logf("skip %s: %v", p, err)
				continue
			}
		}
		_, err := readWithin(t, p, 1<<20)
		if err == nil || err.Error() != p+" is not a regular file" {
			t.Errorf("%s: err = %v, want %q", p, err, p+" is not a regular file")
		}
	}
}

func TestReadFileCappedMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.pem")
	_, err := readWithin(t, p, 10)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want a not-exist error naming the path", err)
	}
}

func TestWritePrivateFileTightensExistingMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	if err := WritePrivateFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content = %q", b)
	}
	assertNoTempLeft(t, filepath.Dir(p))
}

func TestWritePrivateFileReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("victim"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateFile(link, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "victim" {
		t.Fatalf("symlink target was written through: %q", b)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("link is now %v, want a regular 0600 file", fi.Mode())
	}
	if b, _ := os.ReadFile(link); string(b) != "secret" {
		t.Fatalf("content = %q", b)
	}
}

func TestWritePrivateFileMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "f")
	err := WritePrivateFile(p, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want an error naming %s", err, p)
	}
}

func assertNoTempLeft(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestResolveSecretForms(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k")
	if err := os.WriteFile(keyFile, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := SecretSource{LookupEnv: func(n string) (string, bool) {
		v, ok := map[string]string{"K": "from-env", "EMPTY": ""}[n]
		return v, ok
	}}
	ok := map[string]string{
		"plain":               "plain",
		"weird:prefix":        "weird:prefix",
		"env:K":               "from-env",
		"file:" + keyFile:     "from-file",
		"base64:aGVsbG8=":     "hello",
		"base64:aGVsbG8":      "hello",
		"base64:-_8":          "\xfb\xff",
		"hex: 68656c6c6f ":    "hello",
		"s3cr3t with: colon ": "s3cr3t with: colon ",
	}
	for ref, want := range ok {
		got, err := src.Resolve(ref)
		if err != nil || string(got) != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	bad := map[string]string{
		"":                             "no secret given",
		"env:UNSET_X":                  "env:UNSET_X: the environment variable is not set",
		"env:EMPTY":                    "env:EMPTY: the environment variable is empty",
		"env:":                         "not an environment variable reference",
		"file:":                        "names no file",
		"file:" + dir + "/missing":     "file:" + dir + "/missing: no such file or directory",
		"file:/dev/zero":               "/dev/zero is not a regular file",
		"base64:!!not-base64-secret!!": "base64:…: not valid base64",
		"hex:zz-secret-zz":             "hex:…: not valid hexadecimal",
	}
	for ref, want := range bad {
		_, err := src.Resolve(ref)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q) err = %v, want it to contain %q", ref, err, want)
			continue
		}
		if strings.Contains(err.Error(), "secret!!") || strings.Contains(err.Error(), "zz-secret") {
			t.Errorf("Resolve(%q) echoed the value: %v", ref, err)
		}
	}
}

func TestResolveSecretUsesProcessEnv(t *testing.T) {
	t.Setenv("AUTHLAB_TEST_SECRET", "v")
	if b, err := ResolveSecret("env:AUTHLAB_TEST_SECRET"); err != nil || string(b) != "v" {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestDescribeSecret(t *testing.T) {
	for ref, want := range map[string]string{"env:X": "env:X", "file:/k": "file:/k", "base64:AA": "base64", "hex:00": "hex", "hunter2": "value"} {
		if got := DescribeSecret(ref); got != want {
			t.Errorf("DescribeSecret(%q) = %q, want %q", ref, got, want)
		}
	}
}

// TestReadFileCappedNeverEchoesAKey: a key or secret pasted where a path
// belongs is refused with what it looks like and never quoted.
func TestReadFileCappedNeverEchoesAKey(t *testing.T) {
	const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
	for value, kind := range map[string]string{
		"-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n": "a PEM private key",
		"-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----":   "a PEM certificate",
		`{"kty":"oct","k":"` + body + `"}`:                                       "a JWK",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0." + body:                           "a JWT",
		"s3cr3t-" + body: "a literal value",
	} {
		_, err := readWithin(t, value, 1<<10)
		if err == nil || strings.Contains(err.Error(), body) || !strings.Contains(err.Error(), kind) {
			t.Errorf("%s: err = %v", kind, err)
		}
		var np *NotAPathError
		if !errors.As(err, &np) {
			t.Errorf("%s: %T is not a *NotAPathError", kind, err)
		}
	}
	if _, err := readWithin(t, "s3cr3t-"+body, 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing literal is still ErrNotExist: %v", err)
	}
	if got := DisplayPath("./keys/client.pem"); got != "./keys/client.pem" {
		t.Errorf("a path is shown as %q", got)
	}
}

func TestResolveSecretRawPrefix(t *testing.T) {
	for ref, want := range map[string]string{"raw:env:NOT_A_VAR": "env:NOT_A_VAR", "raw:file:x": "file:x", "raw:raw:y": "raw:y"} {
		if got, err := ResolveSecret(ref); err != nil || string(got) != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	if _, err := ResolveSecret("raw:"); err == nil {
		t.Error(`"raw:" resolved to nothing without an error`)
	}
}
