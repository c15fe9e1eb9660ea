package mockidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DPoP (RFC 9449) on the IdP side: proof validation at the token endpoint
// and the demo resources, server nonces, and a replay cache. Each refusal
// names the rule the proof broke, because showing why is the point.

const (
	// dpopWindow is how far iat may be from the IdP's clock (skew fault
	// included) either way; jtis are remembered for twice that.
	dpopWindow = 2 * time.Minute
	// dpopNonceLife is how long a server nonce stays current; the previous
	// one is still accepted, so a client in flight is not refused.
	dpopNonceLife = time.Minute
	// maxProofLen bounds the DPoP header before any parsing.
	maxProofLen = 8 << 10
	// maxDPoPJTIs bounds the replay cache; when full, the oldest entries go.
	maxDPoPJTIs = 100000
)

// dpopAlgs is the allow-list: asymmetric algorithms only (RFC 9449 4.3).
func dpopAlgs() []string { return []string{"ES256", "PS256", "RS256", "EdDSA"} }

func dpopAlgsString() string { return strings.Join(dpopAlgs(), " ") }

// dpopState is the replay cache and the rotating nonces.
type dpopState struct {
	mu        sync.Mutex
	seen      map[string]time.Time // jkt.jti → forget after
	order     []string             // keys of seen, oldest first
	nonce     string
	prevNonce string
	nonceAt   time.Time
}

// dpopErr is a refused proof: code is invalid_dpop_proof or use_dpop_nonce.
type dpopErr struct {
	code, desc string
	nonce      string // the nonce to send back (use_dpop_nonce)
}

func proofErr(format string, args ...any) *dpopErr {
	return &dpopErr{code: "invalid_dpop_proof", desc: "DPoP proof: " + fmt.Sprintf(format, args...)}
}

// nonceRequired: --dpop-nonce, or the nonce-storm fault.
func (s *Server) nonceRequired(fs *faultState) bool { return s.cfg.DPoPNonce || fs.f.DPoPNonceStorm }

// currentNonce returns the nonce in force, rotating it every dpopNonceLife.
func (s *Server) currentNonce(now time.Time) string {
	d := &s.dpop
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nonce == "" || now.Sub(d.nonceAt) >= dpopNonceLife || now.Before(d.nonceAt) {
		d.prevNonce, d.nonce, d.nonceAt = d.nonce, randomToken(18), now
	}
	return d.nonce
}

// nonceOK accepts the current and the previous nonce, compared in constant time.
func (s *Server) nonceOK(n string, now time.Time) bool {
	cur := s.currentNonce(now)
	d := &s.dpop
	d.mu.Lock()
	prev := d.prevNonce
	d.mu.Unlock()
	return secretEqual(n, cur) || (prev != "" && secretEqual(n, prev))
}

// setNonceHeader sends the current nonce on any answer while nonces are required.
func (s *Server) setNonceHeader(w http.ResponseWriter, fs *faultState) {
	if s.nonceRequired(fs) && !fs.f.DPoPNonceStorm {
		w.Header().Set("DPoP-Nonce", s.currentNonce(s.Now()))
	}
}

// rememberJTI records a proof's jti; false when it was seen within the window.
func (s *Server) rememberJTI(key string, now time.Time) bool {
	d := &s.dpop
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]time.Time{}
	}
	if until, ok := d.seen[key]; ok && now.Before(until) {
		return false
	}
	max := min(s.opts.MaxEntries, maxDPoPJTIs)
	for len(d.order) > 0 && (len(d.seen) >= max || len(d.order) > 2*max) {
		k := d.order[0]
		d.order = d.order[1:]
		if u, ok := d.seen[k]; ok && (len(d.seen) >= max || !now.Before(u)) {
			delete(d.seen, k)
		}
	}
	// Expired entries at the head go too, so an idle cache drains.
	for len(d.order) > 0 {
		u, ok := d.seen[d.order[0]]
		if ok && now.Before(u) {
			break
		}
		if ok {
			delete(d.seen, d.order[0])
		}
		d.order = d.order[1:]
	}
	d.seen[key] = now.Add(2 * dpopWindow)
	d.order = append(d.order, key)
	return true
}

