package token

import (
	"context"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
)

// Kind is what a token is meant to be; it decides the typ and lifetime checks.
type Kind string

const (
	KindUnknown Kind = ""
	KindAccess  Kind = "access"
	KindID      Kind = "id"
)

// DefaultLeeway is the clock tolerance of the time checks.
const DefaultLeeway = 60 * time.Second

// DefaultMaxLifetime is the access-token lifetime above which a warning is given.
const DefaultMaxLifetime = 24 * time.Hour

// Options say what to verify a token against. Zero values mean "not known,
// not checked", except Now (time.Now) and Leeway (DefaultLeeway).
type Options struct {
	Now func() time.Time
	// Leeway is the clock tolerance; 0 means DefaultLeeway, negative means none.
	Leeway      time.Duration
	Issuer      string   // expected iss
	Audience    []string // acceptable aud values (any one must be present)
	Nonce       string   // expected nonce (ID tokens)
	AccessToken string   // for at_hash
	Code        string   // for c_hash
	// ClientCert is the mTLS client certificate (RFC 8705 cnf.x5t#S256);
	// ClientCertDER may be given instead.
	ClientCert    *x509.Certificate
	ClientCertDER []byte
	Kind          Kind
	// Algs is the allow-list of signature algorithms; empty means every
	// asymmetric algorithm, plus HS* when the keys are a shared secret.
	Algs []string
	Keys KeySource // nil: decode and check, but do not verify
	// DecryptKey opens JWE tokens: an *rsa.PrivateKey, an *ecdsa.PrivateKey
	// or a jose.JSONWebKey holding one (see ParseDecryptKey). Nil: a JWE is
	// named with its alg and enc, not opened.
	DecryptKey crypto.PrivateKey
	// Roots are the CAs an x5c header chain must lead to; nil means the
	// system roots. RootsName names them in messages ("CA file ca.pem").
	Roots     *x509.CertPool
	RootsName string
	// MaxLifetime is the lifetime above which access tokens get a warning.
	MaxLifetime time.Duration
}

func (o *Options) leeway() time.Duration {
	switch {
	case o.Leeway == 0:
		return DefaultLeeway
	case o.Leeway < 0:
		return 0
	}
	return o.Leeway
}

// Report is the outcome of Inspect.
type Report struct {
	Token    *Decoded      `json:"token"`
	Kind     Kind          `json:"kind,omitempty"` // as given, or guessed from the claims
	Verified bool          `json:"verified"`
	KeyID    string        `json:"kid,omitempty"` // the key that verified the signature
	Alg      string        `json:"alg,omitempty"`
	KeyDesc  string        `json:"key,omitempty"` // "RSA 2048-bit from JWKS https://…"
	Checks   []flows.Check `json:"checks"`
	Now      time.Time     `json:"now"`
	Leeway   time.Duration `json:"leeway_ns"`
	// JWE is the encrypted token when Token is the JWT decrypted from it.
	JWE *Decoded `json:"jwe,omitempty"`

	verifiedBy crypto.PublicKey // the key that verified the signature
	keyFromX5C bool             // ... taken from the token's own trusted x5c leaf
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return !flows.AnyFailed(r.Checks) }

// FirstFailure returns the first failed check, for the one-line stderr summary.
func (r *Report) FirstFailure() (flows.Check, bool) {
	for _, c := range r.Checks {
		if c.Status == flows.Fail {
			return c, true
		}
	}
	return flows.Check{}, false
}

// Inspect decodes raw and runs every check that opts make possible. The
// error is non-nil only when raw cannot be decoded at all.
func Inspect(ctx context.Context, raw string, opts Options) (*Report, error) {
	d, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	return InspectDecoded(ctx, d, opts), nil
}

