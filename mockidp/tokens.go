package mockidp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AccessClaims are the claims of an RFC 9068 access token the IdP issued.
type AccessClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      json.RawMessage `json:"aud"`
	ClientID string          `json:"client_id"`
	Scope    string          `json:"scope"`
	Jti      string          `json:"jti"`
	Iat      int64           `json:"iat"`
	Exp      int64           `json:"exp"`
	AuthTime int64           `json:"auth_time,omitempty"`
	Cnf      *struct {
		X5tS256 string `json:"x5t#S256,omitempty"`
		JKT     string `json:"jkt,omitempty"` // DPoP key thumbprint (RFC 9449 6)
	} `json:"cnf,omitempty"`
	Act json.RawMessage `json:"act,omitempty"`
	// AuthorizationDetails are the RFC 9396 details the token grants.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// HasScope reports whether the token grants scope.
func (c *AccessClaims) HasScope(scope string) bool {
	for _, s := range strings.Fields(c.Scope) {
		if s == scope {
			return true
		}
	}
	return false
}

// Audience is aud as a list.
func (c *AccessClaims) Audience() []string { return audList(c.Aud) }

// CertThumb is the bound certificate's x5t#S256, or "".
func (c *AccessClaims) CertThumb() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.X5tS256
}

// DPoPThumb is the DPoP key's thumbprint (cnf.jkt), or "".
func (c *AccessClaims) DPoPThumb() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// grantCtx is what an issued token says about the grant.
type grantCtx struct {
	iss      string
	client   *clientInfo
	sub      string
	scope    string
	aud      string
	authTime time.Time
	cnf      string
	jkt      string // DPoP proof key (cnf.jkt)
	act      []byte // JSON object
	nonce    string
	user     *User
	// jti is the access token's id when a redemption reserved it in the
	// grant's family; "" draws a fresh one.
	jti string
	// details are granted RFC 9396 authorization_details (a JSON array).
	details string
	acr     string // the login's authentication context (ID tokens)
}

func (s *Server) algFor(c *clientInfo) string {
	if c != nil && c.Alg != "" {
		return c.Alg
	}
	return s.cfg.Alg
}

// lifetimes returns iat and exp under the current faults.
func (s *Server) lifetime(fs *faultState, configured time.Duration) (iat, exp time.Time) {
	now := s.Now()
	d := configured
	if fs.f.Lifetime > 0 {
		d = fs.f.Lifetime.D()
	}
	if fs.f.Expired {
		// Already expired by more than any common leeway (60 s to 5 min).
		by := fs.f.ExpiredBy.D()
		if by <= 0 {
			by = defaultExpiredBy
		}
		return now.Add(-d - by), now.Add(-by)
	}
	return now, now.Add(d)
}

