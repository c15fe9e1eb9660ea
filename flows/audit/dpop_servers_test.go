package audit

// DPoP resource servers for the audit's tests, on go-jose (the audit signs
// its proofs through flows/dpop), each with at most one flaw in its RFC
// 9449 checks; the token itself is checked by the correct resource above.

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// dpopToken is the issuer's token bound to the key with thumbprint jkt.
func dpopToken(t *testing.T, k *keys, jkt string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.rsa},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	std := jwt.Claims{Issuer: testIssuer, Subject: "alice", Audience: jwt.Audience{testAudience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: "jti-d"}
	tok, err := jwt.Signed(sig).Claims(std).Claims(map[string]any{"scope": "api:read", "client_id": "c1",
		"cnf": map[string]any{"jkt": jkt}}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dpopResource serves /api for DPoP-bound tokens: Authorization: DPoP and
// one valid proof (typ, alg, signature by the embedded jwk, htm, htu, iat,
// ath, jti not seen before, the jwk's thumbprint = cnf.jkt).
type dpopResource struct {
	flaw  string
	inner *resource // the token checks, without a flaw

	mu   sync.Mutex
	seen map[string]bool
}

func (s *dpopResource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	refuse := func() {
		w.Header().Set("WWW-Authenticate", `DPoP algs="ES256 RS256"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if tok == "" {
		refuse()
		return
	}
	scope, err := s.inner.verify(r.Context(), tok)
	if err != nil {
		refuse()
		return
	}
	jkt := cnfJKT(tok)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if jkt != "" && s.flaw != "dpop-as-bearer" {
			refuse()
			return
		}
	case strings.EqualFold(scheme, "DPoP"):
		if jkt == "" || s.checkProof(r, tok, jkt) != nil {
			refuse()
			return
		}
	default:
		refuse()
		return
	}
	if !slices.Contains(strings.Fields(scope), testScope) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	io.WriteString(w, `{"ok":true}`)
}

// cnfJKT reads cnf.jkt of a token verify has already accepted.
func cnfJKT(tok string) string {
	t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.HS256, "none"})
	if err != nil {
		return ""
	}
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if t.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Cnf.JKT
}

var errProof = errors.New("bad proof")

func (s *dpopResource) checkProof(r *http.Request, tok, jkt string) error {
	vals := r.Header.Values("DPoP")
	if len(vals) != 1 {
		return errProof
	}
	jws, err := jose.ParseSignedCompact(vals[0], []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return errProof
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return errProof
	}
	payload, err := jws.Verify(h.JSONWebKey.Key)
	if err != nil {
		return errProof
	}
	var c struct {
		JTI string `json:"jti"`
		HTM string `json:"htm"`
		HTU string `json:"htu"`
		IAT int64  `json:"iat"`
		ATH string `json:"ath"`
	}
	if json.Unmarshal(payload, &c) != nil || c.JTI == "" {
		return errProof
	}
	if c.HTM != r.Method {
		return errProof
	}
	if s.flaw != "dpop-wrong-htu" && c.HTU != "http://"+r.Host+r.URL.Path {
		return errProof
	}
	if d := time.Since(time.Unix(c.IAT, 0)); d > time.Minute || d < -time.Minute {
		return errProof
	}
	sum := sha256.Sum256([]byte(tok))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	if !(s.flaw == "dpop-missing-ath" && c.ATH == "") && !hmac.Equal([]byte(c.ATH), []byte(ath)) {
		return errProof
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return errProof
	}
	if s.flaw != "dpop-other-key" && !hmac.Equal([]byte(base64.RawURLEncoding.EncodeToString(tp)), []byte(jkt)) {
		return errProof
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[c.JTI] && s.flaw != "dpop-replayed-jti" {
		return errProof
	}
	s.seen[c.JTI] = true
	return nil
}

// startDPoPResource serves s and the issuer's JWKS on 127.0.0.1.
func startDPoPResource(t *testing.T, s *dpopResource) (api, jwksURL string) {
	t.Helper()
	s.seen = map[string]bool{}
	mux := http.NewServeMux()
	mux.Handle("/api", s)
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(s.inner.keys.jwks) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/api", srv.URL + "/jwks"
}
