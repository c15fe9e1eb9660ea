package console

import (
	"time"

	"authlab/views/profiles"
)

// Describe is the fake's Describer: the fixture detail of a profile, or
// its name, kind and the row's last run.
func (f *fakeBackend) Describe(name string) (profiles.Detail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.details[name]; ok {
		return d, nil
	}
	for _, r := range f.rows {
		if r.Name == name {
			d := profiles.Detail{Name: name, Kind: r.Kind}
			if !r.LastRun.IsZero() {
				d.Last = &profiles.RunSummary{At: r.LastRun, Flow: r.Kind, OK: r.LastOK, Reason: r.LastErr}
			}
			return d, nil
		}
	}
	return profiles.Detail{}, errNotFound(name)
}

type errNotFound string

func (e errNotFound) Error() string { return "profile " + string(e) + " not found" }

// fixtureDetails are one detail per kind the pane renders differently:
// OAuth (issuer, client, cached token counting down), hmac and api-key
// (request URL, scheme or header, secrets by source).
func fixtureDetails() map[string]profiles.Detail {
	obtained := fixedNow.Add(-10 * time.Minute)
	return map[string]profiles.Detail{
		"demo-client-credentials": {Name: "demo-client-credentials", Kind: "client-credentials",
			Issuer: "http://127.0.0.1:9090", ClientID: "demo-cc", AuthMethod: "client_secret_basic", Scopes: "api:read",
			Secrets: []profiles.Field{{Label: "secret", Value: "client_secret stored"}},
			Last:    &profiles.RunSummary{At: fixedNow.Add(-40 * time.Second), Flow: "client-credentials", OK: true, Pass: 4, Warn: 1},
			Token:   &profiles.TokenSummary{Flow: "client-credentials", Obtained: obtained, ExpiresAt: obtained.Add(time.Hour), Fingerprint: "ab12cd34ef56ab12cd34ef56"}},
		"demo-hmac": {Name: "demo-hmac", Kind: "hmac",
			Endpoints: []profiles.Field{{Label: "request", Value: "http://127.0.0.1:9090/api/hmac"}},
			Settings:  []profiles.Field{{Label: "scheme", Value: "rfc9421"}, {Label: "key id", Value: "demo-key"}},
			Secrets:   []profiles.Field{{Label: "secret", Value: "hmac_key env:DEMO_HMAC_KEY"}}},
		"demo-api-key": {Name: "demo-api-key", Kind: "api-key",
			Endpoints: []profiles.Field{{Label: "request", Value: "http://127.0.0.1:9090/api/hello"}},
			Settings:  []profiles.Field{{Label: "header", Value: "X-API-Key"}},
			Secrets:   []profiles.Field{{Label: "secret", Value: "api_key stored"}},
			Last:      &profiles.RunSummary{At: fixedNow.Add(-5 * time.Minute), Flow: "api-key", OK: false, Reason: "HTTP 401 from the API", Pass: 1, Fail: 1}},
	}
}
