package cli

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"authlab/internal/testtools"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	"authlab/store"
)

// grantCounter fronts the mock IdP and counts token requests by grant type
// before they reach it: what "exactly one renewal at the IdP" is checked on.
type grantCounter struct {
	mu     sync.Mutex
	grants map[string]int
	total  atomic.Int32
	srv    *httptest.Server
}

func newGrantCounter(t *testing.T, idp *mockidp.Server) *grantCounter {
	t.Helper()
	c := &grantCounter{grants: map[string]int{}}
	h := idp.Handler()
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			r.Body = io.NopCloser(bytes.NewReader(b))
			v, _ := url.ParseQuery(string(b))
			c.mu.Lock()
			c.grants[v.Get("grant_type")]++
			c.mu.Unlock()
			c.total.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *grantCounter) count(grant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grants[grant]
}

// ccProfile saves a client-credentials profile whose token URL is the counter.
func ccProfile(t *testing.T, st string, c *grantCounter) {
	t.Helper()
	code, out, errs := runAuthlab(t, st, "", "profile", "add", "cc", "--kind", "client-credentials", "--token-url", c.srv.URL+"/token",
		"--client-id", "demo-cc", "--client-secret", demoCCSecret, "--scope", "api:read")
	if code != 0 {
		t.Fatalf("profile add: exit %d %s %s", code, errs, out)
	}
}

// expireCache makes the cached token of profile look expired, as time
// passing would.
func expireCache(t *testing.T, st, profile string) {
	t.Helper()
	if err := store.Update(st, func(s *store.Store) error {
		ct, err := s.GetToken(profile)
		if err != nil {
			return err
		}
		ct.ExpiresAt = time.Now().Add(-time.Minute)
		return s.PutToken(profile, ct)
	}); err != nil {
		t.Fatal(err)
	}
}

