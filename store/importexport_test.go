package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// secretValues are the real secret strings fullProfile stores.
var secretValues = []string{"cs-value-1", "ak-value-2"}

func TestExportOmitsSecretValues(t *testing.T) {
	s, _ := openTemp(t)
	for _, n := range []string{"a", "b"} {
		if err := s.PutProfile(fullProfile(n), false); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.Export(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range secretValues {
		if bytes.Contains(out, []byte(v)) {
			t.Fatalf("export contains secret %q:\n%s", v, out)
		}
	}
	for _, want := range []string{`"client_secret": "<stored secret: set with --client-secret>"`, `"hmac_key": "env:HK"`, `"private_key": "file:/k.pem"`, `"format": "authlab-profiles"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("export lacks %s:\n%s", want, out)
		}
	}
	with, err := s.Export([]string{"b"}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range secretValues {
		if !bytes.Contains(with, []byte(v)) {
			t.Fatalf("export with secrets lacks %q", v)
		}
	}
	if _, err := s.Export([]string{"a", "zz"}, false); err == nil || !strings.Contains(err.Error(), `"zz"`) {
		t.Fatalf("export of a missing name: %v", err)
	}

	// Round trip: import the export into a fresh store; placeholders leave
	// no secret behind, and with --include-secrets the values come back.
	s2, _ := openTemp(t)
	if n, err := s2.Import(out, false); err != nil || n != 2 {
		t.Fatalf("import export: %d %v", n, err)
	}
	a, _ := s2.GetProfile("a")
	if _, ok := a.Secrets[ClientSecret]; ok || a.Secrets[HMACKey].Ref() != "env:HK" {
		t.Fatalf("imported secrets %v", a.Secrets)
	}
	if _, err := s2.Import(with, true); err != nil {
		t.Fatal(err)
	}
	b, _ := s2.GetProfile("b")
	if v, _ := b.Secrets[ClientSecret].Resolve(); v != "cs-value-1" {
		t.Fatalf("imported secret %q", v)
	}
	orig := fullProfile("b")
	b.Secrets, orig.Secrets = nil, nil
	b.CreatedAt, b.UpdatedAt = orig.CreatedAt, orig.UpdatedAt
	if fmt.Sprint(b) != fmt.Sprint(orig) {
		t.Fatalf("round trip:\n%v\n%v", b, orig)
	}
}

func TestImportErrorsChangeNothing(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.PutProfile(fullProfile("existing"), false); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Export(nil, true)
	cases := []struct {
		name, in string
		want     []string
	}{
		{"malformed", "{\n  \"profiles\": [\n    {\"name\": \"x\",, }\n  ]\n}", []string{"malformed JSON at line 3, column 18"}},
		{"truncated", `[{"name":"x"`, []string{"malformed JSON at line 1, column 13", "unexpected end"}},
		{"unknown kind", `[{"name":"x","kind":"saml","issuer":"https://i.example"}]`, []string{`profile "x" (line 1): kind: unknown kind "saml"`}},
		{"missing name", "[\n {\"kind\":\"hmac\",\"hmac\":{\"scheme\":\"github\"}}\n]", []string{"profiles[0] (line 2): name: missing"}},
		{"duplicate", `[{"name":"d","kind":"hmac","hmac":{"scheme":"github"}},{"name":"d","kind":"hmac","hmac":{"scheme":"github"}}]`, []string{"name: duplicate: profiles[0]"}},
		{"every field", `{"format":"authlab-profiles","version":1,"profiles":[{"name":"y","kind":"device","redirect_port":"80","colour":"red","hmac":{"schema":"x"},"tags":"a","secrets":{"password":"p"}},{"kind":"nope"}]}`,
			[]string{`redirect_port: want a whole number, got string`, `colour: unknown field`, `hmac.schema: unknown field`, `tags: want a list of strings, got string`, `secrets.password: unknown secret`, `device_url: missing`, `profiles[1] (line 1): name: missing`, `profiles[1] (line 1): kind: unknown kind "nope"`}},
		{"newer format", `{"format":"authlab-profiles","version":9,"profiles":[]}`, []string{"format version 9"}},
		{"not a list", `"hello"`, []string{"want a JSON object"}},
		{"exists", `[{"name":"existing","kind":"hmac","hmac":{"scheme":"github"}},{"name":"new","kind":"hmac","hmac":{"scheme":"github"}}]`, []string{`existing: name: a profile with this name exists`}},
	}
	for _, c := range cases {
		_, err := s.Import([]byte(c.in), false)
		if err == nil {
			t.Errorf("%s: imported", c.name)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	after, _ := s.Export(nil, true)
	if !bytes.Equal(before, after) {
		t.Fatalf("failed imports changed the store:\n%s", after)
	}
	// An error in the store transaction itself also rolls back.
	if err := s.ImportProfiles([]Profile{{Name: "n1", Kind: KindHMAC, HMAC: HMAC{Scheme: "github"}}, fullProfile("existing")}, false); err == nil {
		t.Fatal("conflict accepted")
	}
	if _, err := s.GetProfile("n1"); err == nil {
		t.Fatal("partial import")
	}
}

// FuzzImport: no input panics or hangs; what parses is valid, unique, and
// survives export and re-import unchanged; errors are one line.
func FuzzImport(f *testing.F) {
	ok, _ := EncodeExport([]Profile{fullProfile("a"), {Name: "b", Kind: KindHMAC, HMAC: HMAC{Scheme: "stripe"}}}, false)
	f.Add(ok)
	f.Add([]byte(`[{"name":"x","kind":"mtls","cert_file":"c","key_file":"k"}]`))
	f.Add([]byte(`{"profiles":[{"name":"","kind":""}]}`))
	f.Add([]byte(`[{"name":"x","kind":"hmac","hmac":null,"secrets":{"hmac_key":"env:"}}]`))
	f.Add([]byte(`[1, "x", null, {}]`))
	f.Add([]byte("{\"profiles\": [\n{\"name\": \"a\\u0000\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParseImport(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		names := map[string]bool{}
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatalf("parsed profile does not validate: %v", err)
			}
			if names[p.Name] {
				t.Fatalf("duplicate %q accepted", p.Name)
			}
			names[p.Name] = true
		}
		out, err := EncodeExport(ps, true)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseImport(out)
		if err != nil {
			t.Fatalf("re-import of export failed: %v\n%s", err, out)
		}
		out2, _ := EncodeExport(again, true)
		if !bytes.Equal(out, out2) {
			t.Fatalf("export is not stable:\n%s\n%s", out, out2)
		}
	})
}

func BenchmarkListProfiles10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.db")
	ps := make([]Profile, 10000)
	for i := range ps {
		ps[i] = fullProfile(fmt.Sprintf("p%05d", i))
	}
	if err := Update(path, func(s *Store) error { return s.ImportProfiles(ps, false) }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := View(path, func(s *Store) error {
			l, err := s.ListProfiles()
			if err == nil && len(l) != len(ps) {
				err = fmt.Errorf("listed %d", len(l))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
