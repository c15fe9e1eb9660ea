package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"authlab/flows"
)

// AuthzRequestMetadata is the metadata about authorization requests: PAR
// (RFC 9126 5), JAR (RFC 9101 10.5), JARM and RAR (RFC 9396 10).
type AuthzRequestMetadata struct {
	PushedAuthorizationRequestEndpoint string   `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests,omitempty"`
	RequestParameterSupported          bool     `json:"request_parameter_supported,omitempty"`
	RequestObjectSigningAlgs           []string `json:"request_object_signing_alg_values_supported,omitempty"`
	RequireSignedRequestObject         bool     `json:"require_signed_request_object,omitempty"`
	ResponseModesSupported             []string `json:"response_modes_supported,omitempty"`
	AuthorizationSigningAlgs           []string `json:"authorization_signing_alg_values_supported,omitempty"`
	AuthorizationDetailsTypes          []string `json:"authorization_details_types_supported,omitempty"`
}

// parse reads these fields from a discovery document, field by field so
// an oddly typed one names itself.
func (a *AuthzRequestMetadata) parse(raw map[string]json.RawMessage) error {
	for name, dst := range map[string]any{
		"pushed_authorization_request_endpoint":       &a.PushedAuthorizationRequestEndpoint,
		"require_pushed_authorization_requests":       &a.RequirePushedAuthorizationRequests,
		"request_parameter_supported":                 &a.RequestParameterSupported,
		"request_object_signing_alg_values_supported": &a.RequestObjectSigningAlgs,
		"require_signed_request_object":               &a.RequireSignedRequestObject,
		"response_modes_supported":                    &a.ResponseModesSupported,
		"authorization_signing_alg_values_supported":  &a.AuthorizationSigningAlgs,
		"authorization_details_types_supported":       &a.AuthorizationDetailsTypes,
	} {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("field %s has the wrong type (%s)", name, flows.Snippet(v, 40))
		}
	}
	if u := a.PushedAuthorizationRequestEndpoint; u != "" {
		if err := httpURL(u); err != nil {
			return fmt.Errorf("pushed_authorization_request_endpoint: %v", err)
		}
	}
	return nil
}

// parEndpoint is the PAR endpoint: explicit, else discovered (its mTLS
// alias when a client certificate is in play, RFC 8705 5).
func (e *Engine) parEndpoint(ep flows.Endpoints, m *Metadata) string {
	if ep.PAR != "" || m == nil {
		return ep.PAR
	}
	if e.clientTLS != nil {
		if a := m.MTLSEndpointAliases["pushed_authorization_request_endpoint"]; a != "" {
			return a
		}
	}
	return m.PushedAuthorizationRequestEndpoint
}

// usePAR: asked for, or required by the server's metadata.
func (e *Engine) usePAR(m *Metadata) bool {
	return e.req.PAR || (m != nil && m.RequirePushedAuthorizationRequests)
}

