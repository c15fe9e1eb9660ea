package console

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"authlab/store"
)

// The real program on a real store: open a profile in the editor, type
// into a field, cycle a choice, rename it, save; the store has the edit
// under the new name with the secret, the history and the cached token.
func TestEditorTeatestEditRenameAndSave(t *testing.T) {
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db"), Now: fixedClock}
	tok := store.CachedToken{Flow: "client-credentials", Response: json.RawMessage(`{"access_token":"at-Tt19","token_type":"Bearer"}`), Obtained: fixedNow}
	err := store.Update(b.Path, func(s *store.Store) error {
		p := store.Profile{Name: "svc", Kind: store.KindClientCredentials, TokenURL: "http://127.0.0.1:1/token", ClientID: "c",
			Scopes: []string{"api:read"}, Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("cs-Tt19")}}
		if err := s.PutProfile(p, false); err != nil {
			return err
		}
		if err := s.AddRun(store.Run{Profile: "svc", Flow: "client-credentials", Time: fixedNow, OK: true}); err != nil {
			return err
		}
		return s.PutToken("svc", tok)
	})
	if err != nil {
		t.Fatal(err)
	}
	tm := startTea(t, newTestModel(b), 100, 30)
	waitText(t, tm, "svc")
	press(tm, "e")
	waitText(t, tm, "Edit svc", "<stored secret>")
	press(tm, repeat("tab", 7)...) // scopes
	tm.Type(" api:write")
	press(tm, "up", "right") // auth method: (auto) → client_secret_basic
	waitText(t, tm, "‹ client_secret_basic ›")
	press(tm, repeat("up", 6)...) // name
	tm.Type("-2")
	press(tm, "ctrl+s")
	waitText(t, tm, "saved svc-2 (renamed from svc")
	fm := finalModel(t, tm)
	if strings.Contains(fm.View(), "cs-Tt19") {
		t.Error("the stored secret reached the screen")
	}
	err = store.View(b.Path, func(s *store.Store) error {
		if _, err := s.GetProfile("svc"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the old name is still there: %v", err)
		}
		p, err := s.GetProfile("svc-2")
		if err != nil {
			return err
		}
		if strings.Join(p.Scopes, " ") != "api:read api:write" || p.AuthMethod != "client_secret_basic" || p.ClientID != "c" {
			t.Errorf("saved: scopes %v, auth method %q, client id %q", p.Scopes, p.AuthMethod, p.ClientID)
		}
		if v, err := p.Secrets[store.ClientSecret].Resolve(); err != nil || v != "cs-Tt19" {
			t.Errorf("client secret = %q, %v", v, err)
		}
		if runs, err := s.History("svc-2", 0); err != nil || len(runs) != 1 {
			t.Errorf("history: %d runs, %v", len(runs), err)
		}
		if ct, err := s.GetToken("svc-2"); err != nil || string(ct.Response) != string(tok.Response) {
			t.Errorf("cached token: %v", err)
		}
		return nil
	}, store.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
}
