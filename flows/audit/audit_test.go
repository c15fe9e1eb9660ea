package audit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/token"
)

func testConfig(t *testing.T, s *resource) Config {
	t.Helper()
	api, jwks := startResource(t, s)
	return Config{URL: api, Token: validToken(t, s.keys), JWKSURL: jwks, RequireScope: testScope, Pace: -1,
		Signer: KeySigner{Key: token.MintKey{Key: s.keys.rsa}, Kid: "k1"}}
}

func accepted(rep *Report) []string {
	var out []string
	for _, c := range rep.Cases {
		if c.Verdict == Accepted {
			out = append(out, c.Name)
		}
	}
	return out
}

func caseNamed(rep *Report, name string) Case {
	for _, c := range rep.Cases {
		if c.Name == name {
			return c
		}
	}
	return Case{}
}

// TestAuditFindsEachFlaw runs the audit against one server per flaw (each
// must-level case, the should-level ones, two leeways) and a correct one.
func TestAuditFindsEachFlaw(t *testing.T) {
	k := testKeys(t)
	dir := t.TempDir()
	tests := []struct {
		flaw     string
		leeway   time.Duration
		accepted []string // exactly the cases the server accepts
		detail   string   // in the flaw's case detail
		leewayS  int64    // the server's real leeway (-1: at least the bound)
	}{
		{flaw: ""},
		{flaw: "signature-stripped", accepted: []string{"signature-stripped"}},
		{flaw: "signature-tampered", accepted: []string{"signature-tampered"}},
		{flaw: "alg-none", accepted: []string{"alg-none"}, detail: "variant alg None"},
		{flaw: "hs256-public-key", accepted: []string{"hs256-public-key"}, detail: "variant SPKI PEM without final newline"},
		{flaw: "jwk-header-injection", accepted: []string{"jwk-header-injection"}},
		{flaw: "jku-injection", accepted: []string{"jku-injection"}, detail: "the API fetched the jku key set"},
		{flaw: "kid-path-traversal", accepted: []string{"kid-path-traversal"}},
		{flaw: "blank-hmac-secret", accepted: []string{"kid-path-traversal", "blank-hmac-secret"}},
		{flaw: "psychic-signature", accepted: []string{"psychic-signature"}},
		{flaw: "unknown-kid", accepted: []string{"unknown-kid"}},
		{flaw: "token-in-query", accepted: []string{"token-in-query"}},
		{flaw: "expired", accepted: []string{"expired"}, leewayS: -1},
		{flaw: "not-yet-valid", accepted: []string{"not-yet-valid"}},
		{flaw: "issued-in-future", accepted: []string{"issued-in-future"}},
		{flaw: "wrong-audience", accepted: []string{"wrong-audience"}},
		{flaw: "no-audience", accepted: []string{"no-audience"}},
		{flaw: "wrong-issuer", accepted: []string{"wrong-issuer"}},
		{flaw: "missing-exp", accepted: []string{"missing-exp"}},
		{flaw: "wrong-typ", accepted: []string{"wrong-typ"}},
		{flaw: "long-lived", accepted: []string{"long-lived"}},
		{flaw: "scope-missing", accepted: []string{"scope-missing"}},
		{flaw: "leeway-30s", leeway: 30 * time.Second, leewayS: 30},
		{flaw: "leeway-5m", leeway: 5 * time.Minute, leewayS: 300},
	}
	for _, tc := range tests {
		name := tc.flaw
		if name == "" {
			name = "correct"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := &resource{flaw: tc.flaw, leeway: tc.leeway, keys: k, keysDir: dir}
			rep := Run(context.Background(), testConfig(t, s), nil)
			if rep.Err != nil {
				t.Fatalf("audit: %v", rep.Err)
			}
			if got := accepted(rep); !slices.Equal(got, tc.accepted) {
				t.Errorf("accepted %v, want %v\n%s", got, tc.accepted, dump(rep))
			}
			for _, c := range rep.Cases {
				if c.Verdict == Inconclusive || c.Verdict == Skipped {
					t.Errorf("case %s: %s (%s)", c.Name, c.Verdict, c.Detail)
				}
			}
			if tc.detail != "" && !strings.Contains(caseNamed(rep, tc.accepted[0]).Detail, tc.detail) {
				t.Errorf("detail %q, want it to say %q", caseNamed(rep, tc.accepted[0]).Detail, tc.detail)
			}
			wantVuln := slices.ContainsFunc(tc.accepted, func(n string) bool { return caseNamed(rep, n).Level == Must })
			if rep.Vulnerable() != wantVuln {
				t.Errorf("Vulnerable() = %v, want %v", rep.Vulnerable(), wantVuln)
			}
			l := rep.Leeway
			switch {
			case l == nil:
				t.Fatalf("no leeway measured (signer: %q)", rep.SignerNote)
			case l.Requests > maxLeewayProbes:
				t.Errorf("leeway took %d requests", l.Requests)
			case tc.leewayS == -1:
				if !l.AtLeast || l.ExpSeconds != 3600 {
					t.Errorf("leeway %+v, want at least 3600 s", *l)
				}
			case l.ExpSeconds < tc.leewayS-1 || l.ExpSeconds > tc.leewayS+1:
				t.Errorf("leeway %d s, want %d ± 1 s", l.ExpSeconds, tc.leewayS)
			}
			if rep.Requests > DefaultMaxRequests {
				t.Errorf("%d requests, over the default cap", rep.Requests)
			}
		})
	}
}

