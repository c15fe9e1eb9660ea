package mockidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

type clientInfo struct {
	Client
	keyRing // registered jwks (kid.go)
	auth    map[string]bool
	grants  map[string]bool
	scopes  map[string]bool // nil: any configured scope
	// defaultScope is what client_credentials grants when asked for nothing.
	defaultScope string
	// subject is TLSSubject parsed (RFC 4514).
	subject dn
}

func buildClients(cfg Config) (map[string]*clientInfo, error) {
	out := make(map[string]*clientInfo, len(cfg.Clients))
	for _, c := range cfg.Clients {
		ci := &clientInfo{Client: c, auth: map[string]bool{}, grants: map[string]bool{}}
		for _, m := range c.AuthMethods {
			ci.auth[m] = true
		}
		for _, g := range c.GrantTypes {
			ci.grants[g] = true
		}
		if len(c.Scopes) > 0 {
			ci.scopes = map[string]bool{}
			for _, sc := range c.Scopes {
				ci.scopes[sc] = true
			}
		}
		if len(c.JWKS) > 0 {
			set, err := flows.ParseJWKSet(c.JWKS)
			if err != nil {
				return nil, fmt.Errorf("config: client %q: %w", c.ID, err)
			}
			if len(set.Skipped) > 0 {
				return nil, fmt.Errorf("config: client %q: JWKS keys of unsupported type: %s", c.ID, strings.Join(set.Skipped, ", "))
			}
			for _, k := range set.Keys {
				pub := k.Public().Key
				if ec, ok := pub.(*ecdsa.PublicKey); algOf(pub) == "" || ok && ec.Curve != elliptic.P256() {
					return nil, fmt.Errorf("config: client %q: key %q: the IdP verifies RS256, ES256 (P-256) and EdDSA keys only", c.ID, k.KeyID)
				}
				ci.add(k.KeyID, pub)
			}
		}
		ci.defaultScope = computeDefaultScope(cfg, ci)
		sub, err := parseDN(c.TLSSubject)
		if err != nil {
			return nil, fmt.Errorf("config: client %q: tls_client_auth_subject_dn: %w", c.ID, err)
		}
		ci.subject = sub
		out[c.ID] = ci
	}
	return out, nil
}

// oauthErr is an error the IdP answers with (RFC 6749 5.2).
type oauthErr struct {
	status int
	code   string
	desc   string
	basic  bool // the client used HTTP Basic: answer with WWW-Authenticate
}

func (e *oauthErr) Error() string { return e.code + ": " + e.desc }

func (e *oauthErr) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized && !e.basic {
		// RFC 6749 5.2: 401 needs WWW-Authenticate; name the scheme the client can use.
		w.Header().Set("WWW-Authenticate", `Basic realm="authlab-mockidp"`)
	}
	writeOAuthError(w, e.status, e.code, e.desc)
}

