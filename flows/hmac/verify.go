package hmac

import (
	chmac "crypto/hmac"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
)

// Problem kinds: the first thing a developer should fix.
const (
	ProblemMissingSignature = "missing-signature" // no Signature / Signature-Input / Authorization
	ProblemMalformed        = "malformed"         // a signature header does not parse
	ProblemUnknownKey       = "unknown-key"       // keyid not known to the verifier
	ProblemAlgorithm        = "algorithm"         // alg other than hmac-sha256
	ProblemNotCovered       = "not-covered"       // a required component is not covered
	ProblemMissingHeader    = "missing-header"    // a covered header is absent
	ProblemBodyDigest       = "body-digest"       // body does not match Content-Digest / payload hash
	ProblemComponentOrder   = "component-order"   // same components, different order
	ProblemCoveredDiffers   = "covered-differs"   // different components than expected
	ProblemValueChanged     = "value-changed"     // a covered value differs from what the signer saw
	ProblemKeyEncoding      = "key-encoding"      // the signer decoded the key differently
	ProblemSignature        = "signature"         // mismatch, no better explanation
	ProblemStale            = "stale"             // created / timestamp older than the tolerance
	ProblemFuture           = "future"            // created / timestamp ahead beyond the tolerance
	ProblemExpired          = "expired"           // expires has passed
	ProblemReplay           = "replay"            // nonce seen before
	ProblemMissingNonce     = "missing-nonce"     // nonce required but absent
	ProblemMissingCreated   = "missing-created"   // created required but absent
)

// Problem is the first actionable difference found by a verifier.
type Problem struct {
	Kind      string `json:"kind"`
	Component string `json:"component,omitempty"`
	Message   string `json:"message"`
}

// Result is a verifier's verdict with everything needed to explain it.
type Result struct {
	OK               bool          `json:"ok"`
	Scheme           string        `json:"scheme"`
	Label            string        `json:"label,omitempty"`
	KeyID            string        `json:"keyid,omitempty"`
	Covered          []string      `json:"covered,omitempty"`
	SignatureBase    string        `json:"signature_base,omitempty"` // ours, recomputed
	CanonicalRequest string        `json:"canonical_request,omitempty"`
	StringToSign     string        `json:"string_to_sign,omitempty"`
	Checks           []flows.Check `json:"checks"`
	Problem          *Problem      `json:"problem,omitempty"`
	// SignerBaseDiff is set when the signer's own base was supplied and it differs.
	SignerBaseDiff *LineDiff `json:"signer_base_diff,omitempty"`
}

// resultAlloc holds a Result and room for the checks and covered
// components a verification usually records, so they cost one allocation.
type resultAlloc struct {
	r       Result
	checks  [7]flows.Check
	covered [4]string
}

func newResultAlloc(scheme string) *resultAlloc {
	a := &resultAlloc{r: Result{Scheme: scheme}}
	a.r.Checks = a.checks[:0]
	return a
}

// coveredSlice returns room for n covered components.
func (a *resultAlloc) coveredSlice(n int) []string {
	if n <= len(a.covered) {
		return a.covered[:n:n]
	}
	return make([]string, n)
}

func (r *Result) pass(name, detail string) {
	if r.Checks == nil {
		r.Checks = make([]flows.Check, 0, 8)
	}
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: flows.Pass, Detail: detail})
}

func (r *Result) warn(name, detail string) {
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: flows.Warn, Detail: detail})
}

// fail records a failed check and, if none yet, the problem; returns r.
func (r *Result) fail(name, kind, component, detail string) *Result {
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: flows.Fail, Detail: detail})
	if r.Problem == nil {
		r.Problem = &Problem{Kind: kind, Component: component, Message: detail}
	}
	r.OK = false
	return r
}

// stop is fail for the general path's early exits: it returns false, "not verified".
func (r *Result) stop(name, kind, component, detail string) bool {
	r.fail(name, kind, component, detail)
	return false
}

// Err returns the problem as an error, nil when the request verified.
func (r *Result) Err() error {
	if r.OK {
		return nil
	}
	if r.Problem != nil {
		return errors.New(r.Problem.Message)
	}
	return errors.New("signature not verified")
}