// InspectDecoded runs the checks on an already decoded token.
func InspectDecoded(ctx context.Context, d *Decoded, opts Options) *Report {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	r := &Report{Token: d, Now: now(), Leeway: opts.leeway(), Checks: make([]flows.Check, 0, 10)}
	add := func(name string, st flows.Status, format string, args ...any) {
		r.Checks = append(r.Checks, flows.Check{Name: name, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	switch d.Format {
	case FormatOpaque:
		add("format", flows.Warn, "opaque token (%d bytes, sha256 %s…): not a JWT, so nothing to decode; ask the issuer's introspection endpoint (authlab flow introspect)", d.Length, d.Fingerprint[:12])
		return r
	case FormatJWE:
		if opts.DecryptKey == nil {
			add("format", flows.Warn, "encrypted token (JWE, alg %s, enc %s): the claims are only readable with the recipient's private key", d.Alg(), d.HeaderString("enc"))
			return r
		}
		inner := decryptJWE(d, &opts, r)
		if inner == nil {
			return r
		}
		r.JWE, r.Token, d = d, inner, inner
	}
	r.Kind = opts.Kind
	if r.Kind == KindUnknown {
		r.Kind = GuessKind(d)
	}
	x5c := checkX5C(d, &opts, r.Now)
	if opts.Keys == nil && x5c.trusted {
		// A chain to a trusted CA is a key source of its own.
		opts.Keys, r.keyFromX5C = x5cKeys(x5c.leaf), true
	}
	verifySignature(ctx, d, &opts, r)
	x5cChecks(x5c, r)
	checkHeaderWarnings(d, r)
	checkTimes(d, &opts, r)
	checkIdentity(d, &opts, r)
	checkBindings(d, &opts, r)
	return r
}

// GuessKind tells access from ID tokens by their typ and claims.
func GuessKind(d *Decoded) Kind {
	if isATJWT(d.Typ()) {
		return KindAccess
	}
	for _, c := range []string{"nonce", "at_hash", "c_hash", "auth_time", "s_hash"} {
		if _, ok := d.Claims[c]; ok {
			return KindID
		}
	}
	for _, c := range []string{"scope", "scp", "client_id", "cnf"} {
		if _, ok := d.Claims[c]; ok {
			return KindAccess
		}
	}
	return KindUnknown
}

func checkHeaderWarnings(d *Decoded, r *Report) {
	for _, h := range []string{"jku", "x5u"} {
		if v := d.HeaderString(h); v != "" {
			r.Checks = append(r.Checks, flows.Check{Name: "header " + h, Status: flows.Warn,
				Detail: fmt.Sprintf("the header points at a key URL (%s: %s); authlab did not follow it, and no verifier should trust keys a token names itself", h, v)})
		}
	}
	if v, ok := d.Header["crit"]; ok {
		r.Checks = append(r.Checks, flows.Check{Name: "header crit", Status: flows.Warn,
			Detail: fmt.Sprintf("crit lists %v: verifiers that do not understand these header parameters must reject the token (RFC 7515 §4.1.11)", v)})
	}
}

func checkTimes(d *Decoded, o *Options, r *Report) {
	now, lw := r.Now, r.Leeway
	lwText := "leeway " + HumanDuration(lw)
	exp, hasExp := d.Time("exp")
	switch {
	case !hasExp && r.Kind != KindUnknown:
		r.add("exp", flows.Fail, "no exp claim: the token never expires, and %s tokens must carry one", r.Kind)
	case !hasExp:
		r.add("exp", flows.Warn, "no exp claim: the token never expires")
	case now.After(exp.Add(lw)):
		r.add("exp", flows.Fail, "expired %s ago (at %s); %s", HumanDuration(now.Sub(exp)), stamp(exp), lwText)
	case now.After(exp):
		r.add("exp", flows.Warn, "expired %s ago (at %s), accepted only because of the %s", HumanDuration(now.Sub(exp)), stamp(exp), lwText)
	default:
		r.addText("exp", flows.Pass, "expires in "+HumanDuration(exp.Sub(now))+" (at "+stamp(exp)+")")
	}
	if nbf, ok := d.Time("nbf"); ok {
		switch {
		case nbf.After(now.Add(lw)):
			r.add("nbf", flows.Fail, "not valid for another %s (nbf %s); %s — is the issuer's clock ahead?", HumanDuration(nbf.Sub(now)), stamp(nbf), lwText)
		case nbf.After(now):
			r.add("nbf", flows.Warn, "valid only in %s (nbf %s), accepted because of the %s", HumanDuration(nbf.Sub(now)), stamp(nbf), lwText)
		default:
			r.addText("nbf", flows.Pass, "valid since "+HumanDuration(now.Sub(nbf))+" ago")
		}
	}
	iat, hasIat := d.Time("iat")
	switch {
	case !hasIat && r.Kind != KindUnknown:
		r.add("iat", flows.Warn, "no iat claim: the issue time is unknown (%s tokens should carry one)", r.Kind)
	case !hasIat:
	case iat.After(now.Add(lw)):
		r.add("iat", flows.Fail, "issued %s in the future (iat %s); %s — the issuer's clock is ahead of yours", HumanDuration(iat.Sub(now)), stamp(iat), lwText)
	case iat.After(now):
		r.add("iat", flows.Warn, "issued %s in the future (iat %s), within the %s", HumanDuration(iat.Sub(now)), stamp(iat), lwText)
	default:
		r.addText("iat", flows.Pass, "issued "+HumanDuration(now.Sub(iat))+" ago")
	}
	if hasExp {
		start, from := iat, "iat"
		if !hasIat {
			start, hasIat = d.Time("nbf")
			from = "nbf"
		}
		if hasIat {
			life := exp.Sub(start)
			max := o.MaxLifetime
			if max <= 0 {
				max = DefaultMaxLifetime
			}
			switch {
			case life <= 0:
				r.add("lifetime", flows.Fail, "exp is %s before %s: the token was never valid", HumanDuration(-life), from)
			case life > max && r.Kind != KindID:
				r.add("lifetime", flows.Warn, "lives %s (%s to exp), longer than %s: a leaked access token stays usable that long", HumanDuration(life), from, HumanDuration(max))
			default:
				r.addText("lifetime", flows.Pass, "lives "+HumanDuration(life)+" ("+from+" to exp)")
			}
		}
	}
}

func (r *Report) add(name string, st flows.Status, format string, args ...any) {
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: st, Detail: fmt.Sprintf(format, args...)})
}

// addText is add without formatting, for the hot pass paths.
func (r *Report) addText(name string, st flows.Status, detail string) {
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: st, Detail: detail})
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func checkIdentity(d *Decoded, o *Options, r *Report) {
	iss, hasIss := d.Claims["iss"]
	if o.Issuer != "" {
		s, _ := iss.(string)
		switch {
		case !hasIss:
			r.add("iss", flows.Fail, "no iss claim; expected %q", o.Issuer)
		case s == o.Issuer:
			r.addText("iss", flows.Pass, s)
		case strings.TrimRight(s, "/") == strings.TrimRight(o.Issuer, "/"):
			r.add("iss", flows.Fail, "iss is %q, expected %q: they differ only in the trailing slash, and issuers are compared exactly", s, o.Issuer)
		default:
			r.add("iss", flows.Fail, "iss is %q, expected %q", iss, o.Issuer)
		}
	}
	auds := d.Audience()
	if len(o.Audience) > 0 {
		_, hasAud := d.Claims["aud"]
		switch {
		case !hasAud:
			r.add("aud", flows.Fail, "no aud claim; expected %s", strings.Join(o.Audience, " or "))
		case len(auds) == 0:
			r.add("aud", flows.Fail, "aud is %s, not a string or a list of strings", describeJSON(d.Claims["aud"]))
		default:
			match := ""
			for _, a := range auds {
				if slices.Contains(o.Audience, a) {
					match = a
					break
				}
			}
			if match != "" {
				r.addText("aud", flows.Pass, "includes "+match)
			} else {
				r.add("aud", flows.Fail, "aud is %s, expected %s", quoteList(auds), strings.Join(o.Audience, " or "))
			}
		}
	}
	if r.Kind == KindID {
		azp, hasAzp := d.Claims["azp"].(string)
		switch {
		case hasAzp && len(o.Audience) > 0 && !slices.Contains(o.Audience, azp):
			r.add("azp", flows.Fail, "azp is %q, expected your client id %s (the token was issued to another client)", azp, strings.Join(o.Audience, " or "))
		case hasAzp && len(o.Audience) > 0:
			r.add("azp", flows.Pass, "%s", azp)
		case !hasAzp && len(auds) > 1:
			r.add("azp", flows.Warn, "the ID token has %d audiences but no azp naming the client it was issued to (OIDC Core §2)", len(auds))
		}
	}
	typ := d.Typ()
	atjwt := isATJWT(typ)
	switch {
	case r.Kind == KindAccess && atjwt:
		r.addText("typ", flows.Pass, typ+" (RFC 9068 access token)")
	case r.Kind == KindAccess:
		r.add("typ", flows.Warn, "typ is %s; RFC 9068 access tokens say at+jwt, and resource servers that follow it reject anything else", orNone(typ))
	case r.Kind == KindID && atjwt:
		r.add("typ", flows.Fail, "typ %s marks an access token, but it is used as an ID token (token confusion)", typ)
	case typ == "" || strings.EqualFold(typ, "jwt") || strings.EqualFold(typ, "application/jwt"):
		r.addText("typ", flows.Pass, orNone(typ))
	default:
		r.add("typ", flows.Warn, "unusual typ %q", typ)
	}
	if o.Nonce != "" {
		n, ok := d.Claims["nonce"].(string)
		switch {
		case !ok:
			r.add("nonce", flows.Fail, "no nonce claim, but the authorization request sent one")
		case subtle.ConstantTimeCompare([]byte(n), []byte(o.Nonce)) == 1:
			r.add("nonce", flows.Pass, "matches the nonce sent")
		default:
			r.add("nonce", flows.Fail, "does not match the nonce sent in the authorization request (replayed or mixed-up ID token?)")
		}
	}
	hashCheck(d, r, "at_hash", "access token", o.AccessToken)
	hashCheck(d, r, "c_hash", "authorization code", o.Code)
}