// sign produces a compact JWS with the key for alg (or the fault's choice).
func (s *Server) sign(fs *faultState, alg string, idToken bool, payload []byte) (string, error) {
	bp := s.getBuf()
	defer s.putBuf(bp)
	b, err := s.appendSigned((*bp)[:0], fs, alg, idToken, payload)
	*bp = b
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// appendSigned appends the compact JWS of payload to dst, so the token
// endpoint can sign straight into its response buffer.
func (s *Server) appendSigned(dst []byte, fs *faultState, alg string, idToken bool, payload []byte) ([]byte, error) {
	if fs.f.AlgNone {
		typ := "at+jwt"
		if idToken {
			typ = "JWT"
		}
		dst = b64.AppendEncode(dst, []byte(`{"alg":"none","typ":"`+typ+`"}`))
		dst = append(dst, '.')
		dst = b64.AppendEncode(dst, payload)
		return append(dst, '.'), nil
	}
	var k *signingKey
	if fs.f.UnknownKey {
		var err error
		if k, err = s.unknownKey(alg); err != nil {
			return dst, err
		}
	} else {
		k = s.keySet().current[alg]
	}
	hdr := k.atHeader
	if idToken {
		hdr = k.idHeader
	}
	start := len(dst)
	dst = append(dst, hdr...)
	dst = append(dst, '.')
	dst = b64.AppendEncode(dst, payload)
	// Appending may move dst: the signing input is taken after the last append.
	input := dst[start:]
	dst = append(dst, '.')
	return appendSignature(dst, alg, k.Priv, input)
}

// unknownKey is a key never published in the JWKS (the UnknownKey fault).
func (s *Server) unknownKey(alg string) (*signingKey, error) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if k := s.unpublished[alg]; k != nil {
		return k, nil
	}
	k, err := generateKey(alg, s.clockNow())
	if err != nil {
		return nil, err
	}
	k, err = newSigningKey(alg, k.Priv, "unpublished-"+k.Kid, k.Created)
	if err != nil {
		return nil, err
	}
	if s.unpublished == nil {
		s.unpublished = map[string]*signingKey{}
	}
	s.unpublished[alg] = k
	return k, nil
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func appendInt(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

// issueAccess signs an RFC 9068 access token; it returns the token, its jti and exp.
func (s *Server) issueAccess(fs *faultState, g *grantCtx) (string, string, time.Time, error) {
	bp := s.getBuf()
	defer s.putBuf(bp)
	b, jti, exp, err := s.appendAccess((*bp)[:0], fs, g)
	*bp = b
	if err != nil {
		return "", "", exp, err
	}
	return string(b), string(jti[:]), exp, nil
}

// appendAccess appends a signed RFC 9068 access token to dst and returns its
// jti (base64url of 16 random bytes) and exp. The claims are appended into a
// pooled buffer: no maps and no reflection on the token endpoint's hot path.
func (s *Server) appendAccess(dst []byte, fs *faultState, g *grantCtx) ([]byte, [22]byte, time.Time, error) {
	iat, exp := s.lifetime(fs, s.cfg.Lifetimes.AccessToken.D())
	var jti [22]byte
	if len(g.jti) == len(jti) {
		copy(jti[:], g.jti)
	} else {
		var raw [16]byte
		rand.Read(raw[:])
		b64.Encode(jti[:], raw[:])
	}
	bp := s.getBuf()
	defer s.putBuf(bp)
	b := append((*bp)[:0], `{"iss":`...)
	b = appendJSONString(b, g.iss)
	b = appendField(b, "sub", g.sub)
	b = appendField(b, "aud", g.aud)
	b = appendField(b, "client_id", g.client.ID)
	if g.scope != "" {
		b = appendField(b, "scope", g.scope)
	}
	b = append(b, `,"jti":"`...)
	b = append(b, jti[:]...)
	b = append(b, '"')
	b = appendInt(b, "iat", iat.Unix())
	b = appendInt(b, "exp", exp.Unix())
	if !g.authTime.IsZero() {
		b = appendInt(b, "auth_time", g.authTime.Unix())
	}
	switch {
	case g.cnf != "" && g.jkt != "":
		b = append(b, `,"cnf":{"x5t#S256":`...)
		b = appendJSONString(b, g.cnf)
		b = append(b, `,"jkt":`...)
		b = appendJSONString(b, g.jkt)
		b = append(b, '}')
	case g.cnf != "":
		b = append(b, `,"cnf":{"x5t#S256":`...)
		b = appendJSONString(b, g.cnf)
		b = append(b, '}')
	case g.jkt != "":
		b = append(b, `,"cnf":{"jkt":`...)
		b = appendJSONString(b, g.jkt)
		b = append(b, '}')
	}
	if len(g.act) > 0 {
		b = append(b, `,"act":`...)
		b = append(b, g.act...)
	}
	if g.details != "" {
		b = append(b, `,"authorization_details":`...)
		b = append(b, g.details...)
	}
	b = append(b, '}')
	*bp = b
	dst, err := s.appendSigned(dst, fs, s.algFor(g.client), false, b)
	return dst, jti, exp, err
}

// halfHash is at_hash: the left half of the hash that matches the alg
// (SHA-512 for Ed25519).
func halfHash(alg, tok string) string {
	if alg == "EdDSA" {
		h := sha512.Sum512([]byte(tok))
		return b64.EncodeToString(h[:32])
	}
	h := sha256.Sum256([]byte(tok))
	return b64.EncodeToString(h[:16])
}

// issueID signs an OIDC Core ID token.
func (s *Server) issueID(fs *faultState, g *grantCtx, accessToken string) (string, error) {
	iat, exp := s.lifetime(fs, s.cfg.Lifetimes.IDToken.D())
	alg := s.algFor(g.client)
	m := map[string]any{
		"iss": g.iss, "sub": g.sub, "aud": g.client.ID, "azp": g.client.ID,
		"iat": iat.Unix(), "exp": exp.Unix(),
	}
	if !g.authTime.IsZero() {
		m["auth_time"] = g.authTime.Unix()
	}
	if g.nonce != "" {
		m["nonce"] = g.nonce
	}
	if g.acr != "" {
		m["acr"] = g.acr
	}
	if accessToken != "" && !fs.f.AlgNone {
		m["at_hash"] = halfHash(alg, accessToken)
	}
	if g.user != nil {
		addProfileClaims(m, g.user, g.scope)
	}
	return s.sign(fs, alg, true, jsonBytes(m))
}

func addProfileClaims(m map[string]any, u *User, scope string) {
	addUserClaims(m, u)
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "profile":
			m["name"] = u.Name
			m["preferred_username"] = u.Username
		case "email":
			if u.Email != "" {
				m["email"] = u.Email
				m["email_verified"] = true
			}
		}
	}
}

