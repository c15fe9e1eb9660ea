package hmac

import (
	chmac "crypto/hmac"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
)

// Webhook header names.
const (
	StripeHeader = "Stripe-Signature"
	GitHubHeader = "X-Hub-Signature-256"
)

// SignStripe adds Stripe-Signature: t=UNIX,v1=HEX where v1 is
// HMAC-SHA256(secret, "t.body"). The secret (whsec_…) is used as given.
func SignStripe(m *Message, secret Key, now func() time.Time) (*Signed, error) {
	if secret.IsZero() {
		return nil, flows.Errorf(flows.ErrConfig, "stripe: no endpoint secret (%s)", FieldKey)
	}
	if now == nil {
		now = time.Now
	}
	t := strconv.FormatInt(now().Unix(), 10)
	payload := t + "." + string(m.Body)
	sig := hex.EncodeToString(secret.mac([]byte(payload)))
	rec := &Signed{Scheme: SchemeStripe, SignatureBase: payload, Signature: sig}
	rec.add(m, StripeHeader, "t="+t+",v1="+sig)
	return rec, nil
}

// SignGitHub adds X-Hub-Signature-256: sha256=HEX(HMAC-SHA256(secret, body)).
func SignGitHub(m *Message, secret Key) (*Signed, error) {
	if secret.IsZero() {
		return nil, flows.Errorf(flows.ErrConfig, "github: no webhook secret (%s)", FieldKey)
	}
	sig := hex.EncodeToString(secret.mac(m.Body))
	rec := &Signed{Scheme: SchemeGitHub, SignatureBase: string(m.Body), Signature: sig}
	rec.add(m, GitHubHeader, "sha256="+sig)
	return rec, nil
}

// VerifyStripe checks Stripe-Signature: any v1 may match (Stripe sends one
// per active secret during rotation); t must be within the tolerance.
func (v *Verifier) VerifyStripe(m *Message) *Result {
	r := &Result{Scheme: SchemeStripe}
	h := m.Header.Get(StripeHeader)
	if h == "" {
		return r.fail("signature present", ProblemMissingSignature, "", "the request has no Stripe-Signature header")
	}
	var ts string
	var v1s []string
	for _, part := range strings.Split(h, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = val
		case "v1":
			v1s = append(v1s, val)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return r.fail("Stripe-Signature parses", ProblemMalformed, "t", fmt.Sprintf("Stripe-Signature has no valid t= timestamp (got %q)", ts))
	}
	if len(v1s) == 0 {
		return r.fail("Stripe-Signature parses", ProblemMalformed, "v1", "Stripe-Signature has no v1= signature (v0 is test-mode only and not checked)")
	}
	key, ok := v.key("")
	if !ok {
		return r.fail("key known", ProblemUnknownKey, "", "no endpoint secret configured")
	}
	payload := ts + "." + string(m.Body)
	r.SignatureBase = payload
	want := []byte(hex.EncodeToString(key.mac([]byte(payload))))
	matched := false
	for _, s := range v1s {
		if chmac.Equal(want, []byte(strings.ToLower(s))) {
			matched = true
		}
	}
	if !matched {
		msg := "no v1 signature matches HMAC-SHA256(secret, t + \".\" + body): the secret differs (each endpoint has its own whsec_…) or the body was re-serialized before verifying — verify the raw bytes"
		for _, alt := range key.alts {
			if chmac.Equal([]byte(hex.EncodeToString(macSHA256(alt.b, []byte(payload)))), []byte(strings.ToLower(v1s[0]))) {
				return r.fail("signature matches", ProblemKeyEncoding, "", "the signature matches with the key "+alt.how+", not as given")
			}
		}
		return r.fail("signature matches", ProblemSignature, "", msg)
	}
	r.pass("signature matches", fmt.Sprintf("one of %d v1 signatures", len(v1s)))
	if age := v.now().Sub(time.Unix(t, 0)); age > v.tolerance() || -age > v.tolerance() {
		kind := ProblemStale
		if age < 0 {
			kind = ProblemFuture
		}
		return r.fail("timestamp within tolerance", kind, "t", fmt.Sprintf("t=%d is %s from now, beyond the %s tolerance: a replayed or delayed event (or a clock off)", t, age.Round(time.Second), v.tolerance()))
	}
	r.pass("timestamp within tolerance", "")
	r.OK = true
	return r
}

// VerifyGitHub checks X-Hub-Signature-256 over the raw body.
func (v *Verifier) VerifyGitHub(m *Message) *Result {
	r := &Result{Scheme: SchemeGitHub}
	h := m.Header.Get(GitHubHeader)
	if h == "" {
		if m.Header.Get("X-Hub-Signature") != "" {
			return r.fail("signature present", ProblemMissingSignature, "", "only the legacy SHA-1 X-Hub-Signature is present; GitHub sends X-Hub-Signature-256 when the webhook has a secret")
		}
		return r.fail("signature present", ProblemMissingSignature, "", "the request has no X-Hub-Signature-256 header (is a secret set on the webhook?)")
	}
	hexSig, ok := strings.CutPrefix(h, "sha256=")
	if !ok {
		return r.fail("X-Hub-Signature-256 parses", ProblemMalformed, "", fmt.Sprintf("X-Hub-Signature-256 should read sha256=HEX, got %q", h))
	}
	key, ok := v.key("")
	if !ok {
		return r.fail("key known", ProblemUnknownKey, "", "no webhook secret configured")
	}
	want := []byte(hex.EncodeToString(key.mac(m.Body)))
	if !chmac.Equal(want, []byte(strings.ToLower(hexSig))) {
		for _, alt := range key.alts {
			if chmac.Equal([]byte(hex.EncodeToString(macSHA256(alt.b, m.Body))), []byte(strings.ToLower(hexSig))) {
				return r.fail("signature matches", ProblemKeyEncoding, "", "the signature matches with the secret "+alt.how+", not as given")
			}
		}
		return r.fail("signature matches", ProblemSignature, "", fmt.Sprintf("HMAC-SHA256 of the %d-byte body does not match: the secret differs or the body was changed or re-serialized (verify the raw bytes, before JSON parsing)", len(m.Body)))
	}
	r.pass("signature matches", "HMAC-SHA256 over the raw body")
	r.OK = true
	return r
}

// Verify dispatches on the scheme.
func (v *Verifier) Verify(scheme string, m *Message) (*Result, error) {
	switch scheme {
	case SchemeRFC9421, "":
		return v.Verify9421(m), nil
	case SchemeSigV4:
		return v.VerifySigV4(m), nil
	case SchemeStripe:
		return v.VerifyStripe(m), nil
	case SchemeGitHub:
		return v.VerifyGitHub(m), nil
	}
	return nil, fmt.Errorf("unknown scheme %q (rfc9421, aws-sigv4, stripe, github)", scheme)
}
