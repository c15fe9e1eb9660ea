package console

import (
	"authlab/flows/dpop"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/flows/oauth"
	"authlab/flows/token"
	"authlab/store"
	"authlab/views/history"
	"authlab/views/inspect"
	"authlab/views/profiles"
	"authlab/views/ui"
)

// StoreBackend is the real Backend: the bbolt store (opened per operation,
// never held), the OAuth engine and the token engine.
type StoreBackend struct {
	Path string
	// Now is the clock of flows and checks; time.Now when nil.
	Now func() time.Time
	// OpenURL opens the authorization URL in a browser; nil: do not open
	// (the run screen shows the URL).
	OpenURL func(url string) error
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// ExportDir is where Export writes (the store's directory when empty).
	ExportDir string
}

func (b *StoreBackend) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Profiles lists every profile, in one read-only open.
func (b *StoreBackend) Profiles() ([]profiles.Row, error) {
	var rows []profiles.Row
	err := store.View(b.Path, func(s *store.Store) error {
		ps, err := s.ListProfiles()
		if err != nil {
			return err
		}
		rows = make([]profiles.Row, len(ps))
		for i, p := range ps {
			rows[i] = profiles.Row{Name: p.Name, Kind: string(p.Kind), Demo: p.Demo}
		}
		return nil
	}, store.ReadOnly())
	return rows, err
}

// LastRuns reads every profile's latest run, in one read-only open.
func (b *StoreBackend) LastRuns() (map[string]profiles.LastRun, error) {
	out := map[string]profiles.LastRun{}
	err := store.View(b.Path, func(s *store.Store) error {
		ps, err := s.ListProfiles()
		if err != nil {
			return err
		}
		for _, p := range ps {
			if runs, err := s.History(p.Name, 1); err == nil && len(runs) > 0 {
				out[p.Name] = profiles.LastRun{At: runs[0].Time, OK: runs[0].OK, Reason: runReason(runs[0])}
			}
		}
		return nil
	}, store.ReadOnly())
	return out, err
}

func runReason(r store.Run) string {
	if r.Error != nil {
		return r.Error.Message
	}
	for _, c := range r.Checks {
		if c.Status == flows.Fail {
			return c.Name + ": " + c.Detail
		}
	}
	return ""
}

// Delete removes a profile.
func (b *StoreBackend) Delete(name string) error {
	return store.Update(b.Path, func(s *store.Store) error { return s.DeleteProfile(name) })
}

// Duplicate copies a profile to "NAME-copy", "NAME-copy-2", ...
func (b *StoreBackend) Duplicate(name string) (string, error) {
	var out string
	err := store.Update(b.Path, func(s *store.Store) error {
		p, err := s.GetProfile(name)
		if err != nil {
			return err
		}
		for i := 1; i < 1000; i++ {
			n := name + "-copy"
			if i > 1 {
				n += "-" + strconv.Itoa(i)
			}
			if _, err := s.GetProfile(n); errors.Is(err, store.ErrNotFound) {
				p.Name, p.Demo = n, false
				p.CreatedAt, p.UpdatedAt = time.Time{}, time.Time{}
				// The copy keeps each secret with the hosts it was
				// confirmed for: copying confirms nothing.
				for k := range p.Secrets {
					p.Secrets[k] = store.KeepStored()
				}
				out = n
				_, err := s.SaveProfile(p, store.SaveOptions{From: name})
				return err
			}
		}
		return fmt.Errorf("no free name for a copy of %s", name)
	})
	return out, err
}

// Export writes NAME.json (secrets as references or placeholders) beside
// the store, or in ExportDir.
func (b *StoreBackend) Export(name string) (string, error) {
	p, err := store.LoadProfile(b.Path, name)
	if err != nil {
		return "", err
	}
	data, err := store.EncodeExport([]store.Profile{p}, false)
	if err != nil {
		return "", err
	}
	path := filepath.Join(b.exportDir(), name+".json")
	if err := flows.WritePrivateFile(path, data); err != nil {
		return "", err
	}
	return path, nil
}

