package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/store"
)

// runHMAC signs a request as an hmac profile says and sends it to the
// profile's target URL, reporting the steps and the exchange.
func runHMAC(ctx context.Context, p store.Profile, now func() time.Time, rt http.RoundTripper, obs flows.Observer) *flows.Result {
	res := &flows.Result{Flow: "hmac", Started: now()}
	step := func(name string, fn func() (string, error)) error {
		obs.Step(flows.StepEvent{Name: name})
		t0 := time.Now()
		detail, err := fn()
		if err != nil {
			detail = err.Error()
		}
		ev := flows.StepEvent{Name: name, Done: true, OK: err == nil, Detail: detail, Duration: time.Since(t0)}
		obs.Step(ev)
		res.Steps = append(res.Steps, ev)
		return err
	}
	finish := func(err error) *flows.Result {
		res.Duration = now().Sub(res.Started)
		if err != nil {
			res.Fail(err)
			return res
		}
		res.OK = true
		return res
	}
	if p.TokenURL == "" {
		return finish(flows.Errorf(flows.ErrConfig, "profile %s: no target URL to sign a request for", p.Name))
	}
	sec, ok := p.Secrets[store.HMACKey]
	if !ok || sec.IsZero() {
		return finish(flows.Errorf(flows.ErrConfig, "profile %s: no HMAC key", p.Name))
	}
	raw, err := sec.Resolve()
	if err != nil {
		return finish(flows.Errorf(flows.ErrConfig, "profile %s: HMAC key: %v", p.Name, err))
	}
	// A stored key may itself be file:PATH: read it through the capped
	// reader so a device or FIFO fails instead of hanging the console.
	keys := hmac.KeySource{Getenv: os.Getenv, ReadFile: func(p string) ([]byte, error) {
		return flows.ReadFileCapped(p, flows.MaxSecretFileSize)
	}}
	key, err := keys.ParseKey(raw)
	if err != nil {
		return finish(flows.Errorf(flows.ErrConfig, "profile %s: HMAC key: %v", p.Name, err))
	}
	m, err := hmac.NewMessage(http.MethodGet, p.TokenURL, http.Header{}, nil)
	if err != nil {
		return finish(flows.Errorf(flows.ErrConfig, "profile %s: target URL: %v", p.Name, err))
	}
	var signed *hmac.Signed
	err = step("sign ("+schemeOr(p.HMAC.Scheme)+")", func() (string, error) {
		switch p.HMAC.Scheme {
		case hmac.SchemeSigV4:
			signed, err = hmac.SignSigV4(m, key, hmac.SigV4Options{AccessKey: p.HMAC.AccessKey, Region: p.HMAC.Region, Service: p.HMAC.Service, Now: now})
		case hmac.SchemeStripe:
			signed, err = hmac.SignStripe(m, key, now)
		case hmac.SchemeGitHub:
			signed, err = hmac.SignGitHub(m, key)
		default:
			b := make([]byte, 16)
			if _, err := rand.Read(b); err != nil {
				return "", err
			}
			signed, err = hmac.Sign9421(m, key, hmac.RFC9421Options{Label: p.HMAC.Label, Components: p.HMAC.Components,
				Params: hmac.Params{KeyID: p.HMAC.KeyID, Nonce: base64.RawURLEncoding.EncodeToString(b)}, Now: now})
		}
		if err != nil {
			return "", err
		}
		return "signature " + signed.Signature, nil
	})
	if err != nil {
		return finish(flows.Errorf(flows.ErrConfig, "sign: %v", err))
	}
	client := flows.NewClient(flows.ClientOptions{Transport: rt}, flows.ObserverFuncs{OnExchange: func(x flows.Exchange) {
		res.Exchanges = append(res.Exchanges, x)
		obs.Exchange(x)
	}})
	var resp *flows.Response
	err = step("signed request", func() (string, error) {
		req, err := http.NewRequestWithContext(ctx, m.Method, m.URL.String(), bytes.NewReader(m.Body))
		if err != nil {
			return "", err
		}
		for k, vs := range m.Header {
			req.Header[k] = vs
		}
		resp, err = client.Do(req, "signed request")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d", resp.Status), nil
	})
	if err != nil {
		var fe *flows.Error
		if !errors.As(err, &fe) {
			fe = flows.Errorf(flows.ErrNetwork, "%v", err)
		}
		return finish(fe)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		res.AddCheck(flows.Check{Name: "signature accepted", Status: flows.Pass, Detail: fmt.Sprintf("HTTP %d from %s", resp.Status, p.TokenURL)})
		return finish(nil)
	}
	detail := fmt.Sprintf("HTTP %d %s", resp.Status, flows.Snippet(resp.Body, 160))
	var eb hmac.ErrorBody
	if json.Unmarshal(resp.Body, &eb) == nil && eb.ErrorDescription != "" {
		detail = fmt.Sprintf("HTTP %d: %s", resp.Status, eb.ErrorDescription)
	}
	res.AddCheck(flows.Check{Name: "signature accepted", Status: flows.Fail, Detail: detail})
	return finish(&flows.Error{Kind: flows.ErrCheck, Message: "the server rejected the signed request: " + detail, Status: resp.Status})
}

func schemeOr(s string) string {
	if s == "" {
		return hmac.SchemeRFC9421
	}
	return s
}
