package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// sharedFile is a shared profile file whose author picked both the token URL
// and which local file the client secret is read from.
func sharedFile(t *testing.T, tokenURL, secret string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"format": ExportFormat, "version": 1, "profiles": []any{map[string]any{
		"name": "api", "kind": "client-credentials", "token_url": tokenURL, "client_id": "c",
		"secrets": map[string]string{"client_secret": secret}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://IdP.Example.com/token":        "https://idp.example.com:443",
		"http://127.0.0.1:9090/realms/x":       "http://127.0.0.1:9090",
		"http://u:pw@evil.example/":            "http://evil.example:80",
		"https://[::1]/t":                      "https://[::1]:443",
		"https://idp.example.com:8443/t?x=1#f": "https://idp.example.com:8443",
	} {
		if got, ok := Origin(in); !ok || got != want {
			t.Errorf("Origin(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "ftp://x/", "not a url", "/relative"} {
		if got, ok := Origin(in); ok {
			t.Errorf("Origin(%q) = %q, want none", in, got)
		}
	}
	p := fullProfile("x")
	p.TargetURL = "https://api.example.com/orders"
	if got := p.SecretOrigins(); !reflect.DeepEqual(got, []string{"https://api.example.com:443", "https://idp.example.com:443"}) {
		t.Fatalf("origins %v", got)
	}
}

// An imported file: reference is refused, by name and host, until a person
// confirms it; the confirmation covers exactly what was shown.
func TestImportedReferenceRefusedUntilTrusted(t *testing.T) {
	s, _ := openTemp(t)
	key := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(key, []byte("local-secret-Qx9\n"), 0o600)
	rep, err := s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://evil.example/token", "file:"+key)), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unconfirmed) != 1 || len(rep.Dropped) != 0 || !strings.Contains(rep.Notes()[0], "authlab profile trust api") {
		t.Fatalf("report %+v", rep)
	}
	p, err := s.GetProfile("api")
	if err != nil {
		t.Fatal(err)
	}
	want := `profile "api": file:` + key + ` would be sent to https://evil.example:443, which it was not confirmed for; run 'authlab profile trust api' to confirm`
	err = p.TrustError()
	var ue *UntrustedError
	if err == nil || err.Error() != want || !errors.Is(err, ErrUntrusted) || !errors.As(err, &ue) || ue.Origin != "https://evil.example:443" {
		t.Fatalf("trust error:\n got %v\nwant %s", err, want)
	}
	// Every path that resolves the secret refuses it, not only the ones
	// that check first.
	if v, err := p.Secrets[ClientSecret].Resolve(); err == nil || v != "" || err.Error() != want {
		t.Fatalf("resolve: %q %v", v, err)
	}
	if _, err := p.FlowRequest(""); err == nil || !strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("flow request: %v", err)
	}

	items, err := s.TrustItems("api")
	if err != nil || len(items) != 1 || items[0].Source != "file:"+key || items[0].Confirmed ||
		!reflect.DeepEqual(items[0].Origins, []string{"https://evil.example:443"}) {
		t.Fatalf("items %+v %v", items, err)
	}
	if got := items[0].String(); got != "client secret: file:"+key+" → https://evil.example:443" {
		t.Fatalf("item line %q", got)
	}

	// The profile changes between showing and confirming: nothing is confirmed.
	if _, err := s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://other.example/token", "file:"+key)), true); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTrust("api", items); !errors.Is(err, ErrTrustChanged) {
		t.Fatalf("stale confirmation: %v", err)
	}
	items, _ = s.TrustItems("api")
	if err := s.ConfirmTrust("api", items); err != nil {
		t.Fatal(err)
	}
	p, _ = s.GetProfile("api")
	if err := p.TrustError(); err != nil {
		t.Fatal(err)
	}
	req, err := p.FlowRequest("")
	if err != nil || req.ClientSecret.Reveal() != "local-secret-Qx9" {
		t.Fatalf("confirmed secret: %v", err)
	}
	if items, _ := s.TrustItems("api"); !items[0].Confirmed {
		t.Fatal("item not confirmed after ConfirmTrust")
	}

	// Re-importing the unchanged file asks nothing again; pointing the
	// same reference at a new host does.
	if rep, _ := s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://other.example/token", "file:"+key)), true); len(rep.Unconfirmed) != 0 {
		t.Fatalf("unchanged re-import: %+v", rep)
	}
	s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://other.example/token?x=1", "file:"+key)), true) // same origin
	if p, _ := s.GetProfile("api"); p.TrustError() != nil {
		t.Fatal("same origin, other path: confirmation lost")
	}
	s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://evil.example/token", "file:"+key)), true)
	if p, _ := s.GetProfile("api"); p.TrustError() == nil {
		t.Fatal("a confirmed reference followed its profile to a new host")
	}
}