// Import adds the profiles of an export file (store.MaxImportSize at most;
// a device or FIFO is refused instead of read forever).
func (b *StoreBackend) Import(path string) (int, error) {
	data, err := flows.ReadFileCapped(path, store.MaxImportSize)
	if err != nil {
		return 0, err
	}
	var n int
	err = store.Update(b.Path, func(s *store.Store) (err error) { n, err = s.Import(data, false); return })
	return n, err
}

// History lists past runs, redacted as the store keeps them.
func (b *StoreBackend) History(name string) ([]history.Entry, error) {
	runs, err := b.runs(name)
	if err != nil {
		return nil, err
	}
	return historyEntries(runs), nil
}

// runs reads a profile's past runs, newest first, in one read-only open.
func (b *StoreBackend) runs(name string) ([]store.Run, error) {
	var runs []store.Run
	err := store.View(b.Path, func(s *store.Store) (err error) { runs, err = s.History(name, 0); return }, store.ReadOnly())
	return runs, err
}

// historyEntries are the history screen's lines of the runs.
func historyEntries(runs []store.Run) []history.Entry {
	out := make([]history.Entry, len(runs))
	for i, r := range runs {
		e := history.Entry{Time: r.Time, Flow: r.Flow, OK: r.OK, Error: runReason(r), Checks: r.Checks}
		for _, x := range r.Exchanges {
			e.Exchanges = append(e.Exchanges, fmt.Sprintf("%s %s → %d (%s)", x.Method, x.URL, x.Status, x.Duration.Round(time.Millisecond)))
		}
		for _, t := range r.Tokens {
			line := t.Kind + " " + t.Format + " sha256:" + ui.ShortFP(t.Fingerprint)
			if sub, ok := t.Claims["sub"].(string); ok {
				line += " sub=" + sub
			}
			e.Tokens = append(e.Tokens, line)
		}
		out[i] = e
	}
	return out
}

// Secrets resolves a profile's client credentials for "curl with secrets".
func (b *StoreBackend) Secrets(name string) (Secrets, error) {
	p, err := b.trustedProfile(name)
	if err != nil {
		return Secrets{}, err // the curl would send it to a host nobody confirmed
	}
	sec := Secrets{ClientID: p.ClientID}
	if s, ok := p.Secrets[store.ClientSecret]; ok && !s.IsZero() {
		v, err := s.Resolve()
		if err != nil {
			return Secrets{}, err
		}
		sec.ClientSecret = v
	}
	return sec, nil
}

// trustedProfile loads a profile whose secrets are confirmed for the hosts
// they go to; otherwise the error is the profile's TrustError.
func (b *StoreBackend) trustedProfile(name string) (store.Profile, error) {
	p, err := store.LoadProfile(b.Path, name)
	if err != nil {
		return p, err
	}
	return p, p.TrustError()
}

// flowRequest is the profile's request for flow ("": its own) on the
// backend's clock; an error names the profile.
func (b *StoreBackend) flowRequest(p store.Profile, flow string) (flows.Request, error) {
	req, err := p.FlowRequest(flow)
	if err != nil {
		return req, fmt.Errorf("profile %s: %v", p.Name, err)
	}
	req.Now = b.Now
	return req, nil
}

