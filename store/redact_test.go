package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://idp.example.com/token":                  "https://idp.example.com/token",
		"https://user:pw-Kx1@idp.example.com/token":      "https://user:xxxxx@idp.example.com/token",
		"https://idp.example.com/t?client_secret=pw-Kx1": "https://idp.example.com/t?client_secret=%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2",
		"https://user@idp.example.com/t?scope=a":         "https://user@idp.example.com/t?scope=a",
		"http://user:pw-Kx1@ho st/x":                     "http://••••••@ho st/x",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A password in a URL is a secret: new profiles refuse it, and one saved
// before that never shows in a list, show (Redacted) or export.
func TestURLPasswordsNeverShown(t *testing.T) {
	p := Profile{Name: "pw", Kind: KindClientCredentials, Issuer: "https://u:pw-Kx1@idp.example.com"}
	err := p.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Field != "issuer" || !strings.Contains(err.Error(), "carries a password") || strings.Contains(err.Error(), "pw-Kx1") {
		t.Fatalf("validate: %v", err)
	}
	p = Profile{Name: "q", Kind: KindClientCredentials, TokenURL: "https://idp.example.com/t?client_secret=pw-Kx1",
		ExtraParams: map[string]string{CallURLParam: "https://u:pw-Kx1@api.example.com/"}}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "token_url: carries a secret query parameter") ||
		!strings.Contains(err.Error(), "extra_params.call_url: carries a password") {
		t.Fatalf("validate: %v", err)
	}
	s, _ := openTemp(t)
	if _, err := s.Import([]byte(`[{"name":"pw","kind":"client-credentials","token_url":"https://u:pw-Kx1@idp.example.com/t"}]`), false); err == nil {
		t.Fatal("import accepted a URL with a password")
	}

	// A record written before the rule, straight into the bucket.
	err = s.update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketProfiles)).Put([]byte("legacy"), []byte(`{"v":1,"name":"legacy","kind":"client-credentials","token_url":"https://u:pw-Kx1@idp.example.com/t","extra_params":{"call_url":"https://u:pw-Kx1@api.example.com/"}}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListProfiles()
	if err != nil || len(list) != 1 || list[0].Endpoint != "https://u:xxxxx@idp.example.com/t" {
		t.Fatalf("list: %+v %v", list, err)
	}
	out, err := s.Export(nil, false)
	if err != nil || bytes.Contains(out, []byte("pw-Kx1")) || !bytes.Contains(out, []byte("https://u:xxxxx@idp.example.com/t")) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	got, _ := s.GetProfile("legacy")
	if r := got.Redacted(); strings.Contains(r.TokenURL+r.ExtraParams[CallURLParam], "pw-Kx1") || !strings.Contains(got.TokenURL, "pw-Kx1") {
		t.Fatalf("redacted %+v (the stored profile itself must keep the URL it runs with)", r)
	}
	// The exported (masked) file does not import as a working profile.
	s2, _ := openTemp(t)
	if _, err := s2.Import(out, false); err == nil || !strings.Contains(err.Error(), "carries a password") {
		t.Fatalf("re-import of the masked export: %v", err)
	}
}
