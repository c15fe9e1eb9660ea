package mockidp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/mtls"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// startIdP starts a mock IdP with explicit options on 127.0.0.1:0.
func startIdP(t *testing.T, o mockidp.Options) *mockidp.Server {
	t.Helper()
	s, err := mockidp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tokenReply is one token endpoint answer, read without touching t (it runs
// in racing goroutines).
type tokenReply struct {
	status int
	body   map[string]any
	err    error
}

func postFormWith(hc *http.Client, u string, form url.Values, user, pass string) tokenReply {
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenReply{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return tokenReply{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rep := tokenReply{status: resp.StatusCode}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &rep.body); err != nil {
			rep.err = fmt.Errorf("%s: not JSON (%d): %.200s", u, resp.StatusCode, b)
		}
	}
	return rep
}

// race sends n copies of one token request at once and returns the answers.
func race(t *testing.T, s *mockidp.Server, n int, form url.Values, user, pass string) []tokenReply {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer hc.CloseIdleConnections()
	out := make([]tokenReply, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = postFormWith(hc, s.URL()+"/token", form, user, pass)
		}()
	}
	close(start)
	wg.Wait()
	for _, r := range out {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	return out
}

// checkRaceOutcome: at most one racer gets tokens, the others invalid_grant,
// and whatever was issued is dead once a replay was seen.
func checkRaceOutcome(t *testing.T, s *mockidp.Server, round int, replies []tokenReply) {
	t.Helper()
	won := 0
	for _, r := range replies {
		switch {
		case r.status == 200:
			won++
			at, _ := r.body["access_token"].(string)
			if st, wa := callHello(t, s, at); st != 401 || !strings.Contains(wa, "revoked") {
				t.Errorf("round %d: access token of a replayed grant answers %d %q, want 401 revoked", round, st, wa)
			}
			if rt, _ := r.body["refresh_token"].(string); rt != "" {
				st, m := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "demo-web", "demo-web-secret")
				if st != 400 || m["error"] != "invalid_grant" {
					t.Errorf("round %d: refresh token of a replayed grant: %d %v, want invalid_grant", round, st, m)
				}
			}
		case r.status == 400 && r.body["error"] == "invalid_grant":
		default:
			t.Errorf("round %d: racer got %d %v", round, r.status, r.body)
		}
	}
	if won > 1 {
		t.Errorf("round %d: %d racers redeemed one grant", round, won)
	}
}

// Item 9: a replay racing the first redemption revokes what it issued.
func TestConcurrentCodeRedemptionRevokesAll(t *testing.T) {
	s := mockidptest.New(t)
	for round := range 12 {
		code, v, conf := codeFor(t, s, "http://127.0.0.1/callback")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}, "redirect_uri": {conf.RedirectURL}}
		checkRaceOutcome(t, s, round, race(t, s, 8, form, "demo-web", "demo-web-secret"))
	}
}

func TestConcurrentRefreshRevokesFamily(t *testing.T) {
	s := mockidptest.New(t)
	ctx := ctxT(t)
	for round := range 12 {
		code, v, conf := codeFor(t, s, "http://127.0.0.1/callback")
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		checkRaceOutcome(t, s, round, race(t, s, 8, form, "demo-web", "demo-web-secret"))
		if st, _ := callHello(t, s, tok.AccessToken); st != 401 {
			t.Errorf("round %d: the family's first access token after reuse: %d, want 401", round, st)
		}
	}
}

