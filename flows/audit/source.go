package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/oauth"
	"authlab/flows/token"
)

// Source is where RunFlow gets the valid token when Config.Token is empty:
// an OAuth flow that issues one (client credentials, auth code, device,
// refresh, token exchange), run as `authlab flow` runs it.
type Source struct {
	Request flows.Request
	Options oauth.Options
}

// FlowError is the flow that was to issue the valid token failing (or
// issuing none). Result is that flow's result, for its error's details.
type FlowError struct {
	Result *flows.Result
}

func (e *FlowError) Error() string {
	reason := "no access token"
	if e.Result.Failed() {
		reason = e.Result.Reason()
	}
	return fmt.Sprintf("audit: getting the valid token (%s flow) failed: %s", e.Result.Flow, reason)
}

// FlowToken runs src's flow for the valid access token and returns it with
// the flow's DPoP key (nil without DPoP): a DPoP-bound token is usable
// only with the key it is bound to.
func FlowToken(ctx context.Context, src Source, obs flows.Observer) (string, *dpop.Key, *flows.Result) {
	e, err := oauth.New(src.Request, src.Options)
	if err != nil {
		res := &flows.Result{Flow: src.Request.Flow, Started: time.Now()}
		res.Fail(err)
		return "", nil, res
	}
	defer e.Close()
	res := e.Run(ctx, obs)
	if res.Failed() || res.Token == nil || res.Token.AccessToken == "" {
		return "", nil, res
	}
	return res.Token.AccessToken, e.DPoPKey(), res
}

// LoadDPoPKey is the DPoP key a request names (its key data, else its key
// file), or nil when it names none: an ephemeral key cannot be the one a
// token given from elsewhere is bound to.
func LoadDPoPKey(req flows.Request) (*dpop.Key, error) {
	data, err := dpop.KeyData(&req)
	if data == nil || err != nil {
		return nil, err
	}
	k, err := dpop.Load(data, req.DPoPAlg)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldDPoPKey, err)
	}
	return k, nil
}

// AutoSigner fills cfg.Signer, when it is nil, with the mock IdP's mint
// call if the valid token's issuer is an authlab mock IdP on loopback, or
// says in cfg.SignerNote why there is none.
func AutoSigner(ctx context.Context, cfg *Config) {
	if cfg.Signer != nil {
		return
	}
	d, err := token.Decode(strings.TrimSpace(cfg.Token))
	if err != nil || d.Format != token.FormatJWS {
		return // Run says why it cannot work with this token
	}
	iss, _ := d.Claims["iss"].(string)
	cfg.Signer, cfg.SignerNote = ProbeIdPSigner(ctx, iss, cfg.Timeout)
}

// RunFlow is the whole of `authlab audit` after its flags are read (the
// console's audit runs it too): the valid token from cfg.Token or src's
// flow, with the flow's DPoP key (or the one src's request names), the
// signer from cfg or AutoSigner, then Run. obs sees the flow's steps and
// the audit's; a CaseObserver or LeewayObserver is called as in Run.
func RunFlow(ctx context.Context, cfg Config, src Source, obs flows.Observer) *Report {
	fail := func(err error) *Report { return &Report{Target: cfg.URL, Cases: []Case{}, Err: err} }
	if strings.TrimSpace(cfg.Token) == "" {
		tok, key, res := FlowToken(ctx, src, obs)
		if tok == "" {
			return fail(&FlowError{Result: res})
		}
		cfg.Token = tok
		if cfg.DPoPKey == nil {
			cfg.DPoPKey = key
		}
	} else if cfg.DPoPKey == nil {
		k, err := LoadDPoPKey(src.Request)
		if err != nil {
			return fail(err)
		}
		cfg.DPoPKey = k
	}
	AutoSigner(ctx, &cfg)
	return Run(ctx, cfg, obs)
}
