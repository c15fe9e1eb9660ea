package console

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"authlab/flows"
	fcheck "authlab/flows/check"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	checkview "authlab/views/check"
)

// checkBackend is the fake backend plus a check that answers a fixture
// report and records what was asked.
type checkBackend struct {
	*fakeBackend
	mu      sync.Mutex
	block   bool // wait for ctx (a running frame)
	modes   []string
	exports []*fcheck.Report
}

func fixtureCheckReport(mode string) *fcheck.Report {
	ref := func(fapi, bcp string) string {
		if mode == fcheck.ProfileBCP {
			return bcp
		}
		return fapi
	}
	return &fcheck.Report{Profile: mode, Issuer: "http://127.0.0.1:9090", Checks: []fcheck.Item{
		{Name: "issuer", Status: flows.Pass, Reference: "RFC 8414 3.3; OIDC Discovery 4.3",
			Detail: "the metadata's issuer is http://127.0.0.1:9090, the URL it was fetched for (http://127.0.0.1:9090/.well-known/openid-configuration)"},
		{Name: "https", Status: flows.Warn, Reference: ref("FAPI 2.0 Security Profile 5.2.1", "RFC 9700 2.6; RFC 8414 2"),
			Detail: "the issuer http://127.0.0.1:9090 is plain http on a loopback address: fine for tests, never for production"},
		{Name: "pushed authorization requests", Status: flows.Fail, Reference: ref("FAPI 2.0 Security Profile 5.3.2.2; RFC 9126 5", "RFC 9126 5"),
			Detail: "no pushed_authorization_request_endpoint: FAPI 2.0 requires PAR for every authorization request"},
		{Name: "PKCE methods", Status: flows.Pass, Reference: ref("FAPI 2.0 Security Profile 5.3.2.2; RFC 7636", "RFC 9700 2.1.1; RFC 7636"),
			Detail: "code_challenge_methods_supported [S256]"},
		{Name: "client authentication", Status: flows.Warn, Reference: "FAPI 2.0 Security Profile 5.3.2.1",
			Detail: "token_endpoint_auth_methods_supported [client_secret_basic client_secret_post private_key_jwt] offers client_secret_basic, client_secret_post to other clients; FAPI 2.0 clients use private_key_jwt or mTLS"},
		{Name: "signing algorithms", Status: flows.Fail, Reference: "FAPI 2.0 Security Profile 5.4",
			Detail: "id_token_signing_alg_values_supported [RS256] has none of PS256, ES256, EdDSA"},
		{Name: "grant types", Status: flows.Fail, Reference: ref("FAPI 2.0 Security Profile 5.3.2.1", "RFC 9700 2.4"),
			Detail: "grant_types_supported includes password: the resource owner password credentials grant must not be used"},
	}}
}

func (b *checkBackend) CheckTarget(name string) (string, error) {
	if strings.Contains(name, "hmac") {
		return "", errors.New(name + " has no issuer: the check reads the issuer's metadata (e edits the profile)")
	}
	return "http://127.0.0.1:9090", nil
}

func (b *checkBackend) Check(ctx context.Context, name, mode string) (*fcheck.Report, error) {
	b.mu.Lock()
	b.modes = append(b.modes, mode)
	block := b.block
	b.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, flows.Errorf(flows.ErrCancelled, "check cancelled")
	}
	return fixtureCheckReport(mode), nil
}

func (b *checkBackend) ExportCheck(name string, rep *fcheck.Report) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exports = append(b.exports, rep)
	return "/tmp/check-" + name + "-" + rep.Profile + ".json", nil
}

// TestGoldenCheck: C on a profile checks its issuer against FAPI 2.0; x
// exports the report (the status line says where).
func TestGoldenCheck(t *testing.T) {
	for _, sz := range sizes {
		b := &checkBackend{fakeBackend: &fakeBackend{rows: fixtureRows()}}
		tm := startTea(t, newTestModel(b), sz.w, sz.h)
		waitText(t, tm, "staging-gateway")
		press(tm, "j", "j", "C")
		waitText(t, tm, "does not meet the profile")
		press(tm, "down", "down", "x")
		waitText(t, tm, "report written to")
		fm := finalModel(t, tm)
		golden(t, sizeName("check_finished", sz.w, sz.h), fm.View())
		b.mu.Lock()
		if len(b.modes) != 1 || b.modes[0] != fcheck.ProfileFAPI2 || len(b.exports) != 1 {
			t.Errorf("checked %v, exported %d", b.modes, len(b.exports))
		}
		b.mu.Unlock()
	}
}

// TestCheckModesCancelAndRefuse: b checks against RFC 9700, f against FAPI
// 2.0 again; esc cancels a running check (its context ends), then leaves;
// a profile without an issuer says why.
func TestCheckModesCancelAndRefuse(t *testing.T) {
	b := &checkBackend{fakeBackend: &fakeBackend{rows: fixtureRows()}}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "C")
	waitText(t, tm, "against the FAPI 2.0", "FAPI 2.0 Security Profile 5.2.1")
	press(tm, "b")
	waitText(t, tm, "against the RFC 9700", "RFC 9700 2.6; RFC 8414 2")
	b.mu.Lock()
	b.block = true
	b.mu.Unlock()
	press(tm, "f")
	waitText(t, tm, "reading the metadata")
	press(tm, "esc")
	waitText(t, tm, "check cancelled")
	press(tm, "esc", "j", "j", "C") // back to the list, down to demo-hmac
	waitText(t, tm, "cannot check: demo-hmac has no issuer")
	fm := finalModel(t, tm)
	if fm.screen != scrCheck || fm.chk.cancel != nil {
		t.Errorf("screen %v, cancel %v", fm.screen, fm.chk.cancel != nil)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if want := []string{fcheck.ProfileFAPI2, fcheck.ProfileBCP, fcheck.ProfileFAPI2}; strings.Join(b.modes, ",") != strings.Join(want, ",") {
		t.Errorf("modes %v, want %v", b.modes, want)
	}
}