// Run runs a profile's flow (or a follow-up) and records it in history.
func (b *StoreBackend) Run(ctx context.Context, rr RunRequest, ev Events) *flows.Result {
	started := b.now()
	fail := func(err error) *flows.Result {
		r := &flows.Result{Flow: rr.Flow, Started: started}
		r.Fail(err)
		return r
	}
	if _, err := store.EnsureDPoPKey(b.Path, rr.Profile, dpop.GeneratePEM, store.WithClock(b.now)); err != nil {
		return fail(flows.Errorf(flows.ErrConfig, "profile %s: %v", rr.Profile, err))
	}
	var p store.Profile
	var cached *store.CachedToken
	err := store.View(b.Path, func(s *store.Store) error {
		var err error
		if p, err = s.GetProfile(rr.Profile); err != nil {
			return err
		}
		if t, err := s.GetToken(rr.Profile); err == nil {
			cached = &t
		}
		return nil
	}, store.ReadOnly())
	if err != nil {
		return fail(flows.Errorf(flows.ErrConfig, "profile %s: %v", rr.Profile, err))
	}
	// The one line the run screen shows for a secret not confirmed for the
	// hosts it would go to; nothing is read or sent.
	if err := p.TrustError(); err != nil {
		return fail(flows.Errorf(flows.ErrConfig, "%v", err))
	}
	if p.Kind == store.KindHMAC && rr.Flow == "" {
		res := runHMAC(ctx, p, b.now, b.Transport, ev)
		b.record(p.Name, res)
		return res
	}
	if p.Kind == store.KindAPIKey && rr.Flow == "" {
		// The key in its header or query parameter (apikey.Send: what `authlab run` sends).
		ak, err := apiKeyRequest(p)
		if err != nil {
			return fail(flows.Errorf(flows.ErrConfig, "%v", err))
		}
		ak.Client = flows.ClientOptions{Transport: b.Transport}
		res := apikey.Send(ctx, ak, ev)
		b.record(p.Name, res)
		return res
	}
	req, err := b.flowRequest(p, "")
	if err != nil {
		return fail(flows.Errorf(flows.ErrConfig, "%v", err))
	}
	flow := req.Flow
	if rr.Flow != "" {
		flow = rr.Flow
	}
	tok := rr.Token
	if tok == "" && cached != nil && rr.Flow != "" {
		tr := flows.NewTokenResponse(decodeRaw(cached.Response), cached.Obtained)
		tok = tr.AccessToken
		if rr.Flow == flows.FlowRefresh {
			tok = tr.RefreshToken
		}
	}
	if flow != flows.FlowCall {
		req.Flow = flow
	}
	req.Token = flows.Secret(tok)
	var subject *flows.Result
	if flow == flows.FlowTokenExchange && tok == "" {
		// no subject token given: get one from the same client first, so
		// the exchange can be shown end to end
		cc := req.Clone()
		cc.Flow = flows.FlowClientCredentials
		cc.Audience = nil
		ccEng, err := oauth.New(cc, oauth.Options{Transport: b.Transport})
		if err != nil {
			return fail(err)
		}
		subject = ccEng.Run(ctx, ev)
		if subject.Failed() || subject.Token == nil || subject.Token.AccessToken == "" {
			b.record(p.Name, subject)
			return subject
		}
		req.Token = flows.Secret(subject.Token.AccessToken)
	}
	open := b.OpenURL
	eng, err := oauth.New(req, oauth.Options{
		Transport: b.Transport,
		OpenURL: func(ctx context.Context, u string) error {
			ev.AuthURL(u)
			if open != nil {
				return open(u)
			}
			return nil
		},
	})
	if err != nil {
		return fail(err)
	}
	// ev is a flows.DeviceObserver: the device grant hands it the user code.
	obs := ev
	var res *flows.Result
	if flow == flows.FlowCall {
		target := req.CallURL
		if target == "" && p.Issuer != "" {
			target = strings.TrimRight(p.Issuer, "/") + "/api/hello"
		}
		if target == "" {
			return fail(flows.Errorf(flows.ErrConfig, "no API to call: set the profile's extra parameter call_url"))
		}
		res = eng.Call(ctx, target, tok, obs)
	} else {
		res = eng.Run(ctx, obs)
	}
	if subject != nil {
		res.Exchanges = append(subject.Exchanges, res.Exchanges...)
	}
	b.record(p.Name, res)
	return res
}

