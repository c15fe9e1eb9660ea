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