// Verifier checks signed requests. The zero value is not usable: set a key
// (Key or Keys). It is safe for concurrent use when Keys is.
type Verifier struct {
	Key  Key                            // the key when Keys is nil
	Keys func(keyID string) (Key, bool) // per-keyid lookup (the mock IdP)
	// Tolerance bounds |now - created| and webhook timestamps; DefaultTolerance when 0.
	Tolerance time.Duration
	Now       func() time.Time // time.Now when nil
	// Nonces, when set, refuses a nonce seen within the window.
	Nonces       *NonceCache
	RequireNonce bool
	// RequireCreated refuses a signature without `created`: without it a
	// captured request could be replayed forever.
	RequireCreated bool
	// Required components must be covered (e.g. `"@method" "@target-uri"`).
	Required string
	// Label selects a signature; the first in Signature-Input when empty.
	Label string
	// Expected is what the user believes was covered: compared with what
	// was, to name a missing component or a different order.
	Expected string
	// SignerBase is the signature base the signer logged, when known; a
	// mismatch is then explained line by line.
	SignerBase string
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) tolerance() time.Duration {
	if v.Tolerance > 0 {
		return v.Tolerance
	}
	return DefaultTolerance
}

func (v *Verifier) key(id string) (Key, bool) {
	if v.Keys != nil {
		return v.Keys(id)
	}
	return v.Key, !v.Key.IsZero()
}

// Verify9421 verifies an RFC 9421 hmac-sha256 signature on m. The order of
// checks is structure, key, coverage, body digest, signature, then time and
// nonce, so an unsigned request can neither poison the nonce cache nor hide
// a bad signature behind a clock problem.
func (v *Verifier) Verify9421(m *Message) *Result {
	a := newResultAlloc(SchemeRFC9421)
	r := &a.r
	fresh, ok := v.verify9421Fast(a, m)
	if !ok {
		// Not the common, valid case: start over on the general path,
		// which gives the same verdict and explains any failure.
		*r = Result{Scheme: SchemeRFC9421, Checks: r.Checks[:0]}
		if fresh, ok = v.verify9421General(r, m); !ok {
			return r
		}
	}
	return v.checkFreshness9421(r, fresh)
}

// freshness9421 is what the time and nonce checks need from Signature-Input.
type freshness9421 struct {
	created, expires int64
	nonce, keyid     string
}

// verify9421Fast is the success path, checking what verify9421General
// checks, with the same Result, but on the canonical header forms only
// (see parseSigInputFast) and without boxed values or intermediate strings.
// false means "not shown valid here"; it records nothing outside r.
func (v *Verifier) verify9421Fast(a *resultAlloc, m *Message) (fresh freshness9421, ok bool) {
	r := &a.r
	inputs, sigs := m.Header["Signature-Input"], m.Header["Signature"]
	if len(inputs) != 1 || len(sigs) != 1 {
		return fresh, false
	}
	var in sigInput
	if !parseSigInputFast(inputs[0], v.Label, &in) {
		return fresh, false
	}
	var sigBuf [maxFastSig]byte
	sig, ok := parseSignatureFast(sigs[0], in.label, &sigBuf)
	if !ok {
		return fresh, false
	}
	key, ok := v.key(in.keyid)
	if !ok {
		return fresh, false
	}
	covered := in.ids[:in.n]
	requiredChecked := false
	if v.Required != "" {
		// As on the general path, a Required that does not parse is ignored.
		if req, err := ParseComponents(v.Required); err == nil {
			for _, it := range req {
				if id, _ := SerializeItem(it); !slices.Contains(covered, id) {
					return fresh, false
				}
			}
			requiredChecked = true
		}
	}

	st := key.state()
	defer key.put(st)
	b := st.base[:0]
	var err error
	for _, id := range covered {
		if b, err = appendPlainComponent(b, id, id[1:len(id)-1], m); err != nil {
			st.base = b
			return fresh, false
		}
	}
	b = append(b, `"@signature-params": `...)
	b = append(b, in.list...)
	st.base = b
	cd := getCanonical(m.Header, "Content-Digest")
	if cd != "" && !contentDigestMatches(cd, m.Body) {
		return fresh, false
	}
	if !chmac.Equal(st.sumOf(b), sig) {
		return fresh, false
	}

	// Verified: record the checks, in the general path's order. The key
	// check's detail rides in the same string as the base.
	baseLen := len(b)
	if in.keyid != "" {
		b = append(b, "keyid "...)
		b = append(b, in.keyid...)
		st.base = b
	}
	all := string(b)
	r.Label, r.KeyID, r.SignatureBase = in.label, in.keyid, all[:baseLen]
	r.Covered = a.coveredSlice(in.n)
	copy(r.Covered, covered)
	if in.keyid != "" {
		r.pass("key known", all[baseLen:])
	} else {
		r.pass("key known", keyDetail(""))
	}
	if requiredChecked {
		r.pass("required components covered", v.Required)
	}
	r.pass("covered components present", in.inner) // inner is the ids joined by ' '
	if cd != "" {
		r.pass("body matches Content-Digest", "")
	} else if len(m.Body) > 0 && !slices.Contains(r.Covered, `"content-digest"`) {
		r.warn("body covered", bodyNotCovered)
	}
	r.pass("signature matches", AlgHMACSHA256+" over the covered components")
	return freshness9421{created: in.created, expires: in.expires, nonce: in.nonce, keyid: in.keyid}, true
}

