package cli

import (
	"github.com/spf13/pflag"

	"authlab/flows"
	"authlab/store"
)

// profileAuthzFlags are the authorization request flags of `authlab flow
// auth-code` (authzflags.go) that a profile keeps. --request-key is not
// among them: a profile signs its request object with its --private-key.
var profileAuthzFlags = []string{"par", "request-object", "response-mode", "authorization-details"}

// addProfileAuthzFlags registers profileAuthzFlags on fs exactly as `authlab
// flow` does (same help, same parsing), for the commands that save profiles.
func addProfileAuthzFlags(fs *pflag.FlagSet, a *authzFlags) {
	all := pflag.NewFlagSet("authz", pflag.ContinueOnError)
	addAuthzFlags(all, a)
	for _, name := range profileAuthzFlags {
		fs.AddFlag(all.Lookup(name))
	}
}

// fill copies the authorization request flags into p, checked the way a
// flow checks them (a known response mode, a JSON array of details).
func (a *authzFlags) fill(p *store.Profile) error {
	var req flows.Request
	if err := a.apply(&req); err != nil {
		return err
	}
	p.PAR, p.RequestObject, p.ResponseMode, p.AuthorizationDetails = req.PAR, req.RequestObject, req.ResponseMode, req.AuthorizationDetails
	return nil
}

// authzFlagFields map profileAuthzFlags to their profile fields. They are
// not in profileFlagFields: `authlab flow` and `authlab run` apply these
// flags to the request (authzFlags.apply), over the profile's settings.
func authzFlagFields() []profileFlagField {
	return []profileFlagField{
		{"par", "par", func(d, s *store.Profile) { d.PAR = s.PAR }},
		{"request-object", "request_object", func(d, s *store.Profile) { d.RequestObject = s.RequestObject }},
		{"response-mode", "response_mode", func(d, s *store.Profile) { d.ResponseMode = s.ResponseMode }},
		{"authorization-details", "authorization_details", func(d, s *store.Profile) { d.AuthorizationDetails = s.AuthorizationDetails }},
	}
}
