package flows

import (
	"authlab/internal/testtools"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"pass show api/client-secret":                 {"pass", "show", "api/client-secret"},
		"  op   read\t'op://vault/My Item/password' ": {"op", "read", "op://vault/My Item/password"},
		`vault kv get "-field=secret" "a \"b\" \\c"`:  {"vault", "kv", "get", "-field=secret", `a "b" \c`},
		`secret-tool lookup svc my\ app`:              {"secret-tool", "lookup", "svc", "my app"},
		`echo $HOME ''`:                               {"echo", "$HOME", ""},
		"":                                            nil,
	} {
		got, err := SplitCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`, `a \`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q): no error", bad)
		}
	}
}

// helper writes an executable shell script standing in for a password manager.
func helper(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-pass")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCmdSecret(t *testing.T) {
	ok := helper(t, `[ "$1 $2" = "show api/client-secret" ] || { echo "usage: $0 show NAME" >&2; exit 64; }
echo "pinentry: unlocked" >&2
printf 'line-one\nS3cret-Qx9\n\n'`)
	var stderr bytes.Buffer
	src := SecretSource{CommandStderr: &stderr}
	got, err := src.Resolve("cmd:" + ok + " show api/client-secret")
	if err != nil || string(got) != "line-one\nS3cret-Qx9\n" {
		t.Fatalf("got %q, %v (only the final newline goes)", got, err)
	}
	if !strings.Contains(stderr.String(), "pinentry: unlocked") {
		t.Errorf("stderr not passed through: %q", stderr.String())
	}
	if d := DescribeSecret("cmd:pass show x"); d != "cmd:pass show x" {
		t.Errorf("DescribeSecret = %q", d)
	}

	for _, c := range []struct {
		name, body, want string
		timeout          time.Duration
	}{
		{"failing", `echo "partial-S3cret"; echo "gpg: decryption failed: No secret key" >&2; echo "second line" >&2; exit 2`, "exit status 2 (gpg: decryption failed: No secret key)", 0},
		{"noisy stderr", `i=0; while [ $i -lt 2000 ]; do echo "noise $i ................................................" >&2; i=$((i+1)); done; exit 1`, "exit status 1 (noise 0 ....", 0},
		{"slow", `sleep 30`, "did not finish within 300ms", 300 * time.Millisecond},
		{"huge output", `head -c 3000000 /dev/zero | tr '\0' 'x'`, "wrote more than 1024 KiB", 0},
		{"empty", `exit 0`, "the program printed nothing", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := helper(t, c.body)
			ref := "cmd:" + h + " show x"
			var se bytes.Buffer
			start := time.Now()
			v, err := SecretSource{CommandStderr: &se, CommandTimeout: c.timeout}.Resolve(ref)
			if err == nil || v != nil {
				t.Fatalf("got %q, %v; want an error", v, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, ref+": ") || !strings.Contains(msg, c.want) {
				t.Errorf("error %q; want it to start with the reference and contain %q", msg, c.want)
			}
			if strings.Contains(msg, "S3cret") || strings.Contains(msg, "second line") || strings.Contains(msg, "xxxx") || len(msg) > len(ref)+260 {
				t.Errorf("error shows output or more than a short first stderr line: %q", msg)
			}
			// The bound holds even when a child keeps the pipes open.
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %s", el)
			}
		})
	}
	if _, err := (SecretSource{}).Resolve("cmd:/nonexistent/authlab-helper show x"); err == nil || !strings.Contains(err.Error(), "cmd:/nonexistent/authlab-helper show x: ") {
		t.Errorf("missing program: %v", err)
	}
	if _, err := (SecretSource{}).Resolve("cmd:  "); err == nil || !strings.Contains(err.Error(), "names no program") {
		t.Errorf("empty command: %v", err)
	}
	// No shell: metacharacters are arguments.
	echo := helper(t, `printf '%s|' "$@"`)
	if v, err := (SecretSource{}).Resolve("cmd:" + echo + " a;b $(id) `x` >out"); err != nil || string(v) != "a;b|$(id)|`x`|>out|" {
		t.Errorf("shell metacharacters: %q %v", v, err)
	}
}

// cmd:pass show NAME against Debian's pass with a throwaway GnuPG home.
func TestCmdSecretWithPass(t *testing.T) {
	for _, tool := range []string{"pass", "gpg", "gpgconf"} {
		testtools.Require(t, tool)
	}
	// Short paths: gpg-agent's socket must fit in sun_path.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	gnupg := filepath.Join(home, "g")
	os.Mkdir(gnupg, 0o700)
	t.Setenv("GNUPGHOME", gnupg)
	t.Setenv("PASSWORD_STORE_DIR", filepath.Join(home, "store"))
	run := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--kill", "all").Run() })
	run("", "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "authlab-test@example.invalid", "default", "default", "1d")
	run("", "pass", "init", "authlab-test@example.invalid")
	run("pass-S3cret-Zq7\n", "pass", "insert", "-m", "api/client-secret")

	v, err := (SecretSource{CommandStderr: &bytes.Buffer{}}).Resolve("cmd:pass show api/client-secret")
	if err != nil || string(v) != "pass-S3cret-Zq7" {
		t.Fatalf("pass show: %q %v", v, err)
	}
	_, err = (SecretSource{CommandStderr: &bytes.Buffer{}}).Resolve("cmd:pass show api/missing")
	if err == nil || !strings.Contains(err.Error(), "cmd:pass show api/missing: exit status 1 (Error: api/missing is not in the password store.)") {
		t.Fatalf("missing entry: %v", err)
	}
}
