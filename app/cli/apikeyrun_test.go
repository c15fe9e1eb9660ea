package cli

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"authlab/flows/hmac"
	"authlab/internal/testtools"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	"authlab/store"
)

// requestProfiles stores api-key profiles against idp (header, query
// parameter, wrong key) and the demo hmac profile.
func requestProfiles(t *testing.T, idp *mockidp.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	key := func(v string) map[store.SecretKind]store.Secret {
		return map[store.SecretKind]store.Secret{store.APIKey: store.SecretValue(v)}
	}
	target := idp.URL() + "/api/key"
	ps := []store.Profile{
		{Name: "key-header", Kind: store.KindAPIKey, TargetURL: target, Secrets: key(mockidp.DemoAPIKey)},
		{Name: "key-query", Kind: store.KindAPIKey, TargetURL: target, APIKeyQuery: mockidp.APIKeyQuery, Secrets: key(mockidp.DemoAPIKey)},
		{Name: "key-wrong", Kind: store.KindAPIKey, TargetURL: target, APIKeyQuery: mockidp.APIKeyQuery, Secrets: key("authlab-wrong-api-key")},
		{Name: "key-none", Kind: store.KindAPIKey, TargetURL: target},
		{Name: "sig", Kind: store.KindHMAC, TargetURL: idp.URL() + "/api/hmac", HMAC: store.HMAC{Scheme: hmac.SchemeRFC9421, KeyID: hmac.DemoKeyID},
			Secrets: map[store.SecretKind]store.Secret{store.HMACKey: store.SecretValue(hmac.DemoSecret)}},
	}
	err := store.Update(path, func(s *store.Store) error {
		for _, p := range ps {
			if err := s.PutProfile(p, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func noKeyIn(t *testing.T, what, text string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if strings.Contains(text, k) || strings.Contains(text, url.QueryEscape(k)) {
			t.Errorf("%s shows the key %q: %.500s", what, k, text)
		}
	}
}

func TestRunAPIKeyProfiles(t *testing.T) {
	idp := mockidptest.New(t)
	path := requestProfiles(t, idp)

	for _, c := range []struct{ profile, via string }{{"key-header", "header"}, {"key-query", "query"}} {
		t.Run(c.profile, func(t *testing.T) {
			harFile := filepath.Join(t.TempDir(), "run.har")
			code, out, errs := runAuthlab(t, path, "", "run", c.profile, "--json", "--har", harFile)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var res struct {
				Flow string `json:"flow"`
				OK   bool   `json:"ok"`
				Call struct {
					URL    string `json:"url"`
					Status int    `json:"status"`
					Body   string `json:"body"`
				} `json:"call"`
				Exchanges []struct {
					URL string `json:"url"`
				} `json:"exchanges"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res.Flow != "api-key" || !res.OK || res.Call.Status != 200 || !strings.Contains(res.Call.Body, `"via":"`+c.via+`"`) || len(res.Exchanges) != 1 {
				t.Fatalf("result %+v", res)
			}
			har, err := os.ReadFile(harFile)
			if err != nil {
				t.Fatal(err)
			}
			noKeyIn(t, "stdout", out, mockidp.DemoAPIKey)
			noKeyIn(t, "stderr", errs, mockidp.DemoAPIKey)
			noKeyIn(t, "the HAR", string(har), mockidp.DemoAPIKey)
			if !strings.Contains(string(har), "/api/key") {
				t.Errorf("the HAR has no exchange: %.300s", har)
			}
			// Human output, and the run is in history without the key.
			code, out, errs = runAuthlab(t, path, "", "run", c.profile)
			if code != 0 || !strings.Contains(out, "api-key ok") || !strings.Contains(out, "answered HTTP 200") {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			noKeyIn(t, "human output", out+errs, mockidp.DemoAPIKey)
			var runs []store.Run
			if err := store.View(path, func(s *store.Store) (err error) { runs, err = s.History(c.profile, 0); return }, store.ReadOnly()); err != nil || len(runs) != 2 || !runs[0].OK || runs[0].Flow != "api-key" {
				t.Fatalf("history %+v %v", runs, err)
			}
			b, _ := json.Marshal(runs)
			noKeyIn(t, "history", string(b), mockidp.DemoAPIKey)
		})
	}

	t.Run("wrong key", func(t *testing.T) {
		code, out, errs := runAuthlab(t, path, "", "run", "key-wrong")
		first, _, _ := strings.Cut(errs, "\n")
		if code != 1 || !strings.Contains(first, "invalid_api_key") || !strings.Contains(first, "401") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		noKeyIn(t, "output", out+errs, "authlab-wrong-api-key")
	})
	t.Run("no key", func(t *testing.T) {
		code, _, errs := runAuthlab(t, path, "", "run", "key-none")
		if code != 2 || !strings.Contains(errs, "no API key") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("--flow on an api-key profile", func(t *testing.T) {
		code, _, errs := runAuthlab(t, path, "", "run", "key-header", "--flow", "refresh")
		if code != 2 || !strings.Contains(errs, "api-key profile") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("hmac profile", func(t *testing.T) {
		for range 2 { // a fresh nonce each run: the second is no replay
			code, out, errs := runAuthlab(t, path, "", "run", "sig", "--json")
			if code != 0 || !strings.Contains(out, `"flow": "hmac"`) || !strings.Contains(out, "server accepted the signature") {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			noKeyIn(t, "hmac output", out+errs, hmac.DemoSecret)
		}
	})
}

func TestBenchAPIKeyProfile(t *testing.T) {
	idp := mockidptest.New(t)
	path := requestProfiles(t, idp)
	for _, p := range []string{"key-header", "key-query"} {
		code, out, errs := runAuthlab(t, path, "", "bench", p, "-n", "30", "-c", "3", "--json")
		if code != 0 || !strings.Contains(out, `"requests": 30`) || !strings.Contains(out, `"success_rate": 100`) || !strings.Contains(out, `"flow": "api-key"`) {
			t.Fatalf("%s: exit %d: %s %s", p, code, out, errs)
		}
		noKeyIn(t, "bench output", out+errs, mockidp.DemoAPIKey)
	}
	code, out, errs := runAuthlab(t, path, "", "bench", "key-wrong", "-n", "5")
	if code != 1 || !strings.Contains(errs, "invalid_api_key") {
		t.Fatalf("wrong key: exit %d, stderr %q", code, errs)
	}
	noKeyIn(t, "bench output", out+errs, "authlab-wrong-api-key")
}

func TestFlowHelpListsEveryFlow(t *testing.T) {
	code, out, _ := runAuthlab(t, "", "", "flow", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"password", "jwt-bearer", "client-credentials", "hmac", "mtls"} {
		if !strings.Contains(out, f) {
			t.Errorf("flow --help does not list %s:\n%s", f, out)
		}
	}
	for _, f := range []string{"password", "jwt-bearer"} {
		code, out, _ := runAuthlab(t, "", "", "flow", f, "--help")
		first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
		if code != 0 || strings.HasSuffix(first, ": ") || len(first) < len("The "+f+" flow: ")+10 || !strings.Contains(out, "authlab flow "+f+" --issuer") {
			t.Errorf("flow %s --help: %q", f, out)
		}
	}
}

// demo-jwt's published PEM key, no --kid: PAR, a signed request object and
// a JARM response end to end, from flags and from a saved profile, $BROWSER
// being curl.
func TestDemoJWTPEMWithoutKidCLI(t *testing.T) {
	curl := testtools.Require(t, "curl")
	idp := mockidptest.New(t)
	t.Setenv("BROWSER", curl+" -s -o /dev/null -L --max-time 20")
	flags := []string{"--issuer", idp.Issuer(), "--client-id", "demo-jwt", "--private-key", demoKeyFile,
		"--par", "--request-object", "--response-mode", "jwt", "--scope", "openid api:read"}
	path := filepath.Join(t.TempDir(), "s.db")
	if code, out, errs := runAuthlab(t, path, "", append([]string{"profile", "add", "jwt", "--kind", "auth-code"}, flags...)...); code != 0 {
		t.Fatalf("profile add: %d %s %s", code, out, errs)
	}
	for _, args := range [][]string{
		append([]string{"flow", "auth-code"}, flags...),
		{"run", "jwt"},
	} {
		code, out, errs := runAuthlab(t, path, "", append(args, "--wait", "30s", "--json")...)
		if code != 0 || !strings.Contains(out, `"name": "jarm signature"`) || !strings.Contains(out, `"name": "par expires_in"`) {
			t.Fatalf("%v: exit %d: %s\n%.600s", args[:2], code, errs, out)
		}
	}
}
