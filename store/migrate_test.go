package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// copyFixture copies a committed store file to a temporary directory, so
// migrating it never changes the fixture.
func copyFixture(t *testing.T, fixture string) string {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(fixture))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMigrateV0Fixture(t *testing.T) {
	for _, mode := range []string{"read-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			path := copyFixture(t, v0Fixture)
			// The fixture really is the v0 layout.
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			db.View(func(tx *bolt.Tx) error {
				if tx.Bucket([]byte(bucketMeta)) != nil || tx.Bucket([]byte(bucketProfiles)) == nil {
					t.Fatal("fixture is not v0: meta bucket present or profiles missing")
				}
				if got := string(tx.Bucket([]byte(bucketProfiles)).Get([]byte("corp"))); got != v0Profiles["corp"] {
					t.Fatalf("fixture corp record differs from fixture_test.go:\n%s", got)
				}
				return nil
			})
			db.Close()

			s := openMigrated(t, path, mode)
			corp, err := s.GetProfile("corp")
			if err != nil {
				t.Fatal(err)
			}
			want := Profile{Name: "corp", Kind: KindClientCredentials, Issuer: "https://idp.example.com",
				ClientID: "api-test", AuthMethod: "client_secret_basic", Scopes: []string{"read", "write", "admin"},
				Audience: []string{"https://api.example.com"}, Tags: []string{"prod"}, Notes: "migrated from 0.x",
				CreatedAt: time.Unix(1700000000, 0).UTC(), UpdatedAt: time.Unix(1700000100, 0).UTC(),
				Secrets: map[SecretKind]Secret{ClientSecret: SecretValue("v0-inline-secret-5f2c")}}
			if !reflect.DeepEqual(corp, want) {
				t.Fatalf("corp:\n got %#v\nwant %#v", corp, want)
			}
			web, _ := s.GetProfile("web")
			if web.Kind != KindAuthCode || web.AuthURL != "https://idp.example.com/authorize" || web.JWKSURL != "https://idp.example.com/jwks" ||
				web.RedirectPort != 8085 || web.ExtraParams["prompt"] != "consent" || len(web.Secrets) != 0 {
				t.Fatalf("web: %+v", web)
			}
			gw, _ := s.GetProfile("gw")
			if gw.Kind != KindMTLS || gw.Secrets[ClientSecret].Ref() != "env:GW_SECRET" || gw.CAFile != "ca.pem" {
				t.Fatalf("gw: %+v", gw)
			}
			for _, p := range []Profile{corp, web, gw} {
				if err := p.Validate(); err != nil {
					t.Errorf("migrated %s does not validate: %v", p.Name, err)
				}
			}
			tok, err := s.GetToken("corp")
			if err != nil {
				t.Fatal(err)
			}
			var resp map[string]string
			json.Unmarshal(tok.Response, &resp)
			if resp["access_token"] != v0Tokens["corp"] || resp["token_type"] != "Bearer" {
				t.Fatalf("token: %s", tok.Response)
			}
			s.view(func(tx *bolt.Tx) error {
				if rec := tx.Bucket([]byte(bucketProfiles)).Get([]byte("corp")); bytes.Contains(rec, []byte("v0-inline-secret")) || !bytes.HasPrefix(rec, []byte(`{"v":1,`)) {
					t.Fatalf("migrated record: %s", rec)
				}
				return nil
			})
		})
	}
}

func TestMigrationFailureChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad-v0.db")
	bad := map[string]string{"ok": v0Profiles["corp"], "odd": `{"name":"odd","type":"implicit"}`}
	writeV0(t, path, bad, nil)
	before, _ := os.ReadFile(path)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), `unknown v0 profile type "implicit"`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("open: %v", err)
	}
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("a failed migration is not corruption: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a failed migration changed the file's bytes")
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bucketMeta)) != nil || string(tx.Bucket([]byte(bucketProfiles)).Get([]byte("ok"))) != v0Profiles["corp"] {
			t.Fatal("failed migration changed the store")
		}
		return nil
	})
}

