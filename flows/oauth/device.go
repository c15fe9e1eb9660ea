package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
)

// Device polling bounds (RFC 8628 3.2, 3.5).
const (
	defaultDeviceInterval = 5 * time.Second
	slowDownStep          = 5 * time.Second
	maxDevicePolls        = 1000 // a hard bound whatever the server says
)

// Device runs the device authorization grant (RFC 8628): it shows the user
// code and verification URI through the observer, then polls the token
// endpoint honouring interval, slow_down and expiry.
func (e *Engine) Device(ctx context.Context, obs flows.Observer) *flows.Result {
	r := e.newRun(flows.FlowDevice, obs)
	ep, m, err := e.resolve(ctx, r)
	if err != nil {
		return r.finish(err)
	}
	if ep.Device == "" {
		return r.finish(missingEndpoint("device authorization", flows.FieldDeviceURL))
	}
	var deviceCode string
	da := &flows.DeviceAuthorization{}
	err = r.step("device authorization", func() (string, error) {
		form := url.Values{}
		addScopeParams(form, &e.req)
		for k, vs := range e.req.ExtraParams {
			form[k] = append([]string(nil), vs...)
		}
		header := http.Header{}
		if err := e.authenticate(form, header, e.assertionAudience(m, ep.Device)); err != nil {
			return "", err
		}
		resp, err := r.hc.PostForm(ctx, "device authorization", ep.Device, form, header)
		if err != nil {
			return "", err
		}
		if resp.Status != 200 {
			return "", oauthError("device authorization", ep.Device, resp)
		}
		body, _, err := decodeObject(resp)
		if err != nil {
			return "", flows.Errorf(flows.ErrProtocol, "device authorization: %s answered HTTP 200 with %v", ep.Device, err)
		}
		deviceCode = str(body["device_code"])
		da.UserCode = str(body["user_code"])
		da.VerificationURI = str(body["verification_uri"])
		if da.VerificationURI == "" {
			da.VerificationURI = str(body["verification_url"]) // Google's spelling
		}
		da.VerificationURIComplete = str(body["verification_uri_complete"])
		var missing []string
		for name, v := range map[string]string{"device_code": deviceCode, "user_code": da.UserCode, "verification_uri": da.VerificationURI} {
			if v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sortStrings(missing)
			return "", flows.Errorf(flows.ErrProtocol, "device authorization: the answer lacks %s (RFC 8628 3.2)", strings.Join(missing, ", "))
		}
		tr := flows.NewTokenResponse(map[string]any{"expires_in": body["expires_in"]}, resp.Received)
		da.ExpiresIn = time.Duration(tr.ExpiresIn) * time.Second
		if !tr.HasExpiresIn || da.ExpiresIn <= 0 {
			da.ExpiresIn = 0
			r.res.AddCheck(flows.Check{Name: "device expires_in", Status: flows.Warn, Detail: "no usable expires_in (required by RFC 8628 3.2); polling until the wait runs out"})
		}
		iv := flows.NewTokenResponse(map[string]any{"expires_in": body["interval"]}, resp.Received)
		da.Interval = time.Duration(iv.ExpiresIn) * time.Second
		if !iv.HasExpiresIn || da.Interval <= 0 {
			da.Interval = defaultDeviceInterval
			r.res.AddCheck(flows.Check{Name: "device interval", Status: flows.Pass, Detail: "no interval in the answer: polling every 5 s as RFC 8628 3.2 says"})
		}
		r.res.Device = da
		return fmt.Sprintf("user code %s", da.UserCode), nil
	})
	if err != nil {
		return r.finish(err)
	}
	show := fmt.Sprintf("open %s and enter the code %s", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		show += fmt.Sprintf(" (or open %s)", da.VerificationURIComplete)
	}
	// The typed hand-off first (a console shows the code at once), then the
	// step that says it in words.
	r.rec.Device(*da)
	r.note(flows.StepUserCode, show, true)
	if ep.Token == "" {
		return r.finish(missingEndpoint("token", flows.FieldTokenURL))
	}

	limit := e.req.WaitOrDefault()
	if da.ExpiresIn > 0 && da.ExpiresIn < limit {
		limit = da.ExpiresIn
	}
	started := time.Now()
	interval := da.Interval
	var waited time.Duration // by the injected sleeper's account
	for poll := 1; poll <= maxDevicePolls; poll++ {
		if waited+interval > limit {
			if poll == 1 {
				return r.finish(flows.Errorf(flows.ErrCancelled, "device: the wait (%s) is shorter than the polling interval (%s); raise %s", limit, interval, flows.FieldWait))
			}
			return r.finish(flows.Errorf(flows.ErrCancelled, "device: the user did not approve within %s (%d polls)", limit, poll-1))
		}
		if err := e.sleep(ctx, interval); err != nil {
			return r.finish(flows.Wrap(flows.ErrCancelled, err, "device: cancelled while waiting for the user (%v)", err))
		}
		waited += interval
		da.Polls = poll
		form := url.Values{"grant_type": {grantDeviceCode}, "device_code": {deviceCode}}
		resp, err := e.tokenPost(ctx, r, "device poll", ep.Token, e.assertionAudience(m, ep.Token), form)
		if err != nil {
			return r.finish(err)
		}
		if resp.Status == 200 {
			tr, checks, err := parseTokenResponse("device poll", ep.Token, resp)
			if err != nil {
				return r.finish(err)
			}
			r.res.Token = tr
			r.res.AddCheck(checks...)
			r.note("device approved", fmt.Sprintf("after %d polls, %s", poll, time.Since(started).Round(time.Millisecond)), true)
			e.inspectTokens(ctx, r, ep, m, tr, resp, "")
			e.dpopTokenChecks(r, tr)
			r.res.AddCheck(scopeCheck(e.req.Scopes, tr))
			return r.finish(e.maybeCall(ctx, r, tr.AccessToken))
		}
		fe := oauthError("device poll", ep.Token, resp)
		switch fe.OAuthError {
		case "authorization_pending":
			continue
		case "slow_down":
			interval += slowDownStep
			da.SlowDowns++
			r.note("device poll", fmt.Sprintf("slow_down: polling every %s now", interval), true)
			continue
		case "expired_token":
			fe.Message = "device: the device code expired before the user approved (expired_token); start again"
		case "access_denied":
			fe.Message = "device: the user denied the request (access_denied)"
		}
		return r.finish(fe)
	}
	return r.finish(flows.Errorf(flows.ErrCancelled, "device: gave up after %d polls", maxDevicePolls))
}