func decodeRaw(b []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// record keeps the run in history (claims and fingerprints only) and its
// token in the cache, by the store's one rule. A store error is not the
// run's error.
func (b *StoreBackend) record(name string, res *flows.Result) {
	_ = store.RecordRun(b.Path, name, res, store.WithClock(b.now))
}

// Inspect decodes and checks a pasted token; with an http(s) iss it fetches
// the issuer's keys to verify the signature (bounded by a short timeout).
func (b *StoreBackend) Inspect(ctx context.Context, raw string) (inspect.Data, error) {
	d, err := token.Decode(raw)
	if err != nil {
		return inspect.Data{}, err
	}
	opts := token.Options{Now: b.Now}
	if iss := d.String("iss"); strings.HasPrefix(iss, "http://") || strings.HasPrefix(iss, "https://") {
		opts.Keys = token.NewJWKS(token.JWKSOptions{Issuer: iss, Client: flows.NewClient(flows.ClientOptions{Timeout: 3 * time.Second, Transport: b.Transport}, nil), Now: b.Now})
		opts.Issuer = iss
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rep := token.InspectDecoded(cctx, d, opts)
	return inspect.Data{Tokens: []inspect.Token{{Label: "pasted", Tok: DecodedFromReport(rep), Received: b.now()}}, Leeway: rep.Leeway}, nil
}

// DecodedFromReport copies a token report into the flows record the views render.
func DecodedFromReport(r *token.Report) *flows.DecodedToken {
	d := r.Token
	out := &flows.DecodedToken{Format: string(d.Format), Header: d.Header, Claims: d.Claims, Length: d.Length,
		Fingerprint: d.Fingerprint, Verified: r.Verified, Checks: r.Checks, Report: r}
	if t, ok := d.Time("exp"); ok {
		out.ExpiresAt = &t
	}
	return out
}

// Trust lists each secret of a profile with the hosts a run sends it to
// (Truster).
func (b *StoreBackend) Trust(name string) ([]store.TrustItem, error) {
	var items []store.TrustItem
	err := store.View(b.Path, func(s *store.Store) (err error) { items, err = s.TrustItems(name); return }, store.ReadOnly())
	return items, err
}

// ConfirmTrust records the person's confirmation of what Trust showed.
func (b *StoreBackend) ConfirmTrust(name string, shown []store.TrustItem) error {
	return store.Update(b.Path, func(s *store.Store) error { return s.ConfirmTrust(name, shown) })
}

// Form loads a profile into the editor.
func (b *StoreBackend) Form(name string) (Form, error) {
	p, err := store.LoadProfile(b.Path, name)
	return profileToForm(p), err
}

// SaveForm validates and saves the form; fields the form does not show
// keep the old profile's values. A rename is the store's RenameProfile
// after the save, so the history and the cached token follow the profile.
func (b *StoreBackend) SaveForm(f Form, original string) error {
	return store.Update(b.Path, func(s *store.Store) error {
		var old store.Profile
		if original != "" {
			var err error
			if old, err = s.GetProfile(original); err != nil {
				return err
			}
		}
		p, err := formToProfile(f, old)
		if err != nil {
			return err
		}
		name := p.Name
		renamed := original != "" && name != original
		if renamed {
			// Checked first, so that a refused name leaves the edit unsaved.
			if err := store.ValidName(name); err != nil {
				return fmt.Errorf("name: %v", err)
			}
			if _, err := s.GetProfile(name); err == nil {
				return fmt.Errorf("name: a profile named %s exists already", name)
			}
			p.Name = original
		}
		// A stored value the new URLs would send elsewhere is refused
		// rather than dropped quietly: the person enters it again or
		// clears it.
		if _, err := s.SaveProfile(p, store.SaveOptions{Replace: original != "", From: original, RefuseDrop: true}); err != nil {
			return err
		}
		if renamed {
			return s.RenameProfile(original, name)
		}
		return nil
	})
}

// Discover fills a form's endpoints from its issuer's discovery document.
func (b *StoreBackend) Discover(ctx context.Context, f Form) (Form, error) {
	eng, err := oauth.New(flows.Request{Flow: flows.FlowClientCredentials, Issuer: f.Fields["issuer"], ClientID: "discovery"}, oauth.Options{Transport: b.Transport})
	if err != nil {
		return f, err
	}
	md, err := eng.Discover(ctx, nil)
	if err != nil {
		// The message names the issuer; a password in it stays hidden.
		if iss := f.Fields["issuer"]; store.RedactURL(iss) != iss {
			return f, errors.New(strings.ReplaceAll(err.Error(), iss, store.RedactURL(iss)))
		}
		return f, err
	}
	out := Form{Name: f.Name, Kind: f.Kind, Fields: map[string]string{}}
	for k, v := range f.Fields {
		out.Fields[k] = v
	}
	for k, u := range map[string]string{"token_url": md.TokenEndpoint, "auth_url": md.AuthorizationEndpoint,
		"device_url": md.DeviceAuthorizationEndpoint, "jwks_url": md.JWKSURI, "introspect_url": md.IntrospectionEndpoint,
		"revoke_url": md.RevocationEndpoint, "userinfo_url": md.UserinfoEndpoint} {
		out.Fields[k] = u
	}
	return out, nil
}