// VerifyAccessToken checks an access token the IdP issued: signature with a
// key in the JWKS, typ, issuer, expiry (IdP clock) and revocation.
func (s *Server) VerifyAccessToken(r *http.Request, tok string) (*AccessClaims, error) {
	c, err := s.parseAccessToken(r, tok)
	if err != nil {
		return nil, err
	}
	if now := s.Now().Unix(); now >= c.Exp {
		return c, fmt.Errorf("token expired %ds ago (IdP clock)", now-c.Exp)
	}
	if s.isRevoked(c.Jti) {
		return c, errors.New("token was revoked")
	}
	return c, nil
}

// parseAccessToken verifies signature, typ and issuer but not expiry.
func (s *Server) parseAccessToken(r *http.Request, tok string) (*AccessClaims, error) {
	j, err := parseJWS(tok)
	if err != nil {
		return nil, err
	}
	if j.Header.Typ != "at+jwt" && j.Header.Typ != "application/at+jwt" {
		return nil, fmt.Errorf("typ %q is not at+jwt (RFC 9068)", j.Header.Typ)
	}
	k := s.keySet().byKid[j.Header.Kid]
	if k == nil {
		return nil, fmt.Errorf("no key %q in the JWKS", j.Header.Kid)
	}
	if j.Header.Alg != k.Alg {
		return nil, fmt.Errorf("alg %q does not match key %s (%s)", j.Header.Alg, k.Kid, k.Alg)
	}
	if err := verifyJWS(k.Alg, k.Priv.Public(), j.Input, j.Sig); err != nil {
		return nil, err
	}
	var c AccessClaims
	if err := json.Unmarshal(j.Payload, &c); err != nil {
		return nil, errors.New("claims are not a JSON object")
	}
	if iss := s.issuerFor(r); c.Iss != iss {
		return nil, fmt.Errorf("iss %q is not this IdP (%s)", c.Iss, iss)
	}
	return &c, nil
}

func (s *Server) isRevoked(jti string) bool {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	_, ok := s.st.revoked[jti]
	return ok
}

// revokeJTIs marks access tokens revoked until their latest possible expiry.
// Called with st.mu held.
func (s *Server) revokeJTIsLocked(now time.Time, jtis []string) {
	until := now.Add(s.maxLifetime())
	for _, j := range jtis {
		s.st.revoked[j] = until
	}
}

func (s *Server) maxLifetime() time.Duration {
	d := s.cfg.Lifetimes.AccessToken.D()
	if f := s.faults.Load().f.Lifetime.D(); f > d {
		d = f
	}
	return d + time.Minute
}

// tokenResponse writes an RFC 6749 5.1 token response.
func tokenResponse(w http.ResponseWriter, tokenType, access string, exp time.Time, now time.Time, scope, refresh, id, issuedType string) {
	b := make([]byte, 0, len(access)+len(id)+256)
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, access)
	b = appendTokenFields(b, tokenType, exp, now, scope, refresh, id, issuedType)
	writeTokenJSON(w, b)
}

// appendTokenFields appends the token response members after access_token
// and closes the object; tokenType is Bearer, or DPoP for a token bound to
// a proof key.
func appendTokenFields(b []byte, tokenType string, exp, now time.Time, scope, refresh, id, issuedType string) []byte {
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, tokenType)
	b = appendInt(b, "expires_in", int64(exp.Sub(now)/time.Second))
	if scope != "" {
		b = appendField(b, "scope", scope)
	}
	if refresh != "" {
		b = appendField(b, "refresh_token", refresh)
	}
	if id != "" {
		b = appendField(b, "id_token", id)
	}
	if issuedType != "" {
		b = appendField(b, "issued_token_type", issuedType)
	}
	return append(b, '}')
}

// writeTokenJSON sends a token response body with the RFC 6749 5.1 headers.
func writeTokenJSON(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["Cache-Control"] = hvNoStore
	h["Pragma"] = hvNoCache
	w.Write(b)
}