func errInvalidClient(desc string) *oauthErr {
	return &oauthErr{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
}

func errInvalidRequest(desc string) *oauthErr {
	return &oauthErr{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

func errInvalidGrant(desc string) *oauthErr {
	return &oauthErr{status: http.StatusBadRequest, code: "invalid_grant", desc: desc}
}

// authedClient is the result of client authentication.
type authedClient struct {
	*clientInfo
	method string
	cert   *x509.Certificate // TLS client certificate, when presented
	jkt    string            // the DPoP proof key of this request, when one was valid
}

// certThumb is the x5t#S256 of the presented certificate, or "".
func (a *authedClient) certThumb() string {
	if a.cert == nil {
		return ""
	}
	return flows.Thumbprint(a.cert.Raw)
}

// basicAuth is r.BasicAuth with one allocation instead of two: the
// credentials are decoded on the stack when they are of a usual size.
func basicAuth(r *http.Request) (user, pass string, ok bool) {
	auth := r.Header.Get("Authorization")
	const prefix = "Basic "
	if len(auth) < len(prefix) {
		return "", "", false
	}
	for i := 0; i < len(prefix); i++ { // ASCII case-insensitive, as net/http
		if c := auth[i]; c != prefix[i] && c|0x20 != prefix[i]|0x20 {
			return "", "", false
		}
	}
	enc := auth[len(prefix):]
	var arr [192]byte
	if base64.StdEncoding.DecodedLen(len(enc)) > len(arr) {
		return r.BasicAuth()
	}
	n, err := base64.StdEncoding.Decode(arr[:], []byte(enc))
	if err != nil {
		return "", "", false
	}
	if user, pass, ok = strings.Cut(string(arr[:n]), ":"); !ok {
		return "", "", false
	}
	return user, pass, true
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authenticateAnyClient applies exactly one client authentication method
// (RFC 6749 2.3, RFC 7523, RFC 8705) to a form request. endpointURL is the
// URL the request was sent to (an accepted assertion audience); it is only
// built for assertions.
func (s *Server) authenticateAnyClient(r *http.Request, endpointURL func(*http.Request) string) (*authedClient, *oauthErr) {
	form := r.PostForm
	var cert *x509.Certificate
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cert = r.TLS.PeerCertificates[0]
	}
	formID := form.Get("client_id")
	methods := 0
	user, pass, hasBasic := basicAuth(r)
	if hasBasic {
		methods++
	}
	if form.Has("client_secret") {
		methods++
	}
	if form.Has("client_assertion") {
		methods++
	}
	if methods > 1 {
		return nil, errInvalidRequest("more than one client authentication method in one request (RFC 6749 2.3)")
	}
	switch {
	case hasBasic:
		// RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, &oauthErr{http.StatusUnauthorized, "invalid_client", "Basic credentials are not form-urlencoded (RFC 6749 2.3.1)", true}
		}
		if formID != "" && formID != id {
			return nil, errInvalidRequest("client_id in the body differs from the Basic credentials")
		}
		c := s.clients[id]
		if c == nil || c.Secret == "" || !secretEqual(secret, c.Secret) {
			// Compare anyway so unknown ids take as long as wrong secrets.
			secretEqual(secret, "x")
			return nil, &oauthErr{http.StatusUnauthorized, "invalid_client", "client authentication failed (unknown client or wrong secret)", true}
		}
		if !c.auth[AuthBasic] {
			return nil, &oauthErr{http.StatusUnauthorized, "invalid_client", "client " + id + " may not use client_secret_basic", true}
		}
		return &authedClient{clientInfo: c, method: AuthBasic, cert: cert}, nil
	case form.Has("client_secret"):
		c := s.clients[formID]
		if c == nil || c.Secret == "" || !secretEqual(form.Get("client_secret"), c.Secret) {
			return nil, errInvalidClient("client authentication failed (unknown client or wrong secret)")
		}
		if !c.auth[AuthPost] {
			return nil, errInvalidClient("client " + formID + " may not use client_secret_post")
		}
		return &authedClient{clientInfo: c, method: AuthPost, cert: cert}, nil
	case form.Has("client_assertion"):
		if form.Get("client_assertion_type") != assertionType {
			return nil, errInvalidRequest("client_assertion_type must be " + assertionType)
		}
		c, method, err := s.checkAssertion(form.Get("client_assertion"), formID, endpointURL(r), r)
		if err != nil {
			return nil, err
		}
		return &authedClient{clientInfo: c, method: method, cert: cert}, nil
	}
	if formID == "" {
		return nil, errInvalidClient("no client authentication and no client_id")
	}
	c := s.clients[formID]
	if c == nil {
		return nil, errInvalidClient("unknown client " + formID)
	}
	if cert != nil && (c.auth[AuthTLS] || c.auth[AuthSelfSignedTLS]) {
		if err := s.checkClientCert(c, cert); err != nil {
			return nil, err
		}
		m := AuthTLS
		if !c.auth[AuthTLS] {
			m = AuthSelfSignedTLS
		}
		return &authedClient{clientInfo: c, method: m, cert: cert}, nil
	}
	if c.auth[AuthNone] {
		return &authedClient{clientInfo: c, method: AuthNone, cert: cert}, nil
	}
	if c.auth[AuthTLS] || c.auth[AuthSelfSignedTLS] {
		if r.TLS == nil {
			return nil, errInvalidClient("client " + formID + " authenticates with a TLS client certificate; use the https mtls endpoint aliases")
		}
		return nil, errInvalidClient("client " + formID + " must present its TLS client certificate")
	}
	return nil, errInvalidClient("client " + formID + " must authenticate (" + strings.Join(c.AuthMethods, ", ") + ")")
}

func (s *Server) checkClientCert(c *clientInfo, cert *x509.Certificate) *oauthErr {
	if c.auth[AuthTLS] {
		if pool := s.clientCAs(); pool != nil {
			_, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: s.clockNow()})
			if err == nil && subjectMatches(c.subject, cert) {
				return nil
			}
			if err != nil && !c.auth[AuthSelfSignedTLS] {
				return errInvalidClient("client certificate does not chain to the IdP's client CA: " + err.Error())
			}
		}
		if !c.auth[AuthSelfSignedTLS] {
			return errInvalidClient(fmt.Sprintf("client certificate subject %q is not %q", cert.Subject.String(), c.TLSSubject))
		}
	}
	th := flows.Thumbprint(cert.Raw)
	for _, p := range c.SelfSignedX5tS256 {
		if secretEqual(p, th) {
			return nil
		}
	}
	return errInvalidClient("client certificate (x5t#S256 " + th + ") is not registered for " + c.ID)
}

