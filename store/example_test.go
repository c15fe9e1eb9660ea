package store_test

import (
	"fmt"
	"os"
	"path/filepath"

	"authlab/store"
)

// The store is opened for one operation and closed again: Update for
// writes, View (a shared, read-only lock) for reads.
func Example() {
	dir, _ := os.MkdirTemp("", "authlab-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "authlab.db")

	p := store.Profile{
		Name: "corp", Kind: store.KindClientCredentials, Issuer: "https://idp.example.com",
		ClientID: "api-test", Scopes: []string{"read"},
		Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.ParseSecret("env:CORP_SECRET")},
	}
	err := store.Update(path, func(s *store.Store) error { return s.PutProfile(p, false) })
	fmt.Println("saved:", err)

	_ = store.View(path, func(s *store.Store) error {
		got, err := s.GetProfile("corp")
		fmt.Println(got.Name, got.Kind, got.Secrets[store.ClientSecret], err)
		return err
	})
	// Output:
	// saved: <nil>
	// corp client-credentials env:CORP_SECRET <nil>
}
