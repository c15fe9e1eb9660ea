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
		return nil, flows.Errorf(flows.ErrConfig, "hmac: needs a key (--hmac-key)")
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
	// RFC 9421 label and components are parsed once, not per request.
	var signer *hmac.Signer9421
	if cfg.Scheme == hmac.SchemeRFC9421 {
		var err error
		if signer, err = hmac.NewSigner9421(cfg.Key, hmac.RFC9421Options{Label: cfg.Label, Components: cfg.Components, Params: hmac.Params{KeyID: cfg.KeyID}}); err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "hmac: %v", err)
		}
	}
	sign := func(m *hmac.Message) error {
		var err error
		switch cfg.Scheme {
		case hmac.SchemeRFC9421:
			_, err = signer.Sign(m)
		case hmac.SchemeSigV4:
			_, err = hmac.SignSigV4(m, cfg.Key, hmac.SigV4Options{AccessKey: cfg.AccessKey, Region: cfg.Region, Service: cfg.Service})
		case hmac.SchemeStripe:
			_, err = hmac.SignStripe(m, cfg.Key, nil)
		case hmac.SchemeGitHub:
			_, err = hmac.SignGitHub(m, cfg.Key)
		default:
			err = flows.Errorf(flows.ErrConfig, "hmac: unknown scheme %q (rfc9421, aws-sigv4, stripe, github)", cfg.Scheme)
		}
		return err
	}
	// Sign once up front so a bad configuration is a usage error, not 100% failures.
	probe, err := hmac.NewMessage(cfg.Method, target, cfg.Header.Clone(), cfg.Body)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "hmac: %v", err)
	}
	if err := sign(probe); err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "hmac: %v", err)
	}
	return s.RequestOp("hmac", func(ctx context.Context) (*http.Request, error) {
		m, err := hmac.NewMessage(cfg.Method, target, cfg.Header.Clone(), cfg.Body)
		if err != nil {
			return nil, err
		}
		if err := sign(m); err != nil {
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