func cachedResponse(t *testing.T, st, profile string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := store.View(st, func(s *store.Store) error {
		ct, err := s.GetToken(profile)
		if err != nil {
			return err
		}
		return json.Unmarshal(ct.Response, &m)
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenGetCachedThenRenewedByFlow(t *testing.T) {
	c := newGrantCounter(t, mockidptest.New(t))
	st := filepath.Join(t.TempDir(), "s.db")
	ccProfile(t, st, c)

	code, first, errs := runAuthlab(t, st, "", "token", "get", "cc")
	if code != 0 || errs != "" || strings.Count(first, "\n") != 1 || len(first) < 20 {
		t.Fatalf("first: exit %d stderr %q stdout %q", code, errs, first)
	}
	if n := c.count("client_credentials"); n != 1 {
		t.Fatalf("first get: %d token requests, want 1", n)
	}
	// Warm cache: no request at the IdP, the same token.
	for range 3 {
		code, out, errs := runAuthlab(t, st, "", "token", "get", "cc")
		if code != 0 || out != first {
			t.Fatalf("cached: exit %d %q, got %q want %q", code, errs, out, first)
		}
	}
	if n := c.total.Load(); n != 1 {
		t.Fatalf("warm cache made %d token requests in all, want 1", n)
	}
	// Within --min-ttl of expiry: renewed by running the flow again.
	code, out, errs := runAuthlab(t, st, "", "token", "get", "cc", "--min-ttl", "2h")
	if code != 0 || out == first || c.count("client_credentials") != 2 {
		t.Fatalf("min-ttl renewal: exit %d %q, same token %v, %d requests", code, errs, out == first, c.count("client_credentials"))
	}
	expireCache(t, st, "cc")
	code, renewed, errs := runAuthlab(t, st, "", "token", "get", "cc")
	if code != 0 || renewed == out || c.count("client_credentials") != 3 {
		t.Fatalf("expired renewal: exit %d %q, %d requests", code, errs, c.count("client_credentials"))
	}
	if got := strings.TrimSpace(renewed); cachedResponse(t, st, "cc")["access_token"] != got {
		t.Fatal("the printed token is not the cached one")
	}
}

func TestTokenGetFormats(t *testing.T) {
	c := newGrantCounter(t, mockidptest.New(t))
	st := filepath.Join(t.TempDir(), "s.db")
	ccProfile(t, st, c)
	_, raw, _ := runAuthlab(t, st, "", "token", "get", "cc")
	tok := strings.TrimSpace(raw)

	code, out, errs := runAuthlab(t, st, "", "token", "get", "cc", "--format", "header")
	if code != 0 || out != "Bearer "+tok+"\n" {
		t.Fatalf("header: exit %d %q %q", code, errs, out)
	}
	code, out, _ = runAuthlab(t, st, "", "token", "get", "cc", "--format", "json")
	var j struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresAt   string `json:"expires_at"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || j.AccessToken != tok || !strings.EqualFold(j.TokenType, "bearer") || j.ExpiresIn < 60 {
		t.Fatalf("json: exit %d %v %s", code, err, out)
	}
	if _, err := time.Parse(time.RFC3339, j.ExpiresAt); err != nil {
		t.Fatalf("expires_at %q: %v", j.ExpiresAt, err)
	}
	code, out, _ = runAuthlab(t, st, "", "token", "get", "cc", "--format", "k8s")
	var ec struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Status     struct {
			Token               string `json:"token"`
			ExpirationTimestamp string `json:"expirationTimestamp"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &ec); err != nil || code != 0 || ec.APIVersion != "client.authentication.k8s.io/v1" || ec.Kind != "ExecCredential" || ec.Status.Token != tok {
		t.Fatalf("k8s: exit %d %v %s", code, err, out)
	}
	if exp, err := time.Parse(time.RFC3339, ec.Status.ExpirationTimestamp); err != nil || exp.Before(time.Now()) {
		t.Fatalf("expirationTimestamp %q: %v", ec.Status.ExpirationTimestamp, err)
	}
	if code, _, errs := runAuthlab(t, st, "", "token", "get", "cc", "--format", "yaml"); code != 2 || !strings.Contains(errs, "--format") {
		t.Fatalf("bad format: exit %d %q", code, errs)
	}
	if c.total.Load() != 1 {
		t.Fatalf("%d token requests, want 1", c.total.Load())
	}
}

// TestTokenGetDPoPHeaderAndProof: a DPoP-bound token's header is "DPoP …",
// and --format dpop-proof makes the per-request proof with the profile's
// key; the two together get through the mock IdP's DPoP-checking
// resource, and go-jose checks the proof on its own: signature by the
// embedded key, that key's thumbprint the token's cnf.jkt, htm, htu, ath.
func TestTokenGetDPoPHeaderAndProof(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "d", "--kind", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-cc", "--client-secret", demoCCSecret, "--dpop"); code != 0 {
		t.Fatal(errs)
	}
	code, header, errs := runAuthlab(t, st, "", "token", "get", "d", "--format", "header")
	if code != 0 || !strings.HasPrefix(header, "DPoP ") {
		t.Fatalf("header: exit %d stdout %q stderr %q", code, header, errs)
	}
	access := strings.TrimSpace(strings.TrimPrefix(header, "DPoP "))
	target := idp.URL() + "/api/hello"
	code, proof, errs := runAuthlab(t, st, "", "token", "get", "d", "--format", "dpop-proof", "--url", target)
	if code != 0 || strings.Count(proof, ".") != 2 {
		t.Fatalf("proof: exit %d stdout %q stderr %q", code, proof, errs)
	}
	proof = strings.TrimSpace(proof)

	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", "DPoP "+access)
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resource with the header and proof: HTTP %d (%s)", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	jwk := jws.Signatures[0].Protected.JSONWebKey
	if jwk == nil || jws.Signatures[0].Protected.ExtraHeaders["typ"] != "dpop+jwt" {
		t.Fatalf("proof header: %+v", jws.Signatures[0].Protected)
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		HTM, HTU, ATH, JTI string
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(access))
	if claims.HTM != "GET" || claims.HTU != target || claims.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) || claims.JTI == "" {
		t.Fatalf("proof claims %+v", claims)
	}
	tp, _ := jwk.Thumbprint(crypto.SHA256)
	var at struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	parts := strings.Split(access, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(b, &at); err != nil || at.Cnf.JKT != base64.RawURLEncoding.EncodeToString(tp) {
		t.Fatalf("the proof's key is not the token's: cnf %+v (%v)", at.Cnf, err)
	}

	// A Bearer token has no proof to make; --url belongs to dpop-proof.
	ccProfile(t, st, newGrantCounter(t, idp))
	if code, out, errs := runAuthlab(t, st, "", "token", "get", "cc", "--format", "dpop-proof", "--url", target); code != 2 || out != "" || !strings.Contains(errs, "not DPoP-bound") {
		t.Fatalf("bearer proof: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := runAuthlab(t, st, "", "token", "get", "cc", "--url", target); code != 2 || !strings.Contains(errs, "go together") {
		t.Fatalf("--url alone: exit %d %q", code, errs)
	}
}

func TestTokenGetInteractiveNeedsBrowser(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "web", "--kind", "auth-code", "--issuer", idp.Issuer(),
		"--client-id", "demo-native", "--auth-method", "none"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := runAuthlab(t, st, "", "token", "get", "web")
	if code != 1 || out != "" || !strings.Contains(errs, "needs a browser: run `authlab run web`") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
}

// TestTokenGetRenewsByRefresh: an auth-code login (curl as the browser),
// then an expired cache is renewed with the refresh_token grant, and the
// rotated refresh token is what the cache keeps.
func TestTokenGetRenewsByRefresh(t *testing.T) {
	curl := testtools.Require(t, "curl")
	idp := mockidptest.New(t)
	c := newGrantCounter(t, idp)
	st := filepath.Join(t.TempDir(), "s.db")
	t.Setenv("BROWSER", curl+" -s -o /dev/null -L --max-time 20")
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "web", "--kind", "auth-code", "--auth-url", idp.Issuer()+"/authorize",
		"--token-url", c.srv.URL+"/token", "--client-id", "demo-web", "--client-secret", "demo-web-secret", "--scope", "openid offline_access api:read"); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := runAuthlab(t, st, "", "run", "web", "--wait", "30s", "--json"); code != 0 {
		t.Fatalf("run: exit %d %s\n%s", code, errs, out)
	}
	before := cachedResponse(t, st, "web")
	rt, _ := before["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token cached: %v", before["token_type"])
	}
	code, out, errs := runAuthlab(t, st, "", "token", "get", "web")
	if code != 0 || strings.TrimSpace(out) != before["access_token"] || c.count("refresh_token") != 0 {
		t.Fatalf("warm: exit %d %q", code, errs)
	}
	expireCache(t, st, "web")
	code, out, errs = runAuthlab(t, st, "", "token", "get", "web")
	if code != 0 || strings.TrimSpace(out) == before["access_token"] {
		t.Fatalf("refresh: exit %d %q %q", code, errs, out)
	}
	if n, ac := c.count("refresh_token"), c.count("authorization_code"); n != 1 || ac != 1 {
		t.Fatalf("refresh grants %d, code grants %d; want 1 and 1", n, ac)
	}
	after := cachedResponse(t, st, "web")
	if after["access_token"] != strings.TrimSpace(out) || after["refresh_token"] == rt || after["refresh_token"] == nil {
		t.Fatal("the cache does not hold the renewed token and the rotated refresh token")
	}
}