const bodyNotCovered = "the request has a body but the signature does not cover content-digest: the body could be changed without breaking the signature"

// verify9421General is the general path: every structured-field form,
// component parameters, and an explanation for each failure. It stops after
// the signature check; the caller applies the time and nonce checks.
func (v *Verifier) verify9421General(r *Result, m *Message) (fresh freshness9421, ok bool) {
	inputField, sigField := m.Header.Get("Signature-Input"), m.Header.Get("Signature")
	if inputField == "" || sigField == "" {
		missing := "Signature-Input and Signature headers"
		if inputField != "" {
			missing = "Signature header"
		} else if sigField != "" {
			missing = "Signature-Input header"
		}
		return fresh, r.stop("signature present", ProblemMissingSignature, "", "the request has no "+missing+": it is not signed (RFC 9421)")
	}
	inputs, err := ParseDictionary(strings.Join(m.Header.Values("Signature-Input"), ", "))
	if err != nil {
		return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", "Signature-Input is not a valid structured dictionary: "+err.Error())
	}
	sigs, err := ParseDictionary(strings.Join(m.Header.Values("Signature"), ", "))
	if err != nil {
		return fresh, r.stop("Signature parses", ProblemMalformed, "", "Signature is not a valid structured dictionary: "+err.Error())
	}
	var in *Member
	for i := range inputs {
		if v.Label == "" || inputs[i].Key == v.Label {
			in = &inputs[i]
			break
		}
	}
	if in == nil {
		labels := make([]string, len(inputs))
		for i := range inputs {
			labels[i] = inputs[i].Key
		}
		return fresh, r.stop("signature label", ProblemMissingSignature, "", fmt.Sprintf("Signature-Input has no signature labelled %q (it has %s)", v.Label, strings.Join(labels, ", ")))
	}
	r.Label = in.Key
	if in.List == nil {
		return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", fmt.Sprintf("Signature-Input %s is not an inner list of components", in.Key))
	}
	var sig []byte
	for _, s := range sigs {
		if s.Key == in.Key && s.Item != nil {
			sig, _ = s.Item.Value.([]byte)
		}
	}
	if sig == nil {
		return fresh, r.stop("signature present", ProblemMalformed, "", fmt.Sprintf("Signature has no byte sequence labelled %s (it should read %s=:base64:)", in.Key, in.Key))
	}
	var created, expires int64
	var nonce, keyid string
	for _, p := range in.List.Params {
		switch p.Key {
		case "created", "expires":
			n, ok := p.Value.(int64)
			if !ok {
				return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", fmt.Sprintf("signature parameter %s must be an integer (Unix seconds)", p.Key))
			}
			if p.Key == "created" {
				created = n
			} else {
				expires = n
			}
		case "nonce", "keyid", "alg", "tag":
			s, ok := p.Value.(string)
			if !ok {
				return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", fmt.Sprintf("signature parameter %s must be a quoted string", p.Key))
			}
			switch p.Key {
			case "nonce":
				nonce = s
			case "keyid":
				keyid = s
			case "alg":
				if s != AlgHMACSHA256 {
					return fresh, r.stop("algorithm", ProblemAlgorithm, "", fmt.Sprintf("the signature says alg=%q; this verifier checks %s only", s, AlgHMACSHA256))
				}
			}
		}
	}
	r.KeyID = keyid
	// Serialize all identifiers into one string and slice it: one
	// allocation instead of one per component.
	var idb strings.Builder
	idb.Grow(16 * len(in.List.Items))
	ends := make([]int, 0, 16)
	for _, it := range in.List.Items {
		if _, ok := it.Value.(string); !ok {
			return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", "covered components must be quoted strings")
		}
		if err := writeItem(&idb, it); err != nil {
			return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", err.Error())
		}
		ends = append(ends, idb.Len())
	}
	all := idb.String()
	r.Covered = make([]string, len(ends))
	start := 0
	for i, end := range ends {
		r.Covered[i] = all[start:end]
		start = end
	}
	key, ok := v.key(keyid)
	if !ok {
		return fresh, r.stop("key known", ProblemUnknownKey, "", fmt.Sprintf("no key for keyid %q", keyid))
	}
	r.pass("key known", keyDetail(keyid))

	if v.Required != "" {
		req, err := ParseComponents(v.Required)
		if err == nil {
			for _, it := range req {
				id, _ := SerializeItem(it)
				if !slices.Contains(r.Covered, id) {
					return fresh, r.stop("required components covered", ProblemNotCovered, id, fmt.Sprintf("the signature does not cover %s, which this server requires (covered: %s)", id, strings.Join(r.Covered, " ")))
				}
			}
			r.pass("required components covered", v.Required)
		}
	}
	sigParams, err := SerializeInnerList(in.List)
	if err != nil {
		return fresh, r.stop("Signature-Input parses", ProblemMalformed, "", err.Error())
	}
	base, err := buildBase(m, in.List.Items, r.Covered, sigParams)
	if err != nil {
		var me *missingErr
		if errors.As(err, &me) {
			return fresh, r.stop("covered components present", ProblemMissingHeader, me.name, me.msg)
		}
		return fresh, r.stop("covered components present", ProblemMalformed, "", err.Error())
	}
	r.SignatureBase = base
	r.pass("covered components present", strings.Join(r.Covered, " "))

	if cd := m.Header.Get("Content-Digest"); cd != "" {
		if err := CheckContentDigest(cd, m.Body); err != nil {
			if slices.Contains(r.Covered, `"content-digest"`) {
				return fresh, r.stop("body matches Content-Digest", ProblemBodyDigest, `"content-digest"`, err.Error())
			}
			r.warn("body matches Content-Digest", err.Error()+" (content-digest is not covered, so the signature does not protect the body)")
		} else {
			r.pass("body matches Content-Digest", "")
		}
	} else if len(m.Body) > 0 && !slices.Contains(r.Covered, `"content-digest"`) {
		r.warn("body covered", bodyNotCovered)
	}

	want := key.mac([]byte(base))
	if !chmac.Equal(want, sig) {
		v.diagnose9421(r, m, in, key, sig)
		return fresh, false
	}
	r.pass("signature matches", AlgHMACSHA256+" over the covered components")

	return freshness9421{created: created, expires: expires, nonce: nonce, keyid: keyid}, true
}

