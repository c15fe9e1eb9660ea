package store

import (
	"fmt"
	"strings"

	"authlab/flows"
)

// CallURLParam is the extra parameter under which a profile keeps the
// resource URL that "call API" uses (profiles have no field of their own for it).
const CallURLParam = "call_url"

// FlowRequest builds the OAuth request this profile describes, resolving its
// secret references. flow "" runs the profile's own flow (its kind; an mtls
// profile runs client credentials with tls_client_auth); any other OAuth flow
// name runs with the profile's settings (refresh, introspect, revoke, ...).
// This is the one converter the command line, the console and bench share.
func (p Profile) FlowRequest(flow string) (flows.Request, error) {
	req := flows.Request{
		Flow:   flow,
		Issuer: p.Issuer,
		Endpoints: flows.Endpoints{Token: p.TokenURL, Auth: p.AuthURL, Device: p.DeviceURL,
			Introspect: p.IntrospectURL, Revoke: p.RevokeURL, Userinfo: p.UserinfoURL, JWKS: p.JWKSURL},
		ClientID: p.ClientID, Scopes: p.Scopes, Audience: p.Audience, Resource: p.Resource,
		CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: p.CAFile, RedirectPort: p.RedirectPort,
	}
	m, err := flows.ParseAuthMethod(p.AuthMethod)
	if err != nil {
		return req, fmt.Errorf("auth method: %v", err)
	}
	req.AuthMethod = m
	if req.Flow == "" {
		switch p.Kind {
		case KindClientCredentials, KindAuthCode, KindDevice, KindTokenExchange, KindPassword, KindJWTBearer:
			req.Flow = string(p.Kind)
		case KindMTLS:
			req.Flow = flows.FlowClientCredentials
			if req.AuthMethod == "" {
				req.AuthMethod = flows.AuthTLSClient
			}
		default:
			return req, fmt.Errorf("a %s profile runs no OAuth flow (use authlab flow %s)", p.Kind, p.Kind)
		}
	}
	for k, v := range p.ExtraParams {
		if k == CallURLParam {
			req.CallURL = v
			continue
		}
		if req.ExtraParams == nil {
			req.ExtraParams = map[string][]string{}
		}
		req.ExtraParams.Set(k, v)
	}
	if req.CallURL == "" && p.Kind.usesTargetURL() {
		req.CallURL = p.TargetURL // the resource such a profile talks to
	}
	if s, ok := p.Secrets[ClientSecret]; ok && !s.IsZero() {
		v, err := s.Resolve()
		if err != nil {
			return req, fmt.Errorf("client secret: %v", err)
		}
		req.ClientSecret = flows.Secret(v)
	}
	req.DPoP, req.DPoPAlg = p.DPoP, p.DPoPAlg
	req.Shape = p.Shape.Clone()
	if err := p.grantRequest(&req); err != nil {
		return req, err
	}
	if s, ok := p.Secrets[DPoPKey]; ok && !s.IsZero() {
		v, err := s.Resolve()
		if err != nil {
			return req, fmt.Errorf("DPoP key: %v", err)
		}
		// Like the private key: inline PEM / JWK, or a path.
		if t := strings.TrimSpace(v); strings.HasPrefix(t, "-----BEGIN") || strings.HasPrefix(t, "{") {
			req.DPoPKeyData = flows.Secret(v)
		} else {
			req.DPoPKey = t
		}
		req.DPoP = true
	}
	if s, ok := p.Secrets[PrivateKey]; ok && !s.IsZero() {
		v, err := s.Resolve()
		if err != nil {
			return req, fmt.Errorf("private key: %v", err)
		}
		// The key inline (PEM / JWK), or — what people type — a path to it.
		if t := strings.TrimSpace(v); strings.HasPrefix(t, "-----BEGIN") || strings.HasPrefix(t, "{") {
			req.PrivateKeyData = flows.Secret(v)
		} else {
			req.PrivateKey = t
		}
	}
	return req, nil
}

// grantRequest resolves the secrets of the password / jwt-bearer grants
// and the assertion kid (the Shape is copied whole by FlowRequest).
func (p Profile) grantRequest(req *flows.Request) error {
	req.KeyID = p.KeyID
	if s, ok := p.Secrets[Password]; ok && !s.IsZero() {
		v, err := s.Resolve()
		if err != nil {
			return fmt.Errorf("password: %v", err)
		}
		req.Password = flows.Secret(v)
	}
	if s, ok := p.Secrets[AssertionKey]; ok && !s.IsZero() {
		v, err := s.Resolve()
		if err != nil {
			return fmt.Errorf("assertion key: %v", err)
		}
		if t := strings.TrimSpace(v); strings.HasPrefix(t, "-----BEGIN") || strings.HasPrefix(t, "{") {
			req.AssertionKeyData = flows.Secret(v)
		} else {
			req.AssertionKey = t
		}
	}
	if p.AssertionFile != "" {
		b, err := flows.ReadFileCapped(p.AssertionFile, 64<<10)
		if err != nil {
			return fmt.Errorf("assertion file: %v", err)
		}
		req.Assertion = flows.Secret(strings.TrimSpace(string(b)))
	}
	return nil
}
