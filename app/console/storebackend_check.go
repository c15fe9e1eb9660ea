package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"authlab/flows"
	"authlab/flows/check"
	"authlab/flows/mtls"
	"authlab/store"
)

// checkProfile loads a profile that has an issuer to check.
func (b *StoreBackend) checkProfile(name string) (store.Profile, error) {
	p, err := store.LoadProfile(b.Path, name)
	if err != nil {
		return p, err
	}
	if strings.TrimSpace(p.Issuer) == "" {
		return p, fmt.Errorf("%s has no issuer: the check reads the issuer's metadata (e edits the profile)", name)
	}
	return p, nil
}

// CheckTarget is the profile's issuer.
func (b *StoreBackend) CheckTarget(name string) (string, error) {
	p, err := b.checkProfile(name)
	return p.Issuer, err
}

// Check is `authlab check --issuer ISSUER --profile profile` on the
// profile's issuer, trusting the profile's CA file; an authorization code
// profile's client also runs the behaviour probes.
func (b *StoreBackend) Check(ctx context.Context, name, profile string) (*check.Report, error) {
	p, err := b.checkProfile(name)
	if err != nil {
		return nil, err
	}
	hc, err := b.checkClient(p)
	if err != nil {
		return nil, err
	}
	o := check.Options{Issuer: p.Issuer, Profile: profile, Timeout: flows.DefaultTimeout, Client: hc}
	o.Probe, err = b.checkProbe(p)
	if err != nil {
		return nil, err
	}
	return check.Run(ctx, o)
}

// checkProbe is the client the behaviour probes act as: an authorization
// code profile's, once its secrets are confirmed for its hosts (the probes
// send them). Other profiles get the metadata checks only.
func (b *StoreBackend) checkProbe(p store.Profile) (*flows.Request, error) {
	if p.Kind != store.KindAuthCode || p.TrustError() != nil {
		return nil, nil
	}
	req, err := b.flowRequest(p, "")
	if err != nil {
		return nil, err
	}
	return &req, nil
}

// checkClient trusts the profile's CA (an issuer behind a private CA). The
// metadata is public: no client certificate is presented for it.
func (b *StoreBackend) checkClient(p store.Profile) (*flows.Client, error) {
	rt := b.Transport
	if rt == nil && p.CAFile != "" {
		conf, err := mtls.LoadClientTLS("", "", p.CAFile)
		if err != nil {
			return nil, fmt.Errorf("profile %s: CA file: %v", p.Name, err)
		}
		rt = flows.NewTransport(conf)
	}
	return flows.NewClient(flows.ClientOptions{Timeout: flows.DefaultTimeout, Transport: rt}, nil), nil
}

// ExportCheck writes check-NAME-PROFILE-TIME.json, the `authlab check
// --json` object, beside the store (or in ExportDir).
func (b *StoreBackend) ExportCheck(name string, rep *check.Report) (string, error) {
	if err := store.ValidName(name); err != nil {
		return "", err
	}
	if rep == nil {
		return "", fmt.Errorf("no check report to export")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return "", err
	}
	mode := check.ProfileFAPI2
	if rep.Profile == check.ProfileBCP {
		mode = check.ProfileBCP
	}
	return writeExport(exportBase(b.exportDir(), "check", name+"-"+mode, b.now()), ".json", buf.Bytes())
}
