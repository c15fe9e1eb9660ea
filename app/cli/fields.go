package cli

import (
	"errors"
	"strings"

	"authlab/flows"
	"authlab/flows/hmac"
)

// flagFor names the flag that sets an engine field: the engine's messages
// name fields (flows.Field), the command line says which flag to pass. Most
// are the field's name with dashes; the rest are listed.
func flagFor(f flows.Field) string {
	switch f {
	case flows.FieldCallURL:
		return "--call"
	case flows.FieldCertFile:
		return "--cert"
	case flows.FieldKeyFile:
		return "--key"
	case flows.FieldCAFile:
		return "--ca"
	case flows.FieldExtraParams:
		return "--param"
	}
	return "--" + strings.ReplaceAll(string(f), "_", "-")
}

// hmacFlagFor is flagFor for `authlab flow hmac`, whose key flag is --key.
func hmacFlagFor(f flows.Field) string {
	if f == hmac.FieldKey {
		return "--key"
	}
	return flagFor(f)
}

// explainFlags rewrites the message of a flows error in err's chain in the
// command line's terms (flags for fields) and returns err.
func explainFlags(err error, name func(flows.Field) string) error {
	var fe *flows.Error
	if errors.As(err, &fe) {
		fe.Message = fe.Explain(name)
	}
	return err
}

// explainResult is explainFlags for a result's error.
func explainResult(res *flows.Result, name func(flows.Field) string) {
	if res != nil && res.Err != nil {
		res.Err.Message = res.Err.Explain(name)
	}
}
