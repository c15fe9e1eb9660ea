package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"authlab/store"
)

var _ Truster = (*StoreBackend)(nil)

// Item 1 in the console: a run of an imported profile whose file: secret
// would go to the file author's server is refused with the one line the
// run screen shows, and nothing reaches the server until Trust and
// ConfirmTrust record the person's yes.
func TestConsoleRunRefusesUnconfirmedSecret(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"opaque-at","token_type":"Bearer","expires_in":60}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	os.WriteFile(key, []byte("console-local-secret-Ee5"), 0o600)
	file := filepath.Join(dir, "shared.json")
	os.WriteFile(file, []byte(fmt.Sprintf(`[{"name":"api","kind":"client-credentials","token_url":%q,"client_id":"c","secrets":{"client_secret":"file:%s"}}]`, srv.URL+"/token", key)), 0o600)
	b := &StoreBackend{Path: filepath.Join(dir, "authlab.db")}
	if n, err := b.Import(file); err != nil || n != 1 {
		t.Fatalf("import: %d %v", n, err)
	}
	want := fmt.Sprintf(`profile "api": file:%s would be sent to %s, which it was not confirmed for; run 'authlab profile trust api' to confirm`, key, srv.URL)
	res := b.Run(context.Background(), RunRequest{Profile: "api"}, nopEvents{})
	if !res.Failed() || res.Err == nil || res.Err.Message != want {
		t.Fatalf("run: %+v\nwant %s", res.Err, want)
	}
	if _, err := b.Secrets("api"); !errors.Is(err, store.ErrUntrusted) {
		t.Fatalf("curl with secrets: %v", err)
	}
	// A copy stays unconfirmed: copying confirms nothing.
	cp, err := b.Duplicate("api")
	if err != nil {
		t.Fatal(err)
	}
	if res := b.Run(context.Background(), RunRequest{Profile: cp}, nopEvents{}); res.Err == nil || !strings.Contains(res.Err.Message, "not confirmed") {
		t.Fatalf("copy run: %+v", res.Err)
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests reached the server before any confirmation", hits.Load())
	}

	items, err := b.Trust("api")
	if err != nil || len(items) != 1 || items[0].Source != "file:"+key || items[0].Confirmed {
		t.Fatalf("trust items: %+v %v", items, err)
	}
	if err := b.ConfirmTrust("api", items); err != nil {
		t.Fatal(err)
	}
	if res := b.Run(context.Background(), RunRequest{Profile: "api"}, nopEvents{}); res.Failed() || hits.Load() != 1 {
		t.Fatalf("confirmed run: %+v, %d requests", res.Err, hits.Load())
	}

	// The editor: a stored secret kept through a URL change is refused
	// (enter it again or clear it), a typed one is confirmed.
	f, err := b.Form("api")
	if err != nil {
		t.Fatal(err)
	}
	f.Fields["client_secret"] = "literal-Ff6"
	if err := b.SaveForm(f, "api"); err != nil {
		t.Fatal(err)
	}
	f, _ = b.Form("api")
	f.Fields["token_url"] = "http://127.0.0.1:1/token"
	if err := b.SaveForm(f, "api"); err == nil || !strings.Contains(err.Error(), "the stored client secret was confirmed for other hosts than http://127.0.0.1:1") {
		t.Fatalf("editor, moved stored secret: %v", err)
	}
	f.Fields["client_secret"] = "literal-Gg7"
	if err := b.SaveForm(f, "api"); err != nil {
		t.Fatal(err)
	}
	if items, _ := b.Trust("api"); len(items) != 1 || !items[0].Confirmed {
		t.Fatalf("typed in the editor: %+v", items)
	}
}

// The console's side of trust: T on an imported profile shows which secret
// goes to which host, y confirms exactly that, and the next run is allowed.
func TestConsoleTrustKeyConfirmsShownSecrets(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	os.WriteFile(key, []byte("console-local-secret-Gg7"), 0o600)
	file := filepath.Join(dir, "shared.json")
	os.WriteFile(file, []byte(`[{"name":"api","kind":"client-credentials","token_url":"https://idp.example.com/token","client_id":"c","secrets":{"client_secret":"file:`+key+`"}}]`), 0o600)
	b := &StoreBackend{Path: filepath.Join(dir, "authlab.db")}
	if _, err := b.Import(file); err != nil {
		t.Fatal(err)
	}
	tm := startTea(t, newTestModel(b), 200, 30)
	waitText(t, tm, "api")
	press(tm, "T")
	waitText(t, tm, "file:"+key, "https://idp.example.com:443", "y to confirm")
	press(tm, "y")
	waitText(t, tm, "confirmed 1 secret(s) of api")
	finalModel(t, tm)
	items, err := b.Trust("api")
	if err != nil || len(items) != 1 || !items[0].Confirmed {
		t.Fatalf("after y: %+v %v", items, err)
	}
}
