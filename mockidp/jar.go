package mockidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// requestObjectType is the typ RFC 9101 4 gives request objects.
const requestObjectType = "oauth-authz-req+jwt"

// maxRequestObject caps a request object (it travels in a URL or a PAR body).
const maxRequestObject = 16 << 10

// publicKeyAlgs are the algorithms of JWSs verified with registered keys
// (request objects, jwt-bearer grant assertions): never none, never a MAC.
func publicKeyAlgs() []string { return []string{"RS256", "PS256", "ES256", "EdDSA"} }

func errRequestObject(desc string) *oauthErr {
	return &oauthErr{http.StatusBadRequest, "invalid_request_object", desc, false}
}

// requestObjectParams verifies the request object of an authorization or
// PAR request (RFC 9101 6): signed by the client's registered keys, typ
// oauth-authz-req+jwt when given, iss = client_id, aud = the issuer, exp,
// nbf not in the future and at most an hour before exp, and a jti not seen
// before. Its claims become the parameters; the outer ones only name the
// client (RFC 9101 5).
func (s *Server) requestObjectParams(r *http.Request, c *clientInfo, outer map[string]string) (map[string]string, *oauthErr) {
	raw := outer["request"]
	if len(raw) > maxRequestObject {
		return nil, errRequestObject("request object larger than 16 KiB")
	}
	if len(c.pubs) == 0 {
		return nil, errRequestObject("client " + c.ID + " has no registered keys (jwks) to verify a request object with")
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods(publicKeyAlgs()), jwt.WithoutClaimsValidation())
	var typ any
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		typ = t.Header["typ"]
		kid, _ := t.Header["kid"].(string)
		var vs jwt.VerificationKeySet
		for pub := range c.selected(kid) {
			vs.Keys = append(vs.Keys, pub)
		}
		if len(vs.Keys) == 0 {
			return nil, errors.New("no registered key has kid " + strconv.Quote(kid))
		}
		return vs, nil
	})
	if err != nil {
		return nil, errRequestObject("request object: " + err.Error())
	}
	if typ != nil && typ != requestObjectType {
		return nil, errRequestObject(fmt.Sprintf("request object typ %v, want %s (RFC 9101 4)", typ, requestObjectType))
	}
	str := func(k string) string { v, _ := claims[k].(string); return v }
	iss := s.issuerFor(r)
	aud, _ := claims.GetAudience()
	now := s.Now()
	exp, _ := claims.GetExpirationTime()
	nbf, _ := claims.GetNotBefore()
	switch {
	case str("iss") != c.ID:
		return nil, errRequestObject("request object iss must be the client_id " + c.ID)
	case claims["client_id"] != nil && str("client_id") != c.ID:
		return nil, errRequestObject("request object client_id differs from the request's client_id")
	case !slices.Contains(aud, iss):
		return nil, errRequestObject("request object aud must be the issuer " + iss)
	case exp == nil:
		return nil, errRequestObject("request object has no exp")
	case !now.Before(exp.Time):
		return nil, errRequestObject("request object expired at " + exp.UTC().Format(time.RFC3339))
	case nbf != nil && now.Add(time.Minute).Before(nbf.Time):
		return nil, errRequestObject("request object is not valid yet (nbf)")
	case nbf != nil && exp.Sub(nbf.Time) > time.Hour:
		return nil, errRequestObject("request object lives more than 60 minutes (exp - nbf)")
	}
	if jti := str("jti"); jti != "" {
		switch seen, full := s.st.spendJTI(now, assertionKey(c.ID, "request_object:"+jti), exp.Time); {
		case seen:
			return nil, errRequestObject("request object jti already used")
		case full:
			return nil, &oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "replay cache full", false}
		}
	}
	p := map[string]string{"client_id": c.ID}
	for _, k := range authzParams {
		v, ok := claims[k]
		if !ok || k == "request" || k == "request_uri" {
			continue
		}
		switch t := v.(type) {
		case string:
			p[k] = t
		case float64:
			p[k] = strconv.FormatFloat(t, 'f', -1, 64)
		default:
			b, _ := json.Marshal(t) // authorization_details: kept as JSON
			p[k] = string(b)
		}
		if len(p[k]) > maxAuthzParam {
			return nil, errRequestObject("request object claim " + k + " is longer than 2 KiB")
		}
	}
	return p, nil
}
