package mockidp_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"authlab/mockidp"
)

// TestDemoJWTKeyIsTheFixture: the key the binary embeds for the demo is the
// test fixture the tests sign with, and the private half of the demo-jwt
// client's registered JWK Set.
func TestDemoJWTKeyIsTheFixture(t *testing.T) {
	b, err := os.ReadFile("../testdata/mockidp/demo-jwt.key")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != mockidp.DemoJWTKeyPEM {
		t.Fatal("mockidp/demo-jwt.key and testdata/mockidp/demo-jwt.key differ")
	}
	block, _ := pem.Decode([]byte(mockidp.DemoJWTKeyPEM))
	if block == nil {
		t.Fatal("mockidp.DemoJWTKeyPEM is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		k2, err2 := x509.ParseECPrivateKey(block.Bytes)
		if err2 != nil {
			t.Fatalf("parse: %v / %v", err, err2)
		}
		key = k2
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(mockidp.DemoJWTPublicJWKS), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %v", err)
	}
	pub := key.(*ecdsa.PrivateKey).Public().(*ecdsa.PublicKey)
	if !pub.Equal(set.Keys[0].Key) {
		t.Fatal("the demo key is not the private half of mockidp.DemoJWTPublicJWKS")
	}
}
