package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"authlab/flows/mtls"
	"authlab/mockidp"
)

func TestIdpPrintConfig(t *testing.T) {
	code, out, errs := runAuthlab(t, "", "", "idp", "--print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var cfg mockidp.Config
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cfg.Clients {
		ids = append(ids, c.ID)
	}
	for _, want := range []string{"demo-cc", "demo-web", "demo-native", "demo-jwt", "demo-device", "demo-mtls"} {
		if !slices.Contains(ids, want) {
			t.Errorf("client %s missing from %v", want, ids)
		}
	}
	if cfg.Alg != "RS256" || len(cfg.Users) != 2 || !strings.Contains(out, "demo-cc-secret") {
		t.Errorf("config: alg %s, %d users", cfg.Alg, len(cfg.Users))
	}
	// A custom config's own secrets are masked.
	path := filepath.Join(t.TempDir(), "idp.json")
	os.WriteFile(path, []byte(`{"alg":"ES256","clients":[{"client_id":"svc","client_secret":"top-secret-value","auth_methods":["client_secret_basic"],"grant_types":["client_credentials"]}]}`), 0o600)
	code, out, errs = runAuthlab(t, "", "", "idp", "--config", path, "--print-config")
	if code != 0 || strings.Contains(out, "top-secret-value") || !strings.Contains(out, `"ES256"`) {
		t.Errorf("custom config: exit %d %s %s", code, out, errs)
	}
}

func TestIdpUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"alg":"HS999"}`), 0o600)
	for _, args := range [][]string{
		{"idp", "--alg", "XX256"},
		{"idp", "--config", filepath.Join(t.TempDir(), "missing.json")},
		{"idp", "--config", bad},
		{"idp", "--addr", "no-port"},
	} {
		code, _, errs := runAuthlab(t, "", "", args...)
		if code != exitUsage || strings.Count(strings.TrimSpace(errs), "\n") != 0 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}

// startIdp runs `authlab idp` in-process until the test ends.
func startIdp(t *testing.T, store string, extra ...string) (*mockidp.Server, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	g := &globals{stdout: &out, stderr: io.Discard, stdin: strings.NewReader(""), storePath: store}
	fl := idpFlags{addr: "127.0.0.1:0"}
	for _, e := range extra {
		switch e {
		case "--tls":
			fl.tls = true
		case "--login":
			fl.login = true
		case "ES256":
			fl.alg = e
		}
	}
	ready := make(chan *mockidp.Server, 1)
	done := make(chan error, 1)
	go func() { done <- runIdp(ctx, g, fl, func(s *mockidp.Server) { ready <- s }) }()
	var s *mockidp.Server
	select {
	case s = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("idp: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("idp did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("idp did not stop")
		}
	})
	return s, &out
}

func TestIdpServesAndKeepsKeys(t *testing.T) {
	store := filepath.Join(t.TempDir(), "authlab.db")
	s, out := startIdp(t, store, "ES256")
	if !strings.Contains(out.String(), s.URL()) || !strings.Contains(out.String(), mockidp.KeysFile) {
		t.Errorf("banner: %s", out)
	}
	resp, err := http.PostForm(s.URL()+"/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-cc"}, "client_secret": {"demo-cc-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	first := string(s.JWKS())
	if _, err := os.Stat(filepath.Join(filepath.Dir(store), mockidp.KeysFile)); err != nil {
		t.Fatalf("keys not beside the store: %v", err)
	}
	s2, _ := startIdp(t, store)
	if string(s2.JWKS()) != first {
		t.Error("a restarted IdP serves a different JWKS")
	}
}

func TestIdpTLS(t *testing.T) {
	store := filepath.Join(t.TempDir(), "authlab.db")
	s, out := startIdp(t, store, "--tls")
	certs := mtls.PathsIn(filepath.Join(filepath.Dir(store), "certs"))
	if !strings.HasPrefix(s.URL(), "https://") || !strings.Contains(out.String(), certs.Dir) {
		t.Fatalf("URL %s, banner %s", s.URL(), out)
	}
	conf, err := certs.ClientTLSConfig(certs.ClientCert, certs.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
	resp, err := hc.PostForm(s.URL()+"/mtls/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-mtls"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != 200 || m["access_token"] == nil {
		t.Fatalf("demo-mtls over --tls: %d %v", resp.StatusCode, m)
	}
}

// BenchmarkIdpColdStart measures `authlab idp` from process start until the
// first client_credentials token is returned (keys already persisted), and
// the process's peak RSS. It needs the binary: AUTHLAB_BIN=/tmp/authlab-idp
// (go build -o /tmp/authlab-idp .). AUTHLAB_ALG picks the algorithm (ES256).
// Reported: median-ms and max peak-RSS-MiB over b.N starts.
func BenchmarkIdpColdStart(b *testing.B) {
	bin := os.Getenv("AUTHLAB_BIN")
	if bin == "" {
		b.Skip("set AUTHLAB_BIN to an authlab binary (go build -o /tmp/authlab-idp .)")
	}
	alg := os.Getenv("AUTHLAB_ALG")
	if alg == "" {
		alg = "ES256"
	}
	dir := b.TempDir()
	run := func() (time.Duration, int64) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--store", filepath.Join(dir, "authlab.db"), "idp", "--addr", "127.0.0.1:0", "--alg", alg)
		stdout, _ := cmd.StdoutPipe()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The first stdout line is printed once the listener is up: no polling.
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			b.Fatalf("idp output: %v", err)
		}
		f := strings.Fields(line)
		base := ""
		for i, w := range f {
			if w == "on" && i+1 < len(f) {
				base = f[i+1]
				break
			}
		}
		req, _ := http.NewRequest("POST", base+"/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-cc", "demo-cc-secret")
		tr := &http.Transport{}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 {
			b.Fatalf("token: %d", resp.StatusCode)
		}
		tr.CloseIdleConnections()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		return d, rss
	}
	run() // first start creates and persists the keys: not a cold start to measure
	var ds []time.Duration
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, rss := run()
		ds = append(ds, d)
		peak = max(peak, rss)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
}
