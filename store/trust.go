package store

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Secret trust. A shared profile file can name any token URL and any
// env:/file: reference, so a secret is bound to the origins (scheme, host,
// port) a person entered or confirmed it for. A run refuses a secret its
// profile would send anywhere else, until `authlab profile trust NAME` (or
// the console) shows which file, variable or stored secret goes to which
// host and the person confirms.

// ErrUntrusted matches every refusal of a secret that was not confirmed for
// the hosts its profile sends it to.
var ErrUntrusted = errors.New("secret not confirmed for this host")

// UntrustedError is one refused secret: its profile, what it is (a reference
// or "the stored client secret") and the origin it would go to.
type UntrustedError struct {
	Profile string
	Kind    SecretKind
	Source  string
	Origin  string // "" when the profile names no URL yet
}

func (e *UntrustedError) Error() string {
	if e.Origin == "" {
		return fmt.Sprintf("profile %q: %s came from an import and was not confirmed; run 'authlab profile trust %s' to confirm", e.Profile, e.Source, e.Profile)
	}
	return fmt.Sprintf("profile %q: %s would be sent to %s, which it was not confirmed for; run 'authlab profile trust %s' to confirm", e.Profile, e.Source, e.Origin, e.Profile)
}

func (e *UntrustedError) Unwrap() error { return ErrUntrusted }

