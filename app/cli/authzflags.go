package cli

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"authlab/flows"
)

// authzFlags shape the authorization request: PAR (RFC 9126), a request
// object (RFC 9101), the response mode (JARM among them) and RAR details
// (RFC 9396). Set flags override the profile's settings.
type authzFlags struct {
	par, requestObject bool
	requestKey         string
	responseMode       string
	details            string
}

func addAuthzFlags(fs *pflag.FlagSet, a *authzFlags) {
	fs.BoolVar(&a.par, "par", false, "push the authorization request first (RFC 9126 PAR); automatic when the server requires it")
	fs.BoolVar(&a.requestObject, "request-object", false, "send the authorization parameters as a signed request object (RFC 9101 JAR), signed with --request-key or --private-key")
	fs.StringVar(&a.requestKey, "request-key", "", "PEM or JWK private key file that signs the request object (default: --private-key)")
	fs.StringVar(&a.responseMode, "response-mode", "", "response_mode: "+strings.Join(flows.ResponseModes(), ", ")+" (the *.jwt modes are JARM, verified with the issuer's keys)")
	fs.StringVar(&a.details, "authorization-details", "", "RFC 9396 authorization_details: a JSON array, or @FILE")
}

// apply copies the set flags into req.
func (a *authzFlags) apply(req *flows.Request) error {
	req.PAR = req.PAR || a.par
	req.RequestObject = req.RequestObject || a.requestObject
	if a.requestKey != "" {
		req.RequestKey = a.requestKey
	}
	if a.responseMode != "" {
		if !slices.Contains(flows.ResponseModes(), a.responseMode) {
			return usageErr("--response-mode %q: one of %s", a.responseMode, strings.Join(flows.ResponseModes(), ", "))
		}
		req.ResponseMode = a.responseMode
	}
	if a.details != "" {
		raw, err := readDetails(a.details)
		if err != nil {
			return err
		}
		req.AuthorizationDetails = raw
	}
	return nil
}

// readDetails reads --authorization-details: inline JSON or @FILE.
func readDetails(v string) (json.RawMessage, error) {
	b, err := inlineOrFile(v)
	if err != nil {
		return nil, usageErr("--authorization-details: %v", err)
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		return nil, usageErr("--authorization-details: want a JSON array of objects (RFC 9396 2): %v", err)
	}
	return json.RawMessage(b), nil
}
