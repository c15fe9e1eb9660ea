package dpop

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"authlab/flows"
)

// privateMembers are JWK members that only a private (or symmetric) key has.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Decoded is a proof split into its parts, unverified.
type Decoded struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	raw    struct {
		Typ string          `json:"typ"`
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}
}

// Decode splits a compact JWS into header and claims without verifying it.
func Decode(proof string) (*Decoded, error) {
	parts := strings.Split(strings.TrimSpace(proof), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS (%d parts, want 3)", len(parts))
	}
	d := &Decoded{}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header is not base64url: %v", err)
	}
	if err := json.Unmarshal(hb, &d.Header); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %v", err)
	}
	_ = json.Unmarshal(hb, &d.raw)
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("claims are not base64url: %v", err)
	}
	if err := json.Unmarshal(cb, &d.Claims); err != nil {
		return nil, fmt.Errorf("claims are not a JSON object: %v", err)
	}
	return d, nil
}

// IsProof reports whether a JWT's header says typ dpop+jwt.
func IsProof(token string) bool {
	d, err := Decode(token)
	return err == nil && strings.EqualFold(d.raw.Typ, Typ)
}

// VerifyOptions say what the proof is expected to match; empty fields are
// not checked (and say so).
type VerifyOptions struct {
	Method      string        // htm
	URL         string        // htu (query and fragment ignored)
	AccessToken string        // ath
	Nonce       string        // nonce
	JKT         string        // the key the proof must be signed with (cnf.jkt)
	Window      time.Duration // iat window either side of now; 5 min when zero
	Now         func() time.Time
}

// Verify checks a proof by RFC 9449 4.3 and returns one check per rule, the
// key's thumbprint and the decoded proof. It never returns early on a
// failed rule unless later rules cannot be evaluated.
func Verify(proof string, o VerifyOptions) ([]flows.Check, string, *Decoded) {
	var checks []flows.Check
	add := func(name string, st flows.Status, format string, args ...any) {
		checks = append(checks, flows.Check{Name: name, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	d, err := Decode(proof)
	if err != nil {
		add("dpop proof", flows.Fail, "%v", err)
		return checks, "", nil
	}
	if d.raw.Typ == Typ {
		add("dpop typ", flows.Pass, "typ %s", Typ)
	} else {
		add("dpop typ", flows.Fail, "typ %q, want %s (RFC 9449 4.2)", d.raw.Typ, Typ)
	}
	asym := false
	for _, a := range []string{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA", "Ed25519"} {
		if d.raw.Alg == a {
			asym = true
		}
	}
	if asym {
		add("dpop alg", flows.Pass, "%s (asymmetric)", d.raw.Alg)
	} else {
		add("dpop alg", flows.Fail, "alg %q is not an asymmetric JWS algorithm; none and HMAC are forbidden (RFC 9449 4.2)", d.raw.Alg)
	}
	jkt := ""
	var jwk jose.JSONWebKey
	switch {
	case len(d.raw.JWK) == 0:
		add("dpop jwk", flows.Fail, "no jwk in the header: a proof carries its public key (RFC 9449 4.2)")
	default:
		var members map[string]json.RawMessage
		_ = json.Unmarshal(d.raw.JWK, &members)
		var priv []string
		for _, m := range privateMembers {
			if _, ok := members[m]; ok {
				priv = append(priv, m)
			}
		}
		if err := jwk.UnmarshalJSON(d.raw.JWK); err != nil {
			add("dpop jwk", flows.Fail, "the header jwk is not a usable JWK: %v", err)
			break
		}
		if len(priv) > 0 || !jwk.IsPublic() {
			add("dpop jwk", flows.Fail, "the header jwk holds private key material (%s): the key is compromised, and RFC 9449 4.2 forbids it", strings.Join(priv, ", "))
			break
		}
		jkt, _ = Thumbprint(jwk)
		add("dpop jwk", flows.Pass, "public %s key, jkt %s", kty(jwk), jkt)
	}
	if asym && jkt != "" {
		jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(d.raw.Alg)})
		if err == nil {
			_, err = jws.Verify(jwk.Key)
		}
		if err != nil {
			add("dpop signature", flows.Fail, "does not verify with the header's own jwk: %v", err)
		} else {
			add("dpop signature", flows.Pass, "verified with the header's jwk")
		}
	}
	var c struct {
		JTI   *string     `json:"jti"`
		HTM   *string     `json:"htm"`
		HTU   *string     `json:"htu"`
		IAT   json.Number `json:"iat"`
		Nonce *string     `json:"nonce"`
		ATH   *string     `json:"ath"`
	}
	cb, _ := json.Marshal(d.Claims)
	_ = json.Unmarshal(cb, &c)
	if c.JTI == nil || *c.JTI == "" {
		add("dpop jti", flows.Fail, "no jti: the server cannot detect replays (RFC 9449 4.2)")
	} else {
		add("dpop jti", flows.Pass, "%s", *c.JTI)
	}
	switch {
	case c.HTM == nil:
		add("dpop htm", flows.Fail, "no htm claim")
	case o.Method == "":
		add("dpop htm", flows.Pass, "%s (not compared: give the request method)", *c.HTM)
	case *c.HTM != strings.ToUpper(o.Method):
		add("dpop htm", flows.Fail, "htm %q, but the request is %s", *c.HTM, strings.ToUpper(o.Method))
	default:
		add("dpop htm", flows.Pass, "%s", *c.HTM)
	}
	switch {
	case c.HTU == nil:
		add("dpop htu", flows.Fail, "no htu claim")
	case o.URL == "":
		add("dpop htu", flows.Pass, "%s (not compared: give the request URL)", *c.HTU)
	default:
		if why := HTUMismatch(*c.HTU, o.URL); why != "" {
			add("dpop htu", flows.Fail, "%s", why)
		} else {
			add("dpop htu", flows.Pass, "%s", *c.HTU)
		}
	}
	window := o.Window
	if window <= 0 {
		window = 5 * time.Minute
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if iat, err := c.IAT.Int64(); err != nil {
		add("dpop iat", flows.Fail, "no numeric iat claim")
	} else {
		off := time.Unix(iat, 0).Sub(now()).Round(time.Second)
		switch {
		case off > window:
			add("dpop iat", flows.Fail, "iat is %s in the future (window ±%s)", off, window)
		case off < -window:
			add("dpop iat", flows.Fail, "iat is %s old (window ±%s): a server refuses it as stale", -off, window)
		default:
			add("dpop iat", flows.Pass, "%s (%s from now, window ±%s)", time.Unix(iat, 0).UTC().Format(time.RFC3339), off, window)
		}
	}
	switch {
	case o.Nonce != "" && (c.Nonce == nil || subtle.ConstantTimeCompare([]byte(*c.Nonce), []byte(o.Nonce)) != 1):
		add("dpop nonce", flows.Fail, "the proof does not carry the expected nonce")
	case c.Nonce != nil:
		add("dpop nonce", flows.Pass, "carries a server nonce")
	}
	switch {
	case o.AccessToken != "" && c.ATH == nil:
		add("dpop ath", flows.Fail, "no ath: a proof sent with an access token must carry its hash (RFC 9449 4.2)")
	case o.AccessToken != "" && subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(ATH(o.AccessToken))) != 1:
		add("dpop ath", flows.Fail, "ath %s is not the hash of the given access token (%s)", *c.ATH, ATH(o.AccessToken))
	case o.AccessToken != "":
		add("dpop ath", flows.Pass, "matches the access token")
	case c.ATH != nil:
		add("dpop ath", flows.Pass, "%s (not compared: give the access token)", *c.ATH)
	}
	if o.JKT != "" && jkt != "" {
		checks = append(checks, JKTCheck(o.JKT, jkt, "the proof key"))
	}
	return checks, jkt, d
}

func kty(k jose.JSONWebKey) string {
	b, _ := k.MarshalJSON()
	var m struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
	}
	_ = json.Unmarshal(b, &m)
	if m.Crv != "" {
		return m.Kty + " " + m.Crv
	}
	return m.Kty
}

