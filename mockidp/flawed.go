package mockidp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The demo resource /api/flawed?allow=NAME,... accepts exactly the named
// token-validation flaws (the names of `authlab audit`'s cases), so a room
// can watch an audit find them. Without allow it is as strict as /api/hello.

// FlawNames are the flaws /api/flawed can be told to allow.
func FlawNames() []string {
	return []string{
		"signature-stripped", "signature-tampered", "alg-none", "hs256-public-key",
		"jwk-header-injection", "jku-injection", "kid-path-traversal", "blank-hmac-secret",
		"psychic-signature", "unknown-kid", "token-in-query",
		"expired", "not-yet-valid", "issued-in-future", "wrong-audience", "no-audience",
		"wrong-issuer", "missing-exp", "wrong-typ", "long-lived", "scope-missing",
	}
}

// flawSet is the flaws one request allows; nil allows none.
type flawSet map[string]bool

func parseFlaws(v string) (flawSet, error) {
	fs := flawSet{}
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(FlawNames(), n) {
			return nil, fmt.Errorf("unknown flaw %q (known: %s)", n, strings.Join(FlawNames(), ", "))
		}
		fs[n] = true
	}
	return fs, nil
}

// iatFuture is how far in the future an iat may be before a resource refuses it.
const iatFuture = time.Minute

func (s *Server) handleFlawed(w http.ResponseWriter, r *http.Request) {
	allow, err := parseFlaws(r.URL.Query().Get("allow"))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "allow: "+err.Error())
		return
	}
	tok, present := bearerToken(r)
	if !present && allow["token-in-query"] {
		tok, present = r.URL.Query().Get("access_token"), r.URL.Query().Has("access_token")
	}
	if !present {
		bearerError(w, http.StatusUnauthorized, "", "a bearer access token is required", "api:read")
		return
	}
	if tok == "" {
		bearerError(w, http.StatusUnauthorized, "invalid_request", "Authorization header is not 'Bearer TOKEN'", "")
		return
	}
	c, err := s.verifyFlawed(r, tok, allow)
	if err != nil {
		bearerError(w, http.StatusUnauthorized, "invalid_token", err.Error(), "")
		return
	}
	if !allow["scope-missing"] && !c.HasScope("api:read") {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "token lacks scope api:read", "api:read")
		return
	}
	var names []string
	for n := range allow {
		names = append(names, n)
	}
	slices.Sort(names)
	writeJSON(w, 200, jsonBytes(map[string]any{"message": "hello from the flawed resource, " + c.Sub, "sub": c.Sub, "allowed_flaws": names}))
}

// verifyFlawed is a resource server's token check with the allowed flaws
// left in: the signature (with its classic bypasses), typ, then the claims.
func (s *Server) verifyFlawed(r *http.Request, tok string, allow flawSet) (*AccessClaims, error) {
	j, err := parseJWS(tok)
	if err != nil {
		return nil, err
	}
	var hdr map[string]any
	if err := json.Unmarshal(mustB64(tok[:strings.IndexByte(tok, '.')]), &hdr); err != nil {
		return nil, errors.New("header is not a JSON object")
	}
	if err := s.flawedSignature(r.Context(), j, hdr, allow); err != nil {
		return nil, err
	}
	if !allow["wrong-typ"] && j.Header.Typ != "at+jwt" && j.Header.Typ != "application/at+jwt" {
		return nil, fmt.Errorf("typ %q is not at+jwt (RFC 9068)", j.Header.Typ)
	}
	var c AccessClaims
	if err := json.Unmarshal(j.Payload, &c); err != nil {
		return nil, errors.New("claims are not a JSON object")
	}
	if iss := s.issuerFor(r); !allow["wrong-issuer"] && c.Iss != iss {
		return nil, fmt.Errorf("iss %q is not this IdP (%s)", c.Iss, iss)
	}
	if err := s.resourceClaims(r, j.Payload, allow); err != nil {
		return nil, err
	}
	if s.isRevoked(c.Jti) {
		return nil, errors.New("token was revoked")
	}
	return &c, nil
}

func mustB64(s string) []byte {
	b, _ := b64.DecodeString(s)
	return b
}

// flawedSignature verifies j, except where a flaw lets a forgery through.
func (s *Server) flawedSignature(ctx context.Context, j *jws, hdr map[string]any, allow flawSet) error {
	alg := j.Header.Alg
	switch {
	case strings.EqualFold(alg, "none"):
		if allow["alg-none"] {
			return nil
		}
		return errors.New(`alg "none" is refused`)
	case len(j.Sig) == 0 && allow["signature-stripped"]:
		return nil
	case hdr["jwk"] != nil && allow["jwk-header-injection"]:
		raw, _ := json.Marshal(hdr["jwk"])
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			return errors.New("jwk header is not a JWK")
		}
		return verifyJWS(alg, k.Key, j.Input, j.Sig)
	case hdr["jku"] != nil && allow["jku-injection"]:
		u, _ := hdr["jku"].(string)
		k, err := fetchJKU(ctx, u, j.Header.Kid)
		if err != nil {
			return err
		}
		return verifyJWS(alg, k, j.Input, j.Sig)
	case alg == "HS256":
		return s.flawedHMAC(j, allow)
	case alg == "ES256" && allow["psychic-signature"] && len(j.Sig) == 64 && isZero(j.Sig):
		// CVE-2022-21449: a verifier that never checks 0 < r, s < n.
		return nil
	}
	k := s.keySet().byKid[j.Header.Kid]
	if k == nil {
		if allow["unknown-kid"] {
			return nil // fails open on a kid it cannot find
		}
		return fmt.Errorf("no key %q in the JWKS", j.Header.Kid)
	}
	if alg != k.Alg {
		return fmt.Errorf("alg %q does not match key %s (%s)", alg, k.Kid, k.Alg)
	}
	err := verifyJWS(k.Alg, k.Priv.Public(), j.Input, j.Sig)
	if err != nil && allow["signature-tampered"] && len(j.Sig) > 0 && hdr["jwk"] == nil && hdr["jku"] == nil {
		return nil // checks that a signature is there, never that it verifies
	}
	return err
}

