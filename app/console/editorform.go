package console

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"authlab/store"
	"authlab/views/editor"
)

// The editor's form keys are the profile's JSON names (secrets under their
// secret kind). These tables are the one map between the two.

func formText(p *store.Profile) map[string]*string {
	return map[string]*string{
		"issuer": &p.Issuer, "token_url": &p.TokenURL, "target_url": &p.TargetURL, "auth_url": &p.AuthURL,
		"device_url": &p.DeviceURL, "introspect_url": &p.IntrospectURL, "revoke_url": &p.RevokeURL,
		"userinfo_url": &p.UserinfoURL, "jwks_url": &p.JWKSURL, "client_id": &p.ClientID, "auth_method": &p.AuthMethod,
		"cert_file": &p.CertFile, "key_file": &p.KeyFile, "ca_file": &p.CAFile,
		"hmac.scheme": &p.HMAC.Scheme, "hmac.key_id": &p.HMAC.KeyID, "hmac.label": &p.HMAC.Label,
		"hmac.components": &p.HMAC.Components, "hmac.region": &p.HMAC.Region, "hmac.service": &p.HMAC.Service,
		"hmac.access_key": &p.HMAC.AccessKey, "api_key_header": &p.APIKeyHeader, "api_key_query": &p.APIKeyQuery,
		"dpop_alg": &p.DPoPAlg, "response_mode": &p.ResponseMode, "prompt": &p.Prompt, "login_hint": &p.LoginHint,
		"acr_values": &p.ACRValues, "ui_locales": &p.UILocales, "assertion_aud": &p.AssertionAud, "kid": &p.KeyID,
		"username": &p.Username, "assertion_file": &p.AssertionFile,
	}
}

func formLists(p *store.Profile) map[string]*[]string {
	return map[string]*[]string{"scopes": &p.Scopes, "audience": &p.Audience, "resource": &p.Resource, "tags": &p.Tags}
}

func formBools(p *store.Profile) map[string]*bool {
	return map[string]*bool{"dpop": &p.DPoP, "par": &p.PAR, "request_object": &p.RequestObject, "fapi2": &p.FAPI2}
}

func formJSON(p *store.Profile) map[string]*json.RawMessage {
	return map[string]*json.RawMessage{"authorization_details": &p.AuthorizationDetails, "claims": &p.Claims, "assertion_claims": &p.AssertionClaims}
}

// storedPlaceholder stands in the form for a secret value the store keeps.
const storedPlaceholder = "<stored secret>"

// profileToForm fills every form key from a profile. Stored secret values
// never leave the store: the form holds a placeholder that saving keeps.
func profileToForm(p store.Profile) Form {
	f := Form{Name: p.Name, Kind: string(p.Kind), Fields: map[string]string{"notes": p.Notes}}
	for k, v := range formText(&p) {
		f.Fields[k] = *v
	}
	for k, v := range formLists(&p) {
		f.Fields[k] = strings.Join(*v, " ")
	}
	for k, v := range formBools(&p) {
		if *v {
			f.Fields[k] = "true"
		}
	}
	for k, v := range formJSON(&p) {
		f.Fields[k] = string(*v)
	}
	if p.RedirectPort != 0 {
		f.Fields["redirect_port"] = strconv.Itoa(p.RedirectPort)
	}
	if p.MaxAge != nil {
		f.Fields["max_age"] = strconv.Itoa(*p.MaxAge)
	}
	f.Fields["extra_params"] = editor.FormatParams(p.ExtraParams)
	for _, k := range store.SecretKinds() {
		if s, ok := p.Secrets[k]; ok && !s.IsZero() {
			if s.IsRef() {
				f.Fields[string(k)] = s.Ref() // a reference is shown as typed
			} else {
				f.Fields[string(k)] = storedPlaceholder
			}
		}
	}
	return f
}

// formToProfile applies a form to old (the zero profile for a new one): a
// key the form has sets its field, a key it lacks keeps old's value. dpop
// is the exception: the form says it only when DPoP applies, off otherwise.
// Bad input is a one-line error naming the field.
func formToProfile(f Form, old store.Profile) (store.Profile, error) {
	p := old
	p.Name, p.Kind = f.Name, store.Kind(f.Kind)
	v := f.Fields
	for k, dst := range formText(&p) {
		if s, ok := v[k]; ok {
			*dst = strings.TrimSpace(s)
		}
	}
	if s, ok := v["notes"]; ok {
		p.Notes = s // may span lines; kept as typed
	}
	for k, dst := range formLists(&p) {
		if s, ok := v[k]; ok {
			*dst = strings.Fields(s)
		}
	}
	for k, dst := range formBools(&p) {
		if s, ok := v[k]; ok || k == "dpop" {
			*dst = strings.TrimSpace(s) == "true"
		}
	}
	js := formJSON(&p)
	for _, k := range editor.JSONKeys() {
		s, ok := v[k]
		if !ok {
			continue
		}
		s = strings.TrimSpace(s)
		if msg := editor.JSONProblem(k, s); msg != "" {
			return p, fmt.Errorf("%s: %s", k, msg)
		}
		*js[k] = nil
		if s != "" {
			*js[k] = json.RawMessage(s)
		}
	}
	if s, ok := v["redirect_port"]; ok {
		n, err := formNumber(s)
		if err != nil {
			return p, fmt.Errorf("redirect_port: %v", err)
		}
		p.RedirectPort = 0
		if n != nil {
			p.RedirectPort = *n
		}
	}
	if s, ok := v["max_age"]; ok {
		n, err := formNumber(s)
		if err != nil {
			return p, fmt.Errorf("max_age: %v", err)
		}
		p.MaxAge = n
	}
	if s, ok := v["extra_params"]; ok {
		m, err := editor.ParseParams(s)
		if err != nil {
			return p, fmt.Errorf("extra_params: %v", err)
		}
		p.ExtraParams = m
	}
	if _, shown := v["token_url"]; !shown && (p.Kind == store.KindHMAC || p.Kind == store.KindAPIKey) && p.TargetURL != "" {
		p.TokenURL = "" // left from another kind: such a profile has no token endpoint
	}
	p.Secrets = map[store.SecretKind]store.Secret{}
	// Secrets the form does not show are kept with the hosts they were
	// confirmed for.
	for k := range old.Secrets {
		p.Secrets[k] = store.KeepStored()
	}
	for _, k := range store.SecretKinds() {
		val, shown := v[string(k)]
		if !shown {
			continue
		}
		val = strings.TrimSpace(val)
		switch {
		case val == "":
			delete(p.Secrets, k)
		case strings.HasPrefix(val, "<stored secret"), old.Secrets[k].IsRef() && val == old.Secrets[k].Ref():
			// Left as it was: kept with its confirmation, which a changed
			// URL does not extend (the store says so).
			p.Secrets[k] = store.KeepStored()
		default:
			p.Secrets[k] = store.ParseSecret(val) // typed here: confirmed for the form's hosts
		}
	}
	return p, nil
}

// formNumber reads a whole number, 0 or more; nil for empty.
func formNumber(s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%q is not a whole number, 0 or more", s)
	}
	return &n, nil
}
