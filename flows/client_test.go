package flows

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects exchanges for assertions.
type recorder struct {
	mu  sync.Mutex
	exs []Exchange
}

func (r *recorder) Step(StepEvent) {}
func (r *recorder) Exchange(e Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exs = append(r.exs, e)
}

func newLocalServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestPostFormMasksSecretsInExchange(t *testing.T) {
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"at","token_type":"Bearer"}`))
	}))
	rec := &recorder{}
	c := NewClient(ClientOptions{}, rec)
	form := url.Values{"grant_type": {"client_credentials"}, "client_secret": {"s3cr3t-value"}, "client_assertion": {"eyJassertion"}}
	h := http.Header{"Authorization": {"Basic ZGVtbzpzM2NyM3QtdmFsdWU="}}
	resp, err := c.PostForm(context.Background(), "token", srv.URL+"/token", form, h)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.ContentType() != "application/json" {
		t.Fatalf("status %d, content type %q", resp.Status, resp.ContentType())
	}
	if len(rec.exs) != 1 {
		t.Fatalf("want 1 exchange, got %d", len(rec.exs))
	}
	ex := rec.exs[0]
	all := ex.RequestBody + strings.Join(ex.RequestHeaders.Values("Authorization"), "")
	for _, secret := range []string{"s3cr3t-value", "eyJassertion", "ZGVtbzpzM2NyM3QtdmFsdWU="} {
		if strings.Contains(all, secret) {
			t.Errorf("exchange leaks %q: %s", secret, all)
		}
	}
	if !strings.Contains(ex.RequestBody, "grant_type=client_credentials") {
		t.Errorf("non-secret form field lost: %s", ex.RequestBody)
	}
	if got := ex.RequestHeaders.Get("Authorization"); got != "Basic "+Masked {
		t.Errorf("Authorization shown as %q", got)
	}
	if ex.Status != 200 || ex.Step != "token" || ex.Duration <= 0 {
		t.Errorf("exchange not filled: %+v", ex)
	}
}

func TestBodyCapAppliesAfterDecompression(t *testing.T) {
	// A small gzip body that inflates past the cap must be refused, not read.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("a"), 4<<20))
	zw.Close()
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Write(gz.Bytes())
	}))
	c := NewClient(ClientOptions{}, nil)
	_, err := c.Get(context.Background(), "discovery", srv.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Fatalf("want body cap error, got %v", err)
	}
	if gz.Len() >= 1<<20 {
		t.Fatalf("test premise: compressed body should be under the cap, is %d", gz.Len())
	}
}

func TestNoRedirectOnPostAndBoundedOnGet(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	c := NewClient(ClientOptions{}, nil)
	resp, err := c.PostForm(context.Background(), "token", srv.URL+"/token", url.Values{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusFound {
		t.Fatalf("POST followed a redirect: status %d", resp.Status)
	}
	_, err = c.Get(context.Background(), "discovery", srv.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "redirected more than 5 times") {
		t.Fatalf("want redirect limit error, got %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 1+MaxRedirects {
		t.Fatalf("server hit %d times, want %d", hits, 1+MaxRedirects)
	}
}

func TestTimeoutNamesTheFlag(t *testing.T) {
	release := make(chan struct{})
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	c := NewClient(ClientOptions{Timeout: 100 * time.Millisecond}, nil)
	_, err := c.Get(context.Background(), "jwks", srv.URL, nil)
	fe, ok := err.(*Error)
	if !ok || fe.Kind != ErrNetwork || !strings.Contains(fe.Message, "did not answer within 100ms (timeout)") || !strings.Contains(fe.Explain(func(f Field) string { return "--" + string(f) }), "(--timeout)") {
		t.Fatalf("want timeout error, got %#v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = NewClient(ClientOptions{}, nil).Get(context.Background(), "discovery", "http://"+addr+"/", nil)
	if err == nil || !strings.Contains(err.Error(), "refused: nothing is listening there") {
		t.Fatalf("want refused, got %v", err)
	}
}

func TestTLSFailuresExplained(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)

	_, err := NewClient(ClientOptions{}, nil).Get(context.Background(), "discovery", srv.URL, nil)
	if err == nil || err.(*Error).Kind != ErrTLS || !strings.Contains(err.Error(), "does not trust; pass "+string(FieldCAFile)) {
		t.Fatalf("untrusted CA: got %v", err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	conf := &tls.Config{RootCAs: pool, ServerName: "api.example.test"}
	_, err = NewClient(ClientOptions{TLSConfig: conf}, nil).Get(context.Background(), "discovery", srv.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "hostname mismatch") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("hostname mismatch: got %v", err)
	}

	plain := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	_, err = NewClient(ClientOptions{}, nil).Get(context.Background(), "discovery", strings.Replace(plain.URL, "http://", "https://", 1), nil)
	if err == nil || !strings.Contains(err.Error(), "http://") {
		t.Fatalf("https to plain server: got %v", err)
	}
}

func TestHeaderCap(t *testing.T) {
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 100; i++ {
			w.Header().Add("X-Filler", strings.Repeat("x", 1000))
		}
	}))
	_, err := NewClient(ClientOptions{}, nil).Get(context.Background(), "userinfo", srv.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "response headers") {
		t.Fatalf("want header cap error, got %v", err)
	}
}

func TestMaskURLAndJSONBody(t *testing.T) {
	u, _ := url.Parse("https://user:pw@idp.test/authorize?client_id=c&client_secret=shh&state=s")
	got := MaskURL(u)
	if strings.Contains(got, "shh") || strings.Contains(got, ":pw@") || !strings.Contains(got, "state=s") {
		t.Fatalf("MaskURL = %q", got)
	}
	body := MaskBody([]byte(`{"client_secret":"shh","scope":"a"}`), "application/json")
	if strings.Contains(body, "shh") || !strings.Contains(body, `"scope":"a"`) {
		t.Fatalf("MaskBody json = %q", body)
	}
	h := MaskHeaders(http.Header{"Authorization": {"Bearer abc.def.ghi"}, "Cookie": {"sid=1"}, "Accept": {"a"}})
	if strings.Contains(h.Get("Authorization"), "abc.def.ghi") || !strings.HasPrefix(h.Get("Authorization"), "Bearer "+Masked+" (sha256:") {
		t.Fatalf("bearer masked as %q", h.Get("Authorization"))
	}
	if h.Get("Cookie") != Masked || h.Get("Accept") != "a" {
		t.Fatalf("headers masked wrong: %v", h)
	}
}
