package hmac

import (
	chmac "crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"authlab/flows"
)

// SigV4 constants.
const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// UnsignedPayload is the payload hash S3 accepts for unhashed bodies.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
)

// SigV4Options configure SignSigV4. The secret access key is the Key.
type SigV4Options struct {
	AccessKey    string
	Region       string
	Service      string
	SessionToken string           // adds X-Amz-Security-Token, signed
	Now          func() time.Time // X-Amz-Date; time.Now when nil
	// SignedHeaders limits which headers are signed (lower-case names);
	// empty signs host, x-amz-* and every header present except a few a
	// proxy or client rewrites (see unsignableHeaders).
	SignedHeaders []string
}

// unsignableHeaders are rewritten by clients and proxies; signing them
// makes signatures break in transit (the AWS SDKs skip them too).
var unsignableHeaders = map[string]bool{
	"authorization": true, "user-agent": true, "x-amzn-trace-id": true,
	"expect": true, "content-length": true, "connection": true,
	"accept-encoding": true, "transfer-encoding": true,
}

// SignSigV4 signs m in place with AWS Signature Version 4 (header form):
// it adds X-Amz-Date, X-Amz-Security-Token (with a session token),
// X-Amz-Content-Sha256 (for s3) and Authorization.
func SignSigV4(m *Message, secret Key, o SigV4Options) (*Signed, error) {
	switch {
	case secret.IsZero():
		return nil, flows.Errorf(flows.ErrConfig, "aws-sigv4: no secret access key (%s)", FieldKey)
	case o.AccessKey == "":
		return nil, flows.Errorf(flows.ErrConfig, "aws-sigv4: no access key id (%s)", FieldAccessKey)
	case o.Region == "" || o.Service == "":
		return nil, flows.Errorf(flows.ErrConfig, "aws-sigv4: %s and %s are required (e.g. us-east-1, execute-api)", FieldRegion, FieldService)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now().UTC()
	rec := &Signed{Scheme: SchemeSigV4}
	m.Header.Del("Authorization")
	rec.add(m, "X-Amz-Date", t.Format(amzDateFormat))
	if o.SessionToken != "" {
		rec.add(m, "X-Amz-Security-Token", o.SessionToken)
	}
	payloadHash := m.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		payloadHash = hexSHA256(m.Body)
		if o.Service == "s3" {
			rec.add(m, "X-Amz-Content-Sha256", payloadHash)
		}
	}
	signed := o.SignedHeaders
	if len(signed) == 0 {
		signed = defaultSignedHeaders(m)
	}
	creq, signedList, err := canonicalRequest(m, signed, payloadHash, o.Service)
	if err != nil {
		return nil, fmt.Errorf("aws-sigv4: %w", err)
	}
	date := t.Format("20060102")
	scope := date + "/" + o.Region + "/" + o.Service + "/aws4_request"
	sts := sigV4Algorithm + "\n" + t.Format(amzDateFormat) + "\n" + scope + "\n" + hexSHA256([]byte(creq))
	sig := hex.EncodeToString(macSHA256(sigV4Key(secret.Bytes(), date, o.Region, o.Service), []byte(sts)))
	rec.CanonicalRequest = creq
	rec.StringToSign = sts
	rec.Signature = sig
	rec.add(m, "Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", sigV4Algorithm, o.AccessKey, scope, signedList, sig))
	return rec, nil
}

