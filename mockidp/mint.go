package mockidp

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// MintRequest is the body of POST /_authlab/mint: sign these claims with
// the IdP's current key, so tests and `authlab token mint --idp` get tokens
// the IdP's own resources trust with exactly the claims they choose.
type MintRequest struct {
	Claims json.RawMessage `json:"claims"`
	// Header holds extra header parameters; alg and kid are always the key's.
	Header map[string]any `json:"header,omitempty"`
	// Alg picks the current key (RS256, ES256, EdDSA); default the IdP's alg.
	Alg string `json:"alg,omitempty"`
	// Typ is the typ header; nil means at+jwt, "" means none.
	Typ *string `json:"typ,omitempty"`
	// Defaults adds iss (this IdP), iat (now, IdP clock), exp (+5 min) and a
	// fresh jti when the claims lack them. Off, the claims are signed as given.
	Defaults bool `json:"defaults,omitempty"`
}

// MintResponse is what the mint call answers.
type MintResponse struct {
	Token  string `json:"token"`
	Alg    string `json:"alg"`
	Kid    string `json:"kid"`
	Issuer string `json:"issuer"`
}

// maxMintClaims bounds the claims a mint call signs.
const maxMintClaims = 16 << 10

func (s *Server) adminMint(w http.ResponseWriter, r *http.Request) {
	var req MintRequest
	if err := readJSON(r, &req); err != nil {
		writeOAuthError(w, 400, "invalid_request", "mint: "+err.Error())
		return
	}
	resp, err := s.Mint(r, req)
	if err != nil {
		writeOAuthError(w, 400, "invalid_request", "mint: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, jsonBytes(resp))
}

// Mint signs req's claims with the current key for its alg. r (may be nil)
// names the issuer when the IdP derives it from the request's Host.
func (s *Server) Mint(r *http.Request, req MintRequest) (*MintResponse, error) {
	if len(req.Claims) > maxMintClaims {
		return nil, fmt.Errorf("claims larger than %d KiB", maxMintClaims>>10)
	}
	claims := map[string]any{}
	if len(bytes.TrimSpace(req.Claims)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(req.Claims))
		dec.UseNumber() // sign the digits that were sent
		if err := dec.Decode(&claims); err != nil || claims == nil {
			return nil, fmt.Errorf("claims must be a JSON object")
		}
	}
	alg := req.Alg
	if alg == "" {
		alg = s.cfg.Alg
	}
	k := s.keySet().current[alg]
	if k == nil {
		return nil, fmt.Errorf("alg %q: this IdP signs with RS256, ES256 or EdDSA", alg)
	}
	iss := s.Issuer()
	if r != nil {
		iss = s.issuerFor(r)
	}
	if req.Defaults {
		now := s.Now()
		setDefault(claims, "iss", iss)
		setDefault(claims, "iat", now.Unix())
		setDefault(claims, "exp", now.Add(5*time.Minute).Unix())
		var raw [16]byte
		rand.Read(raw[:])
		setDefault(claims, "jti", b64.EncodeToString(raw[:]))
	}
	hdr := map[string]any{}
	for name, v := range req.Header {
		hdr[name] = v
	}
	typ := "at+jwt"
	if req.Typ != nil {
		typ = *req.Typ
	}
	delete(hdr, "typ")
	if typ != "" {
		hdr["typ"] = typ
	}
	hdr["alg"], hdr["kid"] = k.Alg, k.Kid
	input := b64.EncodeToString(jsonBytes(hdr)) + "." + b64.EncodeToString(jsonBytes(claims))
	sig, err := signJWS(k.Alg, k.Priv, []byte(input))
	if err != nil {
		return nil, err
	}
	return &MintResponse{Token: input + "." + b64.EncodeToString(sig), Alg: k.Alg, Kid: k.Kid, Issuer: iss}, nil
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}