// checkFreshness9421 applies the time and nonce checks to a request whose
// signature matched, and returns r.
func (v *Verifier) checkFreshness9421(r *Result, f freshness9421) *Result {
	created, expires, nonce, keyid := f.created, f.expires, f.nonce, f.keyid
	now := v.now()
	tol := v.tolerance()
	if created != 0 {
		age := now.Sub(time.Unix(created, 0))
		switch {
		case age > tol:
			return r.fail("created within tolerance", ProblemStale, "created", fmt.Sprintf("created=%d is %s old, beyond the %s tolerance: a stale or replayed request (or the signer's clock is behind)", created, age.Round(time.Second), tol))
		case -age > tol:
			return r.fail("created within tolerance", ProblemFuture, "created", fmt.Sprintf("created=%d is %s in the future, beyond the %s tolerance: the signer's clock is ahead", created, (-age).Round(time.Second), tol))
		}
		var d strings.Builder
		d.Grow(48)
		d.WriteString("age ")
		writeDuration(&d, age.Round(time.Second))
		d.WriteString(", tolerance ")
		writeDuration(&d, tol)
		r.pass("created within tolerance", d.String())
	} else if v.RequireCreated {
		return r.fail("created within tolerance", ProblemMissingCreated, "created", "this server requires a created parameter in Signature-Input, so that a captured request cannot be replayed later")
	} else {
		r.warn("created within tolerance", "the signature has no created parameter, so its age cannot be checked")
	}
	if expires != 0 {
		if !now.Before(time.Unix(expires, 0)) {
			return r.fail("not expired", ProblemExpired, "expires", fmt.Sprintf("the signature expired at %s (expires=%d), %s ago", time.Unix(expires, 0).UTC().Format(time.RFC3339), expires, now.Sub(time.Unix(expires, 0)).Round(time.Second)))
		}
		r.pass("not expired", "")
	}
	if v.Nonces != nil {
		switch {
		case nonce == "" && v.RequireNonce:
			return r.fail("nonce fresh", ProblemMissingNonce, "nonce", "this server requires a nonce parameter in Signature-Input to refuse replays")
		case nonce != "":
			until := now.Add(tol)
			if created != 0 {
				until = time.Unix(created, 0).Add(tol)
			}
			if !v.Nonces.Use(keyid+"\x00"+nonce, now, until) {
				return r.fail("nonce fresh", ProblemReplay, "nonce", fmt.Sprintf("nonce %q was already used within the last %s: a replayed request", nonce, tol))
			}
			r.pass("nonce fresh", "")
		}
	}
	r.OK = true
	return r
}