func sigV4Key(secret []byte, date, region, service string) []byte {
	k := macSHA256(append([]byte("AWS4"), secret...), []byte(date))
	k = macSHA256(k, []byte(region))
	k = macSHA256(k, []byte(service))
	return macSHA256(k, []byte("aws4_request"))
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func defaultSignedHeaders(m *Message) []string {
	names := []string{"host"}
	for k := range m.Header {
		lk := strings.ToLower(k)
		if lk == "host" || unsignableHeaders[lk] {
			continue
		}
		names = append(names, lk)
	}
	return names
}

// canonicalRequest builds the SigV4 canonical request and the signed-headers list.
func canonicalRequest(m *Message, signed []string, payloadHash, service string) (string, string, error) {
	names := make([]string, 0, len(signed))
	seen := map[string]bool{}
	for _, n := range signed {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var hdrs strings.Builder
	for _, n := range names {
		var vals []string
		if n == "host" {
			h := m.Header.Get("Host")
			if h == "" {
				h = m.URL.Host
			}
			vals = []string{h}
		} else {
			vals = m.Header.Values(n)
		}
		if len(vals) == 0 {
			return "", "", &missingErr{name: n, msg: fmt.Sprintf("SignedHeaders lists %s but the request has no such header", n)}
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ") // trim and collapse spaces
		}
		hdrs.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	signedList := strings.Join(names, ";")
	creq := strings.Join([]string{
		m.Method,
		canonicalURI(m.URL.Path, service),
		canonicalQuery(m.URL.RawQuery),
		hdrs.String(),
		signedList,
		payloadHash,
	}, "\n")
	return creq, signedList, nil
}

// canonicalURI encodes each path segment; every service but S3 encodes the
// already-encoded path a second time (the SigV4 rules).
func canonicalURI(path, service string) string {
	if path == "" {
		return "/"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		s = awsEncode(s)
		if service != "s3" {
			s = awsEncode(s)
		}
		segs[i] = s
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if dk, err := unescapeQuery(k); err == nil {
			k = dk
		}
		if dv, err := unescapeQuery(v); err == nil {
			v = dv
		}
		pairs = append(pairs, kv{awsEncode(k), awsEncode(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// unescapeQuery decodes %XX but, unlike url.QueryUnescape, keeps '+' as is:
// AWS treats '+' in a query as a literal plus.
func unescapeQuery(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("bad escape")
		}
		n, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", err
		}
		b.Write(n)
		i += 2
	}
	return b.String(), nil
}

// awsEncode is RFC 3986 encoding: everything but A-Z a-z 0-9 - _ . ~.
// Not formEncode (rfc9421.go): SigV4 keeps '~' and escapes '*'.
func awsEncode(s string) string { return percentEncode(s, '~') }

// sigV4Auth is a parsed SigV4 Authorization header.
type sigV4Auth struct {
	accessKey, date, region, service string
	signed                           []string
	signature                        string
}

func parseSigV4Auth(h string) (*sigV4Auth, error) {
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return nil, fmt.Errorf("the Authorization header does not start with %q", sigV4Algorithm)
	}
	a := &sigV4Auth{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return nil, fmt.Errorf("the Credential %q should read ACCESSKEY/YYYYMMDD/region/service/aws4_request", v)
			}
			a.accessKey, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signed = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || len(a.signed) == 0 || a.signature == "" {
		return nil, fmt.Errorf("the Authorization header needs Credential=, SignedHeaders= and Signature=")
	}
	return a, nil
}

// VerifySigV4 checks a SigV4-signed request with the secret access key
// (v.Key, or v.Keys looked up by access key id).
func (v *Verifier) VerifySigV4(m *Message) *Result {
	r := &Result{Scheme: SchemeSigV4}
	authz := m.Header.Get("Authorization")
	if authz == "" {
		return r.fail("signature present", ProblemMissingSignature, "", "the request has no Authorization header: it is not SigV4-signed")
	}
	a, err := parseSigV4Auth(authz)
	if err != nil {
		return r.fail("Authorization parses", ProblemMalformed, "", err.Error())
	}
	r.KeyID = a.accessKey
	r.Covered = append(r.Covered, a.signed...)
	key, ok := v.key(a.accessKey)
	if !ok {
		return r.fail("key known", ProblemUnknownKey, "", fmt.Sprintf("no secret for access key %q", a.accessKey))
	}
	amzDate := m.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return r.fail("X-Amz-Date", ProblemMissingHeader, "x-amz-date", fmt.Sprintf("X-Amz-Date %q is missing or not in %s form", amzDate, amzDateFormat))
	}
	if t.Format("20060102") != a.date {
		return r.fail("credential date", ProblemValueChanged, "x-amz-date", fmt.Sprintf("the credential scope date %s does not match X-Amz-Date %s", a.date, amzDate))
	}
	if !slices.Contains(a.signed, "host") {
		r.warn("host signed", "SignedHeaders does not include host; AWS requires it")
	}
	payloadHash := m.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		payloadHash = hexSHA256(m.Body)
	} else if payloadHash != UnsignedPayload && payloadHash != hexSHA256(m.Body) {
		return r.fail("payload hash", ProblemBodyDigest, "x-amz-content-sha256", fmt.Sprintf("X-Amz-Content-Sha256 says %s but the %d-byte body hashes to %s", payloadHash, len(m.Body), hexSHA256(m.Body)))
	}
	creq, _, err := canonicalRequest(m, a.signed, payloadHash, a.service)
	if err != nil {
		if me, ok := err.(*missingErr); ok {
			return r.fail("signed headers present", ProblemMissingHeader, me.name, me.msg)
		}
		return r.fail("canonical request", ProblemMalformed, "", err.Error())
	}
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	sts := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(creq))
	r.CanonicalRequest, r.StringToSign = creq, sts
	want := hex.EncodeToString(macSHA256(sigV4Key(key.Bytes(), a.date, a.region, a.service), []byte(sts)))
	if !chmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		r.fail("signature matches", ProblemSignature, "", fmt.Sprintf("SigV4 signature mismatch for %s in %s/%s: compare the canonical request below with the signer's (AWS returns it in the SignatureDoesNotMatch error); usual causes are a different secret, path or query encoding, or a header changed in transit", a.accessKey, a.region, a.service))
		return r
	}
	r.pass("signature matches", "AWS4-HMAC-SHA256, signed headers "+strings.Join(a.signed, ";"))
	if skew := v.now().Sub(t); skew > v.tolerance() || -skew > v.tolerance() {
		kind, msg := ProblemStale, fmt.Sprintf("X-Amz-Date %s is %s old, beyond the %s tolerance", amzDate, skew.Round(time.Second), v.tolerance())
		if skew < 0 {
			kind, msg = ProblemFuture, fmt.Sprintf("X-Amz-Date %s is %s in the future, beyond the %s tolerance", amzDate, (-skew).Round(time.Second), v.tolerance())
		}
		return r.fail("X-Amz-Date within tolerance", kind, "x-amz-date", msg)
	}
	r.pass("X-Amz-Date within tolerance", "")
	r.OK = true
	return r
}
