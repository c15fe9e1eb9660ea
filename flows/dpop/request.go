package dpop

import "authlab/flows"

// KeyData is the PEM or JWK of the DPoP key a request names: its key data,
// else its key file, read with flows.ReadFileCapped so that a key pasted
// where the path belongs is never echoed in the error. nil when the
// request names no key (the caller generates one, or has none to use).
func KeyData(req *flows.Request) ([]byte, error) {
	switch {
	case req.DPoPKeyData.IsSet():
		return []byte(req.DPoPKeyData.Reveal()), nil
	case req.DPoPKey != "":
		b, err := flows.ReadFileCapped(req.DPoPKey, flows.MaxKeyFileSize)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldDPoPKey, err)
		}
		return b, nil
	}
	return nil, nil
}