// HTUMismatch compares a proof's htu with the request URL after RFC 3986
// syntax normalisation (case of scheme and host, default ports), ignoring
// query and fragment (RFC 9449 4.3 step 9); "" when they match, else which
// part differs.
func HTUMismatch(htu, target string) string {
	a, errA := url.Parse(htu)
	b, errB := url.Parse(target)
	if errA != nil || a.Host == "" {
		return fmt.Sprintf("htu %q is not an absolute URL", htu)
	}
	if errB != nil || b.Host == "" {
		return fmt.Sprintf("request URL %q is not an absolute URL", target)
	}
	if !strings.EqualFold(a.Scheme, b.Scheme) {
		return fmt.Sprintf("htu scheme %q, but the request went to %s", a.Scheme, b.Scheme)
	}
	if normHost(a) != normHost(b) {
		return fmt.Sprintf("htu host %q, but the request went to %s", a.Host, b.Host)
	}
	pa, pb := a.EscapedPath(), b.EscapedPath()
	if pa == "" {
		pa = "/"
	}
	if pb == "" {
		pb = "/"
	}
	if pa != pb {
		return fmt.Sprintf("htu path %q, but the request went to %s", pa, pb)
	}
	return ""
}

func normHost(u *url.URL) string {
	h, p := strings.ToLower(u.Hostname()), u.Port()
	if (p == "80" && strings.EqualFold(u.Scheme, "http")) || (p == "443" && strings.EqualFold(u.Scheme, "https")) {
		p = ""
	}
	if p == "" {
		return h
	}
	return h + ":" + p
}

// JKTCheck compares an expected thumbprint (our key's, or --dpop-jkt) with
// the one a token or proof names; fail names both.
func JKTCheck(want, got, what string) flows.Check {
	if got == "" {
		return flows.Check{Name: "cnf.jkt", Status: flows.Fail, Detail: fmt.Sprintf("%s names no key (no cnf.jkt), expected %s: the token is not DPoP-bound", what, want)}
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return flows.Check{Name: "cnf.jkt", Status: flows.Fail, Detail: fmt.Sprintf("%s is bound to jkt %s, but our key is %s", what, got, want)}
	}
	return flows.Check{Name: "cnf.jkt", Status: flows.Pass, Detail: fmt.Sprintf("%s is bound to our key (jkt %s)", what, got)}
}

// CnfJKT returns cnf.jkt of decoded token claims, or "".
func CnfJKT(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}
