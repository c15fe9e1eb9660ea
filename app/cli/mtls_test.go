package cli

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"authlab/flows/mtls"
)

func mtlsTestServer(t *testing.T, set *mtls.CertSet, auth tls.ClientAuthType) string {
	t.Helper()
	conf, err := set.ServerTLSConfig(auth)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"hello":"`+r.TLS.PeerCertificates[0].Subject.CommonName+`"}`)
	}))
	srv.TLS = conf
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCertsInitCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "data", "authlab.db")
	code, out, errs := runAuthlab(t, "", "", "--store", store, "certs", "init", "--json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	var set mtls.CertSet
	if err := json.Unmarshal([]byte(out), &set); err != nil {
		t.Fatal(err)
	}
	if set.Dir != filepath.Join(filepath.Dir(store), "certs") || len(set.Created) != 14 {
		t.Fatalf("set %+v", set)
	}
	for _, f := range set.Files() {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, err, st)
		}
	}
	code, out, _ = runAuthlab(t, "", "", "--store", store, "certs", "init")
	if code != 0 || !strings.HasPrefix(out, "reused existing certificates in") || !strings.Contains(out, set.ClientCert) {
		t.Fatalf("second run: %s", out)
	}
}

func TestFlowMTLSCommand(t *testing.T) {
	set, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	url := mtlsTestServer(t, set, tls.RequireAndVerifyClientCert)

	code, out, errs := runAuthlab(t, "", "", "flow", "mtls", "--url", url, "--cert", set.SPIFFECert, "--key", set.SPIFFEKey, "--ca", set.CACert)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"TLS 1.3", "server chain (trusted)", "it accepts certificates issued by", "sent CN=demo-mtls", "SPIFFE ID spiffe://authlab.test/client", "x5t#S256", "HTTP 200"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = runAuthlab(t, "", "", "flow", "mtls", "--url", url, "--cert", set.ExpiredCert, "--key", set.ExpiredKey, "--ca", set.CACert, "--json")
	var o mtlsOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err, out)
	}
	if code != 1 || o.OK || o.Error == nil || !strings.Contains(o.Error.Message, "expired") || !strings.Contains(errs, "expired") {
		t.Fatalf("expired: exit %d %+v %s", code, o.Error, errs)
	}
	if o.Handshake == nil || len(o.Handshake.ServerChain) != 1 || o.Handshake.ClientCert == nil || o.Handshake.ClientCert.DaysLeft >= 0 {
		t.Errorf("json report %+v", o.Handshake)
	}

	code, _, errs = runAuthlab(t, "", "", "flow", "mtls", "--url", url, "--ca", set.CACert)
	if code != 1 || !strings.Contains(errs, "requires a client certificate and we sent none") {
		t.Fatalf("no cert: exit %d %s", code, errs)
	}
	for _, args := range [][]string{
		{"--cert", set.ClientCert},
		{"--url", "http://127.0.0.1:1/"},
		{"--url", url, "--cert", set.ClientKey, "--key", set.ClientCert},
		{"--url", url, "--token-url", url},
	} {
		if code, _, errs := runAuthlab(t, "", "", append([]string{"flow", "mtls"}, args...)...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q", args, code, errs)
		}
	}
}