// TestTokenGetConcurrentRenewal: 20 callers at once after expiry, each with
// its own store handle on the same file, cause one token request at the
// IdP and all print the same new token.
func TestTokenGetConcurrentRenewal(t *testing.T) {
	c := newGrantCounter(t, mockidptest.New(t))
	st := filepath.Join(t.TempDir(), "s.db")
	ccProfile(t, st, c)
	if code, _, errs := runAuthlab(t, st, "", "token", "get", "cc"); code != 0 {
		t.Fatal(errs)
	}
	old := cachedResponse(t, st, "cc")["access_token"]
	expireCache(t, st, "cc")
	const n = 20
	outs := make([]string, n)
	codes := make([]int, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			codes[i], outs[i], errs[i], ok = runAuthlabBounded(st, "", "token", "get", "cc")
			if !ok {
				errs[i], codes[i] = "did not finish within "+runDeadline.String(), -1
			}
		}()
	}
	wg.Wait()
	t.Logf("%d concurrent callers after expiry: %s wall time", n, time.Since(start).Round(time.Millisecond))
	for i := range n {
		if codes[i] != 0 || outs[i] != outs[0] {
			t.Fatalf("caller %d: exit %d %q, token differs from caller 0: %v", i, codes[i], errs[i], outs[i] != outs[0])
		}
	}
	if strings.TrimSpace(outs[0]) == old {
		t.Fatal("the callers printed the expired token")
	}
	if got := c.count("client_credentials"); got != 2 { // the warm-up and one renewal
		t.Fatalf("%d client_credentials requests, want 2 (one renewal)", got)
	}
}

