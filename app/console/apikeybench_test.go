package console

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	"authlab/store"
	benchview "authlab/views/bench"
)

// benchAPIKey benches profile from the console against the mock IdP's
// /api/key and returnss the final model and every frame rendered.
func benchAPIKey(t *testing.T, path, profile string) (*Model, []string) {
	t.Helper()
	m := New(Options{Backend: &StoreBackend{Path: path}, Theme: testTheme(),
		Bench: benchview.Settings{Requests: 60, Concurrency: 3, Duration: 30 * time.Second}})
	var mu sync.Mutex
	var frames []string
	tm := teatest.NewTestModel(t, frameRecorder{Model: m, mu: &mu, frames: &frames}, teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { _ = tm.Quit() })
	waitText(t, tm, profile)
	press(tm, "/")
	tm.Type(profile)
	press(tm, "enter", "b")
	waitText(t, tm, "to start")
	press(tm, "enter")
	waitText(t, tm, "finished")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second))
	m.Close()
	mu.Lock()
	defer mu.Unlock()
	return m, append([]string(nil), frames...)
}

// TestConsoleBenchAPIKey: the console benches the demo api-key profile with
// flows/bench's APIKeyOp (what `authlab bench` repeats): the right key gets
// 200 for every request, a wrong one (in the query) a 401 for each; the
// key is in no frame and not in the report.
func TestConsoleBenchAPIKey(t *testing.T) {
	srv := mockidptest.New(t)
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer()})
	const wrongKey = "not-the-demo-api-key-at-all"
	wrong := store.Profile{Name: "key-wrong", Kind: store.KindAPIKey, TargetURL: srv.URL() + "/api/key", APIKeyQuery: mockidp.APIKeyQuery,
		Secrets: map[store.SecretKind]store.Secret{store.APIKey: store.SecretValue(wrongKey)}}
	if err := store.Update(path, func(s *store.Store) error { return s.PutProfile(wrong, false) }); err != nil {
		t.Fatal(err)
	}

	m, frames := benchAPIKey(t, path, "demo-apikey")
	rep := m.bench.Report()
	if rep == nil || rep.Requests != 60 || rep.OK != 60 || rep.Failed != 0 {
		t.Fatalf("demo-apikey bench report %+v, want 60 requests, all ok", rep)
	}
	last := frames[len(frames)-1]
	for _, want := range []string{apikey.Flow, "/api/key", "ok 60", "failed 0"} {
		if !strings.Contains(last, want) {
			t.Errorf("final frame lacks %q:\n%s", want, last)
		}
	}
	noKeyInFrames(t, frames, rep, mockidp.DemoAPIKey)

	m, frames = benchAPIKey(t, path, "key-wrong")
	rep = m.bench.Report()
	if rep == nil || rep.Requests != 60 || rep.OK != 0 || len(rep.Failures) != 1 ||
		rep.Failures[0].Status != 401 || rep.Failures[0].OAuthError != "invalid_api_key" {
		t.Fatalf("key-wrong bench report %+v, want 60 refusals with 401 invalid_api_key", rep)
	}
	noKeyInFrames(t, frames, rep, wrongKey)
}

func noKeyInFrames(t *testing.T, frames []string, rep any, key string) {
	t.Helper()
	if len(frames) < 3 {
		t.Fatalf("only %d frames recorded", len(frames))
	}
	for i, f := range frames {
		if strings.Contains(f, key) {
			t.Fatalf("frame %d shows the API key:\n%s", i, f)
		}
	}
	j, _ := json.Marshal(rep)
	if strings.Contains(string(j), key) {
		t.Fatalf("the bench report holds the API key: %s", j)
	}
}

// TestConsoleBenchPasswordAndJWTBearer: the grants that need no person are
// benched from the console as `authlab bench` benches them.
func TestConsoleBenchPasswordAndJWTBearer(t *testing.T) {
	srv := mockidptest.New(t)
	path := filepath.Join(t.TempDir(), "authlab.db")
	key, err := os.ReadFile("../../testdata/mockidp/demo-jwt.key")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []store.Profile{
		{Name: "legacy", Kind: store.KindPassword, Issuer: srv.Issuer(), ClientID: "demo-password", Shape: flows.Shape{Username: "bob"},
			Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("demo-password-secret"), store.Password: store.SecretValue("bob")}},
		{Name: "bearer", Kind: store.KindJWTBearer, Issuer: srv.Issuer(), ClientID: "demo-jwt", Shape: flows.Shape{AssertionClaims: json.RawMessage(`{"sub":"bob"}`)},
			Secrets: map[store.SecretKind]store.Secret{store.PrivateKey: store.SecretValue(string(key)), store.AssertionKey: store.SecretValue(string(key))}},
	} {
		if err := store.Update(path, func(s *store.Store) error { return s.PutProfile(p, false) }); err != nil {
			t.Fatal(err)
		}
		m, frames := benchAPIKey(t, path, p.Name)
		if rep := m.bench.Report(); rep == nil || rep.Requests != 60 || rep.OK != 60 {
			t.Fatalf("%s bench report %+v, want 60 requests, all ok\n%s", p.Name, rep, frames[len(frames)-1])
		}
	}
}