func TestMigrateV1FixtureMovesTargetURL(t *testing.T) {
	for _, mode := range []string{"read-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			path := copyFixture(t, v1Fixture)
			// The fixture really is schema 1, written by the schema-1 code.
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			db.View(func(tx *bolt.Tx) error {
				if v := string(tx.Bucket([]byte(bucketMeta)).Get([]byte(keySchema))); v != "1" {
					t.Fatalf("fixture schema %q, want 1", v)
				}
				for name, want := range v1Profiles {
					if got := string(tx.Bucket([]byte(bucketProfiles)).Get([]byte(name))); got != want {
						t.Fatalf("fixture %s record differs from fixture_test.go:\n%s", name, got)
					}
				}
				return nil
			})
			db.Close()

			s := openMigrated(t, path, mode)
			sig, err := s.GetProfile("sig")
			if err != nil {
				t.Fatal(err)
			}
			if sig.TargetURL != "https://api.example.com/signed" || sig.TokenURL != "" || sig.HMAC.Scheme != "rfc9421" ||
				sig.HMAC.KeyID != "k1" || sig.Secrets[HMACKey].value != "v1-hmac-key-3e9a" {
				t.Fatalf("sig: %+v", sig)
			}
			if !sig.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
				t.Fatalf("sig created_at %s: the migration must keep timestamps", sig.CreatedAt)
			}
			key, _ := s.GetProfile("key")
			if key.TargetURL != "https://api.example.com/v1/things" || key.TokenURL != "" || key.APIKeyHeader != "X-API-Key" ||
				key.Secrets[APIKey].Ref() != "env:V1_API_KEY" {
				t.Fatalf("key: %+v", key)
			}
			cc, _ := s.GetProfile("cc")
			if cc.TokenURL != "https://idp.example.com/token" || cc.TargetURL != "" {
				t.Fatalf("an OAuth profile keeps its token_url: %+v", cc)
			}
			for _, p := range []Profile{sig, key, cc} {
				if err := p.Validate(); err != nil {
					t.Errorf("migrated %s does not validate: %v", p.Name, err)
				}
			}
			list, _ := s.ListProfiles()
			for _, p := range list {
				if p.Name == "sig" && p.Endpoint != "https://api.example.com/signed" {
					t.Errorf("profile list shows sig at %q", p.Endpoint)
				}
			}
			if tok, err := s.GetToken("cc"); err != nil || !strings.Contains(string(tok.Response), "v1-at-77c1") {
				t.Fatalf("cached token: %v %v", tok, err)
			}
			s.view(func(tx *bolt.Tx) error {
				rec := tx.Bucket([]byte(bucketProfiles)).Get([]byte("sig"))
				if bytes.Contains(rec, []byte("token_url")) || !bytes.Contains(rec, []byte(`"target_url":"https://api.example.com/signed"`)) ||
					!bytes.HasPrefix(rec, []byte(`{"v":1,`)) {
					t.Fatalf("migrated record: %s", rec)
				}
				if got := string(tx.Bucket([]byte(bucketProfiles)).Get([]byte("cc"))); got != v1Profiles["cc"] {
					t.Fatalf("the migration rewrote an OAuth profile:\n%s", got)
				}
				return nil
			})
		})
	}
}

// TestMigrateV1KeepsUnreadableRecords: a damaged profile record does not
// stop the migration; it stays byte for byte, the others move on.
func TestMigrateV1KeepsUnreadableRecords(t *testing.T) {
	s, path := openTemp(t)
	garbage := []byte(`{"v":1,"name":"odd","kind":`)
	s.update(func(tx *bolt.Tx) error {
		pb := tx.Bucket([]byte(bucketProfiles))
		pb.Put([]byte("sig"), []byte(v1Profiles["sig"]))
		pb.Put([]byte("odd"), garbage)
		return setSchema(tx, 1)
	})
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sig, err := s.GetProfile("sig"); err != nil || sig.TargetURL != "https://api.example.com/signed" {
		t.Fatalf("sig: %+v %v", sig, err)
	}
	if _, err := s.GetProfile("odd"); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("odd: %v", err)
	}
	s.view(func(tx *bolt.Tx) error {
		if got := tx.Bucket([]byte(bucketProfiles)).Get([]byte("odd")); !bytes.Equal(got, garbage) {
			t.Fatalf("the unreadable record changed: %s", got)
		}
		return nil
	})
}

// openMigrated opens a copy of an old fixture (read-write or read-only, by
// mode) and checks that it now stands at the current schema version.
func openMigrated(t *testing.T, path, mode string) *Store {
	t.Helper()
	var opts []Option
	if mode == "read-only" {
		opts = append(opts, ReadOnly())
	}
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, _ := s.schema(); v != SchemaVersion {
		t.Fatalf("schema after migration %d", v)
	}
	return s
}
