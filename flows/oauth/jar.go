package oauth

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
)

// RequestObjectType is the typ of a JAR request object (RFC 9101 4).
const RequestObjectType = "oauth-authz-req+jwt"

// requestObjectLifetime: long enough for a slow login page to be opened,
// well under FAPI 2.0's 60 minutes between nbf and exp.
const requestObjectLifetime = 5 * time.Minute

// requestKey is the key that signs request objects: the request key, else
// the private_key_jwt key (which may be the same one).
func (e *Engine) requestKey() (*assertionKey, error) {
	switch {
	case e.req.RequestKeyData.IsSet() || e.req.RequestKey != "":
		return loadRequestKey(e.req.RequestKey, e.req.RequestKeyData)
	case e.signer != nil:
		return e.signer, nil
	case e.req.PrivateKey != "" || e.req.PrivateKeyData.IsSet():
		return loadAssertionKey(e.req.PrivateKey, e.req.PrivateKeyData, e.req.KeyID)
	}
	return nil, flows.Errorf(flows.ErrConfig, "%s needs a signing key: %s or %s", flows.FieldRequestObject, flows.FieldRequestKey, flows.FieldPrivateKey)
}

// loadRequestKey reads a PEM or JWK private key for request objects; a
// PEM key's kid is its RFC 7638 thumbprint.
func loadRequestKey(path string, inline flows.Secret) (*assertionKey, error) {
	return loadSigningKey(flows.FieldRequestKey, path, inline, "")
}

// requestObject signs the authorization parameters as an RFC 9101 request
// object: every parameter as a claim, plus iss = client_id, aud = issuer,
// iat, nbf, exp and a random jti. The decoded object is shown as a step.
func (e *Engine) requestObject(r *run, m *Metadata, params url.Values) (string, error) {
	k, err := e.requestKey()
	if err != nil {
		return "", err
	}
	method := jwt.GetSigningMethod(k.alg)
	if method == nil || k.alg == "none" {
		return "", flows.Errorf(flows.ErrConfig, "%s: cannot sign with alg %q", flows.FieldRequestKey, k.alg)
	}
	aud := e.expectedIssuer(m)
	if aud == "" {
		return "", flows.Errorf(flows.ErrConfig, "%s: the request object's aud is the issuer; pass %s", flows.FieldRequestObject, flows.FieldIssuer)
	}
	jti, err := randomString(24)
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "request object: %v", err)
	}
	claims := jwt.MapClaims{}
	for name, vs := range params {
		claims[name] = requestClaim(name, vs)
	}
	now := e.now()
	claims["iss"] = e.req.ClientID
	claims["aud"] = aud
	claims["client_id"] = e.req.ClientID
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(requestObjectLifetime).Unix()
	claims["jti"] = jti
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = RequestObjectType
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	signed, err := tok.SignedString(k.signer)
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "request object: signing with %s: %v", k.alg, err)
	}
	if m != nil && len(m.RequestObjectSigningAlgs) > 0 && !slices.Contains(m.RequestObjectSigningAlgs, k.alg) {
		r.res.AddCheck(flows.Check{Name: "request object alg", Status: flows.Warn,
			Detail: fmt.Sprintf("signed with %s, but the server lists request_object_signing_alg_values_supported %v", k.alg, m.RequestObjectSigningAlgs)})
	}
	hb, _ := json.Marshal(tok.Header)
	cb, _ := json.Marshal(claims)
	r.note("request object", fmt.Sprintf("header %s claims %s", hb, cb), true)
	return signed, nil
}

// requestClaim is one parameter as a claim: JSON-valued parameters
// (authorization_details, claims) as JSON, max_age as a number (OIDC Core
// 6.1), repeated parameters (resource) as arrays, the rest as strings.
func requestClaim(name string, vs []string) any {
	if len(vs) > 1 {
		return append([]string(nil), vs...)
	}
	v := vs[0]
	switch name {
	case "authorization_details", "claims":
		if json.Valid([]byte(v)) {
			return json.RawMessage(v)
		}
	case "max_age":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return v
}
