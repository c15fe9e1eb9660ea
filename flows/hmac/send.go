package hmac

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"authlab/flows"
)

// Schemes lists the signing schemes, as the command line spells them.
func Schemes() []string {
	return []string{SchemeRFC9421, SchemeSigV4, SchemeStripe, SchemeGitHub}
}

// RandomNonce as Config.Nonce signs each request with 16 fresh random bytes.
const RandomNonce = "random"

// Fields of a signing configuration that engine messages name (see
// flows.Field); front ends say how their user sets each.
const (
	FieldKey        flows.Field = "hmac_key"
	FieldScheme     flows.Field = "scheme"
	FieldKeyID      flows.Field = "key_id"
	FieldAccessKey  flows.Field = "access_key"
	FieldRegion     flows.Field = "region"
	FieldService    flows.Field = "service"
	FieldComponents flows.Field = "components"
)

// Config says how to sign: the scheme and what it needs. The zero value of
// each optional field means the scheme's default.
type Config struct {
	Scheme string // SchemeRFC9421 when empty
	Key    Key

	// RFC 9421.
	Label            string // DefaultLabel when empty
	Components       string // DefaultComponents when empty
	KeyID, Tag       string
	Created, Expires int64  // Unix seconds; Created 0: now
	Nonce            string // RandomNonce: a fresh one per signature

	// AWS Signature Version 4.
	AccessKey, Region, Service, SessionToken string

	// Now is the clock of created, Date, X-Amz-Date and t=; time.Now when nil.
	Now func() time.Time
}

// Signer signs many requests with one configuration; an RFC 9421 label and
// component list are checked and parsed once, here.
type Signer struct {
	cfg  Config
	s921 *Signer9421 // nil for the other schemes, or a per-request nonce
}

// NewSigner checks cfg and prepares its signer.
func NewSigner(cfg Config) (*Signer, error) {
	if cfg.Scheme == "" {
		cfg.Scheme = SchemeRFC9421
	}
	s := &Signer{cfg: cfg}
	switch cfg.Scheme {
	case SchemeRFC9421:
		opts, err := s.opts9421()
		if err != nil {
			return nil, err
		}
		s9, err := NewSigner9421(cfg.Key, opts) // validates label and components
		if err != nil {
			return nil, err
		}
		if cfg.Nonce != RandomNonce {
			s.s921 = s9
		}
	case SchemeSigV4, SchemeStripe, SchemeGitHub:
	default:
		return nil, flows.Errorf(flows.ErrConfig, "unknown %s %q (one of %s)", FieldScheme, cfg.Scheme, strings.Join(Schemes(), ", "))
	}
	return s, nil
}

func (s *Signer) opts9421() (RFC9421Options, error) {
	c := s.cfg
	nonce := c.Nonce
	if nonce == RandomNonce {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return RFC9421Options{}, err
		}
		nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	return RFC9421Options{Label: c.Label, Components: c.Components, Now: c.Now,
		Params: Params{Created: c.Created, Expires: c.Expires, Nonce: nonce, KeyID: c.KeyID, Tag: c.Tag}}, nil
}

// Sign signs m in place (see Sign9421, SignSigV4, SignStripe, SignGitHub).
func (s *Signer) Sign(m *Message) (*Signed, error) {
	c := s.cfg
	switch c.Scheme {
	case SchemeSigV4:
		return SignSigV4(m, c.Key, SigV4Options{AccessKey: c.AccessKey, Region: c.Region, Service: c.Service, SessionToken: c.SessionToken, Now: c.Now})
	case SchemeStripe:
		return SignStripe(m, c.Key, c.Now)
	case SchemeGitHub:
		return SignGitHub(m, c.Key)
	}
	if s.s921 != nil {
		return s.s921.Sign(m)
	}
	opts, err := s.opts9421()
	if err != nil {
		return nil, err
	}
	return Sign9421(m, c.Key, opts)
}

// Sign signs m in place with cfg's scheme: the one entry point for every
// scheme. Repeated signing with one configuration: NewSigner.
func Sign(m *Message, cfg Config) (*Signed, error) {
	s, err := NewSigner(cfg)
	if err != nil {
		return nil, err
	}
	return s.Sign(m)
}

// Request is one request to sign and send.
type Request struct {
	Config
	Method string // GET when empty, POST when there is a body
	URL    string
	Header http.Header
	Body   []byte
	// Client sets the timeout, the TLS trust and the transport.
	Client flows.ClientOptions
	// DryRun signs and records the request and sends nothing.
	DryRun bool
	// ShowSecrets keeps secret header values in clear in the Sent record
	// (signature base, canonical request, headers added): local debugging
	// only. The key itself is never shown.
	ShowSecrets bool
}

