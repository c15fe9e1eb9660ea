package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

// fixedClock returns a clock that advances one second per call.
func fixedClock() func() time.Time {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "authlab.db")
	s, err := Open(path, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func fullProfile(name string) Profile {
	return Profile{
		Name: name, Kind: KindAuthCode, Issuer: "https://idp.example.com",
		TokenURL: "https://idp.example.com/token", AuthURL: "https://idp.example.com/auth",
		DeviceURL: "https://idp.example.com/device", IntrospectURL: "https://idp.example.com/introspect",
		RevokeURL: "https://idp.example.com/revoke", UserinfoURL: "https://idp.example.com/userinfo",
		JWKSURL: "https://idp.example.com/jwks", ClientID: "cid", AuthMethod: "client_secret_post",
		Scopes: []string{"openid", "read"}, Audience: []string{"api://a"}, Resource: []string{"https://api.example.com"},
		RedirectPort: 8085, CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem",
		HMAC:         HMAC{Scheme: "rfc9421", KeyID: "k1", Label: "sig1", Components: `"@method" "@authority"`, Region: "eu", Service: "svc", AccessKey: "AKID"},
		APIKeyHeader: "X-Api-Key", ExtraParams: map[string]string{"prompt": "consent"}, Tags: []string{"prod", "eu"},
		Notes: "notes", Demo: true,
		Secrets: map[SecretKind]Secret{ClientSecret: SecretValue("cs-value-1"), HMACKey: ParseSecret("env:HK"),
			PrivateKey: ParseSecret("file:/k.pem"), APIKey: SecretValue("ak-value-2")},
	}
}

func TestProfileRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	in := fullProfile("corp")
	if err := s.PutProfile(in, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetProfile("corp")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.CreatedAt = time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	want.UpdatedAt = want.CreatedAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
	}
	if v, _ := got.Secrets[ClientSecret].Resolve(); v != "cs-value-1" {
		t.Fatalf("stored client secret resolves to %q", v)
	}

	// Exists without replace; replace keeps CreatedAt and drops unset secrets.
	if err := s.PutProfile(in, false); !errors.Is(err, ErrExists) {
		t.Fatalf("second put: %v, want ErrExists", err)
	}
	in2 := Profile{Name: "corp", Kind: KindClientCredentials, TokenURL: "https://x.example/token",
		Secrets: map[SecretKind]Secret{ClientSecret: ParseSecret("<stored secret: set with --client-secret>")}}
	if err := s.PutProfile(in2, true); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetProfile("corp")
	if !got.CreatedAt.Equal(want.CreatedAt) || got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("replace: created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	if v, _ := got.Secrets[ClientSecret].Resolve(); v != "cs-value-1" || len(got.Secrets) != 1 {
		t.Fatalf("placeholder should keep the stored client secret only, got %v", got.Secrets)
	}

	list, err := s.ListProfiles()
	if err != nil || len(list) != 1 || list[0].Name != "corp" || list[0].Endpoint != "https://x.example/token" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := s.GetProfile("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
}

func TestListSortedAndSummary(t *testing.T) {
	s, _ := openTemp(t)
	for _, n := range []string{"zeta", "alpha", "Mid"} {
		p := fullProfile(n)
		p.Issuer = "https://" + n + ".example"
		if err := s.PutProfile(p, false); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListProfiles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
		if p.Endpoint != "https://"+p.Name+".example" || p.Kind != KindAuthCode || !p.Demo ||
			!reflect.DeepEqual(p.Tags, []string{"prod", "eu"}) || p.UpdatedAt.IsZero() {
			t.Fatalf("summary %+v", p)
		}
	}
	if strings.Join(names, ",") != "Mid,alpha,zeta" {
		t.Fatalf("order %v", names)
	}
}

// The fast summary decoder must agree with encoding/json on every record,
// including escapes and odd spacing it hands over to the fallback.
func TestDecodeSummaryMatchesJSON(t *testing.T) {
	p := fullProfile("a")
	p.UpdatedAt = time.Date(2026, 5, 6, 7, 8, 9, 123, time.FixedZone("x", 3600))
	rec, _ := json.Marshal(profileRecord{V: 1, Profile: p})
	cases := []string{
		string(rec),
		`{"v":1,"name":"a\"b","kind":"hmac","issuer":"https://\u00e9.example","tags":["x,y"],"demo":false}`,
		` { "name" : "n" , "kind":"mtls", "extra":{"k":[1,{"]":"}"}]}, "token_url":"https://t" , "demo":true } `,
		`{"name":"n","tags":null,"updated_at":"not a time"}`,
		`{"name":"n","demo":1}`,
		`{}`,
		`{"name":"n","notes":"a\\","kind":"device"}`,
		`{"name":"n","tags":[]}`,
		`{"name":"a\\\\","kind":"x\\"y","issuer":"\\\\\\""}`,
		"{\"name\":\"ctl\x01\"}",
		`{"Name":"upper","KIND":"hmac"}`,
		`{"name":"n","tags":[ "a" , "b\u0041" ]}`,
		`{"name":"n","tags":["a",]}`,
		`{"name":"n","tags":["a" "b"]}`,
		`{"name":"n","tags":[1]}`,
		`{"name":"n","tags":["a"],"tags":null}`,
	}
	for _, c := range cases {
		var want summaryRecord
		wantErr := json.Unmarshal([]byte(c), &want)
		got, err := decodeSummary([]byte(c))
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) && wantErr == nil {
			t.Errorf("%s:\n got %+v (%v)\nwant %+v (%v)", c, got, err, want, wantErr)
		}
	}
}

