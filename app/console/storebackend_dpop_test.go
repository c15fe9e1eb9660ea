package console

import (
	"path/filepath"
	"testing"

	"authlab/store"
)

// The editor's DPoP settings round-trip through the store: the toggle and
// alg as profile fields, the key as a secret shown only as a placeholder,
// kept when DPoP is turned off in the form.
func TestFormDPoPRoundTrip(t *testing.T) {
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db")}
	f := Form{Name: "d", Kind: "client-credentials", Fields: map[string]string{"token_url": "http://127.0.0.1:1/token",
		"client_id": "c", "dpop": "true", "dpop_alg": "EdDSA", "dpop_key": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFd1\n-----END PRIVATE KEY-----"}}
	if err := b.SaveForm(f, ""); err != nil {
		t.Fatal(err)
	}
	p, err := store.LoadProfile(b.Path, "d")
	if err != nil {
		t.Fatal(err)
	}
	if !p.DPoP || p.DPoPAlg != "EdDSA" || p.Secrets[store.DPoPKey].IsZero() {
		t.Fatalf("saved profile: dpop %v alg %q key set %v", p.DPoP, p.DPoPAlg, !p.Secrets[store.DPoPKey].IsZero())
	}
	got, err := b.Form("d")
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["dpop"] != "true" || got.Fields["dpop_alg"] != "EdDSA" || got.Fields["dpop_key"] != "<stored secret>" {
		t.Fatalf("form fields %q %q %q; want the key as a placeholder", got.Fields["dpop"], got.Fields["dpop_alg"], got.Fields["dpop_key"])
	}
	// DPoP off in the form: the fields are not shown, the key is kept.
	delete(got.Fields, "dpop")
	delete(got.Fields, "dpop_alg")
	delete(got.Fields, "dpop_key")
	if err := b.SaveForm(got, "d"); err != nil {
		t.Fatal(err)
	}
	p, err = store.LoadProfile(b.Path, "d")
	if err != nil {
		t.Fatal(err)
	}
	if p.DPoP || p.Secrets[store.DPoPKey].IsZero() {
		t.Fatalf("after DPoP off: dpop %v, key kept %v", p.DPoP, !p.Secrets[store.DPoPKey].IsZero())
	}
}