// Sent is the HMAC side of a Send's result (flows.Result.Detail; SentOf).
type Sent struct {
	Scheme string
	// Message is the request as signed, its added headers included.
	Message *Message
	// Signed is what was signed, credentials masked (Signed.Masked)
	// unless the request asked to show them.
	Signed *Signed
	// Response is the server's answer; nil for a dry run or no answer.
	Response *flows.Response
	// ServerDiff is the first difference between our signature base and
	// the one a rejecting server sent back (the mock IdP does), if any.
	ServerDiff *LineDiff

	showSecrets bool
}

// SentOf returns the HMAC record of a Send's result, or nil.
func SentOf(res *flows.Result) *Sent {
	if res == nil {
		return nil
	}
	s, _ := res.Detail.(*Sent)
	return s
}

// CheckAccepted is the check a sent request ends with.
const CheckAccepted = "server accepted the signature"

// Send signs req, sends it, records the exchange and checks the answer:
// a 2xx passes; anything else fails with the server's explanation and, when
// it sent its signature base, the first line where it differs from ours.
// Steps and the exchange go to obs (nil: nowhere); the result's Detail is
// the *Sent record. Configuration problems are errors of kind config.
func Send(ctx context.Context, req Request, obs flows.Observer) *flows.Result {
	rec := flows.NewRecorder(flows.FlowHMAC, obs)
	rec.Secrets().AddKey(req.Key.Bytes()) // masked wherever a server reflects them
	rec.Secrets().Add(req.SessionToken)
	res := rec.Result()
	scheme := req.Scheme
	if scheme == "" {
		scheme = SchemeRFC9421
	}
	sent := &Sent{Scheme: scheme, showSecrets: req.ShowSecrets}
	res.Detail = sent
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
		if len(req.Body) > 0 {
			method = http.MethodPost
		}
	}
	m, err := NewMessage(method, req.URL, req.Header.Clone(), req.Body)
	if err != nil {
		return rec.Finish(flows.Wrap(flows.ErrConfig, err, "%v", err))
	}
	sent.Message = m
	var signed *Signed
	err = rec.Run("sign ("+scheme+")", func() (string, error) {
		if signed, err = Sign(m, req.Config); err != nil {
			return "", err
		}
		return "signature " + signed.Signature, nil
	})
	if err != nil {
		return rec.Finish(flows.Wrap(flows.ErrConfig, err, "%v", err))
	}
	sent.Signed = signed // masked in Finish (Sent.MaskSecrets) unless ShowSecrets
	if req.DryRun {
		return rec.Finish(nil)
	}

	client := flows.NewClient(req.Client, rec)
	var resp *flows.Response
	sendErr := rec.Run("signed request", func() (string, error) {
		hr, err := http.NewRequestWithContext(ctx, m.Method, m.URL.String(), bytes.NewReader(m.Body))
		if err != nil {
			return "", flows.Wrap(flows.ErrConfig, err, "%s: %v", flows.FieldURL, err)
		}
		for k, vs := range m.Header {
			if strings.EqualFold(k, "Host") {
				hr.Host = vs[0] // a signed Host header is the request's Host
				continue
			}
			hr.Header[k] = vs
		}
		resp, err = client.Do(hr, "signed request")
		if resp == nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d", resp.Status), err
	})
	if resp == nil {
		return rec.Finish(sendErr)
	}
	sent.Response = resp
	if resp.Status >= 200 && resp.Status < 300 {
		res.AddCheck(flows.Check{Name: CheckAccepted, Status: flows.Pass, Detail: fmt.Sprintf("HTTP %d", resp.Status)})
		return rec.Finish(sendErr)
	}
	detail := fmt.Sprintf("HTTP %d %s", resp.Status, flows.Snippet(resp.Body, 160))
	// A server that explains itself (the mock IdP does) sends its
	// signature base: diff it with ours for the first difference.
	var eb ErrorBody
	if json.Unmarshal(resp.Body, &eb) == nil && eb.ErrorDescription != "" {
		detail = fmt.Sprintf("HTTP %d: %s", resp.Status, eb.ErrorDescription)
		if eb.SignatureBase != "" && signed.SignatureBase != "" {
			// Both masked: a server masks the secret lines of the base it
			// sends back, and masking keeps length and hash comparable.
			sent.ServerDiff = DiffBases(MaskBase(signed.SignatureBase), MaskBase(eb.SignatureBase))
		}
	}
	res.AddCheck(flows.Check{Name: CheckAccepted, Status: flows.Fail, Detail: detail})
	if sendErr == nil {
		sendErr = &flows.Error{Kind: flows.ErrCheck, Message: "the server rejected the signed request: " + detail, Status: resp.Status}
	}
	return rec.Finish(sendErr)
}
