package flows

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// DPoPInfo is what a flow's DPoP use was: the key's thumbprint and
// algorithm, and how many nonce retries the servers asked for.
type DPoPInfo struct {
	JKT          string `json:"jkt"`
	Alg          string `json:"alg"`
	NonceRetries int    `json:"nonce_retries"`
	Ephemeral    bool   `json:"ephemeral,omitempty"`
}

// ProofView is a DPoP proof split into header and claims, for display.
type ProofView struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

// DecodeProofView decodes a DPoP header value without verifying it; nil
// when there is none or it is not a JWS. Private JWK members, should a
// broken client send them, are masked.
func DecodeProofView(proof string) *ProofView {
	parts := strings.Split(strings.TrimSpace(proof), ".")
	if len(parts) != 3 || len(proof) > 16<<10 {
		return nil
	}
	var v ProofView
	for i, dst := range []*map[string]any{&v.Header, &v.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return nil
		}
	}
	if jwk, ok := v.Header["jwk"].(map[string]any); ok {
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := jwk[m]; ok {
				jwk[m] = Masked
			}
		}
	}
	return &v
}