// writeDuration writes d as d.String() would, without its allocation for
// the usual whole seconds.
func writeDuration(b *strings.Builder, d time.Duration) {
	if d%time.Second != 0 || d < 0 || d >= 1000*time.Hour {
		b.WriteString(d.String())
		return
	}
	var num [20]byte
	secs := int64(d / time.Second)
	h, m, sec := secs/3600, secs/60%60, secs%60
	if h > 0 {
		b.Write(strconv.AppendInt(num[:0], h, 10))
		b.WriteByte('h')
	}
	if h > 0 || m > 0 {
		b.Write(strconv.AppendInt(num[:0], m, 10))
		b.WriteByte('m')
	}
	b.Write(strconv.AppendInt(num[:0], sec, 10))
	b.WriteByte('s')
}

func keyDetail(keyid string) string {
	if keyid == "" {
		return "no keyid; using the configured key"
	}
	return "keyid " + keyid
}

// diagnose9421 explains a signature mismatch: it compares the covered list
// with what the user expected and the signer's logged base, and tries the
// usual culprits (key decoding, default port, scheme behind a proxy).
// Alternatives only ever explain; they never make the request pass.
func (v *Verifier) diagnose9421(r *Result, m *Message, in *Member, key Key, sig []byte) {
	const name = "signature matches"
	if v.SignerBase != "" {
		// Masked on both sides: the difference is quoted in checks and
		// messages, and length and hash still tell two values apart.
		if d := DiffBases(MaskBase(r.SignatureBase), MaskBase(v.SignerBase)); d != nil {
			r.SignerBaseDiff = d
			r.fail(name, d.Kind, d.Component, "signature mismatch: "+d.Message)
			return
		}
	}
	if v.Expected != "" {
		if exp, err := ParseComponents(v.Expected); err == nil {
			var ids []string
			for _, it := range exp {
				id, _ := SerializeItem(it)
				ids = append(ids, id)
			}
			if k, comp, msg := compareCovered(ids, r.Covered); k != "" {
				r.fail(name, k, comp, "signature mismatch; "+msg)
				return
			}
		}
	}
	for _, alt := range key.alts {
		if chmac.Equal(macSHA256(alt.b, []byte(r.SignatureBase)), sig) {
			r.fail(name, ProblemKeyEncoding, "", fmt.Sprintf("signature mismatch with the key as given (%s), but it matches with the key %s: the signer and this side read the key differently", key.Source(), alt.how))
			return
		}
	}
	for _, alt := range urlVariants(m.URL, r.Covered) {
		mm := *m
		mm.URL = alt.u
		if b, err := SignatureBase(&mm, in.List); err == nil && chmac.Equal(key.mac([]byte(b)), sig) {
			r.fail(name, ProblemValueChanged, alt.component, "signature mismatch: "+alt.why)
			return
		}
	}
	r.fail(name, ProblemSignature, "", fmt.Sprintf("signature mismatch: %s over the base below does not give the signature sent; either the key differs or a covered value (%s) changed between signer and verifier — compare this base with the one the signer logged",
		AlgHMACSHA256, strings.Join(r.Covered, " ")))
}

// compareCovered names the first difference between the expected and the
// actual covered lists: a missing or extra component, or a different order.
func compareCovered(expected, got []string) (kind, component, msg string) {
	for _, e := range expected {
		if !slices.Contains(got, e) {
			return ProblemCoveredDiffers, e, fmt.Sprintf("you expected %s to be covered but the signature covers %s", e, strings.Join(got, " "))
		}
	}
	for _, g := range got {
		if !slices.Contains(expected, g) {
			return ProblemCoveredDiffers, g, fmt.Sprintf("the signature also covers %s, which you did not expect (covered: %s)", g, strings.Join(got, " "))
		}
	}
	for i := range expected {
		if i < len(got) && expected[i] != got[i] {
			return ProblemComponentOrder, got[i], fmt.Sprintf("same components, different order: expected %s, signed %s; the base follows Signature-Input's order", strings.Join(expected, " "), strings.Join(got, " "))
		}
	}
	return "", "", ""
}