// normaliseAuthorizationDetails checks that RAR details are a JSON array
// of objects with a string type (RFC 9396 2) and returns them compact.
func normaliseAuthorizationDetails(raw json.RawMessage) (string, error) {
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return "", flows.Errorf(flows.ErrConfig, "%s: want a JSON array of objects (RFC 9396 2): %v", flows.FieldAuthorizationDetails, err)
	}
	for i, o := range arr {
		var typ string
		if err := json.Unmarshal(o["type"], &typ); err != nil || typ == "" {
			return "", flows.Errorf(flows.ErrConfig, "%s: element %d has no string type (RFC 9396 2)", flows.FieldAuthorizationDetails, i)
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

// detailsTypes lists the type of each RAR element, for messages.
func detailsTypes(raw string) []string {
	var arr []struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal([]byte(raw), &arr)
	out := make([]string, 0, len(arr))
	for _, o := range arr {
		out = append(out, o.Type)
	}
	return out
}

// authorizationRequest turns the authorization parameters into the URL the
// browser opens: plain, as a request object (JAR), pushed (PAR) or both.
// base is the endpoint URL with its own query, which is kept.
func (e *Engine) authorizationRequest(ctx context.Context, r *run, ep flows.Endpoints, m *Metadata, base *url.URL, params url.Values) (string, error) {
	if e.req.RequestObject {
		obj, err := e.requestObject(r, m, params)
		if err != nil {
			return "", err
		}
		wrapped := url.Values{"client_id": {e.req.ClientID}, "request": {obj}}
		if !e.usePAR(m) {
			// OIDC Core 6.1: response_type and scope (with openid) stay outside
			// too, so the request is a valid OAuth one; RFC 9101 5 servers use
			// only the object's values.
			for _, k := range []string{"response_type", "scope"} {
				if v := params.Get(k); v != "" {
					wrapped.Set(k, v)
				}
			}
		}
		params = wrapped
	}
	q := base.Query()
	if e.usePAR(m) {
		uri, err := e.pushAuthorization(ctx, r, ep, m, params)
		if err != nil {
			return "", err
		}
		q.Set("client_id", e.req.ClientID)
		q.Set("request_uri", uri)
	} else {
		for k, vs := range params {
			q[k] = vs
		}
	}
	u := *base
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// pushAuthorization sends the authorization parameters to the PAR
// endpoint with client authentication (and a DPoP proof with a DPoP key),
// RFC 9126 2.1, and returns the request_uri to send instead.
func (e *Engine) pushAuthorization(ctx context.Context, r *run, ep flows.Endpoints, m *Metadata, params url.Values) (string, error) {
	const step = "pushed authorization request"
	target := e.parEndpoint(ep, m)
	if target == "" {
		why := "PAR was asked for"
		if !e.req.PAR {
			why = "the server requires PAR (require_pushed_authorization_requests)"
		}
		return "", flows.Errorf(flows.ErrConfig, "%s but the metadata names no pushed_authorization_request_endpoint; pass %s", why, flows.FieldPARURL)
	}
	var uri string
	err := r.step(step, func() (string, error) {
		// RFC 9126 2: the issuer is always an acceptable assertion audience.
		aud := e.expectedIssuer(m)
		if aud == "" {
			aud = target
		}
		resp, err := e.tokenPost(ctx, r, step, target, aud, params)
		if err != nil {
			return "", err
		}
		if resp.Status != 201 && resp.Status != 200 {
			return "", oauthError(step, target, resp)
		}
		obj, _, derr := decodeObject(resp)
		if derr != nil {
			return "", flows.Errorf(flows.ErrProtocol, "%s: %s answered HTTP %d with %v", step, target, resp.Status, derr)
		}
		uri = str(obj["request_uri"])
		if uri == "" {
			return "", flows.Errorf(flows.ErrProtocol, "%s: %s answered without request_uri (RFC 9126 2.2): %s", step, target, resp.Snippet())
		}
		exp := str(obj["expires_in"])
		if resp.Status != 201 {
			r.res.AddCheck(flows.Check{Name: "par status", Status: flows.Warn, Detail: fmt.Sprintf("the PAR endpoint answered HTTP %d; RFC 9126 2.2 says 201 Created", resp.Status)})
		}
		r.res.AddCheck(parLifetimeCheck(exp))
		return fmt.Sprintf("HTTP %d, request_uri %s, expires_in %s s", resp.Status, uri, orNone(exp)), nil
	})
	return uri, err
}

// parLifetimeCheck: expires_in is required (RFC 9126 2.2); a request_uri
// should live briefly (FAPI 2.0 5.3.2.2: under 600 s).
func parLifetimeCheck(exp string) flows.Check {
	c := flows.Check{Name: "par expires_in"}
	var n int64
	if _, err := fmt.Sscan(exp, &n); err != nil || exp == "" {
		c.Status, c.Detail = flows.Warn, "the PAR response has no numeric expires_in (required by RFC 9126 2.2)"
		return c
	}
	switch {
	case n <= 0:
		c.Status, c.Detail = flows.Warn, fmt.Sprintf("expires_in %d: the request_uri is already expired", n)
	case n >= 600:
		c.Status, c.Detail = flows.Warn, fmt.Sprintf("expires_in %d s: a request_uri should live less than 600 s (FAPI 2.0 5.3.2.2)", n)
	default:
		c.Status, c.Detail = flows.Pass, fmt.Sprintf("the request_uri lives %d s", n)
	}
	return c
}

// responseModeChecks validates the requested response mode against the
// listener and the metadata.
func (e *Engine) responseModeChecks(r *run, m *Metadata, ep flows.Endpoints) error {
	mode := e.req.ResponseMode
	if mode == "" {
		return nil
	}
	if !slices.Contains(flows.ResponseModes(), mode) {
		return flows.Errorf(flows.ErrConfig, "%s %q: one of %s", flows.FieldResponseMode, mode, strings.Join(flows.ResponseModes(), ", "))
	}
	if isJARM(mode) && ep.JWKS == "" {
		return flows.Errorf(flows.ErrConfig, "%s %s: a JARM response is verified with the issuer's keys, but there is no JWKS URL (pass %s or %s)", flows.FieldResponseMode, mode, flows.FieldIssuer, flows.FieldJWKSURL)
	}
	if m != nil && len(m.ResponseModesSupported) > 0 && !slices.Contains(m.ResponseModesSupported, mode) {
		r.res.AddCheck(flows.Check{Name: "response_mode", Status: flows.Warn, Detail: fmt.Sprintf("the server advertises response_modes_supported %v without %s; asking anyway", m.ResponseModesSupported, mode)})
	}
	return nil
}

// isJARM: the response mode asks for a signed response (JARM 2.3).
func isJARM(mode string) bool { return mode == "jwt" || strings.HasSuffix(mode, ".jwt") }

// delivery is how a response mode travels: query, fragment or form_post.
func delivery(mode string) string {
	switch mode {
	case "fragment", "fragment.jwt":
		return "fragment"
	case "form_post", "form_post.jwt":
		return "form_post"
	}
	return "query" // jwt means query.jwt for response_type code (JARM 2.3.4)
}

// grantedDetailsCheck reports the authorization_details the token
// response grants (RFC 9396 7), beside those requested.
func grantedDetailsCheck(requested string, tr *flows.TokenResponse) flows.Check {
	c := flows.Check{Name: "authorization_details"}
	g, ok := tr.Raw["authorization_details"]
	if !ok {
		c.Status, c.Detail = flows.Warn, fmt.Sprintf("requested %v, but the token response names no granted authorization_details (RFC 9396 7)", detailsTypes(requested))
		return c
	}
	b, _ := json.Marshal(g)
	c.Status, c.Detail = flows.Pass, fmt.Sprintf("granted %v: %s", detailsTypes(string(b)), flows.Snippet(b, 300))
	return c
}