func hashCheck(d *Decoded, r *Report, claim, what, value string) {
	if value == "" {
		return
	}
	got, ok := d.Claims[claim].(string)
	if !ok {
		if r.Kind == KindID {
			r.add(claim, flows.Warn, "no %s: the ID token does not bind the %s (optional in the code flow)", claim, what)
		}
		return
	}
	want, err := HalfHash(d.Alg(), value)
	if err != nil {
		r.add(claim, flows.Fail, "%v", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		r.add(claim, flows.Pass, "matches the %s", what)
	} else {
		r.add(claim, flows.Fail, "%s is %s, but the %s hashes to %s: they were not issued together", claim, got, what, want)
	}
}

func checkBindings(d *Decoded, o *Options, r *Report) {
	cnf, _ := d.Claims["cnf"].(map[string]any)
	x5t, _ := cnf["x5t#S256"].(string)
	der := o.ClientCertDER
	if o.ClientCert != nil {
		der = o.ClientCert.Raw
	}
	switch {
	case x5t != "" && der != nil:
		want := flows.Thumbprint(der)
		if subtle.ConstantTimeCompare([]byte(x5t), []byte(want)) == 1 {
			r.add("cnf", flows.Pass, "bound to your client certificate (x5t#S256 %s)", x5t)
		} else {
			r.add("cnf", flows.Fail, "bound to certificate x5t#S256 %s, but yours is %s: resource servers will reject it over this connection (RFC 8705)", x5t, want)
		}
	case x5t != "":
		r.add("cnf", flows.Warn, "bound to a client certificate (x5t#S256 %s); pass the certificate to check it (RFC 8705)", x5t)
	case der != nil:
		r.add("cnf", flows.Warn, "a client certificate was given, but the token is not bound to one (no cnf.x5t#S256)")
	}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// HumanDuration renders a duration the way the checks speak: "42 s",
// "4m12s", "3h05m", "2d4h". (strconv, not fmt: it runs on every check.)
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	two := func(n int64) string {
		if n < 10 {
			return "0" + itoa(n)
		}
		return itoa(n)
	}
	switch {
	case d == 0:
		return "0 s"
	case d < time.Second:
		return itoa(d.Milliseconds()) + " ms"
	case d < time.Minute:
		return itoa(int64(d/time.Second)) + " s"
	case d < time.Hour:
		return itoa(int64(d/time.Minute)) + "m" + two(int64(d%time.Minute/time.Second)) + "s"
	case d < 48*time.Hour:
		return itoa(int64(d/time.Hour)) + "h" + two(int64(d%time.Hour/time.Minute)) + "m"
	}
	return itoa(int64(d/(24*time.Hour))) + "d" + itoa(int64(d%(24*time.Hour)/time.Hour)) + "h"
}

// isATJWT reports whether typ marks an RFC 9068 access token.
func isATJWT(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}
