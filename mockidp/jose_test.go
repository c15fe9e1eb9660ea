package mockidp

import (
	"testing"
	"time"
)

// TestES256SignaturesAlwaysVerify signs enough times that r or s shorter
// than 32 bytes (1 in 128 per signature) is certain to occur.
func TestES256SignaturesAlwaysVerify(t *testing.T) {
	k, err := generateKey("ES256", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := []byte("header.payload")
	for i := 0; i < 2000; i++ {
		sig, err := signJWS("ES256", k.Priv, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != 64 {
			t.Fatalf("signature length %d", len(sig))
		}
		if err := verifyJWS("ES256", k.Priv.Public(), in, sig); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
	}
	if _, err := derToRS([]byte{0x30, 0x03, 0x02, 0x01}, 32); err == nil {
		t.Error("truncated DER accepted")
	}
}
