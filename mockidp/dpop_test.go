package mockidp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"authlab/flows/dpop"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

type dpopAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a dpopAnswer) str(k string) string { s, _ := a.body[k].(string); return s }

// send posts form (or GETs when form is nil) with the given headers.
func send(t *testing.T, method, target string, form url.Values, hdr map[string]string) dpopAnswer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctxT(t), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a := dpopAnswer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(b, &a.body)
	return a
}

var ccForm = url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-cc"}, "client_secret": {"demo-cc-secret"}}

// signRaw signs arbitrary header members and claims with key, to build
// proofs that break one rule each.
func signRaw(t *testing.T, alg jose.SignatureAlgorithm, key any, hdr map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: hdr}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(claims)
	jws, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func TestDPoPTokenBindsWhatIsIssued(t *testing.T) {
	s := mockidptest.New(t)
	k, _ := dpop.Generate("ES256")
	p, _ := k.Proof("POST", s.URL()+"/token", "", "")
	a := send(t, "POST", s.URL()+"/token", ccForm, map[string]string{"DPoP": p})
	if a.status != 200 || a.str("token_type") != "DPoP" {
		t.Fatalf("status %d body %v", a.status, a.body)
	}
	at := a.str("access_token")
	if got := dpop.CnfJKT(decodeClaims(t, at)); got != k.JKT() {
		t.Fatalf("cnf.jkt %q, want %q", got, k.JKT())
	}
	// Introspection reports the binding.
	in := send(t, "POST", s.URL()+"/introspect", url.Values{"token": {at}, "client_id": {"demo-cc"}, "client_secret": {"demo-cc-secret"}}, nil)
	cnf, _ := in.body["cnf"].(map[string]any)
	if in.str("token_type") != "DPoP" || cnf["jkt"] != k.JKT() {
		t.Fatalf("introspection %v", in.body)
	}
	// The resource accepts it with a proof carrying ath...
	rp, _ := k.Proof("GET", s.URL()+"/api/hello", "", at)
	ok := send(t, "GET", s.URL()+"/api/hello", nil, map[string]string{"Authorization": "DPoP " + at, "DPoP": rp})
	if ok.status != 200 {
		t.Fatalf("resource: %d %v %v", ok.status, ok.body, ok.header.Values("WWW-Authenticate"))
	}
	// ...refuses it as a bearer token...
	bearer := send(t, "GET", s.URL()+"/api/hello", nil, map[string]string{"Authorization": "Bearer " + at})
	if bearer.status != 401 || !strings.Contains(bearer.str("error_description"), "DPoP-bound") ||
		!strings.HasPrefix(bearer.header.Get("WWW-Authenticate"), `DPoP algs="ES256 PS256 RS256 EdDSA"`) {
		t.Fatalf("bearer use of a bound token: %d %v %v", bearer.status, bearer.body, bearer.header.Values("WWW-Authenticate"))
	}
	// ...and with a proof by another key or without ath.
	other, _ := dpop.Generate("ES256")
	op, _ := other.Proof("GET", s.URL()+"/api/hello", "", at)
	wrong := send(t, "GET", s.URL()+"/api/hello", nil, map[string]string{"Authorization": "DPoP " + at, "DPoP": op})
	if wrong.status != 401 || !strings.Contains(wrong.str("error_description"), "not the key the token is bound to") {
		t.Fatalf("other key: %d %v", wrong.status, wrong.body)
	}
	noATH, _ := k.Proof("GET", s.URL()+"/api/hello", "", "")
	na := send(t, "GET", s.URL()+"/api/hello", nil, map[string]string{"Authorization": "DPoP " + at, "DPoP": noATH})
	if na.status != 401 || !strings.Contains(na.str("error_description"), "ath is missing") ||
		!strings.Contains(na.header.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`) {
		t.Fatalf("no ath: %d %v", na.status, na.body)
	}
	// Discovery advertises the algorithms.
	d := send(t, "GET", s.URL()+"/.well-known/openid-configuration", nil, nil)
	if algs, _ := d.body["dpop_signing_alg_values_supported"].([]any); len(algs) != 4 {
		t.Fatalf("dpop_signing_alg_values_supported %v", d.body["dpop_signing_alg_values_supported"])
	}
}

func TestDPoPProofRulesNamed(t *testing.T) {
	s := mockidptest.New(t)
	tokenURL := s.URL() + "/token"
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := jose.JSONWebKey{Key: &ec.PublicKey}
	priv := jose.JSONWebKey{Key: ec}
	claims := func(edit func(m map[string]any)) map[string]any {
		b := make([]byte, 12)
		rand.Read(b)
		m := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(b), "htm": "POST", "htu": tokenURL, "iat": time.Now().Unix()}
		if edit != nil {
			edit(m)
		}
		return m
	}
	hdr := func(typ string, jwk any) map[jose.HeaderKey]any {
		return map[jose.HeaderKey]any{"typ": typ, "jwk": jwk}
	}
	// alg none and HS256 are built by hand (go-jose will not sign them with a jwk).
	unsigned := func(alg string) string {
		h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": pub})
		c, _ := json.Marshal(claims(nil))
		in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
		if alg == "none" {
			return in + "."
		}
		m := hmac.New(sha256.New, []byte("secret"))
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	good := signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(nil))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x","htm":"POST","htu":"`+tokenURL+`","iat":`+jsonNum(time.Now().Unix())+`}`)) + "." + parts[2]
	cases := []struct{ name, proof, want string }{
		{"typ", signRaw(t, jose.ES256, ec, hdr("JWT", pub), claims(nil)), `typ "JWT", want dpop+jwt`},
		{"alg none", unsigned("none"), `alg "none" is not allowed`},
		{"alg HS256", unsigned("HS256"), `alg "HS256" is not allowed`},
		{"no jwk", signRaw(t, jose.ES256, ec, map[jose.HeaderKey]any{"typ": "dpop+jwt"}, claims(nil)), "no jwk in the header"},
		{"private jwk", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", priv), claims(nil)), "private key material"},
		{"signature", tampered, "signature does not verify"},
		{"htm", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { m["htm"] = "GET" })), `htm "GET" does not match`},
		{"htu scheme", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { m["htu"] = strings.Replace(tokenURL, "http:", "https:", 1) })), "htu scheme"},
		{"htu host", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { m["htu"] = "http://evil.example/token" })), "htu host"},
		{"htu path", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { m["htu"] = s.URL() + "/introspect" })), "htu path"},
		{"iat old", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { m["iat"] = time.Now().Add(-10 * time.Minute).Unix() })), "old by the IdP clock"},
		{"iat future", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { m["iat"] = time.Now().Add(10 * time.Minute).Unix() })), "in the future"},
		{"no jti", signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(func(m map[string]any) { delete(m, "jti") })), "jti is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := send(t, "POST", tokenURL, ccForm, map[string]string{"DPoP": c.proof})
			if a.status != 400 || a.str("error") != "invalid_dpop_proof" || !strings.Contains(a.str("error_description"), c.want) {
				t.Fatalf("got %d %v, want invalid_dpop_proof naming %q", a.status, a.body, c.want)
			}
		})
	}
	t.Run("replayed jti", func(t *testing.T) {
		if a := send(t, "POST", tokenURL, ccForm, map[string]string{"DPoP": good}); a.status != 200 {
			t.Fatalf("first use: %d %v", a.status, a.body)
		}
		a := send(t, "POST", tokenURL, ccForm, map[string]string{"DPoP": good})
		if a.status != 400 || a.str("error") != "invalid_dpop_proof" || !strings.Contains(a.str("error_description"), "replayed proof") {
			t.Fatalf("replay: %d %v", a.status, a.body)
		}
	})
	t.Run("two DPoP headers", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctxT(t), "POST", tokenURL, strings.NewReader(ccForm.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Add("DPoP", good)
		req.Header.Add("DPoP", good)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("skew fault applies to iat", func(t *testing.T) {
		if err := s.SetFaults(mockidp.Faults{Skew: mockidp.Duration(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		defer s.ResetFaults()
		p := signRaw(t, jose.ES256, ec, hdr("dpop+jwt", pub), claims(nil))
		a := send(t, "POST", tokenURL, ccForm, map[string]string{"DPoP": p})
		if a.status != 400 || !strings.Contains(a.str("error_description"), "clock skew") {
			t.Fatalf("skew: %d %v", a.status, a.body)
		}
	})
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDPoPNonceAtASAndResource(t *testing.T) {
	cfg := mockidp.DefaultConfig()
	cfg.DPoPNonce = true
	s := mockidptest.New(t, mockidp.WithConfig(cfg))
	k, _ := dpop.Generate("EdDSA")
	p, _ := k.Proof("POST", s.URL()+"/token", "", "")
	a := send(t, "POST", s.URL()+"/token", ccForm, map[string]string{"DPoP": p})
	nonce := a.header.Get("DPoP-Nonce")
	if a.status != 400 || a.str("error") != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("no nonce: %d %v", a.status, a.body)
	}
	p, _ = k.Proof("POST", s.URL()+"/token", nonce, "")
	a = send(t, "POST", s.URL()+"/token", ccForm, map[string]string{"DPoP": p})
	if a.status != 200 || a.str("token_type") != "DPoP" || a.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("with nonce: %d %v", a.status, a.body)
	}
	at := a.str("access_token")
	p, _ = k.Proof("POST", s.URL()+"/token", "not-the-nonce", "")
	if a := send(t, "POST", s.URL()+"/token", ccForm, map[string]string{"DPoP": p}); a.str("error") != "use_dpop_nonce" || !strings.Contains(a.str("error_description"), "stale") {
		t.Fatalf("wrong nonce: %v", a.body)
	}
	// Resource: 401 with a DPoP challenge naming use_dpop_nonce, then success.
	rp, _ := k.Proof("GET", s.URL()+"/api/hello", "", at)
	r := send(t, "GET", s.URL()+"/api/hello", nil, map[string]string{"Authorization": "DPoP " + at, "DPoP": rp})
	rn := r.header.Get("DPoP-Nonce")
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || rn == "" {
		t.Fatalf("resource without nonce: %d %v", r.status, r.header)
	}
	rp, _ = k.Proof("GET", s.URL()+"/api/hello", rn, at)
	if r := send(t, "GET", s.URL()+"/api/hello", nil, map[string]string{"Authorization": "DPoP " + at, "DPoP": rp}); r.status != 200 {
		t.Fatalf("resource with nonce: %d %v", r.status, r.body)
	}
}

func TestDPoPFaultsAndBoundClient(t *testing.T) {
	s := mockidptest.New(t)
	k, _ := dpop.Generate("ES256")
	demo := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-dpop"}, "client_secret": {"demo-dpop-secret"}}
	if a := send(t, "POST", s.URL()+"/token", demo, nil); a.status != 400 || a.str("error") != "invalid_dpop_proof" || !strings.Contains(a.str("error_description"), "dpop_bound_access_tokens") {
		t.Fatalf("bound client without proof: %d %v", a.status, a.body)
	}
	p, _ := k.Proof("POST", s.URL()+"/token", "", "")
	if a := send(t, "POST", s.URL()+"/token", demo, map[string]string{"DPoP": p}); a.status != 200 || a.str("token_type") != "DPoP" {
		t.Fatalf("bound client with proof: %d %v", a.status, a.body)
	}
	s.SetFaults(mockidp.Faults{DPoPNonceStorm: true})
	for i := 0; i < 2; i++ {
		p, _ := k.Proof("POST", s.URL()+"/token", "whatever", "")
		a := send(t, "POST", s.URL()+"/token", demo, map[string]string{"DPoP": p})
		if a.str("error") != "use_dpop_nonce" || a.header.Get("DPoP-Nonce") == "" {
			t.Fatalf("storm: %v", a.body)
		}
	}
	s.SetFaults(mockidp.Faults{DPoPBearerOnly: true})
	p, _ = k.Proof("POST", s.URL()+"/token", "", "")
	a := send(t, "POST", s.URL()+"/token", ccForm, map[string]string{"DPoP": p})
	if a.status != 200 || a.str("token_type") != "Bearer" || dpop.CnfJKT(decodeClaims(t, a.str("access_token"))) != "" {
		t.Fatalf("bearer-only: %d %v", a.status, a.body)
	}
}

func TestDPoPPublicRefreshBoundToKey(t *testing.T) {
	s := mockidptest.New(t)
	k, _ := dpop.Generate("ES256")
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"demo-native"}, "redirect_uri": {"http://127.0.0.1/callback"},
		"scope": {"openid offline_access"}, "state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "dpop_jkt": {k.JKT()}}
	resp, err := noRedirect().Get(s.URL() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"demo-native"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {verifier}}
	other, _ := dpop.Generate("ES256")
	op, _ := other.Proof("POST", s.URL()+"/token", "", "")
	if a := send(t, "POST", s.URL()+"/token", form, map[string]string{"DPoP": op}); a.str("error") != "invalid_dpop_proof" || !strings.Contains(a.str("error_description"), "dpop_jkt") {
		t.Fatalf("dpop_jkt mismatch: %v", a.body)
	}
	// The refusal came before redemption: the same code still works with
	// the key dpop_jkt named.
	p, _ := k.Proof("POST", s.URL()+"/token", "", "")
	a := send(t, "POST", s.URL()+"/token", form, map[string]string{"DPoP": p})
	rt := a.str("refresh_token")
	if a.status != 200 || rt == "" || a.str("token_type") != "DPoP" {
		t.Fatalf("code: %d %v", a.status, a.body)
	}
	ref := url.Values{"grant_type": {"refresh_token"}, "client_id": {"demo-native"}, "refresh_token": {rt}}
	if a := send(t, "POST", s.URL()+"/token", ref, nil); a.str("error") != "invalid_dpop_proof" || !strings.Contains(a.str("error_description"), "bound to DPoP key") {
		t.Fatalf("refresh without proof: %v", a.body)
	}
	op, _ = other.Proof("POST", s.URL()+"/token", "", "")
	if a := send(t, "POST", s.URL()+"/token", ref, map[string]string{"DPoP": op}); a.str("error") != "invalid_dpop_proof" {
		t.Fatalf("refresh with another key: %v", a.body)
	}
	p, _ = k.Proof("POST", s.URL()+"/token", "", "")
	if a := send(t, "POST", s.URL()+"/token", ref, map[string]string{"DPoP": p}); a.status != 200 || a.str("token_type") != "DPoP" {
		t.Fatalf("refresh with the key: %d %v", a.status, a.body)
	}
}

// TestZitadelProofsAccepted: proofs made by an independent implementation
// (zitadel/oidc's relying party key binding) are accepted, and what the
// IdP issues is bound to zitadel's key.
func TestZitadelProofsAccepted(t *testing.T) {
	s := mockidptest.New(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	party, err := rp.NewRelyingPartyOIDC(ctxT(t), s.URL(), "demo-cc", "demo-cc-secret", "http://127.0.0.1/callback", []string{"openid"}, rp.WithKeyBinding(ec, jose.ES256))
	if err != nil {
		t.Fatal(err)
	}
	kb, ok := party.(rp.KeyBindingRelyingParty)
	if !ok {
		t.Fatal("no key binding")
	}
	proof, err := kb.SignDPoPProof("POST", s.URL()+"/token", "")
	if err != nil {
		t.Fatal(err)
	}
	a := send(t, "POST", s.URL()+"/token", ccForm, map[string]string{"DPoP": proof})
	if a.status != 200 || a.str("token_type") != "DPoP" {
		t.Fatalf("zitadel proof: %d %v", a.status, a.body)
	}
	if got := dpop.CnfJKT(decodeClaims(t, a.str("access_token"))); got != kb.KeyBindingThumbprint() {
		t.Fatalf("cnf.jkt %s, zitadel's thumbprint %s", got, kb.KeyBindingThumbprint())
	}
}