func mustParse(t *testing.T, b []byte) []Profile {
	t.Helper()
	ps, err := ParseImport(b)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// A stored secret kept through an import (a placeholder) goes only where it
// was confirmed: a new host drops it, with a note.
func TestImportKeepsStoredSecretOnlyForItsHosts(t *testing.T) {
	s, path := openTemp(t)
	local := Profile{Name: "api", Kind: KindClientCredentials, TokenURL: "https://good.example/token", ClientID: "c",
		Secrets: map[SecretKind]Secret{ClientSecret: SecretValue("stored-secret-Jm4")}}
	if err := s.PutProfile(local, false); err != nil {
		t.Fatal(err)
	}
	placeholder := "<stored secret: set with --client-secret>"
	rep, err := s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://good.example/token", placeholder)), true)
	if err != nil || len(rep.Dropped)+len(rep.Unconfirmed) != 0 {
		t.Fatalf("same host: %+v %v", rep, err)
	}
	if p, _ := s.GetProfile("api"); p.TrustError() != nil || p.Secrets[ClientSecret].IsZero() {
		t.Fatalf("same host: secret %v, %v", p.Secrets, p.TrustError())
	}
	rep, err = s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://evil.example/token", placeholder)), true)
	if err != nil || len(rep.Dropped) != 1 || rep.Dropped[0].Source != "the stored client secret" {
		t.Fatalf("new host: %+v %v", rep, err)
	}
	if n := rep.Notes()[0]; !strings.Contains(n, "dropped the stored client secret") || !strings.Contains(n, "https://evil.example:443") || !strings.Contains(n, "--client-secret") {
		t.Fatalf("note %q", n)
	}
	p, _ := s.GetProfile("api")
	if len(p.Secrets) != 0 || p.TokenURL != "https://evil.example/token" {
		t.Fatalf("after import: %+v", p)
	}
	s.Close()
	if raw, _ := os.ReadFile(path); strings.Contains(string(raw), "stored-secret-Jm4") {
		t.Fatal("the dropped secret is still in the file")
	}
}

// Saving with a placeholder (profile add --force, the editor) keeps a secret
// only for the hosts it was confirmed for; a secret typed anew is confirmed.
func TestSaveProfileOriginChange(t *testing.T) {
	s, _ := openTemp(t)
	p := Profile{Name: "api", Kind: KindClientCredentials, Issuer: "https://idp.example.com", ClientID: "c",
		Secrets: map[SecretKind]Secret{ClientSecret: SecretValue("v-1"), PrivateKey: ParseSecret("env:PK")}}
	if _, err := s.SaveProfile(p, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	moved := p
	moved.Issuer = "https://new.example.com"
	moved.Secrets = map[SecretKind]Secret{ClientSecret: KeepStored(), PrivateKey: KeepStored()}
	if _, err := s.SaveProfile(moved, SaveOptions{Replace: true, RefuseDrop: true}); err == nil ||
		!strings.Contains(err.Error(), "the stored client secret was confirmed for other hosts than https://new.example.com:443") {
		t.Fatalf("refuse drop: %v", err)
	}
	if got, _ := s.GetProfile("api"); got.Issuer != p.Issuer || got.TrustError() != nil {
		t.Fatalf("a refused save changed the profile: %+v", got)
	}
	rep, err := s.SaveProfile(moved, SaveOptions{Replace: true})
	if err != nil || len(rep.Dropped) != 1 || len(rep.Unconfirmed) != 1 || rep.Unconfirmed[0].Source != "env:PK" {
		t.Fatalf("save: %+v %v", rep, err)
	}
	got, _ := s.GetProfile("api")
	if _, ok := got.Secrets[ClientSecret]; ok {
		t.Fatal("stored value kept for a new host")
	}
	if err := got.TrustError(); err == nil || !strings.Contains(err.Error(), "env:PK would be sent to https://new.example.com:443") {
		t.Fatalf("reference: %v", err)
	}
	// Passing the loaded (unconfirmed) secret back confirms nothing.
	if _, err := s.SaveProfile(got, SaveOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProfile(got, true); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.GetProfile("api"); again.TrustError() == nil {
		t.Fatal("saving an unconfirmed secret back confirmed it")
	}
	// Typed again: confirmed for the new host.
	moved.Secrets = map[SecretKind]Secret{ClientSecret: SecretValue("v-2"), PrivateKey: ParseSecret("env:PK")}
	if rep, err := s.SaveProfile(moved, SaveOptions{Replace: true}); err != nil || len(rep.Unconfirmed)+len(rep.Dropped) != 0 {
		t.Fatalf("retyped: %+v %v", rep, err)
	}
	if again, _ := s.GetProfile("api"); again.TrustError() != nil {
		t.Fatal(again.TrustError())
	}
	// A copy (From) keeps each secret's confirmation, no more.
	cp := moved
	cp.Name, cp.TokenURL = "api-copy", "https://elsewhere.example/token"
	cp.Secrets = map[SecretKind]Secret{ClientSecret: KeepStored(), PrivateKey: KeepStored()}
	if rep, err := s.SaveProfile(cp, SaveOptions{From: "api"}); err != nil || len(rep.Dropped) != 1 || len(rep.Unconfirmed) != 1 {
		t.Fatalf("copy to a new host: %+v %v", rep, err)
	}
}

// Secrets of a schema 2 store were entered on this machine: after the
// migration they count as confirmed for their profile's hosts of that time.
func TestMigrateV2ToV3ConfirmsExistingSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets() {
			if _, err := tx.CreateBucket([]byte(b)); err != nil {
				return err
			}
		}
		tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte("2"))
		pb, sb := tx.Bucket([]byte(bucketProfiles)), tx.Bucket([]byte(bucketSecrets))
		pb.Put([]byte("api"), []byte(`{"v":1,"name":"api","kind":"client-credentials","issuer":"https://idp.example.com","client_id":"c"}`))
		sb.Put([]byte("api"), []byte(`{"v":1,"secrets":{"client_secret":{"value":"old-stored-v2"},"private_key":{"ref":"file:/k.pem"}}}`))
		pb.Put([]byte("sig"), []byte(`{"v":1,"name":"sig","kind":"hmac","target_url":"https://api.example.com/x","hmac":{"scheme":"github"}}`))
		sb.Put([]byte("sig"), []byte(`{"v":1,"secrets":{"hmac_key":{"ref":"env:HK"}}}`))
		sb.Put([]byte("orphan"), []byte(`{"v":1,"secrets":{"api_key":{"value":"x"}}}`))
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.schema(); v != SchemaVersion || SchemaVersion != 3 {
		t.Fatalf("schema %d", v)
	}
	for _, n := range []string{"api", "sig"} {
		p, err := s.GetProfile(n)
		if err != nil || p.TrustError() != nil || len(p.Secrets) == 0 {
			t.Fatalf("%s: %v %v %v", n, p.Secrets, err, p.TrustError())
		}
	}
	p, _ := s.GetProfile("api")
	if v, _ := p.Secrets[ClientSecret].Resolve(); v != "old-stored-v2" {
		t.Fatalf("value %q", v)
	}
	s.view(func(tx *bolt.Tx) error {
		sr, _ := secretsRecordTx(tx, "sig")
		if st := sr.Secrets[HMACKey]; !st.Confirmed || !reflect.DeepEqual(st.Origins, []string{"https://api.example.com:443"}) {
			t.Errorf("sig record %+v", st)
		}
		return nil
	})
	// From here on, an origin change needs a confirmation.
	if _, err := s.ImportProfilesReport(mustParse(t, sharedFile(t, "https://evil.example/token", "file:/k.pem")), true); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.GetProfile("api"); p.TrustError() == nil {
		t.Fatal("migrated reference followed an import to a new host")
	}
}
