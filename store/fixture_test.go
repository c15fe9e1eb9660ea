package store

import (
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// v0Fixture is testdata/store/v0.db: what authlab 0.x wrote (see
// testdata/store/README.md). The JSON is hand-written in 0.x's field names.
const v0Fixture = "../testdata/store/v0.db"

var v0Profiles = map[string]string{
	"corp": `{"name":"corp","type":"client_credentials","issuer":"https://idp.example.com",` +
		`"client_id":"api-test","client_secret":"v0-inline-secret-5f2c","auth_method":"client_secret_basic",` +
		`"scope":"read write  admin","audience":"https://api.example.com","tags":["prod"],` +
		`"notes":"migrated from 0.x","created":1700000000,"updated":1700000100}`,
	"web": `{"name":"web","type":"authorization_code","endpoints":{"authorize":"https://idp.example.com/authorize",` +
		`"token":"https://idp.example.com/token","userinfo":"https://idp.example.com/userinfo","jwks":"https://idp.example.com/jwks"},` +
		`"client_id":"spa","auth_method":"none","scope":"openid profile","redirect_port":8085,` +
		`"params":{"prompt":"consent"},"created":1700000200,"updated":1700000200}`,
	"gw": `{"name":"gw","type":"mtls","endpoints":{"token":"https://mtls.example.com/token"},"client_id":"gw",` +
		`"client_secret":"env:GW_SECRET","auth_method":"tls_client_auth","cert":"client.pem","key":"client.key","ca":"ca.pem",` +
		`"created":1700000300,"updated":1700000400}`,
}

// v1Fixture is testdata/store/v1.db: a schema-1 store written by the
// schema-1 code (see testdata/store/README.md), whose hmac and api-key
// profiles keep their request URL in token_url.
const v1Fixture = "../testdata/store/v1.db"

// v1Profiles are the fixture's profile records, byte for byte.
var v1Profiles = map[string]string{
	"sig": `{"v":1,"name":"sig","kind":"hmac","token_url":"https://api.example.com/signed","hmac":{"scheme":"rfc9421","key_id":"k1"},` +
		`"tags":["v1"],"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`,
	"key": `{"v":1,"name":"key","kind":"api-key","token_url":"https://api.example.com/v1/things","api_key_header":"X-API-Key",` +
		`"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`,
	"cc": `{"v":1,"name":"cc","kind":"client-credentials","token_url":"https://idp.example.com/token","client_id":"c1",` +
		`"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`,
}

// v0Tokens: 0.x cached the bare access token string per profile.
var v0Tokens = map[string]string{"corp": "v0-access-token-8d1e"}

// writeV0 writes the 0.x layout with plain bbolt calls: a profiles bucket
// and a tokens bucket, no meta bucket.
func writeV0(t testing.TB, path string, profiles, tokens map[string]string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		pb, err := tx.CreateBucket([]byte("profiles"))
		if err != nil {
			return err
		}
		for k, v := range profiles {
			if err := pb.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		tb, err := tx.CreateBucket([]byte("tokens"))
		if err != nil {
			return err
		}
		for k, v := range tokens {
			if err := tb.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteV0Fixture regenerates testdata/store/v0.db; it runs only with
// AUTHLAB_WRITE_FIXTURES=1 so the committed bytes stay put.
func TestWriteV0Fixture(t *testing.T) {
	if os.Getenv("AUTHLAB_WRITE_FIXTURES") != "1" {
		t.Skip("set AUTHLAB_WRITE_FIXTURES=1 to rewrite testdata/store/v0.db")
	}
	tmp := filepath.Join(t.TempDir(), "v0.db")
	writeV0(t, tmp, v0Profiles, v0Tokens)
	b, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v0Fixture, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