// flawedHMAC is the HS256 branch of a verifier that should never take HS256.
func (s *Server) flawedHMAC(j *jws, allow flawSet) error {
	var keys [][]byte
	if allow["blank-hmac-secret"] {
		keys = append(keys, nil)
	}
	if allow["kid-path-traversal"] && strings.Contains(j.Header.Kid, "..") && path.Clean("/keys/"+j.Header.Kid) == "/dev/null" {
		keys = append(keys, nil) // the kid read as a file name: /dev/null is empty
	}
	if allow["hs256-public-key"] {
		if k := s.keySet().byKid[j.Header.Kid]; k != nil {
			if der, err := x509.MarshalPKIXPublicKey(k.Priv.Public()); err == nil {
				keys = append(keys, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			}
		}
	}
	for _, key := range keys {
		m := hmac.New(sha256.New, key)
		m.Write(j.Input)
		if hmac.Equal(m.Sum(nil), j.Sig) {
			return nil
		}
	}
	return errors.New(`alg "HS256" is refused: this resource trusts only the IdP's asymmetric keys`)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// fetchJKU fetches a key set named by a token's jku, for the jku flaw only.
// Even deliberately flawed, the mock fetches loopback URLs only, briefly.
func fetchJKU(ctx context.Context, raw, kid string) (any, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("jku is not an http(s) URL")
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, errors.New("jku: the flawed resource fetches loopback addresses only")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jku: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("jku: %v", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, errors.New("jku: not a JWKS")
	}
	for _, k := range set.Key(kid) {
		return k.Key, nil
	}
	return nil, fmt.Errorf("jku: no key %q", kid)
}

// resourceAudiences are the aud values the IdP's own resources answer to:
// its demo API, and any audience a client is configured with.
func (s *Server) resourceAudiences(r *http.Request) []string {
	out := []string{s.issuerFor(r) + "/api"}
	for _, c := range s.cfg.Clients {
		if c.Audience != "" {
			out = append(out, c.Audience)
		}
	}
	return out
}

// resourceClaims are the claim checks a resource server owes beyond
// signature, typ and issuer (RFC 9068 4, RFC 7519 4.1): exp present and
// not passed, nbf passed, iat not in the future, a lifetime the IdP could
// have issued, and an audience that is this resource. Times are the IdP's.
func (s *Server) resourceClaims(r *http.Request, payload []byte, allow flawSet) error {
	var c struct {
		Exp *json.Number    `json:"exp"`
		Nbf *json.Number    `json:"nbf"`
		Iat *json.Number    `json:"iat"`
		Aud json.RawMessage `json:"aud"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return errors.New("claims are not a JSON object")
	}
	now := s.Now().Unix()
	num := func(n *json.Number) (int64, bool) {
		if n == nil {
			return 0, false
		}
		v, err := n.Int64()
		if err != nil {
			f, ferr := n.Float64()
			if ferr != nil {
				return 0, false
			}
			v = int64(f)
		}
		return v, true
	}
	exp, hasExp := num(c.Exp)
	switch {
	case !hasExp && !allow["missing-exp"]:
		return errors.New("token has no exp (RFC 9068 2.2 requires it)")
	case hasExp && now >= exp && !allow["expired"]:
		return fmt.Errorf("token expired %ds ago (IdP clock)", now-exp)
	case hasExp && exp-now > int64(s.maxLifetime()/time.Second) && !allow["long-lived"]:
		return fmt.Errorf("token lives until %s, longer than this IdP issues", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	if nbf, ok := num(c.Nbf); ok && nbf > now && !allow["not-yet-valid"] {
		return fmt.Errorf("token is not valid for another %ds (nbf, IdP clock)", nbf-now)
	}
	if iat, ok := num(c.Iat); ok && iat > now+int64(iatFuture/time.Second) && !allow["issued-in-future"] {
		return fmt.Errorf("token was issued %ds in the future (iat, IdP clock)", iat-now)
	}
	aud := audList(c.Aud)
	switch {
	case len(aud) == 0 && !allow["no-audience"]:
		return errors.New("token has no aud (RFC 9068 2.2 requires it)")
	case len(aud) > 0 && !allow["wrong-audience"] && !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(s.resourceAudiences(r), a) }):
		return fmt.Errorf("aud %q is not this resource (%s)", aud, s.issuerFor(r)+"/api")
	}
	return nil
}

// resourceToken applies resourceClaims, with no flaw allowed, to a token
// VerifyAccessToken accepted: the IdP's own demo resources pass an audit.
func (s *Server) resourceToken(r *http.Request, tok string) error {
	i, j := strings.IndexByte(tok, '.'), strings.LastIndexByte(tok, '.')
	if i < 0 || j <= i {
		return errors.New("not a compact JWS")
	}
	return s.resourceClaims(r, mustB64(tok[i+1:j]), nil)
}
