package console

import (
	"strings"
	"sync"
	"testing"

	"authlab/flows"
)

type clip struct {
	mu  sync.Mutex
	got []string
}

func (c *clip) copy(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, s)
	return nil
}

func (c *clip) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// secretBackend is a fake that can hand out the profile's secret.
type secretBackend struct{ *fakeBackend }

func (secretBackend) Secrets(string) (Secrets, error) {
	return Secrets{ClientID: "demo-cc", ClientSecret: "demo-cc-secret"}, nil
}

func TestCopyTokenAndCurl(t *testing.T) {
	c := &clip{}
	b := secretBackend{&fakeBackend{rows: fixtureRows()}}
	tm := startTea(t, newTestModel(b, func(o *Options) { o.Clipboard = c.copy }), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "enter")
	waitText(t, tm, "Raw JSON")
	press(tm, "y")
	waitText(t, tm, "access token copied")
	press(tm, "2", "j", "c")
	waitText(t, tm, "curl copied (secrets masked")
	press(tm, "C")
	waitText(t, tm, "WITH SECRETS")
	finalModel(t, tm)
	got := c.all()
	if len(got) != 3 {
		t.Fatalf("clipboard got %d copies, want 3: %q", len(got), got)
	}
	if got[0] != fixtureResult().Token.AccessToken {
		t.Errorf("y copied %q, want the access token", got[0])
	}
	if strings.Contains(got[1], "demo-cc-secret") || !strings.Contains(got[1], flows.Masked) || !strings.Contains(got[1], "-X POST") {
		t.Errorf("c must copy a masked curl of the token request, got %q", got[1])
	}
	// Basic base64("demo-cc:demo-cc-secret")
	if !strings.Contains(got[2], "Basic ZGVtby1jYzpkZW1vLWNjLXNlY3JldA==") {
		t.Errorf("C must copy the curl with the real credentials, got %q", got[2])
	}
}

func TestCurlPutsBackPostSecret(t *testing.T) {
	x := flows.Exchange{Method: "POST", URL: "http://idp/token", RequestBody: "client_id=a&client_secret=" + flows.Masked + "&grant_type=client_credentials"}
	if c := Curl(x, nil); strings.Contains(c, "s3cret") || !strings.Contains(c, "--data-raw") {
		t.Errorf("masked curl = %q", c)
	}
	if c := Curl(x, &Secrets{ClientID: "a", ClientSecret: "s3cret"}); !strings.Contains(c, "client_secret=s3cret") {
		t.Errorf("curl with secrets = %q", c)
	}
	if c := Curl(flows.Exchange{Method: "GET", URL: "http://x/it's"}, nil); !strings.Contains(c, `'http://x/it'\''s'`) {
		t.Errorf("quoting: %q", c)
	}
}

func TestIdPPanelRotateAndReset(t *testing.T) {
	idp := newFakeIdP()
	b := &fakeBackend{rows: fixtureRows()}
	tm := startTea(t, newTestModel(b, func(o *Options) { o.IdP = idp }), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "m", "j", "j", "j", "enter") // JWKS: up → 503
	waitText(t, tm, "JWKS              503")
	press(tm, "R")
	waitText(t, tm, "signing key rotated")
	press(tm, "X")
	waitText(t, tm, "IdP faults reset")
	finalModel(t, tm)
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if idp.rotated != 1 {
		t.Errorf("rotated %d times, want 1", idp.rotated)
	}
	if !idp.faults.IsZero() {
		t.Errorf("faults after reset = %+v", idp.faults)
	}
}

// TestCurlMasksLiveTokensInForms: "copy as curl (secrets masked)" must not
// carry a token or code a request sent in its form body or query, even when
// the exchange it is built from was not masked; "with secrets" puts back
// only the client credentials.
func TestCurlMasksLiveTokensInForms(t *testing.T) {
	live := map[string]string{
		"token": "live-token-1", "refresh_token": "live-refresh-2", "subject_token": "live-subject-3", "actor_token": "live-actor-4",
		"code": "live-code-5", "assertion": "live-assertion-6", "client_assertion": "live-client-assertion-7",
		"password": "live-password-8", "code_verifier": "live-verifier-9", "device_code": "live-device-10",
	}
	var form []string
	for k, v := range live {
		form = append(form, k+"="+v)
	}
	form = append(form, "grant_type=refresh_token", "client_secret=s3cret-value")
	x := flows.Exchange{Method: "POST", URL: "https://idp.example/token?access_token=live-query-11",
		RequestHeaders: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer live-bearer-12"}},
		RequestBody:    strings.Join(form, "&")}
	masked, withSecrets := Curl(x, nil), Curl(x, &Secrets{ClientID: "a", ClientSecret: "s3cret-value"})
	for _, v := range append(mapValues(live), "live-query-11", "live-bearer-12") {
		if strings.Contains(masked, v) || strings.Contains(withSecrets, v) {
			t.Errorf("curl carries %q:\n%s\n%s", v, masked, withSecrets)
		}
	}
	if strings.Contains(masked, "s3cret-value") || !strings.Contains(masked, "grant_type=refresh_token") || !strings.Contains(masked, "refresh_token="+flows.Masked) {
		t.Errorf("masked curl = %s", masked)
	}
	if !strings.Contains(withSecrets, "client_secret=s3cret-value") {
		t.Errorf("curl with secrets lost the client secret: %s", withSecrets)
	}
	js := flows.Exchange{Method: "POST", URL: "https://idp.example/x", RequestHeaders: map[string][]string{"Content-Type": {"application/json"}},
		RequestBody: `{"subject_token":"live-json-13","audience":"api"}`}
	if c := Curl(js, nil); strings.Contains(c, "live-json-13") || !strings.Contains(c, `"audience":"api"`) {
		t.Errorf("JSON body curl = %s", c)
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
