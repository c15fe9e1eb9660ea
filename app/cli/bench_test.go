package cli

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"authlab/flows/bench"
	"authlab/flows/hmac"
	"authlab/flows/mtls"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	"authlab/store"
)

func demoArgs(idp *mockidp.Server, extra ...string) []string {
	return append([]string{"bench", "--issuer", idp.Issuer(), "--client-id", "demo-cc", "--client-secret", "demo-cc-secret"}, extra...)
}

func TestBenchSLOGate(t *testing.T) {
	idp := mockidptest.New(t)
	code, out, errs := runAuthlab(t, "", "", demoArgs(idp, "-n", "200", "-c", "4", "--slo", "success>=99%,p99<10s,rps>1", "--json")...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var got struct {
		Flow     string            `json:"flow"`
		OK       bool              `json:"ok"`
		Requests int64             `json:"requests"`
		SLO      []bench.SLOResult `json:"slo"`
		Latency  map[string]any    `json:"latency_ms"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !got.OK || got.Flow != "client-credentials" || got.Requests != 200 || len(got.SLO) != 3 || got.Latency["p95"] == nil {
		t.Fatalf("unexpected report: %s", out)
	}
	if strings.Contains(out, "demo-cc-secret") || strings.Contains(errs, "demo-cc-secret") {
		t.Fatal("the client secret leaked into the output")
	}

	// Half the token requests fail: the gate exits 1 and names the objective.
	if err := idp.SetFaults(mockidp.Faults{Errors: map[string]mockidp.ErrorFault{mockidp.EPToken: {Fraction: 0.5}}}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runAuthlab(t, "", "", demoArgs(idp, "-n", "200", "-c", "4", "--slo", "p99<10s,success>=99.9%")...)
	if code != 1 || !strings.Contains(errs, "SLO missed: success>=99.9% (was ") || strings.Contains(errs, "p99<10s") {
		t.Fatalf("exit %d, stderr %q; want 1 naming success>=99.9%% only", code, errs)
	}
	for _, want := range []string{"HTTP 500 server_error", "slo  FAIL  success>=99.9%", "slo  pass  p99<10s", "histogram", "│"} {
		if !strings.Contains(out, want) {
			t.Errorf("human output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	idp := mockidptest.New(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{demoArgs(idp, "--slo", "p95<50"), `--slo: objective 1 "p95<50": latency "50" needs a unit, e.g. 50ms`},
		{demoArgs(idp, "--slo", "p95<50ms,succes>=99%"), `unknown metric "succes"`},
		{demoArgs(idp, "--flow", "auth-code"), `--flow "auth-code": bench repeats`},
		{demoArgs(idp, "-c", "0"), "bad bounds"},
		{demoArgs(idp, "--flow", "call"), "--flow call needs --call URL"},
		{[]string{"bench", "nosuchprofile"}, `no profile "nosuchprofile"`},
		{[]string{"bench", "probe", "nosuch"}, `unknown probe "nosuch"`},
		{[]string{"bench", "probe"}, "needs a probe name"},
		{demoArgs(idp, "-n", "abc"), "invalid argument"},
	} {
		code, _, errs := runAuthlab(t, "", "", c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line containing %q", c.args[1:], code, errs, c.want)
		}
	}
}

func TestBenchProfileFromStore(t *testing.T) {
	idp := mockidptest.New(t)
	path := filepath.Join(t.TempDir(), "s.db")
	p := store.Profile{Name: "cc", Kind: store.KindClientCredentials, Issuer: idp.Issuer(), ClientID: "demo-cc",
		Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("demo-cc-secret")}}
	if err := store.Update(path, func(s *store.Store) error { return s.PutProfile(p, false) }); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	if code := execute([]string{"--store", path, "bench", "cc", "-n", "20", "--json"}, g); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"requests": 20`) || !strings.Contains(out.String(), `"success_rate": 100`) {
		t.Fatalf("report: %s", out.String())
	}
	// A flag overrides the profile: a wrong secret makes every request fail.
	out.Reset()
	errb.Reset()
	if code := execute([]string{"--store", path, "bench", "cc", "-n", "5", "--client-secret", "wrong"}, g); code != 1 || !strings.Contains(errb.String(), "every request failed: HTTP 401 invalid_client") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestBenchProbesCLI(t *testing.T) {
	idp := mockidptest.New(t)
	args := demoArgs(idp, "--every", "20ms", "--give-up", "5s", "--json")
	args = append([]string{"bench", "probe", "revocation"}, args[1:]...)
	code, out, errs := runAuthlab(t, "", "", args...)
	if code != 0 {
		t.Fatalf("revocation probe: exit %d, %s", code, errs)
	}
	var rev struct {
		OK         bool                   `json:"ok"`
		Revocation bench.RevocationResult `json:"revocation"`
	}
	if err := json.Unmarshal([]byte(out), &rev); err != nil || !rev.OK || !rev.Revocation.Refused || rev.Revocation.AfterMS <= 0 {
		t.Fatalf("revocation probe output %s (%v)", out, err)
	}

	args = append([]string{"bench", "probe", "jwks"}, demoArgs(idp, "-n", "3", "--every", "10ms")[1:]...)
	code, out, errs = runAuthlab(t, "", "", args...)
	if code != 0 || !strings.Contains(out, "requests     3") || !strings.Contains(out, "key ids") {
		t.Fatalf("jwks probe: exit %d\n%s%s", code, out, errs)
	}

	args = append([]string{"bench", "probe", "issuance"}, demoArgs(idp, "-n", "5")[1:]...)
	code, out, errs = runAuthlab(t, "", "", args...)
	if code != 0 || !strings.Contains(out, "client-credentials") || !strings.Contains(out, "auth-code            skipped") {
		t.Fatalf("issuance probe: exit %d\n%s%s", code, out, errs)
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := progressLine(&b)
	p(bench.Snapshot{Elapsed: 1500 * time.Millisecond, Requests: 120, OK: 119, Failed: 1, IntervalRPS: 80, P50: 2 * time.Millisecond})
	if s := b.String(); !strings.HasPrefix(s, "\r\033[K") || !strings.Contains(s, "120 requests") || strings.Contains(s, "\n") {
		t.Fatalf("progress line %q", s)
	}
	b.Reset()
	p(bench.Snapshot{Done: true})
	if b.String() != "\r\033[K" {
		t.Fatalf("final snapshot must clear the line, wrote %q", b.String())
	}
	if flowIsTerminal(&b) {
		t.Fatal("a buffer is not a terminal")
	}
}

func TestBenchCallAndHMACFlows(t *testing.T) {
	idp := mockidptest.New(t)
	code, out, errs := runAuthlab(t, "", "", demoArgs(idp, "--flow", "call", "--call", idp.URL()+"/api/hello", "-n", "50", "-c", "2", "--json")...)
	if code != 0 || !strings.Contains(out, `"requests": 50`) || !strings.Contains(out, `"flow": "call"`) {
		t.Fatalf("call flow: exit %d\n%s%s", code, out, errs)
	}

	v := hmac.NewDemoVerifier(nil)
	srv := httptest.NewServer(v.Middleware(hmac.SchemeRFC9421, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	t.Cleanup(srv.Close)
	code, out, errs = runAuthlab(t, "", "", "bench", "--flow", "hmac", "--call", srv.URL+"/x", "--scheme", "rfc9421",
		"--hmac-key", hmac.DemoSecret, "--key-id", hmac.DemoKeyID, "-n", "20", "--json")
	if code != 0 || !strings.Contains(out, `"ok_count": 20`) {
		t.Fatalf("hmac flow: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, hmac.DemoSecret) {
		t.Fatal("the HMAC key leaked into the output")
	}
}

func TestBenchBoundNote(t *testing.T) {
	idp := mockidptest.New(t)
	if err := idp.SetFaults(mockidp.Faults{Latency: map[string]mockidp.Duration{mockidp.EPToken: mockidp.Duration(20 * time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runAuthlab(t, "", "", demoArgs(idp, "-n", "100000", "-z", "200ms")...)
	if code != 0 || !strings.Contains(errs, "stopped at the 200ms time bound after") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// bench --flow mtls with a real client certificate against a server that
// requires one: every request succeeds; without the certificate, none does.
func TestBenchMTLSFlow(t *testing.T) {
	certs, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := certs.ServerTLSConfig(tls.RequireAndVerifyClientCert)
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "demo-mtls" {
			seen.Add(1)
		}
	}))
	srv.TLS = conf
	srv.StartTLS()
	t.Cleanup(srv.Close)

	base := []string{"bench", "--flow", "mtls", "--call", srv.URL, "--ca", certs.CACert, "-n", "20", "-c", "2", "--json"}
	code, out, errs := runAuthlab(t, "", "", append(base, "--cert", certs.ClientCert, "--key", certs.ClientKey)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var got struct {
		OKCount int64 `json:"ok_count"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.OKCount != 20 || seen.Load() != 20 {
		t.Fatalf("ok %d, server saw the certificate %d times; want 20 and 20", got.OKCount, seen.Load())
	}

	code, _, errs = runAuthlab(t, "", "", base...)
	if code != 2 || !strings.Contains(errs, "needs a client certificate") {
		t.Fatalf("without --cert: exit %d, stderr %q", code, errs)
	}
}