func dump(rep *Report) string {
	var b strings.Builder
	for _, c := range rep.Cases {
		b.WriteString("  " + c.Name + " " + string(c.Verdict) + " " + c.Detail + "\n")
	}
	return b.String()
}

func TestAuditServerErrorIsInconclusive(t *testing.T) {
	s := &resource{flaw: "server-error", keys: testKeys(t)}
	rep := Run(context.Background(), testConfig(t, s), nil)
	c := caseNamed(rep, "alg-none")
	if c.Verdict != Inconclusive || c.Status != 500 || !c.ServerError() {
		t.Fatalf("alg-none on a server that fails with 500: %+v", c)
	}
	if _, should, _, _, _ := rep.Counts(); should != 1 {
		t.Errorf("should-level findings %d, want 1 (the 500)", should)
	}
	if rep.Vulnerable() {
		t.Error("a 500 is not a must-level acceptance")
	}
}

func TestAuditBaseline(t *testing.T) {
	k := testKeys(t)
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer open.Close()
	rep := Run(context.Background(), Config{URL: open.URL, Token: validToken(t, k), Pace: -1}, nil)
	var be *BaselineError
	if !errors.As(rep.Err, &be) || be.NoTokenStatus != 200 || !strings.Contains(be.Message, "without any token") {
		t.Fatalf("open API: err %v", rep.Err)
	}
	if rep.Requests != 2 || len(rep.Cases) != 0 {
		t.Errorf("after a failed baseline: %d requests, %d cases", rep.Requests, len(rep.Cases))
	}
	closed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) }))
	defer closed.Close()
	rep = Run(context.Background(), Config{URL: closed.URL, Token: validToken(t, k), Pace: -1}, nil)
	if !errors.As(rep.Err, &be) || be.Status != 401 || !strings.Contains(be.Message, "refused the valid token") {
		t.Fatalf("closed API: err %v", rep.Err)
	}
	rep = Run(context.Background(), Config{URL: closed.URL, Token: "opaque-token", Pace: -1}, nil)
	var fe *flows.Error
	if !errors.As(rep.Err, &fe) || fe.Kind != flows.ErrConfig || rep.Requests != 0 {
		t.Fatalf("opaque token: err %v, %d requests", rep.Err, rep.Requests)
	}
}

func TestAuditRequestCap(t *testing.T) {
	s := &resource{keys: testKeys(t)}
	cfg := testConfig(t, s)
	cfg.MaxRequests = 8
	rep := Run(context.Background(), cfg, nil)
	if rep.Requests != 8 {
		t.Errorf("%d requests, want the cap 8", rep.Requests)
	}
	last := rep.Cases[len(rep.Cases)-1]
	if last.Verdict != Skipped || !strings.Contains(last.Detail, "request cap (8)") {
		t.Errorf("last case %+v", last)
	}
	if rep.Leeway != nil {
		t.Errorf("leeway measured past the cap: %+v", *rep.Leeway)
	}
}