func TestDeleteProfileRemovesEverything(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.PutProfile(fullProfile("corp"), false); err != nil {
		t.Fatal(err)
	}
	if err := s.PutToken("corp", CachedToken{Flow: "client-credentials", Response: json.RawMessage(`{"access_token":"at"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRun(Run{Profile: "corp", Flow: "client-credentials", OK: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteProfile("corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken("corp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token after delete: %v", err)
	}
	if h, _ := s.History("corp", 0); len(h) != 0 {
		t.Fatalf("history after delete: %v", h)
	}
	s.view(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bucketSecrets)).Get([]byte("corp")) != nil {
			t.Fatal("secrets left after delete")
		}
		return nil
	})
	if err := s.DeleteProfile("corp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// Secret values live only in the secrets bucket, never in the profile record.
func TestSecretsBucketOnly(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.PutProfile(fullProfile("corp"), false); err != nil {
		t.Fatal(err)
	}
	s.view(func(tx *bolt.Tx) error {
		rec := tx.Bucket([]byte(bucketProfiles)).Get([]byte("corp"))
		sec := tx.Bucket([]byte(bucketSecrets)).Get([]byte("corp"))
		if bytes.Contains(rec, []byte("cs-value-1")) || bytes.Contains(rec, []byte("secrets")) {
			t.Fatalf("profile record holds secrets: %s", rec)
		}
		if !bytes.Contains(sec, []byte("cs-value-1")) || !bytes.Contains(sec, []byte(`"ref":"env:HK"`)) || !bytes.HasPrefix(sec, []byte(`{"v":1`)) {
			t.Fatalf("secrets record: %s", sec)
		}
		return nil
	})
}

func TestHistoryRoundTripAndCap(t *testing.T) {
	s, path := openTemp(t)
	const bearer = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.bearer-secret-part"
	run := func(i int) Run {
		return Run{
			Profile: "corp", Flow: "client-credentials", OK: i%2 == 0,
			Error:     &flows.Error{Kind: flows.ErrOAuth, Message: fmt.Sprintf("run %d", i), OAuthError: "invalid_client"},
			Checks:    []flows.Check{{Name: "exp", Status: flows.Pass, Detail: "ok"}},
			Exchanges: SummarizeExchanges([]flows.Exchange{{Step: "token", Method: "POST", URL: "https://idp/token", Status: 401, Duration: 3 * time.Millisecond, RequestBody: "client_secret=zzz"}}),
			Tokens:    []TokenSummary{SummarizeToken("access_token", bearer, map[string]any{"alg": "none"}, map[string]any{"sub": "alice"})},
		}
	}
	for i := 0; i < HistoryLimit+5; i++ {
		if err := s.AddRun(run(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddRun(Run{Flow: "hmac", OK: true}); err != nil { // no profile
		t.Fatal(err)
	}
	h, err := s.History("corp", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != HistoryLimit {
		t.Fatalf("kept %d runs, want %d", len(h), HistoryLimit)
	}
	if h[0].Error.Message != fmt.Sprintf("run %d", HistoryLimit+4) || h[len(h)-1].Error.Message != "run 5" {
		t.Fatalf("order: newest %q oldest %q", h[0].Error.Message, h[len(h)-1].Error.Message)
	}
	want := run(HistoryLimit + 4)
	want.Time = h[0].Time
	if !reflect.DeepEqual(h[0], want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", h[0], want)
	}
	if h[0].Tokens[0].Fingerprint != flows.Fingerprint(bearer) || h[0].Tokens[0].Format != "jwt" {
		t.Fatalf("token summary %+v", h[0].Tokens[0])
	}
	if top, _ := s.History("corp", 3); len(top) != 3 || top[0].Error.Message != h[0].Error.Message {
		t.Fatalf("limit 3: %d runs", len(top))
	}
	if adhoc, _ := s.History("", 0); len(adhoc) != 1 || adhoc[0].Flow != "hmac" {
		t.Fatalf("ad hoc history %+v", adhoc)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	for _, leak := range []string{"bearer-secret-part", "client_secret=zzz"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Fatalf("store file contains %q", leak)
		}
	}
}

func TestTokenCacheRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	if _, err := s.GetToken("corp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty cache: %v", err)
	}
	in := CachedToken{Flow: "auth-code", Response: json.RawMessage(`{"access_token":"at-1","refresh_token":"rt-1","expires_in":300}`),
		Obtained: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)}
	if err := s.PutToken("corp", in); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToken("corp")
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("got %+v %v", got, err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, got); strings.Contains(out, "at-1") || strings.Contains(out, "rt-1") {
			t.Fatalf("%s prints the token: %s", verb, out)
		}
	}
	if err := s.PutToken("corp", CachedToken{Response: json.RawMessage(`not json`)}); err == nil {
		t.Fatal("non-JSON response accepted")
	}
	if err := s.DeleteToken("corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken("corp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestMetaSchemaAndPermissions(t *testing.T) {
	s, path := openTemp(t)
	if v, err := s.schema(); err != nil || v != SchemaVersion {
		t.Fatalf("schema %d %v", v, err)
	}
	s.Close()
	fi, _ := os.Stat(path)
	di, _ := os.Stat(filepath.Dir(path))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
}

func TestReadOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	path := filepath.Join(dir, "a.db")
	// A read-only open of a missing store creates nothing and reads as empty.
	err := View(path, func(s *Store) error {
		if s.Exists() {
			t.Fatal("Exists() on a missing store")
		}
		if l, err := s.ListProfiles(); err != nil || len(l) != 0 {
			t.Fatalf("list %v %v", l, err)
		}
		if h, err := s.History("x", 0); err != nil || len(h) != 0 {
			t.Fatalf("history %v %v", h, err)
		}
		_, err := s.GetProfile("corp")
		want := `no profile "corp": store ` + path + " does not exist yet"
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrNoStore) || err == nil || err.Error() != want {
			t.Fatalf("get: %v, want %s", err, want)
		}
		if _, err := s.GetToken("corp"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token: %v", err)
		}
		if out, err := s.Export(nil, false); err != nil || !bytes.Contains(out, []byte(`"profiles": []`)) {
			t.Fatalf("export all: %s %v", out, err)
		}
		if _, err := s.Export([]string{"corp"}, false); !errors.Is(err, ErrNotFound) {
			t.Fatalf("export corp: %v", err)
		}
		if err := s.PutProfile(fullProfile("x"), false); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("write on read-only: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a read-only open created %s: %v", dir, err)
	}
	// A write creates the directory 0700 and the file 0600.
	if err := Update(path, func(s *Store) error { return s.PutProfile(fullProfile("x"), false) }); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	err = View(path, func(s *Store) error {
		if _, err := s.GetProfile("x"); err != nil || !s.Exists() {
			t.Fatalf("get after write: %v", err)
		}
		// Two readers at once share the lock.
		return View(path, func(*Store) error { return nil }, WithTimeout(100*time.Millisecond))
	})
	if err != nil {
		t.Fatal(err)
	}
	// An existing empty file is formatted by a brief write open, as before.
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := View(empty, func(s *Store) error { _, err := s.ListProfiles(); return err }); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}

func TestControlCharactersRejected(t *testing.T) {
	s, path := openTemp(t)
	s.Close()
	before, _ := os.ReadFile(path)
	base := `{"name":"evil","kind":"client-credentials","token_url":"https://idp.example.com/token"`
	for field, doc := range map[string]string{
		"notes":                 base + `,"notes":"hi \u001b]52;c;ZWNobyBwd25lZA==\u0007"}`,
		"tags[0]":               base + `,"tags":["a\u001b[2J"]}`,
		"client_id":             base + `,"client_id":"c\u009b31m"}`,
		"issuer":                base + `,"issuer":"https://idp.example.com/\u001b]0;x\u0007"}`,
		"extra_params.login":    base + `,"extra_params":{"login":"x\u007f"}}`,
		"secrets.client_secret": base + `,"secrets":{"client_secret":"file:/tmp/\u001b[2Jx"}}`,
	} {
		data := []byte("[" + doc + "]")
		err := Update(path, func(s *Store) error { _, err := s.Import(data, false); return err })
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), field+": contains the control character") || strings.ContainsAny(err.Error(), "\x1b\x07\u009b\x7f") {
			t.Errorf("%s: %q", field, err)
		}
	}
	// Notes may span lines; other fields may not.
	p := fullProfile("ok")
	p.Notes = "line one\n\tline two"
	if err := p.Validate(); err != nil {
		t.Fatalf("multi-line notes: %v", err)
	}
	p.Notes = "bell\a"
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "notes: contains the control character U+0007") {
		t.Fatalf("bell in notes: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a rejected import changed the store")
	}
}

func TestOpenTooNew(t *testing.T) {
	s, path := openTemp(t)
	s.update(func(tx *bolt.Tx) error { return setSchema(tx, SchemaVersion+1) })
	s.Close()
	before, _ := os.ReadFile(path)
	for _, opts := range [][]Option{nil, {ReadOnly()}} {
		_, err := Open(path, opts...)
		if !errors.Is(err, ErrTooNew) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("open newer store: %v", err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("newer store was modified")
	}
}

func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	// A real store with its meta pages smashed.
	good := filepath.Join(dir, "good.db")
	if err := Update(good, func(s *Store) error { return s.PutProfile(fullProfile("x"), false) }); err != nil {
		t.Fatal(err)
	}
	smashed, _ := os.ReadFile(good)
	for i := 0; i < 2*4096; i++ {
		smashed[i] ^= 0x5a
	}
	// A bbolt file from some other program.
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	db.Close()
	foreignBytes, _ := os.ReadFile(foreign)

	cases := map[string][]byte{
		"text.db":    []byte("this is not a database\n"),
		"json.db":    bytes.Repeat([]byte(`{"profiles":[]}`), 1000),
		"zeros.db":   make([]byte, 3*4096),
		"smashed.db": smashed,
		"foreign.db": foreignBytes,
	}
	for name, content := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, opts := range [][]Option{nil, {ReadOnly()}} {
			s, err := Open(path, opts...)
			if err == nil {
				s.Close()
				t.Fatalf("%s: opened", name)
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s: %v", name, err)
			}
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, content) {
			t.Fatalf("%s was modified", name)
		}
	}
}

func TestLock(t *testing.T) {
	s, path := openTemp(t)
	_ = s
	for _, opts := range [][]Option{nil, {ReadOnly()}} {
		start := time.Now()
		s2, err := Open(path, opts...)
		elapsed := time.Since(start)
		if err == nil {
			s2.Close()
			t.Fatal("second open succeeded while the first holds the store")
		}
		want := "store " + path + " is in use by another authlab process"
		if !errors.Is(err, ErrInUse) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q, want prefix %q", err, want)
		}
		// A bound, not a timing test: it waited for the lock, then gave up
		// (the upper bound is generous so a loaded machine cannot flake it).
		if elapsed < DefaultTimeout/2 || elapsed > 20*time.Second {
			t.Fatalf("second open returned after %v, want about %v", elapsed, DefaultTimeout)
		}
	}
}

// BenchmarkViewGetProfile is the cost of the open-per-operation pattern:
// open read-only, read one profile, close.
func BenchmarkViewGetProfile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "a.db")
	if err := Update(path, func(s *Store) error { return s.PutProfile(fullProfile("corp"), false) }); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if err := View(path, func(s *Store) error { _, err := s.GetProfile("corp"); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSummary: the list fast path against encoding/json (the
// baseline) on one full profile record.
func BenchmarkDecodeSummary(b *testing.B) {
	p := fullProfile("benchmark-profile")
	p.UpdatedAt = time.Now()
	rec, _ := json.Marshal(profileRecord{V: 1, Profile: p})
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for i := 0; i < b.N; i++ {
			if _, err := decodeSummary(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for i := 0; i < b.N; i++ {
			var r summaryRecord
			if err := json.Unmarshal(rec, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzDecodeSummary: the list fast path never panics and, on valid UTF-8
// JSON, agrees with encoding/json.
func FuzzDecodeSummary(f *testing.F) {
	rec, _ := json.Marshal(profileRecord{V: 1, Profile: fullProfile("seed")})
	f.Add(rec)
	f.Add([]byte(`{"name":"a\"b","tags":["x","y\\"],"demo":true,"updated_at":"2026-01-02T03:04:05.5+01:00"}`))
	f.Add([]byte(`{"name":"n","kind":{"a":[1,"]"]},"tags":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeSummary(data)
		if !json.Valid(data) || !utf8.Valid(data) {
			return
		}
		var want summaryRecord
		wantErr := json.Unmarshal(data, &want)
		if (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%s:\n got %+v (%v)\nwant %+v (%v)", data, got, err, want, wantErr)
		}
	})
}
