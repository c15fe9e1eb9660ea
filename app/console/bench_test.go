package console

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/flows"
	"authlab/store"
	"authlab/views/inspect"
)

// BenchmarkViewProfiles10k: a frame of the profile list with 10,000 profiles.
func BenchmarkViewProfiles10k(b *testing.B) {
	m := profiles10k()
	m.Update(keyMsg("G"))
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// profiles10k is a 120x40 model listing 10,000 profiles.
func profiles10k() *Model {
	m := newTestModel(&fakeBackend{})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(profilesMsg{rows: manyRows(10000)})
	return m
}

// BenchmarkViewProfiles10kFilterKeystroke: one filter keystroke (refilter + frame).
func BenchmarkViewProfiles10kFilterKeystroke(b *testing.B) {
	m := profiles10k()
	m.Update(keyMsg("/"))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.Update(keyMsg("9"))
		_ = m.View()
		m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	}
}

func bigToken(n int) *flows.DecodedToken {
	claims := map[string]any{}
	for i := range n {
		claims[fmt.Sprintf("claim_%03d", i)] = fmt.Sprintf("value number %d of a large token", i)
	}
	claims["sub"] = "alice"
	claims["iat"] = json.Number(fmt.Sprint(fixedNow.Add(-time.Minute).Unix()))
	exp := fixedNow.Add(time.Hour)
	claims["exp"] = json.Number(fmt.Sprint(exp.Unix()))
	return &flows.DecodedToken{Format: "jws", Header: map[string]any{"alg": "RS256", "kid": "k"}, Claims: claims,
		Verified: true, ExpiresAt: &exp, Checks: fixtureResult().Checks}
}

// inspector200 is a 120x40 model on the run screen's token tab, showing a
// finished run with a 200-claim access token; d is the inspector's data.
func inspector200(opts ...func(*Options)) (m *Model, d inspect.Data) {
	m = newTestModel(&fakeBackend{}, opts...)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.begin(RunRequest{Profile: "x"})
	r := fixtureResult()
	r.AccessToken = bigToken(200)
	d = inspect.Data{Tokens: []inspect.Token{{Label: "access", Tok: r.AccessToken}}, Skew: r.Skew}
	m.run.Finish(r, d)
	return m, d
}

// BenchmarkViewInspector200Claims: a frame of the run screen's token tab
// with a 200-claim token, the clock moving one second per frame (the cache
// is rebuilt each frame: the worst case, once a second in real use).
func BenchmarkViewInspector200Claims(b *testing.B) {
	now := fixedNow
	m, _ := inspector200(func(o *Options) { o.Now = func() time.Time { return now } })
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Second)
		_ = m.View()
	}
}

// BenchmarkViewInspector200ClaimsSameSecond: frames within one second (keys, spinner).
func BenchmarkViewInspector200ClaimsSameSecond(b *testing.B) {
	m, _ := inspector200()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkStartToFirstFrame10k: open a store of 10,000 profiles, read the
// list (with each profile's last run), build the model and render the
// first frame — what `authlab` does before the user sees anything.
func BenchmarkStartToFirstFrame10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "authlab.db")
	seed10k(b, path)
	b.ResetTimer()
	for b.Loop() {
		be := &StoreBackend{Path: path}
		m := New(Options{Backend: be, Theme: testTheme(), Now: fixedClock})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		msg := m.loadProfiles()()
		m.Update(msg)
		if m.prof.Len() != 10000 {
			b.Fatalf("loaded %d profiles", m.prof.Len())
		}
		_ = m.View()
		m.Close()
	}
}

func seed10k(b *testing.B, path string) {
	err := store.Update(path, func(s *store.Store) error {
		for i := range 10000 {
			p := store.Profile{Name: fmt.Sprintf("profile-%05d", i), Kind: store.KindClientCredentials,
				Issuer: "https://idp.example.com", ClientID: "client", Scopes: []string{"api:read"}}
			if err := s.PutProfile(p, false); err != nil {
				return err
			}
			if i%10 == 0 {
				if err := s.AddRun(store.Run{Profile: p.Name, Flow: "client-credentials", Time: fixedNow, OK: true}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLastRuns10k: the second pass that fills the last-run columns.
func BenchmarkLastRuns10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "authlab.db")
	seed10k(b, path)
	be := &StoreBackend{Path: path}
	b.ResetTimer()
	for b.Loop() {
		if _, err := be.LastRuns(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewInspector200ClaimsCold: the first frame after a run lands
// (nothing cached yet), once per run.
func BenchmarkViewInspector200ClaimsCold(b *testing.B) {
	m, d := inspector200()
	b.ResetTimer()
	for b.Loop() {
		m.run.Inspector().SetData(d) // drops the caches
		_ = m.View()
	}
}