// TestCheckScreenAgainstMockIdP runs the Check screen through the real
// backend against the mock IdP: in FAPI 2.0 mode nothing fails; in its
// default mode the FAPI 2.0 check lists failures, which RFC 9700 judges
// more gently; x writes the `authlab check --json` object beside the store.
func TestCheckScreenAgainstMockIdP(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	for _, c := range []struct {
		name string
		srv  *mockidp.Server
	}{{"fapi2", mockidptest.New(t, mockidp.WithConfig(cfg))}, {"default", mockidptest.New(t)}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "authlab.db")
			if _, err := SeedDemo(path, DemoSetup{Issuer: c.srv.Issuer()}); err != nil {
				t.Fatal(err)
			}
			m := New(Options{Backend: &StoreBackend{Path: path}, Theme: testTheme()})
			tm := startTea(t, m, 120, 40)
			waitText(t, tm, "demo-client-credentials")
			press(tm, "/")
			tm.Type("demo-client-cred")
			press(tm, "enter", "C")
			if c.name == "fapi2" {
				waitText(t, tm, "meets the profile", "0 failed")
			} else {
				waitText(t, tm, "does not meet the profile", "✗ FAIL pushed authorization requests")
				press(tm, "b")
				waitText(t, tm, "against the RFC 9700")
			}
			press(tm, "x")
			waitText(t, tm, "report written to")
			fm := finalModel(t, tm)
			rep := fm.chk.view.Report()
			if rep == nil || fm.chk.view.Phase() != checkview.Done {
				t.Fatalf("no report:\n%s", fm.View())
			}
			st := map[string]flows.Status{}
			for _, it := range rep.Checks {
				st[it.Name] = it.Status
			}
			switch c.name {
			case "fapi2":
				if rep.Failed() || rep.Profile != fcheck.ProfileFAPI2 {
					t.Errorf("FAPI 2.0 mode fails FAPI 2.0: %+v", rep.Checks)
				}
			default:
				// the gentler BCP: PAR optional, the password grant still a failure
				if rep.Profile != fcheck.ProfileBCP || st["pushed authorization requests"] != flows.Pass || st["grant types"] != flows.Fail {
					t.Errorf("bcp: %+v", rep.Checks)
				}
			}
			files, _ := filepath.Glob(filepath.Join(dir, "check-demo-client-credentials-"+rep.Profile+"-*.json"))
			if len(files) != 1 {
				t.Fatalf("export files %v", files)
			}
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var doc fcheck.Report
			if err := json.Unmarshal(data, &doc); err != nil || doc.Issuer != c.srv.Issuer() || len(doc.Checks) != len(rep.Checks) {
				t.Errorf("export: %v\n%s", err, data)
			}
			if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("export mode %v, %v: want private", fi.Mode(), err)
			}
		})
	}
}

// TestStoreBackendCheckRefusals: a profile without an issuer, a missing
// profile and a bad export name are refused with a reason.
func TestStoreBackendCheckRefusals(t *testing.T) {
	srv := mockidptest.New(t)
	path := filepath.Join(t.TempDir(), "authlab.db")
	if _, err := SeedDemo(path, DemoSetup{Issuer: srv.Issuer()}); err != nil {
		t.Fatal(err)
	}
	b := &StoreBackend{Path: path}
	if iss, err := b.CheckTarget("demo-client-credentials"); err != nil || iss != srv.Issuer() {
		t.Fatalf("target %q, %v", iss, err)
	}
	if _, err := b.CheckTarget("demo-hmac"); err == nil || !strings.Contains(err.Error(), "no issuer") {
		t.Errorf("demo-hmac: %v", err)
	}
	if _, err := b.Check(context.Background(), "nope", fcheck.ProfileFAPI2); err == nil {
		t.Error("a missing profile was checked")
	}
	if _, err := b.ExportCheck("../escape", &fcheck.Report{}); err == nil {
		t.Error("an unsafe name was exported")
	}
}

// TestStoreBackendCheckProbesAsTheProfilesClient: an authorization code
// profile's client runs the behaviour probes on top of the metadata
// checks; a client credentials profile gets the metadata checks only.
func TestStoreBackendCheckProbesAsTheProfilesClient(t *testing.T) {
	srv := mockidptest.New(t)
	path := filepath.Join(t.TempDir(), "authlab.db")
	if _, err := SeedDemo(path, DemoSetup{Issuer: srv.Issuer()}); err != nil {
		t.Fatal(err)
	}
	b := &StoreBackend{Path: path}
	meta, err := b.Check(context.Background(), "demo-client-credentials", fcheck.ProfileBCP)
	if err != nil {
		t.Fatal(err)
	}
	probed, err := b.Check(context.Background(), "demo-auth-code-pkce", fcheck.ProfileBCP)
	if err != nil {
		t.Fatal(err)
	}
	if len(probed.Checks) <= len(meta.Checks) {
		t.Fatalf("the auth code profile ran no probes: %d items, %d without", len(probed.Checks), len(meta.Checks))
	}
	for i, it := range meta.Checks {
		if probed.Checks[i].Name != it.Name {
			t.Errorf("item %d: %s, want the metadata's %s first", i, probed.Checks[i].Name, it.Name)
		}
	}
}
