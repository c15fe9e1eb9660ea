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

func copyFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(v0Fixture)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v0.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMigrateV0Fixture(t *testing.T) {
	for _, mode := range []string{"read-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			path := copyFixture(t)
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

			var opts []Option
			if mode == "read-only" {
				opts = append(opts, ReadOnly())
			}
			s, err := Open(path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, _ := s.schema(); v != SchemaVersion {
				t.Fatalf("schema after migration %d", v)
			}
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