// Item 6: nothing in the event stream can be redeemed or replayed.
func TestEventsMaskIssuedSecrets(t *testing.T) {
	for _, login := range []bool{false, true} {
		t.Run(fmt.Sprintf("login=%v", login), func(t *testing.T) {
			s := startIdP(t, mockidp.Options{Login: login})
			ch, cancel := s.Events(1024)
			defer cancel()
			requests := 0
			var secrets []string
			conf := oauth2.Config{ClientID: "demo-web", ClientSecret: "demo-web-secret", Endpoint: endpoint(s), RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"openid", "api:read"}}
			v := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v))
			var code string
			if login {
				jar, _ := cookiejar.New(nil)
				hc := noRedirect()
				hc.Jar = jar
				resp, err := hc.Get(authURL)
				if err != nil {
					t.Fatal(err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				id, csrf := hiddenValue(t, string(page), "login_id"), hiddenValue(t, string(page), "csrf_token")
				secrets = append(secrets, id, csrf)
				resp, err = hc.PostForm(s.URL()+"/login", url.Values{"login_id": {id}, "csrf_token": {csrf}, "username": {"alice"}, "password": {"alice"}, "action": {"approve"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				loc, _ := url.Parse(resp.Header.Get("Location"))
				code = loc.Query().Get("code")
				requests += 2
			} else {
				code = authorize(t, authURL).Get("code")
				requests++
			}
			if code == "" {
				t.Fatal("no code")
			}
			tok, err := conf.Exchange(ctxT(t), code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			requests++
			id, _ := tok.Extra("id_token").(string)
			secrets = append(secrets, code, v, tok.AccessToken, tok.RefreshToken, id)
			get := func(u string) {
				resp, err := noRedirect().Get(u)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				requests++
			}
			get(s.URL() + "/end_session?id_token_hint=" + id + "&post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1/callback"))
			get(s.URL() + "/api/hello?access_token=" + tok.AccessToken)
			get(s.URL() + "/userinfo?token=" + tok.AccessToken)
			postForm(t, s.URL()+"/introspect", url.Values{"token": {tok.RefreshToken}}, "demo-web", "demo-web-secret")
			requests++
			_, da := postForm(t, s.URL()+"/device_authorization", url.Values{"client_id": {"demo-device"}}, "", "")
			requests++
			uc, _ := da["user_code"].(string)
			dc, _ := da["device_code"].(string)
			secrets = append(secrets, uc, dc, s.AdminToken())
			get(s.URL() + "/device?user_code=" + url.QueryEscape(uc))

			var events []mockidp.Event
			timeout := time.After(10 * time.Second)
			for len(events) < requests {
				select {
				case e := <-ch:
					events = append(events, e)
				case <-timeout:
					t.Fatalf("got %d events, want %d", len(events), requests)
				}
			}
			for _, e := range events {
				raw, _ := json.Marshal(e)
				for _, sec := range secrets {
					if sec == "" {
						t.Fatal("empty secret in the test's list")
					}
					if strings.Contains(string(raw), sec) || strings.Contains(string(raw), url.QueryEscape(sec)) {
						t.Errorf("%s event shows a secret (%.12s…): %s", e.Endpoint, sec, raw)
					}
				}
			}
			// The redirect still says that a code went back, by fingerprint.
			for _, e := range events {
				if loc := e.Exchange.ResponseHeaders.Get("Location"); strings.Contains(loc, "code=") {
					u, err := url.Parse(loc)
					if err != nil || !strings.HasPrefix(u.Query().Get("code"), "sha256:") {
						t.Errorf("masked Location %q: want code=sha256:…", loc)
					}
					return
				}
			}
			t.Error("no event with the code redirect")
		})
	}
}

// Item 10: authorization requests are capped in size.
func TestAuthorizeRequestSizeCaps(t *testing.T) {
	s := mockidptest.New(t)
	conf := oauth2.Config{ClientID: "demo-web", Endpoint: endpoint(s), RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"openid"}}
	_, ch := pkce()
	get := func(u string) (int, string) {
		resp, err := noRedirect().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if st, loc := get(conf.AuthCodeURL(strings.Repeat("s", 9<<10), oauth2.SetAuthURLParam("code_challenge", ch), oauth2.SetAuthURLParam("code_challenge_method", "S256"))); st != http.StatusRequestURITooLong || loc != "" {
		t.Errorf("9 KiB authorization URL: %d %q, want 414", st, loc)
	}
	if st, loc := get(conf.AuthCodeURL("s", oauth2.SetAuthURLParam("nonce", strings.Repeat("n", 5<<10)))); st != 400 || loc != "" {
		t.Errorf("5 KiB nonce: %d %q, want 400", st, loc)
	}
	body := url.Values{"client_id": {"demo-web"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"}, "state": {strings.Repeat("s", 20<<10)}}
	resp, err := noRedirect().PostForm(s.URL()+"/authorize", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Errorf("20 KiB POST authorization request: %d, want 400", resp.StatusCode)
	}
	// An ordinary request still works.
	if q := authorize(t, conf.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", ch), oauth2.SetAuthURLParam("code_challenge_method", "S256"))); q.Get("code") == "" {
		t.Errorf("ordinary request: %v", q)
	}
}

// loginPage opens the --login page for demo-web and returns its form fields
// (and the jar holding its CSRF cookie).
func loginPage(t *testing.T, s *mockidp.Server, extra url.Values) (url.Values, *http.Client) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := noRedirect()
	hc.Jar = jar
	q := url.Values{"client_id": {"demo-web"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"}, "scope": {"openid"}, "state": {"s"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := hc.Get(s.URL() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="login"`) {
		t.Fatalf("login page: %d %q %.300s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	return url.Values{"login_id": {hiddenValue(t, string(page), "login_id")}, "csrf_token": {hiddenValue(t, string(page), "csrf_token")},
		"username": {"alice"}, "password": {"alice"}, "action": {"approve"}}, hc
}

// Item 10: a flood of pending sign-ins evicts the oldest instead of locking
// real users out.
func TestPendingLoginFloodDoesNotLockOut(t *testing.T) {
	s := startIdP(t, mockidp.Options{Login: true, MaxEntries: 20})
	firstForm, firstClient := loginPage(t, s, nil)
	for range 60 {
		loginPage(t, s, nil)
		resp, err := http.Get(s.URL() + "/device")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("device page during a flood: %d", resp.StatusCode)
		}
	}
	form, hc := loginPage(t, s, nil)
	resp, err := hc.PostForm(s.URL()+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("code") == "" {
		t.Errorf("sign-in after a flood: %d %q, want a code", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = firstClient.PostForm(s.URL()+"/login", firstForm)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("the oldest pending login after a flood: %d, want 400 (evicted)", resp.StatusCode)
	}
}

// Item 10: tables filled by callers are bounded by bytes, not only count.
func TestPendingTablesBoundedByBytes(t *testing.T) {
	const budget = 64 << 10
	s := startIdP(t, mockidp.Options{Login: true, MaxTableBytes: budget})
	big := url.Values{"nonce": {strings.Repeat("n", 1900)}, "login_hint": {strings.Repeat("h", 1900)}, "state": {strings.Repeat("s", 1900)}}
	for range 60 {
		loginPage(t, s, big)
	}
	resp, err := http.Get(s.URL() + "/_authlab/state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Tables     map[string]int `json:"tables"`
		TableBytes map[string]int `json:"table_bytes"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if n, ok := st.TableBytes["logins"]; !ok || n > budget || n == 0 {
		t.Errorf("pending logins hold %d bytes (reported: %v), want 1..%d", n, ok, budget)
	}
	if st.Tables["logins"] >= 60 {
		t.Errorf("pending logins: %d entries of ~6 KiB in a %d byte budget", st.Tables["logins"], budget)
	}
	// The newest still signs in.
	form, hc := loginPage(t, s, big)
	resp, err = hc.PostForm(s.URL()+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 {
		t.Errorf("sign-in at a full byte budget: %d", resp.StatusCode)
	}
}

// issueCert signs a client certificate with subject subj by the test CA and
// returns its PEM paths.
func issueCert(t *testing.T, certs *mtls.CertSet, subj pkix.Name) (string, string) {
	t.Helper()
	ca, err := mtls.LoadCert(certs.CACert)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := mtls.LoadKey(certs.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subj, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return cp, kp
}

// Item 11: tls_client_auth compares parsed RDNs, not comma-split strings.
func TestTLSClientAuthSubjectParsedAsRDNs(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.Clients = append(cfg.Clients, mockidp.Client{ID: "acme", AuthMethods: []string{mockidp.AuthTLS}, GrantTypes: []string{mockidp.GrantClientCreds},
		TLSSubject: `CN=acme\, inc,O=authlab`})
	s, certs := tlsIdP(t, cfg)
	token := func(client, cert, key string) tokenReply {
		return postFormWith(httpsClient(t, certs, cert, key), s.URL()+"/mtls/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {client}}, "", "")
	}
	for _, tc := range []struct {
		client string
		subj   pkix.Name
		want   int
	}{
		{"demo-mtls", pkix.Name{CommonName: "demo-mtls", Organization: []string{"authlab"}}, 200},
		{"demo-mtls", pkix.Name{CommonName: "evil,CN=demo-mtls", Organization: []string{"authlab"}}, 401},
		{"demo-mtls", pkix.Name{CommonName: "demo-mtls+CN=evil", Organization: []string{"authlab"}}, 401},
		{"demo-mtls", pkix.Name{CommonName: `evil\`, Organization: []string{"authlab"}, OrganizationalUnit: []string{"x,CN=demo-mtls"}}, 401},
		{"demo-mtls", pkix.Name{Organization: []string{"authlab"}, ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{2, 5, 4, 3}, Value: "demo-mtls"}, {Type: []int{2, 5, 4, 3}, Value: "evil"}}}, 401},
		{"acme", pkix.Name{CommonName: "acme, inc", Organization: []string{"authlab"}}, 200},
		{"acme", pkix.Name{CommonName: "acme", Organization: []string{"authlab"}, OrganizationalUnit: []string{"inc"}}, 401},
		{"acme", pkix.Name{CommonName: "acme, inc", Organization: []string{"other"}}, 401},
	} {
		cp, kp := issueCert(t, certs, tc.subj)
		if r := token(tc.client, cp, kp); r.err != nil || r.status != tc.want {
			t.Errorf("%s with subject %q: %d %v %v, want %d", tc.client, tc.subj.String(), r.status, r.body, r.err, tc.want)
		}
	}
}

// Item 12: a certificate-bound subject token needs its certificate, and the
// exchanged token stays bound.
func TestTokenExchangeKeepsCertificateBinding(t *testing.T) {
	s, certs := tlsIdP(t, mockidp.DefaultConfig())
	good := httpsClient(t, certs, certs.ClientCert, certs.ClientKey)
	bound, err := (&clientcredentials.Config{ClientID: "demo-mtls", TokenURL: s.URL() + "/mtls/token", AuthStyle: oauth2.AuthStyleInParams, Scopes: []string{"api:read"}}).Token(withClient(t, good))
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := mtls.LoadCert(certs.ClientCert)
	thumb := flows.Thumbprint(leaf.Raw)
	exchange := func(hc *http.Client, subject, actor string) tokenReply {
		f := url.Values{"grant_type": {mockidp.GrantTokenExchange}, "subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}
		if actor != "" {
			f.Set("actor_token", actor)
			f.Set("actor_token_type", "urn:ietf:params:oauth:token-type:access_token")
		}
		return postFormWith(hc, s.URL()+"/mtls/token", f, "demo-cc", "demo-cc-secret")
	}
	for name, hc := range map[string]*http.Client{"no certificate": httpsClient(t, certs, "", ""), "another certificate": httpsClient(t, certs, certs.SPIFFECert, certs.SPIFFEKey)} {
		if r := exchange(hc, bound.AccessToken, ""); r.status != 400 || r.body["error"] != "invalid_grant" || !strings.Contains(fmt.Sprint(r.body["error_description"]), "certificate") {
			t.Errorf("bound subject token with %s: %d %v, want invalid_grant naming the certificate", name, r.status, r.body)
		}
	}
	r := exchange(good, bound.AccessToken, "")
	if r.status != 200 {
		t.Fatalf("bound subject token with its certificate: %d %v", r.status, r.body)
	}
	cnf, _ := decodeClaims(t, r.body["access_token"].(string))["cnf"].(map[string]any)
	if cnf["x5t#S256"] != thumb {
		t.Errorf("exchanged token cnf = %v, want x5t#S256 %s", cnf, thumb)
	}
	// A bound actor token is held to the same rule.
	plain, err := (&clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token", Scopes: []string{"api:read"}}).Token(withClient(t, httpsClient(t, certs, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if r := exchange(httpsClient(t, certs, "", ""), plain.AccessToken, bound.AccessToken); r.status != 400 || r.body["error"] != "invalid_grant" {
		t.Errorf("bound actor token without its certificate: %d %v", r.status, r.body)
	}
}

// Item 13: the admin API refuses cross-site writes and foreign Host headers.
func TestAdminRefusesCrossSiteAndRebinding(t *testing.T) {
	s := mockidptest.New(t)
	if err := s.SetFaults(mockidp.Faults{AlgNone: true}); err != nil {
		t.Fatal(err)
	}
	jwks := string(s.JWKS())
	do := func(method, path, host, origin, ct, body string) int {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name                              string
		method, path, host, origin, ct, b string
		want                              int
	}{
		{"text/plain reset", "POST", "/_authlab/reset", "", "", "text/plain", "x", 415},
		{"text/plain rotate", "POST", "/_authlab/rotate", "", "", "text/plain;charset=UTF-8", `{"grace":"0s"}`, 415},
		{"form rotate", "POST", "/_authlab/rotate", "", "", "application/x-www-form-urlencoded", "grace=0s", 415},
		{"multipart reset", "POST", "/_authlab/reset", "", "", "multipart/form-data; boundary=x", "--x--", 415},
		{"untyped body", "POST", "/_authlab/rotate", "", "", "", `{"grace":"0s"}`, 415},
		{"foreign origin", "POST", "/_authlab/reset", "", "http://evil.example", "application/json", "{}", 403},
		{"null origin", "POST", "/_authlab/reset", "", "null", "", "", 403},
		{"other local origin", "PATCH", "/_authlab/faults", "", "http://localhost:3000", "application/json", "{}", 403},
		{"rebound config", "GET", "/_authlab/config", "evil.example", "", "", "", 403},
		{"rebound state", "GET", "/_authlab/state", "evil.example:" + strings.Split(s.URL(), ":")[2], "", "", "", 403},
		{"rebound reset", "POST", "/_authlab/reset", "attacker.test", "", "", "", 403},
	} {
		if got := do(tc.method, tc.path, tc.host, tc.origin, tc.ct, tc.b); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if !s.Faults().AlgNone || string(s.JWKS()) != jwks {
		t.Fatal("a refused admin call changed state")
	}
	port := strings.Split(s.URL(), ":")[2]
	for _, tc := range []struct {
		name                              string
		method, path, host, origin, ct, b string
	}{
		{"loopback name", "GET", "/_authlab/config", "localhost:" + port, "", "", ""},
		{"same origin JSON", "PATCH", "/_authlab/faults", "", s.URL(), "application/json", `{"skew":"1s"}`},
		{"JSON rotate", "POST", "/_authlab/rotate", "", "", "application/json; charset=utf-8", `{"grace":"1m"}`},
		{"bodiless reset", "POST", "/_authlab/reset", "", "", "", ""},
	} {
		if got := do(tc.method, tc.path, tc.host, tc.origin, tc.ct, tc.b); got != 200 {
			t.Errorf("%s: %d, want 200", tc.name, got)
		}
	}
}

// Item 14: an oversized body is refused whether or not anyone watches events.
func TestOversizedBodyRefusedWithEventSubscriber(t *testing.T) {
	s := mockidptest.New(t)
	send := func() int {
		body := "grant_type=client_credentials&scope=api%3Aread&pad=" + strings.Repeat("a", 70<<10)
		// A reader of unknown length: sent chunked, so no Content-Length check helps.
		req, _ := http.NewRequest("POST", s.URL()+"/token", io.MultiReader(strings.NewReader(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-cc", "demo-cc-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) {
				t.Fatal(err)
			}
			return -1 // the server hung up mid-body: still a refusal
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	quiet := send()
	_, cancel := s.Events(16)
	defer cancel()
	watched := send()
	if quiet != http.StatusRequestEntityTooLarge || watched != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB token request: %d without a subscriber, %d with one; want 413 both times", quiet, watched)
	}
}

// Item 15: redirect_uri is matched exactly after parsing.
func TestRedirectURIExactAfterParsing(t *testing.T) {
	s := mockidptest.New(t)
	try := func(ru string) (int, string) {
		q := url.Values{"client_id": {"demo-web"}, "response_type": {"code"}, "redirect_uri": {ru}, "state": {"s"}}
		resp, err := noRedirect().Get(s.URL() + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	for _, ru := range []string{
		"http://127.0.0.1/callback#", "http://127.0.0.1:8080/callback#", "http://127.0.0.1/callback#x",
		"http://127.0.0.1/%63allback", "http://127.0.0.1:8080/%63allback", "http://127.0.0.1/callback%2F", "http://127.0.0.1/c%61llback",
		"http://127.0.0.1:99999/callback", "http://127.0.0.1:0/callback", "http://127.0.0.1:/callback", "http://127.0.0.1:08080/callback", "http://127.0.0.1:65536/callback",
		"HTTP://127.0.0.1/callback", "http://127.0.0.1/callback?", "http://127.0.0.1/callback/", "http://127.0.0.1//callback", "http://127.0.0.1/./callback",
		"http://user@127.0.0.1/callback", "http://127.0.0.1/Callback", "http://LOCALHOST/callback",
	} {
		if st, loc := try(ru); st != 400 || loc != "" {
			t.Errorf("redirect_uri %q: %d %q, want 400 without redirect", ru, st, loc)
		}
	}
	for _, ru := range []string{"http://127.0.0.1/callback", "http://127.0.0.1:65535/callback", "http://localhost:1/callback", "http://[::1]:8080/callback"} {
		if st, loc := try(ru); st != 302 || !strings.HasPrefix(loc, ru+"?") {
			t.Errorf("redirect_uri %q: %d %q, want 302 to it", ru, st, loc)
		}
	}
}

// Item 16: the expired fault is past any common leeway, and configurable.
func TestExpiredFaultBeyondLeeway(t *testing.T) {
	s := mockidptest.New(t)
	if err := s.SetFaults(mockidp.Faults{Expired: true}); err != nil {
		t.Fatal(err)
	}
	c := decodeClaims(t, mustCC(t, s))
	if ago := time.Now().Unix() - int64(c["exp"].(float64)); ago < 590 {
		t.Errorf("expired fault: exp %ds ago, want about 10 minutes (past a 5 minute leeway)", ago)
	}
	if c["exp"].(float64)-c["iat"].(float64) != 3600 {
		t.Errorf("expired fault keeps the lifetime: iat %v exp %v", c["iat"], c["exp"])
	}
	patch := func(body string) int {
		req, _ := http.NewRequest("PATCH", s.URL()+"/_authlab/faults", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := patch(`{"expired":true,"expired_by":"2h"}`); st != 200 {
		t.Fatalf("PATCH expired_by: %d", st)
	}
	c = decodeClaims(t, mustCC(t, s))
	if ago := time.Now().Unix() - int64(c["exp"].(float64)); ago < 7190 || ago > 7210 {
		t.Errorf("expired_by 2h: exp %ds ago", ago)
	}
	if st := patch(`{"expired_by":"-1m"}`); st != 400 {
		t.Errorf("negative expired_by: %d, want 400", st)
	}
}

// Item 17: in auto mode the mock user always signs in and consents.
func TestAutoApproveIgnoresPromptLoginConsent(t *testing.T) {
	s := mockidptest.New(t)
	for _, prompt := range []string{"consent", "login", "select_account", "login consent", "none"} {
		conf := oauth2.Config{ClientID: "demo-native", Endpoint: endpoint(s), RedirectURL: "http://127.0.0.1:4321/callback", Scopes: []string{"openid", "offline_access"}}
		v := oauth2.GenerateVerifier()
		q := authorize(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", prompt)))
		if q.Get("code") == "" {
			t.Errorf("prompt=%s in auto mode: %v, want a code", prompt, q)
			continue
		}
		tok, err := conf.Exchange(ctxT(t), q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Errorf("prompt=%s: %v", prompt, err)
		} else if tok.RefreshToken == "" {
			t.Errorf("prompt=%s with offline_access: no refresh token", prompt)
		}
	}
	// With --login the page still shows.
	loginPage(t, startIdP(t, mockidp.Options{Login: true}), url.Values{"prompt": {"consent"}})
}
