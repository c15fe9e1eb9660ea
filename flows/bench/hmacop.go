package bench

import (
	"bytes"
	"context"
	"net/http"

	"authlab/flows"
	"authlab/flows/hmac"
)

// HMACConfig describes the signed request an HMAC bench repeats.
type HMACConfig struct {
	Scheme     string // hmac.SchemeRFC9421 (default), SchemeSigV4, SchemeStripe, SchemeGitHub
	Key        hmac.Key
	KeyID      string
	Label      string
	Components string
	AccessKey  string // aws-sigv4
	Region     string
	Service    string
	Method     string // GET when empty and no body, else POST
	Header     http.Header
	Body       []byte
}

// HMACOp signs a fresh request per call (new created / date) and sends it.
func (s *Setup) HMACOp(target string, cfg HMACConfig) (Op, error) {
	if cfg.Key.IsZero() {
		return nil, flows.Errorf(flows.ErrConfig, "hmac: needs a key (%s)", hmac.FieldKey)
	}
	if cfg.Scheme == "" {
		cfg.Scheme = hmac.SchemeRFC9421
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
		if len(cfg.Body) > 0 {
			cfg.Method = http.MethodPost
		}
	}
	// One prepared signer: RFC 9421 label and components are parsed once,
	// not per request, and no recorder or observer sits on the hot path.
	signer, err := hmac.NewSigner(hmac.Config{Scheme: cfg.Scheme, Key: cfg.Key, KeyID: cfg.KeyID, Label: cfg.Label,
		Components: cfg.Components, AccessKey: cfg.AccessKey, Region: cfg.Region, Service: cfg.Service})
	if err != nil {
		return nil, flows.Wrap(flows.ErrConfig, err, "hmac: %v", err)
	}
	// Sign once up front so a bad configuration is a usage error, not 100% failures.
	probe, err := hmac.NewMessage(cfg.Method, target, cfg.Header.Clone(), cfg.Body)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "hmac: %v", err)
	}
	if _, err := signer.Sign(probe); err != nil {
		return nil, flows.Wrap(flows.ErrConfig, err, "hmac: %v", err)
	}
	return s.RequestOp(FlowHMAC, func(ctx context.Context) (*http.Request, error) {
		m, err := hmac.NewMessage(cfg.Method, target, cfg.Header.Clone(), cfg.Body)
		if err != nil {
			return nil, err
		}
		if _, err := signer.Sign(m); err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, m.Method, m.URL.String(), bytes.NewReader(m.Body))
		if err != nil {
			return nil, err
		}
		req.Header = m.Header
		return req, nil
	}), nil
}
