package console

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"authlab/flows"
	"authlab/flows/token"
	"authlab/store"
	"authlab/views/profiles"
)

var (
	_ Describer      = (*StoreBackend)(nil)
	_ TokenHistorian = (*StoreBackend)(nil)
)

// frameRecorder keeps every frame the program draws, so a test can look
// at all of them, not only the last.
type frameRecorder struct {
	*Model
	mu     *sync.Mutex
	frames *[]string
}

func (r frameRecorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := r.Model.Update(msg)
	return r, cmd
}

func (r frameRecorder) View() string {
	v := r.Model.View()
	r.mu.Lock()
	*r.frames = append(*r.frames, v)
	r.mu.Unlock()
	return v
}

// paneStore is a store with one profile of each pane kind, every one with a
// stored secret, a cached token with a refresh token, and two recorded runs
// whose access tokens differ in aud and exp. It returns the secrets and
// tokens that no frame may show.
func paneStore(t *testing.T) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authlab.db")
	secrets := []string{"cc-secret-Zq81xV", "hmac-key-Pq7Lm2", "api-key-Wd93Ks", "cmd-arg-Tx55Rb"}
	at := func(aud string, exp time.Time) string {
		raw, err := token.Mint(token.MintOptions{Kid: "k1", Key: token.MintKey{Key: []byte("pane-test-signing-key-0123456789ab")},
			Claims: map[string]any{"iss": "http://127.0.0.1:9", "sub": "cc", "aud": aud, "iat": fixedNow.Add(-10 * time.Minute).Unix(), "exp": exp.Unix()}})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tokens := []string{at("api", fixedNow.Add(50*time.Minute)), at("billing", fixedNow.Add(-5*time.Minute))}
	refresh := "rt-Hh42Yy-refresh-value"
	err := store.Update(path, func(s *store.Store) error {
		for _, p := range []store.Profile{
			{Name: "cc", Kind: store.KindClientCredentials, Issuer: "http://127.0.0.1:9", ClientID: "cc-client", AuthMethod: "client_secret_post",
				Scopes: []string{"api:read"}, Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue(secrets[0])}},
			{Name: "sig", Kind: store.KindHMAC, TargetURL: "http://127.0.0.1:9/api/hmac", HMAC: store.HMAC{Scheme: "rfc9421", KeyID: "kid-1"},
				Secrets: map[store.SecretKind]store.Secret{store.HMACKey: store.SecretValue(secrets[1])}},
			{Name: "key", Kind: store.KindAPIKey, TargetURL: "http://127.0.0.1:9/api/hello", APIKeyHeader: "X-API-Key",
				Secrets: map[store.SecretKind]store.Secret{store.APIKey: store.ParseSecret("cmd:echo " + secrets[3])}},
		} {
			if _, err := s.SaveProfile(p, store.SaveOptions{}); err != nil {
				return err
			}
		}
		// older run first: the newer one is cached and listed first
		for i := 1; i >= 0; i-- {
			d, err := token.Decode(tokens[i])
			if err != nil {
				return err
			}
			res := &flows.Result{Flow: flows.FlowClientCredentials, OK: true, Started: fixedNow.Add(-time.Duration(i+1) * 10 * time.Minute),
				Token: flows.NewTokenResponse(map[string]any{"access_token": tokens[i], "refresh_token": refresh, "token_type": "Bearer", "expires_in": 3600.0},
					fixedNow.Add(-10*time.Minute)),
				AccessToken: &flows.DecodedToken{Format: "jws", Header: d.Header, Claims: d.Claims},
				Checks:      []flows.Check{{Name: "signature", Status: flows.Pass}, {Name: "exp", Status: flows.Pass}, {Name: "typ", Status: flows.Warn}}}
			if err := s.RecordRun("cc", res); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, append(append(secrets, tokens...), refresh, strings.Split(tokens[0], ".")[2])
}

// TestStoreBackendDescribe: the real backend's detail of each kind, with
// secrets named by source and the cached token by fingerprint.
func TestStoreBackendDescribe(t *testing.T) {
	path, _ := paneStore(t)
	b := &StoreBackend{Path: path, Now: fixedClock}
	cc, err := b.Describe("cc")
	if err != nil {
		t.Fatal(err)
	}
	if cc.Issuer != "http://127.0.0.1:9" || cc.ClientID != "cc-client" || cc.AuthMethod != "client_secret_post" || cc.Scopes != "api:read" {
		t.Errorf("oauth detail %+v", cc)
	}
	if cc.Last == nil || !cc.Last.OK || cc.Last.Pass != 2 || cc.Last.Warn != 1 || cc.Last.Fail != 0 || !cc.Last.At.Equal(fixedNow.Add(-10*time.Minute)) {
		t.Errorf("last run %+v", cc.Last)
	}
	// expires_in 3600 from the response received 10 min before now
	if tk := cc.Token; tk == nil || !tk.ExpiresAt.Equal(fixedNow.Add(50*time.Minute)) || len(tk.Fingerprint) != 64 || !tk.Refresh {
		t.Errorf("token %+v", cc.Token)
	}
	if len(cc.Secrets) != 1 || cc.Secrets[0].Value != "client_secret stored" {
		t.Errorf("secrets %+v", cc.Secrets)
	}
	sig, _ := b.Describe("sig")
	if len(sig.Endpoints) != 1 || sig.Endpoints[0].Value != "http://127.0.0.1:9/api/hmac" || sig.Token != nil || sig.Last != nil ||
		!hasField(sig.Settings, "scheme", "rfc9421") || !hasField(sig.Settings, "key id", "kid-1") || !hasField(sig.Secrets, "secret", "hmac_key stored") {
		t.Errorf("hmac detail %+v", sig)
	}
	key, _ := b.Describe("key")
	if !hasField(key.Settings, "header", "X-API-Key") || !hasField(key.Secrets, "secret", "api_key cmd:echo …") {
		t.Errorf("api-key detail %+v", key)
	}
	if _, err := b.Describe("nope"); err == nil {
		t.Error("a missing profile should be an error")
	}
	es, err := b.HistoryTokens("cc")
	if err != nil || len(es) != 2 || len(es[0].Decoded) != 2 || es[0].Decoded[0].Claims["aud"] != "api" || es[0].Decoded[0].Header["kid"] != "k1" {
		t.Fatalf("history tokens %v %+v", err, es)
	}
}

func hasField(fs []profiles.Field, label, value string) bool {
	for _, f := range fs {
		if f.Label == label && f.Value == value {
			return true
		}
	}
	return false
}

// TestPaneAndHistoryDiffShowNoSecret: every frame drawn while going through
// each profile's pane and comparing two runs, at both sizes, on the real
// backend: no secret, token or signature shows, only fingerprints.
func TestPaneAndHistoryDiffShowNoSecret(t *testing.T) {
	path, secret := paneStore(t)
	for _, sz := range sizes {
		var mu sync.Mutex
		var frames []string
		m := newTestModel(&StoreBackend{Path: path, Now: fixedClock})
		tm := teatest.NewTestModel(t, frameRecorder{m, &mu, &frames}, teatest.WithInitialTermSize(sz.w, sz.h))
		t.Cleanup(func() { _ = tm.Quit() })
		waitText(t, tm, "cc · client-credentials", "in 50m00s")
		press(tm, "j") // profiles are listed by name: cc, key, sig
		waitText(t, tm, "cmd:echo …")
		press(tm, "j")
		waitText(t, tm, "hmac_key stored")
		press(tm, "g", "h")
		waitText(t, tm, "read-only")
		press(tm, "space", "j", "d")
		waitText(t, tm, "What it means")
		if err := tm.Quit(); err != nil {
			t.Fatal(err)
		}
		tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
		mu.Lock()
		all := strings.Join(frames, "\n")
		mu.Unlock()
		for _, want := range []string{"aud differs", "sha256:"} {
			if !strings.Contains(all, want) {
				t.Errorf("%dx%d: no frame shows %q", sz.w, sz.h, want)
			}
		}
		// any 10 characters in a row of a secret count: a cut value leaks too
		for _, s := range secret {
			for i := 0; i+10 <= len(s); i++ {
				if strings.Contains(all, s[i:i+10]) {
					t.Errorf("%dx%d: a frame shows part of a secret or token: %q", sz.w, sz.h, s[i:i+10])
					break
				}
			}
		}
	}
}
