package check_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/check"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

const demoJWTKey = "../../testdata/mockidp/demo-jwt.key"

// fapiClient is the demo-jwt client as a FAPI 2.0 client: private_key_jwt, DPoP.
func fapiClient() *flows.Request {
	return &flows.Request{ClientID: "demo-jwt", AuthMethod: flows.AuthPrivateKeyJWT, PrivateKey: demoJWTKey, KeyID: "demo-jwt-1", Shape: flows.Shape{FAPI2: true}, DPoP: true, Scopes: []string{"openid"}}
}

// fapiConfig is the mock IdP's FAPI 2.0 mode, edited.
func fapiConfig(edit func(*mockidp.Config)) mockidp.Config {
	cfg := mockidp.DefaultConfig()
	cfg.FAPI2 = true
	if edit != nil {
		edit(&cfg)
	}
	return cfg
}

func fapiIdP(t *testing.T, edit func(*mockidp.Config), opts ...mockidp.Option) *mockidp.Server {
	return mockidptest.New(t, append([]mockidp.Option{mockidp.WithConfig(fapiConfig(edit))}, opts...)...)
}

func probeItems() []string {
	return []string{check.ProbeNoPAR, check.ProbePKCEMissing, check.ProbePKCEPlain, check.ProbeRedirect,
		check.ProbeCodeReuse, check.ProbeIss, check.ProbeRequestURI, check.ProbeDPoPNonce}
}

func item(t *testing.T, rep *check.Report, name string) check.Item {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			if c.Reference == "" || c.Detail == "" {
				t.Errorf("%s without detail or reference: %+v", name, c)
			}
			return c
		}
	}
	t.Fatalf("no item %q in\n%s", name, dump(rep))
	return check.Item{}
}