func TestAuditWithoutSigner(t *testing.T) {
	s := &resource{keys: testKeys(t)}
	cfg := testConfig(t, s)
	cfg.Signer = nil
	rep := Run(context.Background(), cfg, nil)
	c := caseNamed(rep, "expired")
	if c.Verdict != Skipped || !strings.Contains(c.Detail, "needs a signing key the API trusts") {
		t.Errorf("expired without a signer: %+v", c)
	}
	if rep.Leeway != nil || !strings.Contains(rep.LeewayLine(), "needs a signing key") {
		t.Errorf("leeway %v, line %q", rep.Leeway, rep.LeewayLine())
	}
	// An untrusted signer is caught by the signer check, not reported clean.
	cfg.Signer = KeySigner{Key: token.MintKey{Key: testKeys(t).ec}, Kid: "not-trusted"}
	rep = Run(context.Background(), cfg, nil)
	if c := caseNamed(rep, "expired"); c.Verdict != Skipped || !strings.Contains(c.Detail, "were not accepted") {
		t.Errorf("expired with an untrusted signer: %+v", c)
	}
}

// TestAuditStaysOnTarget: a redirect elsewhere is refused, and the valid
// token never reaches another host.
func TestAuditStaysOnTarget(t *testing.T) {
	k := testKeys(t)
	var mu sync.Mutex
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.URL.String())
		mu.Unlock()
	}))
	defer other.Close()
	s := &resource{keys: k}
	api, jwks := startResource(t, s)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "access_token") {
			http.Redirect(w, r, other.URL+"/steal?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, api, nil)
		req.Header = r.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	defer redirecting.Close()
	var exchanges []flows.Exchange
	obs := flows.ObserverFuncs{OnExchange: func(ex flows.Exchange) { exchanges = append(exchanges, ex) }}
	rep := Run(context.Background(), Config{URL: redirecting.URL, Token: validToken(t, k), JWKSURL: jwks, Pace: -1}, obs)
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	if c := caseNamed(rep, "token-in-query"); c.Verdict != Inconclusive || !strings.Contains(c.Detail, "refusing") {
		t.Errorf("token-in-query through a redirect: %+v", c)
	}
	if len(leaked) != 0 {
		t.Errorf("requests reached another host: %v", leaked)
	}
	tok := validToken(t, k)
	for _, ex := range exchanges {
		b, _ := json.Marshal(ex)
		if strings.Contains(string(b), tok[len(tok)-40:]) || strings.Contains(ex.URL, "access_token=ey") {
			t.Errorf("an exchange shows a token: %s %s", ex.Method, ex.URL)
		}
	}
}

// TestAuditObserver: cases arrive live, in order, and the leeway last.
func TestAuditObserver(t *testing.T) {
	s := &resource{keys: testKeys(t)}
	o := &caseRecorder{}
	rep := Run(context.Background(), testConfig(t, s), o)
	if len(o.cases) != len(rep.Cases) || o.cases[0] != rep.Cases[0].Name || o.leeway == nil {
		t.Errorf("observer saw %d cases (report %d), leeway %v", len(o.cases), len(rep.Cases), o.leeway)
	}
	if o.exchanges != rep.Requests+1 { // + the issuer's JWKS
		t.Errorf("observer saw %d exchanges, %d requests", o.exchanges, rep.Requests)
	}
}

type caseRecorder struct {
	cases     []string
	leeway    *Leeway
	exchanges int
}

func (c *caseRecorder) Step(flows.StepEvent)    {}
func (c *caseRecorder) Exchange(flows.Exchange) { c.exchanges++ }
func (c *caseRecorder) Case(x Case)             { c.cases = append(c.cases, x.Name) }
func (c *caseRecorder) Leeway(l Leeway)         { c.leeway = &l }