func (s *Server) clientCAs() *x509.CertPool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.ClientCAs
}

type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *float64        `json:"exp"`
	Nbf *float64        `json:"nbf"`
	Iat *float64        `json:"iat"`
	Jti string          `json:"jti"`
}

func audList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// assertionLifetime checks an RFC 7523 assertion's exp and nbf against
// now: not expired, at most an hour ahead, valid already (a minute's skew
// allowed). It returns exp, and what is wrong or "".
func assertionLifetime(now time.Time, expClaim float64, nbf *float64) (time.Time, string) {
	exp := time.Unix(int64(expClaim), 0)
	switch {
	case !now.Before(exp):
		return exp, fmt.Sprintf("expired at %s (IdP time %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case exp.Sub(now) > time.Hour:
		return exp, "exp more than an hour ahead"
	case nbf != nil && now.Before(time.Unix(int64(*nbf), 0).Add(-time.Minute)):
		return exp, "not valid yet (nbf)"
	}
	return exp, ""
}

// checkAssertion verifies a client_secret_jwt / private_key_jwt assertion
// (RFC 7523 3): signature, iss = sub = client, aud, exp, and single-use jti.
func (s *Server) checkAssertion(tok, formID, endpointURL string, r *http.Request) (*clientInfo, string, *oauthErr) {
	j, err := parseJWS(tok)
	if err != nil {
		return nil, "", errInvalidClient("client_assertion: " + err.Error())
	}
	var cl assertionClaims
	if err := json.Unmarshal(j.Payload, &cl); err != nil {
		return nil, "", errInvalidClient("client_assertion: claims are not a JSON object")
	}
	if cl.Iss == "" || cl.Iss != cl.Sub {
		return nil, "", errInvalidClient("client_assertion: iss and sub must both be the client_id")
	}
	if formID != "" && formID != cl.Sub {
		return nil, "", errInvalidClient("client_assertion: sub differs from client_id")
	}
	c := s.clients[cl.Sub]
	if c == nil {
		return nil, "", errInvalidClient("client_assertion: unknown client " + cl.Sub)
	}
	method := AuthPrivateKeyJWT
	switch j.Header.Alg {
	case "HS256":
		method = AuthSecretJWT
		if !c.auth[AuthSecretJWT] || c.Secret == "" {
			return nil, "", errInvalidClient("client " + c.ID + " may not use client_secret_jwt")
		}
		if err := verifyHS256(c.Secret, j.Input, j.Sig); err != nil {
			return nil, "", errInvalidClient("client_assertion: " + err.Error())
		}
	case "RS256", "PS256", "ES256", "EdDSA":
		if !c.auth[AuthPrivateKeyJWT] {
			return nil, "", errInvalidClient("client " + c.ID + " may not use private_key_jwt")
		}
		if !c.verifies(j.Header.Alg, j.Header.Kid, j.Input, j.Sig) {
			return nil, "", errInvalidClient("client_assertion: signature does not verify with the client's registered keys")
		}
	default:
		return nil, "", errInvalidClient(fmt.Sprintf("client_assertion: alg %q not accepted", j.Header.Alg))
	}
	if e := s.assertionPolicy(c, j.Header.Alg, s.issuerFor(r), endpointURL, audList(cl.Aud)); e != nil {
		return nil, "", e
	}
	now := s.Now()
	if cl.Exp == nil {
		return nil, "", errInvalidClient("client_assertion: exp is missing")
	}
	exp, bad := assertionLifetime(now, *cl.Exp, cl.Nbf)
	if bad != "" {
		return nil, "", errInvalidClient("client_assertion: " + bad)
	}
	if cl.Jti == "" {
		return nil, "", errInvalidClient("client_assertion: jti is missing")
	}
	switch seen, full := s.st.spendJTI(now, assertionKey(c.ID, cl.Jti), exp); {
	case seen:
		s.metrics.replay(replayAssertion)
		return nil, "", errInvalidClient("client_assertion: jti already used (assertions are single use)")
	case full:
		return nil, "", &oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "assertion replay cache full", false}
	}
	return c, method, nil
}