func run(t *testing.T, o check.Options) *check.Report {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	rep, err := check.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestProbesPassOnFAPI2Mode: the mock IdP in FAPI 2.0 mode refuses all
// it should, as the demo-jwt client with DPoP sees it.
func TestProbesPassOnFAPI2Mode(t *testing.T) {
	idp := fapiIdP(t, nil)
	rep := run(t, check.Options{Issuer: idp.Issuer(), Probe: fapiClient()})
	if rep.Failed() {
		t.Fatalf("fapi2 mode fails:\n%s", dump(rep))
	}
	for _, n := range probeItems() {
		if c := item(t, rep, n); c.Status != flows.Pass {
			t.Errorf("%s: %s %s", n, c.Status, c.Detail)
		}
	}
	if c := item(t, rep, check.ProbeCodeReuse); !strings.Contains(c.Detail, "invalid_grant") {
		t.Errorf("reuse: %s", c.Detail)
	}
	if c := item(t, rep, check.ProbeRequestURI); !strings.Contains(c.Detail, "expires_in 60 s") {
		t.Errorf("request_uri: %s", c.Detail)
	}
}

// TestProbesFailOnDefaultMode: the demo IdP issues codes for requests that
// were not pushed and without PKCE; FAPI 2.0 fails it, RFC 9700 warns.
func TestProbesFailOnDefaultMode(t *testing.T) {
	idp := mockidptest.New(t)
	client := &flows.Request{ClientID: "demo-web", ClientSecret: "demo-web-secret", Scopes: []string{"openid"}}
	rep := run(t, check.Options{Issuer: idp.Issuer(), Probe: client})
	want := map[string]flows.Status{check.ProbeNoPAR: flows.Fail, check.ProbePKCEMissing: flows.Fail, check.ProbePKCEPlain: flows.Pass,
		check.ProbeRedirect: flows.Pass, check.ProbeCodeReuse: flows.Pass, check.ProbeIss: flows.Pass, check.ProbeRequestURI: flows.Pass,
		check.ProbeDPoPNonce: check.Skip}
	for n, st := range want {
		if c := item(t, rep, n); c.Status != st {
			t.Errorf("%s: %s, want %s: %s", n, c.Status, st, c.Detail)
		}
	}
	for _, c := range rep.Checks {
		if strings.Contains(c.Detail, "demo-web-secret") {
			t.Errorf("secret in %s: %s", c.Name, c.Detail)
		}
	}
	rep = run(t, check.Options{Issuer: idp.Issuer(), Profile: check.ProfileBCP, Probe: client})
	for n, st := range map[string]flows.Status{check.ProbeNoPAR: flows.Pass, check.ProbePKCEMissing: flows.Warn, check.ProbeCodeReuse: flows.Pass} {
		if c := item(t, rep, n); c.Status != st {
			t.Errorf("bcp %s: %s, want %s: %s", n, c.Status, st, c.Detail)
		}
	}
}

// TestProbesNeedAnAcceptedControl: when the client's own request is
// refused (a wrong secret), no refusal counts as a pass.
func TestProbesNeedAnAcceptedControl(t *testing.T) {
	idp := mockidptest.New(t)
	rep := run(t, check.Options{Issuer: idp.Issuer(), Probe: &flows.Request{ClientID: "demo-web", ClientSecret: "wrong-secret-value"}})
	for _, n := range probeItems()[:7] {
		if c := item(t, rep, n); c.Status != check.Skip {
			t.Errorf("%s: %s %s", n, c.Status, c.Detail)
		}
	}
	if c := item(t, rep, check.ProbePKCEMissing); !strings.Contains(c.Detail, "invalid_client") || strings.Contains(c.Detail, "wrong-secret-value") {
		t.Errorf("skip reason: %s", c.Detail)
	}
}

// TestProbesSkipBehindALoginPage: with the sign-in page on, what needs a
// code is skipped, honestly; refusals before the page still count.
func TestProbesSkipBehindALoginPage(t *testing.T) {
	idp := fapiIdP(t, nil, mockidp.WithLogin())
	rep := run(t, check.Options{Issuer: idp.Issuer(), Probe: fapiClient()})
	if rep.Failed() {
		t.Fatalf("fails:\n%s", dump(rep))
	}
	if c := item(t, rep, check.ProbeCodeReuse); c.Status != check.Skip || !strings.Contains(c.Detail, "needs an interactive login") {
		t.Errorf("reuse: %s %s", c.Status, c.Detail)
	}
	for _, n := range []string{check.ProbeNoPAR, check.ProbePKCEMissing, check.ProbeIss} {
		if c := item(t, rep, n); c.Status != flows.Pass {
			t.Errorf("%s: %s %s", n, c.Status, c.Detail)
		}
	}
}

// TestDPoPNonceDemanded: with server nonces on, the probe sees the demand
// and the accepted retry.
func TestDPoPNonceDemanded(t *testing.T) {
	idp := fapiIdP(t, func(c *mockidp.Config) { c.DPoPNonce = true })
	rep := run(t, check.Options{Issuer: idp.Issuer(), Probe: fapiClient()})
	if c := item(t, rep, check.ProbeDPoPNonce); c.Status != flows.Pass || !strings.Contains(c.Detail, "demanded a nonce (use_dpop_nonce with DPoP-Nonce) at /par") {
		t.Errorf("%s %s", c.Status, c.Detail)
	}
	if rep.Failed() {
		t.Errorf("fails:\n%s", dump(rep))
	}
}

// TestProbeClientConfigError: a client the engine refuses is an error of
// kind config, before any probe.
func TestProbeClientConfigError(t *testing.T) {
	idp := fapiIdP(t, nil)
	c := fapiClient()
	c.PrivateKey = "does-not-exist.pem"
	_, err := check.Run(context.Background(), check.Options{Issuer: idp.Issuer(), Probe: c})
	var fe *flows.Error
	if !errors.As(err, &fe) || fe.Kind != flows.ErrConfig {
		t.Fatalf("%v", err)
	}
}
