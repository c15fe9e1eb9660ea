package console

import (
	"context"
	"net/http"
	"time"

	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/store"
)

// runHMAC signs a request as an hmac profile says and sends it to the
// profile's target URL (hmac.Send: the same path as `authlab flow hmac`).
// Each run carries a fresh nonce, so the demo resource never sees a replay.
func runHMAC(ctx context.Context, p store.Profile, now func() time.Time, rt http.RoundTripper, obs flows.Observer) *flows.Result {
	fail := func(err error) *flows.Result {
		res := &flows.Result{Flow: flows.FlowHMAC, Started: now()}
		res.Fail(err)
		return res
	}
	if p.TargetURL == "" {
		return fail(flows.Errorf(flows.ErrConfig, "profile %s: no target URL to sign a request for", p.Name))
	}
	sec, ok := p.Secrets[store.HMACKey]
	if !ok || sec.IsZero() {
		return fail(flows.Errorf(flows.ErrConfig, "profile %s: no HMAC key", p.Name))
	}
	raw, err := sec.Resolve()
	if err != nil {
		return fail(flows.Errorf(flows.ErrConfig, "profile %s: HMAC key: %v", p.Name, err))
	}
	// A stored key may itself be file:PATH: the default source reads it
	// through the capped reader, so a device or FIFO fails instead of
	// hanging the console.
	key, err := hmac.DefaultKeySource().ParseKey(raw)
	if err != nil {
		return fail(flows.Errorf(flows.ErrConfig, "profile %s: HMAC key: %v", p.Name, err))
	}
	return hmac.Send(ctx, hmac.Request{
		Config: hmac.Config{Scheme: p.HMAC.Scheme, Key: key, Label: p.HMAC.Label, Components: p.HMAC.Components,
			KeyID: p.HMAC.KeyID, Nonce: hmac.RandomNonce, AccessKey: p.HMAC.AccessKey, Region: p.HMAC.Region,
			Service: p.HMAC.Service, Now: now},
		URL:    p.TargetURL,
		Client: flows.ClientOptions{Transport: rt},
	}, obs)
}