type urlVariant struct {
	u         *url.URL
	component string
	why       string
}

func urlVariants(u *url.URL, covered []string) []urlVariant {
	var out []urlVariant
	usesAuthority := slices.Contains(covered, `"@authority"`) || slices.Contains(covered, `"@target-uri"`)
	usesScheme := slices.Contains(covered, `"@scheme"`) || slices.Contains(covered, `"@target-uri"`)
	comp := `"@authority"`
	if slices.Contains(covered, `"@target-uri"`) {
		comp = `"@target-uri"`
	}
	if usesScheme {
		other := "https"
		if strings.EqualFold(u.Scheme, "https") {
			other = "http"
		}
		c := *u
		c.Scheme = other
		out = append(out, urlVariant{&c, comp, fmt.Sprintf("it matches with scheme %s instead of %s: a TLS-terminating proxy between signer and verifier changes the target URI", other, u.Scheme)})
	}
	if usesAuthority && u.Port() == "" {
		for _, port := range []string{"443", "80"} {
			c := *u
			c.Host = u.Host + ":" + port
			c.Scheme = map[string]string{"443": "https", "80": "http"}[port]
			out = append(out, urlVariant{&c, comp, fmt.Sprintf("it matches when the authority is %s: one side kept the default port, the other removed it", c.Host)})
		}
	}
	return out
}

// LineDiff is the first difference between two signature bases.
type LineDiff struct {
	Line      int    `json:"line"` // 1-based
	Ours      string `json:"ours"`
	Theirs    string `json:"theirs"`
	Kind      string `json:"kind"`
	Component string `json:"component,omitempty"`
	Message   string `json:"message"`
}

// DiffBases compares our base with the signer's, line by line, and names
// the first difference; nil when they are equal.
func DiffBases(ours, theirs string) *LineDiff {
	ours = strings.ReplaceAll(ours, "\r\n", "\n")
	theirs = strings.TrimRight(strings.ReplaceAll(theirs, "\r\n", "\n"), "\n")
	if ours == theirs {
		return nil
	}
	ol, tl := strings.Split(ours, "\n"), strings.Split(theirs, "\n")
	idOf := func(l string) string {
		if i := strings.Index(l, ": "); i >= 0 {
			return l[:i]
		}
		return l
	}
	var oids, tids []string
	for _, l := range ol {
		oids = append(oids, idOf(l))
	}
	for _, l := range tl {
		tids = append(tids, idOf(l))
	}
	for i := 0; i < len(ol) || i < len(tl); i++ {
		var o, t string
		if i < len(ol) {
			o = ol[i]
		}
		if i < len(tl) {
			t = tl[i]
		}
		if o == t {
			continue
		}
		d := &LineDiff{Line: i + 1, Ours: o, Theirs: t}
		oid, tid := idOf(o), idOf(t)
		switch {
		case oid == tid && oid == `"@signature-params"`:
			d.Kind, d.Component = ProblemCoveredDiffers, "@signature-params"
			d.Message = fmt.Sprintf("the signature parameters differ: ours %s, signer's %s", strings.TrimPrefix(o, oid+": "), strings.TrimPrefix(t, tid+": "))
		case oid == tid:
			d.Kind, d.Component = ProblemValueChanged, oid
			d.Message = fmt.Sprintf("%s changed: we see %q, the signer saw %q", oid, strings.TrimPrefix(o, oid+": "), strings.TrimPrefix(t, tid+": "))
		case slices.Contains(tids, oid) && slices.Contains(oids, tid):
			d.Kind, d.Component = ProblemComponentOrder, tid
			d.Message = fmt.Sprintf("line %d: we have %s where the signer has %s — same components in a different order", i+1, oid, tid)
		case t != "" && !slices.Contains(oids, tid):
			d.Kind, d.Component = ProblemMissingHeader, tid
			d.Message = fmt.Sprintf("the signer's base has %s, ours does not (line %d)", tid, i+1)
		default:
			d.Kind, d.Component = ProblemCoveredDiffers, oid
			d.Message = fmt.Sprintf("our base has %s where the signer's has %q (line %d)", oid, t, i+1)
		}
		return d
	}
	return nil
}