// TestTokenGetConcurrentProcesses is the same with 20 real processes.
func TestTokenGetConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "authlab")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "authlab").CombinedOutput(); err != nil {
		t.Fatalf("building the binary failed (%v): %s", err, firstLine(string(b)))
	}
	c := newGrantCounter(t, mockidptest.New(t))
	st := filepath.Join(t.TempDir(), "s.db")
	ccProfile(t, st, c)
	if code, _, errs := runAuthlab(t, st, "", "token", "get", "cc"); code != 0 {
		t.Fatal(errs)
	}
	expireCache(t, st, "cc")
	const n = 20
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	errb := make([]bytes.Buffer, n)
	rctx, rcancel := context.WithTimeout(context.Background(), runDeadline)
	defer rcancel()
	start := time.Now()
	for i := range n {
		cmds[i] = exec.CommandContext(rctx, bin, "--store", st, "token", "get", "cc")
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errb[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if err := cmds[i].Wait(); err != nil {
			t.Fatalf("process %d: %v %s", i, err, errb[i].String())
		}
	}
	t.Logf("%d processes after expiry: %s wall time", n, time.Since(start).Round(time.Millisecond))
	for i := range n {
		if outs[i].String() != outs[0].String() || outs[0].Len() < 20 {
			t.Fatalf("process %d printed another token", i)
		}
	}
	if got := c.count("client_credentials"); got != 2 {
		t.Fatalf("%d client_credentials requests, want 2 (one renewal)", got)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// TestTokenGetRenewsPasswordAndJWTBearer: the two grants that need no person
// are renewed by running the profile's flow again, not refused as needing a
// browser.
func TestTokenGetRenewsPasswordAndJWTBearer(t *testing.T) {
	idp := mockidptest.New(t)
	c := newGrantCounter(t, idp)
	st := filepath.Join(t.TempDir(), "s.db")
	for _, args := range [][]string{
		{"legacy", "--kind", "password", "--token-url", c.srv.URL + "/token", "--client-id", "demo-password",
			"--client-secret", "demo-password-secret", "--username", "bob", "--password", "bob", "--scope", "api:read"},
		{"bearer", "--kind", "jwt-bearer", "--issuer", idp.Issuer(), "--client-id", "demo-jwt",
			"--private-key", demoKeyFile, "--assertion-key", demoKeyFile, "--assertion-claims", `{"sub":"bob"}`, "--scope", "api:read"},
	} {
		if code, out, errs := runAuthlab(t, st, "", append([]string{"profile", "add"}, args...)...); code != 0 {
			t.Fatalf("profile add %s: exit %d %s %s", args[0], code, out, errs)
		}
		name := args[0]
		code, first, errs := runAuthlab(t, st, "", "token", "get", name)
		if code != 0 || strings.Count(first, "\n") != 1 || len(first) < 20 || strings.Contains(errs, "needs a browser") {
			t.Fatalf("%s first get: exit %d stdout %q stderr %q", name, code, first, errs)
		}
		expireCache(t, st, name)
		code, renewed, errs := runAuthlab(t, st, "", "token", "get", name)
		if code != 0 || renewed == first || strings.TrimSpace(renewed) != cachedResponse(t, st, name)["access_token"] {
			t.Fatalf("%s renewal: exit %d stderr %q, same token %v", name, code, errs, renewed == first)
		}
		if strings.Contains(first+renewed+errs, "demo-password-secret") {
			t.Fatal("a secret reached the output")
		}
	}
	// The password profile's two tokens came from the IdP: one password
	// grant, then a refresh or a second password grant.
	if n := c.total.Load(); n != 2 || c.count("password") < 1 {
		t.Fatalf("password profile: %d token requests (%d password grants), want 2", n, c.count("password"))
	}
}
