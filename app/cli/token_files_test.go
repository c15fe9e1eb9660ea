package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTokenInspectRefusesDevicesAndFIFOs(t *testing.T) {
	tok := tokFixture(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/dev/zero", fifo} {
		for _, args := range [][]string{
			{"--jwks", bad, tok},
			{"--cert", bad, tok},
			{"--key", bad, tok},
			{"--key", "file:" + bad, tok},
			{bad},
		} {
			code, _, errOut := runAuthlab(t, "", "", append([]string{"token", "inspect"}, args...)...)
			if code != 2 || !strings.Contains(errOut, bad+" is not a regular file") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%v: code %d, stderr %q; want 2 and %q", args, code, errOut, bad+" is not a regular file")
			}
		}
	}
	big := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), 1<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runAuthlab(t, "", "", "token", "inspect", "--jwks", big, tok)
	if code != 2 || !strings.Contains(errOut, "is larger than 1048576 bytes") {
		t.Errorf("oversize --jwks: code %d, stderr %q", code, errOut)
	}
}

func TestTokenInspectMistypedKeyPath(t *testing.T) {
	tok := tokFixture(t)
	for _, key := range []string{"./pubkey.pme", "pubkey.pem", filepath.Join(tokTestdata, "nope"), "/no/such/key"} {
		code, _, errOut := runAuthlab(t, "", "", "token", "inspect", "--key", key, tok)
		want := "--key " + key + ": no such file; for a literal HMAC secret"
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("--key %s: code %d, stderr %q; want 2 and %q", key, code, errOut, want)
		}
	}
	// A literal secret with a slash (base64 has them) is still a secret:
	// the token is RS256, so the check fails (1), not the flag (2).
	code, _, errOut := runAuthlab(t, "", "", "token", "inspect", "--key", "q8/+Zx0=", tok)
	if code != 1 || !strings.Contains(errOut, "check ") {
		t.Errorf("literal secret with a slash: code %d, stderr %q", code, errOut)
	}
}

func TestTokenInspectMalformedAndHTML(t *testing.T) {
	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "....")
	if code != 1 || !strings.Contains(errOut, "empty protected header") || strings.Contains(out, "Opaque") {
		t.Errorf("....: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runAuthlab(t, "", "", "token", "inspect", "<html>")
	if code != 0 || !strings.Contains(out, "Opaque token") || !strings.Contains(out, "this looks like HTML, not a token") {
		t.Errorf("<html>: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runAuthlab(t, "", "", "token", "inspect", "--json", "<html>")
	if code != 0 || !strings.Contains(out, `"hint": "this looks like HTML`) {
		t.Errorf("<html> --json: code %d, stdout %s", code, out)
	}
}

func TestTokenInspectEscapesTerminalControls(t *testing.T) {
	const evil = "x\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07\x1b[2J"
	tok := tokSignRS256(t, map[string]any{"kid": "rsa1", "x-evil\x1b[31m": evil}, map[string]any{
		"sub":          evil,
		"iss":          evil,
		"nested":       map[string]any{"deep": []any{evil, "\u009b2J"}},
		"claim\x1b[2J": "v",
		"iat":          time.Now().Unix(),
		"exp":          time.Now().Add(time.Hour).Unix(),
	})
	// --iss mismatch: the failing check's detail quotes the evil issuer on stderr.
	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--jwks", filepath.Join(tokTestdata, "jwks.json"), "--iss", "https://idp.example", tok)
	if code != 1 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": errOut} {
		for _, r := range s {
			if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
				t.Fatalf("%s holds raw control %U:\n%q", name, r, s)
			}
		}
	}
	for _, want := range []string{`x\x1b]52;c;`, `claim\x1b[2J`, `\u009b2J`, `x-evil\x1b[31m`} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks the escaped %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, `x\x1b]52;c;`) {
		t.Errorf("stderr lacks the escaped issuer: %q", errOut)
	}
}

// A base64 secret that starts with "/" is a secret, not a missing file: it is
// used as the key and never echoed in an error.
func TestTokenInspectSlashSecretNotEchoed(t *testing.T) {
	tok := tokFixture(t)
	const secret = "/q8Zx0+abc/def=="
	code, out, errOut := runAuthlab(t, "", "", "token", "inspect", "--key", secret, tok)
	if code != 1 || strings.Contains(out+errOut, secret) {
		t.Fatalf("code %d (want 1: the RS256 token fails with an HMAC key); the secret echoed: %v", code, strings.Contains(out+errOut, secret))
	}
}
