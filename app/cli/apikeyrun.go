package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/flows/hmac"
	"authlab/store"
)

// apiKeyRequest is the request an api-key profile describes: what `authlab
// run` sends once and bench repeats.
func apiKeyRequest(p store.Profile, timeout time.Duration) (apikey.Request, error) {
	sec, ok := p.Secrets[store.APIKey]
	if !ok || sec.IsZero() {
		return apikey.Request{}, fmt.Errorf("profile %s has no API key (--api-key)", p.Name)
	}
	key, err := sec.Resolve()
	if err != nil {
		return apikey.Request{}, fmt.Errorf("profile %s: API key: %v", p.Name, err)
	}
	return apikey.Request{URL: p.TargetURL, Key: key, Header: p.APIKeyHeader, Query: p.APIKeyQuery,
		Client: flows.ClientOptions{Timeout: timeout}}, nil
}

// hmacProfileRequest is an hmac profile's signed request, as the console
// sends it: a fresh nonce per run, so the demo resource sees no replay.
func hmacProfileRequest(p store.Profile, timeout time.Duration) (hmac.Request, error) {
	sec, ok := p.Secrets[store.HMACKey]
	if !ok || sec.IsZero() {
		return hmac.Request{}, fmt.Errorf("profile %s has no HMAC key (--hmac-key)", p.Name)
	}
	raw, err := sec.Resolve()
	if err != nil {
		return hmac.Request{}, fmt.Errorf("profile %s: HMAC key: %v", p.Name, err)
	}
	key, err := hmac.DefaultKeySource().ParseKey(raw)
	if err != nil {
		return hmac.Request{}, fmt.Errorf("profile %s: HMAC key: %v", p.Name, err)
	}
	if p.TargetURL == "" {
		return hmac.Request{}, fmt.Errorf("profile %s has no target URL (--target-url)", p.Name)
	}
	return hmac.Request{
		Config: hmac.Config{Scheme: p.HMAC.Scheme, Key: key, Label: p.HMAC.Label, Components: p.HMAC.Components,
			KeyID: p.HMAC.KeyID, Nonce: hmac.RandomNonce, AccessKey: p.HMAC.AccessKey, Region: p.HMAC.Region, Service: p.HMAC.Service},
		URL: p.TargetURL, Client: flows.ClientOptions{Timeout: timeout},
	}, nil
}

// requestFlagFor names the fields of an api-key or hmac run the way
// `authlab run` and `profile add` spell them.
func requestFlagFor(f flows.Field) string {
	switch f {
	case flows.FieldURL:
		return "--target-url"
	case apikey.FieldQuery:
		return "the profile's api_key_query"
	case hmac.FieldKey:
		return "--hmac-key"
	}
	return flagFor(f)
}

// runRequestProfile is `authlab run` for an api-key or hmac profile: one
// request, printed like a flow, recorded in history.
func runRequestProfile(ctx context.Context, g *globals, path string, p store.Profile, f *flowFlags) error {
	if f.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	if f.harTokens && f.har == "" {
		return usageErr("--har-tokens needs --har FILE")
	}
	var send func(context.Context, flows.Observer) *flows.Result
	switch p.Kind {
	case store.KindAPIKey:
		req, err := apiKeyRequest(p, f.timeout)
		if err != nil {
			return usageErr("%v", err)
		}
		if err := req.Validate(); err != nil {
			return usageErr("profile %s: %s", p.Name, explainFlags(err, requestFlagFor))
		}
		send = func(ctx context.Context, obs flows.Observer) *flows.Result { return apikey.Send(ctx, req, obs) }
	case store.KindHMAC:
		req, err := hmacProfileRequest(p, f.timeout)
		if err != nil {
			return usageErr("%v", err)
		}
		send = func(ctx context.Context, obs flows.Observer) *flows.Result { return hmac.Send(ctx, req, obs) }
	default:
		return usageErr("profile %s: %s profiles do not run a single request", p.Name, p.Kind)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	var recordErr error
	err := reportRun(g, flows.Request{}, f.asJSON, func(res *flows.Result) {
		explainResult(res, requestFlagFor)
		f.assert(res)
		recordErr = store.RecordRun(path, p.Name, res)
	}, func(obs flows.Observer) *flows.Result { return send(ctx, obs) })
	if recordErr != nil {
		fmt.Fprintf(g.stderr, "authlab: warning: the run was not recorded: %v\n", recordErr)
	}
	return err
}
