package console

import (
	"cmp"
	"errors"
	"path/filepath"
	"strings"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/token"
	"authlab/store"
	"authlab/views/history"
	"authlab/views/profiles"
)

// Describe reads the detail pane of a profile (Describer) in one read-only
// open: its settings, its latest run with the checks counted, and its
// cached token as fingerprint and times. Secrets are named by source only.
func (b *StoreBackend) Describe(name string) (profiles.Detail, error) {
	var d profiles.Detail
	err := store.View(b.Path, func(s *store.Store) error {
		p, err := s.GetProfile(name)
		if err != nil {
			return err
		}
		d = detailOf(p)
		if runs, err := s.History(name, 1); err == nil && len(runs) > 0 {
			d.Last = runSummary(runs[0])
		}
		if t, err := s.GetToken(name); err == nil {
			d.Token = tokenSummary(t)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}, store.ReadOnly())
	return d, err
}

func detailOf(p store.Profile) profiles.Detail {
	d := profiles.Detail{Name: p.Name, Kind: string(p.Kind), Issuer: p.Issuer, ClientID: p.ClientID,
		AuthMethod: p.AuthMethod, Scopes: strings.Join(p.Scopes, " ")}
	add := func(fs *[]profiles.Field, label, v string) {
		if v != "" {
			*fs = append(*fs, profiles.Field{Label: label, Value: v})
		}
	}
	if d.AuthMethod == "" && p.Kind != store.KindHMAC && p.Kind != store.KindAPIKey {
		d.AuthMethod = "(default: the engine picks by the secrets set)"
		if p.Kind == store.KindMTLS {
			d.AuthMethod = "tls_client_auth (default)"
		}
	}
	add(&d.Endpoints, "request", p.TargetURL)
	add(&d.Endpoints, "token", p.TokenURL)
	add(&d.Endpoints, "authorize", p.AuthURL)
	add(&d.Endpoints, "device", p.DeviceURL)
	add(&d.Settings, "audience", strings.Join(p.Audience, " "))
	add(&d.Settings, "scheme", p.HMAC.Scheme)
	add(&d.Settings, "key id", p.HMAC.KeyID)
	if p.Kind == store.KindAPIKey {
		h := p.APIKeyHeader
		if h == "" {
			h = "(the runner's default)"
		}
		add(&d.Settings, "header", h)
	}
	add(&d.Settings, "cert", p.CertFile)
	if p.DPoP {
		add(&d.Settings, "dpop", cmp.Or(p.DPoPAlg, dpop.DefaultAlg))
	}
	for _, k := range store.SecretKinds() {
		if s, ok := p.Secrets[k]; ok && !s.IsZero() {
			add(&d.Secrets, "secret", string(k)+" "+secretSource(s))
		}
	}
	return d
}

// secretSource says where a secret comes from, never what it is: a cmd:
// reference shows its program only (arguments may carry a value).
func secretSource(s store.Secret) string {
	ref := s.Ref()
	src := ref
	switch {
	case ref == "":
		src = "stored"
	case strings.HasPrefix(ref, "cmd:"):
		src = "cmd:…"
		if argv, err := flows.SplitCommand(strings.TrimPrefix(ref, "cmd:")); err == nil && len(argv) > 0 {
			src = "cmd:" + filepath.Base(argv[0]) + " …"
		}
	}
	if !s.Confirmed() {
		src += " (not confirmed: T)"
	}
	return src
}

func runSummary(r store.Run) *profiles.RunSummary {
	s := &profiles.RunSummary{At: r.Time, Flow: r.Flow, OK: r.OK, Reason: runReason(r)}
	for _, c := range r.Checks {
		switch c.Status {
		case flows.Pass:
			s.Pass++
		case flows.Warn:
			s.Warn++
		case flows.Fail:
			s.Fail++
		}
	}
	return s
}

// tokenSummary keeps of the cached response its fingerprint and times;
// the response itself goes no further.
func tokenSummary(t store.CachedToken) *profiles.TokenSummary {
	tr := flows.NewTokenResponse(decodeRaw(t.Response), t.Obtained)
	s := &profiles.TokenSummary{Flow: t.Flow, Obtained: t.Obtained, ExpiresAt: t.ExpiresAt, Refresh: tr.RefreshToken != ""}
	if tr.AccessToken != "" {
		s.Fingerprint = flows.Fingerprint(tr.AccessToken)
	}
	if s.ExpiresAt.IsZero() {
		s.ExpiresAt = tr.ExpiresAt()
	}
	if s.ExpiresAt.IsZero() && tr.AccessToken != "" {
		// no expires_in: a JWT access token still says when it expires
		if d, err := token.Decode(tr.AccessToken); err == nil {
			s.ExpiresAt, _ = d.Time("exp")
		}
	}
	return s
}

// HistoryTokens is History with each run's decoded tokens (TokenHistorian),
// for comparing two runs: both from the one read of the runs.
func (b *StoreBackend) HistoryTokens(name string) ([]history.Entry, error) {
	runs, err := b.runs(name)
	if err != nil {
		return nil, err
	}
	es := historyEntries(runs)
	for i, r := range runs {
		for _, t := range r.Tokens {
			es[i].Decoded = append(es[i].Decoded, history.Token{Kind: t.Kind, Format: t.Format, Fingerprint: t.Fingerprint, Header: t.Header, Claims: t.Claims})
		}
	}
	return es, nil
}
