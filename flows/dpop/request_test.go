package dpop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"authlab/flows"
)

// TestKeyDataNeverEchoesAPastedKey: a PEM key given where the key file's
// path belongs is refused without its text in the error; a file and key
// data are read; no key is nil.
func TestKeyDataNeverEchoesAPastedKey(t *testing.T) {
	pem, err := GeneratePEM("ES256")
	if err != nil {
		t.Fatal(err)
	}
	_, err = KeyData(&flows.Request{DPoPKey: string(pem)})
	if err == nil {
		t.Fatal("a pasted key was accepted as a path")
	}
	body := strings.Split(string(pem), "\n")[1]
	if strings.Contains(err.Error(), body[:20]) || !strings.Contains(err.Error(), string(flows.FieldDPoPKey)) {
		t.Fatalf("error echoes the key or names no field: %v", err)
	}
	path := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, req := range []flows.Request{{DPoPKey: path}, {DPoPKeyData: flows.Secret(pem)}} {
		if got, err := KeyData(&req); err != nil || string(got) != string(pem) {
			t.Fatalf("KeyData(%+v) = %d bytes, %v", req, len(got), err)
		}
	}
	if got, err := KeyData(&flows.Request{}); got != nil || err != nil {
		t.Fatalf("no key: %q %v", got, err)
	}
}