// proofHeader is the protected header of a proof as sent.
type proofHeader struct {
	Typ string          `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

// proofClaims are the claims a proof must carry.
type proofClaims struct {
	JTI   string       `json:"jti"`
	HTM   string       `json:"htm"`
	HTU   string       `json:"htu"`
	IAT   *json.Number `json:"iat"`
	Nonce string       `json:"nonce"`
	ATH   *string      `json:"ath"`
}

// checkProof validates the request's DPoP header by RFC 9449 4.3 and
// returns the thumbprint of its key; present is false when there is no
// proof. accessToken is the token presented with it at a resource ("" at
// the token endpoint), which the proof's ath must hash.
func (s *Server) checkProof(r *http.Request, fs *faultState, accessToken string) (jkt string, present bool, e *dpopErr) {
	vals := r.Header["Dpop"] // canonical form of DPoP; no allocation on the hot path
	if len(vals) == 0 {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", true, proofErr("more than one DPoP header (RFC 9449 4.3 step 1)")
	}
	proof := strings.TrimSpace(vals[0])
	if len(proof) > maxProofLen {
		return "", true, proofErr("larger than %d bytes", maxProofLen)
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return "", true, proofErr("not a compact JWS (%d parts, want 3)", len(parts))
	}
	var h proofHeader
	hb, err := b64.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return "", true, proofErr("the header is not base64url JSON")
	}
	if h.Typ != "dpop+jwt" {
		return "", true, proofErr("typ %q, want dpop+jwt (RFC 9449 4.2)", h.Typ)
	}
	allowed := false
	for _, a := range dpopAlgs() {
		allowed = allowed || h.Alg == a
	}
	if !allowed {
		return "", true, proofErr("alg %q is not allowed (asymmetric only: %s)", h.Alg, strings.Join(dpopAlgs(), ", "))
	}
	if len(h.JWK) == 0 {
		return "", true, proofErr("no jwk in the header (RFC 9449 4.2)")
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(h.JWK, &members) != nil {
		return "", true, proofErr("jwk is not a JSON object")
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := members[m]; ok {
			return "", true, proofErr("jwk holds private key material (%q): send the public key only (RFC 9449 4.2)", m)
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(h.JWK); err != nil {
		return "", true, proofErr("jwk is not a usable public key: %v", err)
	}
	if why := dpopKeyProblem(h.Alg, jwk.Key); why != "" {
		return "", true, proofErr("jwk %s", why)
	}
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil {
		return "", true, proofErr("cannot parse the JWS: %v", err)
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return "", true, proofErr("signature does not verify with the header's jwk")
	}
	var c proofClaims
	if json.Unmarshal(payload, &c) != nil {
		return "", true, proofErr("claims are not a JSON object")
	}
	if c.JTI == "" || len(c.JTI) > 256 {
		return "", true, proofErr("jti is missing (or longer than 256 characters)")
	}
	if c.HTM != r.Method {
		return "", true, proofErr("htm %q does not match the request method %s", c.HTM, r.Method)
	}
	if why := s.htuProblem(r, c.HTU); why != "" {
		return "", true, proofErr("%s", why)
	}
	if c.IAT == nil {
		return "", true, proofErr("iat is missing")
	}
	iatN, err := c.IAT.Int64()
	if err != nil {
		return "", true, proofErr("iat is not an integer")
	}
	now := s.Now() // the skew fault applies to iat checks
	if off := time.Unix(iatN, 0).Sub(now); off > dpopWindow || off < -dpopWindow {
		dir := "in the future"
		if off < 0 {
			dir, off = "old", -off
		}
		return "", true, proofErr("iat is %s %s by the IdP clock; the window is ±%s (clock skew?)", off.Round(time.Second), dir, dpopWindow)
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		switch {
		case c.ATH == nil:
			return "", true, proofErr("ath is missing; a proof sent with an access token must carry its SHA-256 hash (RFC 9449 4.2)")
		case !secretEqual(*c.ATH, b64.EncodeToString(sum[:])):
			return "", true, proofErr("ath does not match the access token presented")
		}
	}
	if fs.f.DPoPNonceStorm {
		// Every request is told to fetch a new nonce: the client must retry
		// once and then report it, not loop.
		return "", true, &dpopErr{code: "use_dpop_nonce", desc: "a fresh DPoP nonce is required (nonce storm fault)", nonce: randomToken(18)}
	}
	if s.cfg.DPoPNonce {
		switch {
		case c.Nonce == "":
			return "", true, &dpopErr{code: "use_dpop_nonce", desc: "the IdP requires a DPoP nonce: retry with the DPoP-Nonce it sent", nonce: s.currentNonce(now)}
		case !s.nonceOK(c.Nonce, now):
			return "", true, &dpopErr{code: "use_dpop_nonce", desc: "the DPoP nonce is stale or unknown: retry with the DPoP-Nonce it sent", nonce: s.currentNonce(now)}
		}
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", true, proofErr("jwk thumbprint: %v", err)
	}
	jkt = b64.EncodeToString(tp)
	if !s.rememberJTI(jkt+"."+c.JTI, now) {
		s.metrics.replay(replayDPoPJTI)
		return "", true, proofErr("jti %q was already used within the last %s (replayed proof)", c.JTI, 2*dpopWindow)
	}
	return jkt, true, nil
}

// dpopKeyProblem says why a header key cannot carry this alg, or "".
func dpopKeyProblem(alg string, key any) string {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if alg != "ES256" || k.Curve != elliptic.P256() {
			return fmt.Sprintf("is EC %s, which does not match alg %s", k.Curve.Params().Name, alg)
		}
	case *rsa.PublicKey:
		if alg != "RS256" && alg != "PS256" {
			return "is RSA, which does not match alg " + alg
		}
		if n := k.N.BitLen(); n < 2048 || n > 8192 {
			return fmt.Sprintf("is RSA %d bits; 2048 to 8192 are accepted", n)
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return "is Ed25519, which does not match alg " + alg
		}
	default:
		return fmt.Sprintf("type %T is not a public EC, RSA or OKP key", key)
	}
	return ""
}

// htuProblem compares htu with this request's public URL (the issuer's
// scheme and host, behind --issuer too, plus the path), ignoring query and
// fragment (RFC 9449 4.3 step 9); "" when they match.
func (s *Server) htuProblem(r *http.Request, htu string) string {
	want, err := url.Parse(s.issuerFor(r))
	if err != nil {
		return "the IdP cannot name its own URL"
	}
	got, err := url.Parse(htu)
	if err != nil || got.Host == "" {
		return fmt.Sprintf("htu %q is not an absolute URL", htu)
	}
	if !strings.EqualFold(got.Scheme, want.Scheme) {
		return fmt.Sprintf("htu scheme %q does not match %s (the IdP's public URL)", got.Scheme, want.Scheme)
	}
	if hostPort(got) != hostPort(want) {
		return fmt.Sprintf("htu host %q does not match %s (the IdP's public URL)", got.Host, want.Host)
	}
	path := strings.TrimRight(want.EscapedPath(), "/") + r.URL.EscapedPath()
	if got.EscapedPath() != path {
		return fmt.Sprintf("htu path %q does not match %s", got.EscapedPath(), path)
	}
	return ""
}

func hostPort(u *url.URL) string {
	h, p := strings.ToLower(u.Hostname()), u.Port()
	if (p == "80" && strings.EqualFold(u.Scheme, "http")) || (p == "443" && strings.EqualFold(u.Scheme, "https")) {
		p = ""
	}
	if p == "" {
		return h
	}
	return h + ":" + p
}

// writeAS answers a refused proof at the token endpoint (RFC 9449 5, 8).
func (e *dpopErr) writeAS(w http.ResponseWriter) {
	if e.nonce != "" {
		w.Header().Set("DPoP-Nonce", e.nonce)
	}
	writeOAuthError(w, http.StatusBadRequest, e.code, e.desc)
}

// dpopChallenge answers a refused resource request with a DPoP challenge
// (RFC 9449 7.1, 9), after any Bearer challenge already set.
func dpopChallenge(w http.ResponseWriter, status int, code, desc, nonce string) {
	v := `DPoP algs="` + dpopAlgsString() + `"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + strings.ReplaceAll(desc, `"`, `'`) + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	if nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce)
	}
	if code == "" {
		code = "invalid_token"
	}
	writeOAuthError(w, status, code, desc)
}

