package token

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
)

// idp is a 127.0.0.1 server with discovery and a JWKS whose keys and
// health the test changes.
type idp struct {
	mu    sync.Mutex
	jwks  []byte
	down  bool
	hits  int
	srv   *httptest.Server
	issue string
}

func newIDP(t *testing.T, jwks []byte) *idp {
	p := &idp{jwks: jwks}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"` + p.issue + `","jwks_uri":"` + p.issue + `/jwks"}`))
		case "/jwks":
			p.hits++
			if p.down {
				http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(p.jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	p.issue = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) set(jwks []byte, down bool) {
	p.mu.Lock()
	p.jwks, p.down = jwks, down
	p.mu.Unlock()
}

func (p *idp) hitCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func signatureOf(t *testing.T, src KeySource, raw string) flows.Check {
	t.Helper()
	rep, err := Inspect(context.Background(), raw, Options{Now: fixedNow, Keys: src})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := findCheck(rep, "signature")
	if (c.Status == flows.Pass) != rep.Verified {
		t.Fatalf("Verified=%v with %+v", rep.Verified, c)
	}
	return c
}

func TestJWKSRotationAndUnknownKid(t *testing.T) {
	k1, k2 := loadSigner(t, "rsa1"), loadSigner(t, "rsa2")
	p := newIDP(t, jwksBytes(t, jwkJSON(k1.Public(), "k1", "RS256")))
	clk := &clock{t: t0}
	var exchanges []flows.Exchange
	var mu sync.Mutex
	client := flows.NewClient(flows.ClientOptions{Timeout: 5 * time.Second}, flows.ObserverFuncs{OnExchange: func(e flows.Exchange) {
		mu.Lock()
		exchanges = append(exchanges, e)
		mu.Unlock()
	}})
	src := NewJWKS(JWKSOptions{Issuer: p.issue, Client: client, Now: clk.Now, TTL: time.Hour, MinRefetch: 30 * time.Second})

	tok1 := sign(t, "RS256", k1, map[string]any{"kid": "k1"}, baseClaims())
	if c := signatureOf(t, src, tok1); c.Status != flows.Pass {
		t.Fatalf("k1: %+v", c)
	}
	if c := signatureOf(t, src, tok1); c.Status != flows.Pass || p.hitCount() != 1 {
		t.Fatalf("a warm cache must not refetch: hits %d, %+v", p.hitCount(), c)
	}
	mu.Lock()
	if len(exchanges) != 2 || !strings.HasSuffix(exchanges[0].URL, "/.well-known/openid-configuration") || exchanges[1].Status != 200 {
		t.Fatalf("discovery then JWKS should be observed: %+v", exchanges)
	}
	mu.Unlock()

	// The IdP rotates to k2; a k2 token arrives while k1 is cached: one refetch.
	p.set(jwksBytes(t, jwkJSON(k2.Public(), "k2", "RS256")), false)
	clk.Add(time.Minute)
	tok2 := sign(t, "RS256", k2, map[string]any{"kid": "k2"}, baseClaims())
	if c := signatureOf(t, src, tok2); c.Status != flows.Pass || p.hitCount() != 2 {
		t.Fatalf("rotation: hits %d, %+v", p.hitCount(), c)
	}
	// An unknown kid right after: refetch is rate-limited, and the message names the kids.
	clk.Add(5 * time.Second)
	tok3 := sign(t, "RS256", k1, map[string]any{"kid": "k9"}, baseClaims())
	c := signatureOf(t, src, tok3)
	if c.Status != flows.Fail || p.hitCount() != 2 {
		t.Fatalf("unknown kid within the rate limit must not refetch: hits %d, %+v", p.hitCount(), c)
	}
	if !strings.Contains(c.Detail, `signed by kid "k9", but JWKS `+p.issue+`/jwks has kids k2 — key rotated?`) || !strings.Contains(c.Detail, "not refetched") {
		t.Fatalf("message: %q", c.Detail)
	}
	// After the rate-limit window one refetch happens, then the same verdict.
	clk.Add(time.Minute)
	if c := signatureOf(t, src, tok3); c.Status != flows.Fail || p.hitCount() != 3 || strings.Contains(c.Detail, "not refetched") {
		t.Fatalf("after the window: hits %d, %+v", p.hitCount(), c)
	}
}

func TestJWKSOutage(t *testing.T) {
	k1 := loadSigner(t, "rsa1")
	p := newIDP(t, jwksBytes(t, jwkJSON(k1.Public(), "k1", "RS256")))
	clk := &clock{t: t0}
	src := NewJWKS(JWKSOptions{URL: p.issue + "/jwks", Client: flows.NewClient(flows.ClientOptions{Timeout: 5 * time.Second}, nil), Now: clk.Now, TTL: time.Minute})
	tok := sign(t, "RS256", k1, map[string]any{"kid": "k1"}, baseClaims())
	if c := signatureOf(t, src, tok); c.Status != flows.Pass {
		t.Fatal(c)
	}
	// The JWKS goes down and the TTL passes: cached keys still verify, with a note.
	p.set(nil, true)
	clk.Add(2 * time.Minute)
	c := signatureOf(t, src, tok)
	if c.Status != flows.Pass || !strings.Contains(c.Detail, "refetch failed") || !strings.Contains(c.Detail, "HTTP 503") || !strings.Contains(c.Detail, "using keys fetched 2m0s ago") {
		t.Fatalf("outage with cache: %+v", c)
	}
	if p.hitCount() != 2 {
		t.Fatalf("hits %d", p.hitCount())
	}
	// A fresh source during the outage has nothing to fall back on.
	cold := NewJWKS(JWKSOptions{URL: p.issue + "/jwks", Client: flows.NewClient(flows.ClientOptions{Timeout: 5 * time.Second}, nil), Now: clk.Now})
	c = signatureOf(t, cold, tok)
	if c.Status != flows.Fail || !strings.Contains(c.Detail, "answered HTTP 503") || !strings.Contains(c.Detail, "no cached keys to fall back on") {
		t.Fatalf("outage without cache: %+v", c)
	}
	// A JWKS that is not JSON is a clear error too.
	p.set([]byte("<html>login</html>"), false)
	cold = NewJWKS(JWKSOptions{URL: p.issue + "/jwks", Now: clk.Now})
	if c := signatureOf(t, cold, tok); c.Status != flows.Fail || !strings.Contains(c.Detail, "JWKS is not a JSON object") {
		t.Fatalf("html JWKS: %+v", c)
	}
}

func TestDiscoveryErrors(t *testing.T) {
	p := newIDP(t, nil)
	c := flows.NewClient(flows.ClientOptions{Timeout: 5 * time.Second}, nil)
	if _, err := DiscoverJWKSURI(context.Background(), c, p.issue+"/"); err == nil || !strings.Contains(err.Error(), "identical") {
		t.Fatalf("issuer mismatch: %v", err)
	}
	if _, err := DiscoverJWKSURI(context.Background(), c, p.issue+"/nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	if _, err := DiscoverJWKSURI(context.Background(), c, "ftp://x"); err == nil {
		t.Fatal("ftp issuer accepted")
	}
	u, err := DiscoverJWKSURI(context.Background(), c, p.issue)
	if err != nil || u != p.issue+"/jwks" {
		t.Fatalf("%q %v", u, err)
	}
}

func TestParseJWKS(t *testing.T) {
	good := jwkJSON(loadSigner(t, "ec256").Public(), "ec1", "ES256")
	ks, err := ParseJWKS(jwksBytes(t, good, map[string]any{"kty": "FUTURE", "kid": "x"}))
	if err != nil || len(ks.Keys) != 1 || !strings.Contains(ks.Note, `kty "FUTURE"`) {
		t.Fatalf("%+v %v", ks, err)
	}
	// RFC 7638 §3.1 thumbprint example.
	rfc := []byte(`{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`)
	ks, err = ParseJWKS(rfc)
	if err != nil || ks.Keys[0].Thumbprint != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("RFC 7638 thumbprint: %+v %v", ks, err)
	}
	for in, want := range map[string]string{
		`[]`:                       "not a JSON object",
		`{"keys":[]}`:              "empty keys array",
		`{}`:                       `no "keys" array`,
		`{"keys":[1]}`:             "key #0 is not a JWK object",
		`{"keys":[{"kty":"RSA"}]}`: `missing "n"`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"e"}]}`: `(kid "e"): EC P-256 coordinates must be 32 bytes`,
		`{"keys":[{"kty":"OKP","crv":"X25519","x":"AAAA"}]}`:                    "not supported",
		`{"keys":[{"kty":"FUTURE"}]}`:                                           "no usable key",
	} {
		if _, err := ParseJWKS([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseJWKS(%s) = %v, want %q", in, err, want)
		}
	}
	// A point not on the curve is refused.
	bad := jwkJSON(loadSigner(t, "ec256").Public(), "ec1", "")
	bad["y"] = bad["x"]
	if _, err := ParseJWKS(jwksBytes(t, bad)); err == nil || !strings.Contains(err.Error(), "not on P-256") {
		t.Fatalf("off-curve: %v", err)
	}
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}]}`))
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ks, err := ParseJWKS(b)
		if err != nil {
			if ks != nil {
				t.Fatal("both a set and an error")
			}
			return
		}
		if len(ks.Keys) == 0 {
			t.Fatal("a set without keys")
		}
		for i := range ks.Keys {
			_ = ks.Keys[i].Describe()
		}
		// Using any parsed key to verify must not panic.
		d, err := Decode(rfc7515A1)
		if err != nil {
			t.Fatal(err)
		}
		InspectDecoded(context.Background(), d, Options{Keys: StaticKeys{Set: ks}})
	})
}