// Label is how messages name the secret kind.
func (k SecretKind) Label() string {
	switch k {
	case ClientSecret:
		return "client secret"
	case HMACKey:
		return "HMAC key"
	case PrivateKey:
		return "private key"
	case APIKey:
		return "API key"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

// source names a stored secret without showing it: the reference, or
// "the stored client secret".
func (st storedSecret) source(k SecretKind) string {
	if st.Ref != "" {
		return st.Ref
	}
	return "the stored " + k.Label()
}

// SecretOrigins are the origins (scheme://host:port, sorted) a run of the
// profile may send one of its secrets or a signature made with it to: the
// issuer (whose discovery document names the other endpoints), the
// endpoints that authenticate the client, and the target URL of hmac and
// api-key profiles.
func (p *Profile) SecretOrigins() []string {
	var out []string
	for _, u := range []string{p.Issuer, p.TokenURL, p.DeviceURL, p.IntrospectURL, p.RevokeURL, p.TargetURL} {
		if o, ok := Origin(u); ok && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// Origin is scheme://host:port of an http(s) URL, with the default port made
// explicit and the host lower-cased; false when raw is not such a URL.
func Origin(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		default:
			return "", false
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port), true
}

// covers reports whether the secret was confirmed for every one of origins.
func (st storedSecret) covers(origins []string) bool {
	if !st.Confirmed {
		return false
	}
	for _, o := range origins {
		if !slices.Contains(st.Origins, o) {
			return false
		}
	}
	return true
}

// refusal is the error a run gets for st, or nil when it is confirmed for
// every origin the profile sends it to.
func (st storedSecret) refusal(profile string, k SecretKind, origins []string) *UntrustedError {
	if st.covers(origins) {
		return nil
	}
	e := &UntrustedError{Profile: profile, Kind: k, Source: st.source(k)}
	for _, o := range origins {
		if !st.Confirmed || !slices.Contains(st.Origins, o) {
			e.Origin = o
			break
		}
	}
	return e
}

// TrustError is the refusal of the profile's first secret (in kind order)
// that was not confirmed for the hosts the profile sends it to, or nil. A
// run checks it before anything else, so the refusal is its one line; every
// Secret.Resolve refuses the same secrets, so a path that forgets the check
// still sends nothing.
func (p *Profile) TrustError() error {
	for _, k := range SecretKinds() {
		if s, ok := p.Secrets[k]; ok && s.untrusted != nil {
			return s.untrusted
		}
	}
	return nil
}

// LoadRunProfile is LoadProfile for a run: it refuses a profile with a
// secret that was not confirmed for the hosts it would be sent to.
func LoadRunProfile(path, name string) (Profile, error) {
	p, err := LoadProfile(path, name)
	if err != nil {
		return p, err
	}
	return p, p.TrustError()
}

// TrustItem is one secret of a profile as `authlab profile trust` shows it:
// what it is and where a run sends it.
type TrustItem struct {
	Profile   string
	Kind      SecretKind
	Source    string   // the env:/file: reference, or "the stored client secret"
	Origins   []string // where a run of the profile sends it
	Confirmed bool     // already confirmed for all of Origins
	digest    [32]byte // the secret and origins shown, so a confirmation covers exactly them
}

// String is one line: "client secret: file:/k.pem → https://idp.example.com:443".
func (t TrustItem) String() string {
	to := "no host yet"
	if len(t.Origins) > 0 {
		to = strings.Join(t.Origins, ", ")
	}
	return fmt.Sprintf("%s: %s → %s", t.Kind.Label(), t.Source, to)
}

func trustItem(profile string, k SecretKind, st storedSecret, origins []string) TrustItem {
	h := sha256.New()
	for _, s := range append([]string{string(k), st.Ref, st.Value}, origins...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	t := TrustItem{Profile: profile, Kind: k, Source: st.source(k), Origins: slices.Clone(origins), Confirmed: st.covers(origins)}
	h.Sum(t.digest[:0])
	return t
}

// TrustItems lists every secret of the profile with the hosts a run sends
// it to, in kind order.
func (s *Store) TrustItems(name string) ([]TrustItem, error) {
	if s.absent {
		return nil, s.notYet(fmt.Sprintf("profile %q", name))
	}
	var out []TrustItem
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = trustItemsTx(tx, name)
		return err
	})
	return out, err
}

func trustItemsTx(tx *bolt.Tx, name string) ([]TrustItem, error) {
	p, err := profileRecordTx(tx, name)
	if err != nil {
		return nil, err
	}
	sr, err := secretsRecordTx(tx, name)
	if err != nil {
		return nil, err
	}
	origins := p.SecretOrigins()
	var out []TrustItem
	for _, k := range SecretKinds() {
		if st, ok := sr.Secrets[k]; ok {
			out = append(out, trustItem(name, k, st, origins))
		}
	}
	return out, nil
}

// ErrTrustChanged: the profile's secrets or hosts changed after they were
// shown; nothing was confirmed.
var ErrTrustChanged = errors.New("changed since it was shown")

// ConfirmTrust records that a person confirmed the shown secrets of the
// profile for the hosts shown with them. It refuses (ErrTrustChanged) when
// the profile no longer matches what was shown, so a confirmation never
// covers a reference or host the person did not see.
func (s *Store) ConfirmTrust(name string, shown []TrustItem) error {
	return s.update(func(tx *bolt.Tx) error {
		now, err := trustItemsTx(tx, name)
		if err != nil {
			return err
		}
		same := len(now) == len(shown)
		for i := 0; same && i < len(now); i++ {
			same = now[i].Kind == shown[i].Kind && subtle.ConstantTimeCompare(now[i].digest[:], shown[i].digest[:]) == 1
		}
		if !same {
			return fmt.Errorf("profile %q %w; run 'authlab profile trust %s' again", name, ErrTrustChanged, name)
		}
		sr, err := secretsRecordTx(tx, name)
		if err != nil || len(sr.Secrets) == 0 {
			return err
		}
		p, err := profileRecordTx(tx, name)
		if err != nil {
			return err
		}
		origins := p.SecretOrigins()
		for k, st := range sr.Secrets {
			st.Confirmed, st.Origins = true, union(st.Origins, origins)
			sr.Secrets[k] = st
		}
		return putSecretsTx(tx, name, sr.Secrets)
	})
}

// union is a ∪ b, sorted.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// SaveReport says what saving a profile did to secrets that were kept from
// before (placeholders) or came through an import.
type SaveReport struct {
	// Dropped are stored values that were confirmed for other hosts than
	// the profile now sends them to: they are gone, set them again.
	Dropped []TrustItem
	// Unconfirmed are secrets a run refuses until a person confirms them
	// (`authlab profile trust NAME`).
	Unconfirmed []TrustItem
}

// Notes are one line per dropped or unconfirmed secret, for the person.
func (r SaveReport) Notes() []string {
	var out []string
	for _, t := range r.Dropped {
		out = append(out, fmt.Sprintf("profile %s: dropped %s: it was confirmed for other hosts than %s; set it again with %s",
			t.Profile, t.Source, strings.Join(t.Origins, ", "), t.Kind.Flag()))
	}
	for _, t := range r.Unconfirmed {
		out = append(out, fmt.Sprintf("profile %s: %s is not confirmed yet; run 'authlab profile trust %s' before running it", t.Profile, t.Source, t.Profile))
	}
	return out
}

func (r *SaveReport) add(o SaveReport) {
	r.Dropped = append(r.Dropped, o.Dropped...)
	r.Unconfirmed = append(r.Unconfirmed, o.Unconfirmed...)
}