// tokenDPoP checks the proof of a token request and records its key on c;
// false when it answered. A client registered with
// dpop_bound_access_tokens must send one; bearer-only mode ignores them.
func (s *Server) tokenDPoP(w http.ResponseWriter, r *http.Request, c *authedClient, fs *faultState) bool {
	if fs.f.DPoPBearerOnly {
		return true // the IdP pretends not to know DPoP: a client should warn
	}
	s.setNonceHeader(w, fs)
	jkt, present, e := s.checkProof(r, fs, "")
	if e != nil {
		e.writeAS(w)
		return false
	}
	if !present && c.DPoPBound {
		proofErr("client %s requires DPoP-bound tokens (dpop_bound_access_tokens): send a DPoP proof", c.ID).writeAS(w)
		return false
	}
	c.jkt = jkt
	return true
}

// tokenTypeFor is the token_type of what a request issues.
func tokenTypeFor(c *authedClient) string {
	if c.jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// dpopBinding enforces DPoP at a resource, after the token verified:
// `Authorization: DPoP` needs a valid proof (ath included) signed by the
// key the token is bound to; a bound token presented as Bearer is refused
// (RFC 9449 7.1). False when it answered.
func (s *Server) dpopBinding(w http.ResponseWriter, r *http.Request, c *AccessClaims, tok string, isDPoP bool) bool {
	if !isDPoP {
		if th := c.DPoPThumb(); th != "" {
			dpopChallenge(w, http.StatusUnauthorized, "invalid_token", "token is DPoP-bound (cnf.jkt "+th+"); present it as Authorization: DPoP with a DPoP proof, not as Bearer", "")
			return false
		}
		return true
	}
	fs := s.faults.Load()
	s.setNonceHeader(w, fs)
	jkt, present, e := s.checkProof(r, fs, tok)
	switch {
	case e != nil:
		dpopChallenge(w, http.StatusUnauthorized, e.code, e.desc, e.nonce)
		return false
	case !present:
		dpopChallenge(w, http.StatusUnauthorized, "invalid_dpop_proof", "Authorization: DPoP needs a DPoP proof header", "")
		return false
	case c.DPoPThumb() == "":
		dpopChallenge(w, http.StatusUnauthorized, "invalid_token", "token is not DPoP-bound (no cnf.jkt); present it as Bearer", "")
		return false
	case !secretEqual(c.DPoPThumb(), jkt):
		dpopChallenge(w, http.StatusUnauthorized, "invalid_dpop_proof", "the proof's key (jkt "+jkt+") is not the key the token is bound to (cnf.jkt "+c.DPoPThumb()+")", "")
		return false
	}
	return true
}

// validJKT: 43 base64url characters, the size of a SHA-256 thumbprint.
func validJKT(s string) bool {
	b, err := b64.DecodeString(s)
	return err == nil && len(b) == sha256.Size && len(s) == 43
}

// dpopAuthorization returns the token of an `Authorization: DPoP` header.
func dpopAuthorization(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "DPoP") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// bindRefresh binds a public client's refresh token to its proof key
// (RFC 9449 5): only that key may redeem it.
func (s *Server) bindRefresh(rt, jkt string) {
	if rt == "" || jkt == "" {
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if t := s.st.refresh[rt]; t != nil {
		t.JKT = jkt
	}
}

// refreshKey returns the key a refresh token is bound to, or "".
func (s *Server) refreshKey(rt string) string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if t := s.st.refresh[rt]; t != nil {
		return t.JKT
	}
	return ""
}
