package check_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/check"
	"authlab/flows/oauth"
	"authlab/mockidp"
)

// flawedIdP is the FAPI 2.0 mock IdP behind a handler that adds one flaw:
// wrap sees each request and calls next (the mock) as it likes.
func flawedIdP(t *testing.T, edit func(*mockidp.Config), wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)) string {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wrap(w, r, h) }))
	t.Cleanup(srv.Close)
	cfg := fapiConfig(edit)
	idp, err := mockidp.New(mockidp.Options{Issuer: srv.URL, Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	h = idp.Handler()
	return srv.URL
}

// form reads a POST form and puts the body back for the mock.
func form(t *testing.T, r *http.Request) url.Values {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	f, _ := url.ParseQuery(string(b))
	setForm(r, f)
	return f
}

func setForm(r *http.Request, f url.Values) {
	b := []byte(f.Encode())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
}

// emit copies a recorded answer to w, edited.
func emit(w http.ResponseWriter, rec *httptest.ResponseRecorder, edit func(http.Header)) {
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	if edit != nil {
		edit(w.Header())
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func serve(next http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	return rec
}

// TestEachProbeFailsOnItsFlaw: a FAPI 2.0 server with exactly one flaw
// fails exactly the probe for it.
func TestEachProbeFailsOnItsFlaw(t *testing.T) {
	pass := func(w http.ResponseWriter, r *http.Request, next http.Handler) { next.ServeHTTP(w, r) }
	cases := []struct {
		flaw, probe string
		edit        func(*mockidp.Config)
		wrap        func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler)
	}{
		{"accepts a code twice", check.ProbeCodeReuse, nil, func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler) {
			var mu sync.Mutex
			seen := map[string]*httptest.ResponseRecorder{}
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.URL.Path != "/token" {
					next.ServeHTTP(w, r)
					return
				}
				code := form(t, r).Get("code")
				mu.Lock()
				old := seen[code]
				mu.Unlock()
				if old != nil && code != "" {
					emit(w, old, nil) // the first redemption's tokens, again
					return
				}
				rec := serve(next, r)
				if rec.Code == http.StatusOK {
					mu.Lock()
					seen[code] = rec
					mu.Unlock()
				}
				emit(w, rec, nil)
			}
		}},
		{"no iss in the authorization response", check.ProbeIss, nil, func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler) {
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.URL.Path != "/authorize" {
					next.ServeHTTP(w, r)
					return
				}
				emit(w, serve(next, r), func(h http.Header) {
					if u, err := url.Parse(h.Get("Location")); err == nil && h.Get("Location") != "" {
						q := u.Query()
						q.Del("iss")
						u.RawQuery = q.Encode()
						h.Set("Location", u.String())
					}
				})
			}
		}},
		{"accepts PKCE plain", check.ProbePKCEPlain, nil, func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler) {
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.URL.Path == "/par" {
					// plain turned into the S256 of the same verifier: what a
					// server accepting plain would issue a code for.
					if f := form(t, r); f.Get("code_challenge_method") == "plain" {
						f.Set("code_challenge", oauth.S256Challenge(f.Get("code_challenge")))
						f.Set("code_challenge_method", "S256")
						setForm(r, f)
					}
				}
				next.ServeHTTP(w, r)
			}
		}},
		{"does not require PKCE", check.ProbePKCEMissing, nil, func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler) {
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.URL.Path == "/par" {
					if f := form(t, r); f.Get("code_challenge") == "" {
						_, ch, _ := oauth.NewPKCE()
						f.Set("code_challenge", ch)
						f.Set("code_challenge_method", "S256")
						setForm(r, f)
					}
				}
				next.ServeHTTP(w, r)
			}
		}},
		{"matches redirect URIs by prefix", check.ProbeRedirect, nil, func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler) {
			var mu sync.Mutex
			longer := map[string]string{} // state → the redirect_uri asked for
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				switch r.URL.Path {
				case "/par":
					f := form(t, r)
					if ru := f.Get("redirect_uri"); strings.Contains(ru, "/callback/") {
						mu.Lock()
						longer[f.Get("state")] = ru
						mu.Unlock()
						f.Set("redirect_uri", ru[:strings.Index(ru, "/callback/")+len("/callback")])
						setForm(r, f)
					}
				case "/authorize":
					emit(w, serve(next, r), func(h http.Header) {
						u, err := url.Parse(h.Get("Location"))
						if err != nil {
							return
						}
						mu.Lock()
						ru := longer[u.Query().Get("state")]
						mu.Unlock()
						if ru != "" {
							h.Set("Location", ru+"?"+u.RawQuery)
						}
					})
					return
				}
				next.ServeHTTP(w, r)
			}
		}},
		{"request_uri lives 600 s", check.ProbeRequestURI, func(c *mockidp.Config) { c.Lifetimes.RequestURI = mockidp.Duration(10 * time.Minute) },
			func(*testing.T) func(http.ResponseWriter, *http.Request, http.Handler) { return pass }},
		{"use_dpop_nonce without DPoP-Nonce", check.ProbeDPoPNonce, func(c *mockidp.Config) { c.DPoPNonce = true },
			func(t *testing.T) func(http.ResponseWriter, *http.Request, http.Handler) {
				return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
					emit(w, serve(next, r), func(h http.Header) { h.Del("DPoP-Nonce") })
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.flaw, func(t *testing.T) {
			iss := flawedIdP(t, tc.edit, tc.wrap(t))
			rep, err := check.Run(context.Background(), check.Options{Issuer: iss, Probe: fapiClient(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			st := statuses(rep)
			if st[tc.probe] != flows.Fail || !rep.Failed() {
				t.Errorf("%s: %s, want fail\n%s", tc.probe, st[tc.probe], dump(rep))
			}
			for _, c := range rep.Checks {
				if c.Status == flows.Fail && c.Name != tc.probe {
					t.Errorf("%s also fails: %s", c.Name, c.Detail)
				}
			}
		})
	}
}

func dump(rep *check.Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		b.WriteString(string(c.Status) + " " + c.Name + ": " + c.Detail + "\n")
	}
	return b.String()
}

// TestProbesAreBounded: the probes send a handful of requests (the help
// says about a dozen), and a clean FAPI 2.0 server passes them all.
func TestProbesAreBounded(t *testing.T) {
	var mu sync.Mutex
	n := 0
	var secrets []string // codes and client assertions that crossed the wire
	iss := flawedIdP(t, nil, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		mu.Lock()
		n++
		mu.Unlock()
		if r.Method == http.MethodPost {
			f := form(t, r)
			mu.Lock()
			secrets = append(secrets, f.Get("client_assertion"), f.Get("code_verifier"))
			mu.Unlock()
		}
		rec := serve(next, r)
		if u, err := url.Parse(rec.Header().Get("Location")); err == nil {
			mu.Lock()
			secrets = append(secrets, u.Query().Get("code"))
			mu.Unlock()
		}
		emit(w, rec, nil)
	})
	rep, err := check.Run(context.Background(), check.Options{Issuer: iss, Probe: fapiClient()})
	if err != nil || rep.Failed() {
		t.Fatalf("%v\n%s", err, dump(rep))
	}
	mu.Lock()
	defer mu.Unlock()
	if n < 10 || n > 20 {
		t.Errorf("%d requests to the server", n)
	}
	t.Logf("%d requests", n)
	out, seen := dump(rep), 0
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		seen++
		if strings.Contains(out, s) {
			t.Errorf("a code, verifier or assertion is in the report:\n%s", out)
		}
	}
	if seen < 4 {
		t.Errorf("only %d secrets seen on the wire", seen)
	}
}
