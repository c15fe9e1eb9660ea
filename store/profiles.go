package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// profileRecord is the value of the profiles bucket: the profile without
// its secrets, plus the record version.
type profileRecord struct {
	V int `json:"v"`
	Profile
}

// ProfileSummary is what `profile list` shows; decoding it skips secrets,
// history and most fields, so listing stays fast on large stores.
type ProfileSummary struct {
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	Endpoint  string    `json:"endpoint,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	Demo      bool      `json:"demo,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

type summaryRecord struct {
	Name          string    `json:"name"`
	Kind          Kind      `json:"kind"`
	Issuer        string    `json:"issuer"`
	TokenURL      string    `json:"token_url"`
	TargetURL     string    `json:"target_url"`
	AuthURL       string    `json:"auth_url"`
	DeviceURL     string    `json:"device_url"`
	IntrospectURL string    `json:"introspect_url"`
	UserinfoURL   string    `json:"userinfo_url"`
	Tags          []string  `json:"tags"`
	Demo          bool      `json:"demo"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// PutProfile validates p and saves it with its secrets. An existing profile
// of the same name is an ErrExists error unless replace is set; replacing
// keeps CreatedAt. A Secret read from a placeholder keeps the stored value.
// The caller vouches for every secret it passes: each is confirmed for the
// hosts p sends it to, except one the store loaded unconfirmed (see
// SaveProfile for saving what a person did not re-enter).
func (s *Store) PutProfile(p Profile, replace bool) error {
	_, err := s.SaveProfile(p, SaveOptions{Replace: replace, vouch: true})
	return err
}

// SaveOptions tune SaveProfile.
type SaveOptions struct {
	// Replace an existing profile of the same name (keeping CreatedAt).
	Replace bool
	// From names the profile whose stored secrets placeholders keep (a
	// rename or a copy); p.Name when empty.
	From string
	// RefuseDrop makes a kept stored value that would be dropped (its
	// profile now sends it to hosts it was not confirmed for) an error
	// instead, and nothing is saved: the editor asks for it again.
	RefuseDrop bool
	vouch      bool // PutProfile: placeholders of confirmed secrets follow the profile's hosts
}

// SaveProfile validates p and saves it with its secrets. A secret given
// anew (a value or reference the person typed) is confirmed for the hosts p
// sends it to. A placeholder keeps the stored secret with its confirmation:
// when p now sends it to other hosts, a stored value is dropped and a
// reference is left unconfirmed; the report lists both.
func (s *Store) SaveProfile(p Profile, o SaveOptions) (SaveReport, error) {
	p.carryTargetURL()
	if err := p.Validate(); err != nil {
		return SaveReport{}, err
	}
	mode := saveCarry
	if o.vouch {
		mode = saveVouch
	}
	var rep SaveReport
	err := s.updateWiping(func(tx *bolt.Tx) (bool, error) {
		r, wipe, err := putProfileTx(tx, p, o, mode, s.now())
		if err == nil && o.RefuseDrop && len(r.Dropped) > 0 {
			t := r.Dropped[0]
			return false, fmt.Errorf("profile %s: %s was confirmed for other hosts than %s; enter it again (or clear it) to save", p.Name, t.Source, strings.Join(t.Origins, ", "))
		}
		rep = r
		return wipe, err
	})
	return rep, err
}

// saveMode says whose word the secrets being saved carry.
type saveMode int

const (
	saveCarry  saveMode = iota // a person typed the new secrets; placeholders keep their confirmation
	saveVouch                  // PutProfile: the caller also vouches for placeholders of confirmed secrets
	saveImport                 // a file: references and kept secrets wait for a person's confirmation
)

// putProfileTx writes p and its secrets. wipe reports that a stored secret
// value was replaced or dropped, so the caller compacts the file.
func putProfileTx(tx *bolt.Tx, p Profile, o SaveOptions, mode saveMode, now time.Time) (rep SaveReport, wipe bool, err error) {
	pb := tx.Bucket([]byte(bucketProfiles))
	key := []byte(p.Name)
	if old := pb.Get(key); old != nil {
		if !o.Replace {
			return rep, false, fmt.Errorf("profile %q: %w (use --force to replace it)", p.Name, ErrExists)
		}
		var rec profileRecord
		if err := json.Unmarshal(old, &rec); err == nil && p.CreatedAt.IsZero() {
			p.CreatedAt = rec.CreatedAt
		}
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.UpdatedAt = now

	prev, err := secretsRecordTx(tx, p.Name) // what this save overwrites
	if err != nil {
		return rep, false, err
	}
	base := prev // what placeholders keep
	if o.From != "" && o.From != p.Name {
		if base, err = secretsRecordTx(tx, o.From); err != nil {
			return rep, false, err
		}
	}
	origins := p.SecretOrigins()
	secrets := map[SecretKind]storedSecret{}
	for _, k := range sortedSecretKinds(p.Secrets) {
		sec := p.Secrets[k]
		old, hasOld := base.Secrets[k]
		var st storedSecret
		switch {
		case sec.keep:
			if !hasOld {
				continue
			}
			st = old
			switch {
			case old.covers(origins):
			case mode == saveVouch && old.Confirmed:
				st.Origins = union(old.Origins, origins)
			case st.Value != "":
				// A stored value goes nowhere it was not confirmed for.
				rep.Dropped = append(rep.Dropped, trustItem(p.Name, k, old, origins))
				continue
			default:
				st.Confirmed = false
				rep.Unconfirmed = append(rep.Unconfirmed, trustItem(p.Name, k, st, origins))
			}
		case sec.untrusted != nil:
			// Loaded unconfirmed and passed back: saving is no confirmation.
			st = storedSecret{Ref: sec.ref, Value: sec.value, Origins: old.Origins}
			rep.Unconfirmed = append(rep.Unconfirmed, trustItem(p.Name, k, st, origins))
		case mode == saveImport && sec.ref != "":
			// A reference reads a local file or variable: the file's
			// author chose where it goes, so a person must confirm it,
			// unless it is the very reference already confirmed there.
			if hasOld && old.Ref == sec.ref && old.covers(origins) {
				st = old
				break
			}
			st = storedSecret{Ref: sec.ref}
			rep.Unconfirmed = append(rep.Unconfirmed, trustItem(p.Name, k, st, origins))
		case sec.IsZero():
			continue
		default:
			// Typed by the person, or a literal value the import file
			// itself carries (sending it leaks nothing local).
			st = storedSecret{Ref: sec.ref, Value: sec.value, Confirmed: true, Origins: origins}
		}
		secrets[k] = st
	}
	for k, old := range prev.Secrets {
		if old.Value != "" && secrets[k].Value != old.Value {
			wipe = true
		}
	}
	p.Secrets = nil
	b, err := json.Marshal(profileRecord{V: 1, Profile: p})
	if err != nil {
		return rep, false, err
	}
	if err := pb.Put(key, b); err != nil {
		return rep, false, err
	}
	return rep, wipe, putSecretsTx(tx, p.Name, secrets)
}

// putSecretsTx writes (or, when empty, deletes) the secrets record of a profile.
func putSecretsTx(tx *bolt.Tx, name string, secrets map[SecretKind]storedSecret) error {
	sb := tx.Bucket([]byte(bucketSecrets))
	if len(secrets) == 0 {
		return sb.Delete([]byte(name))
	}
	b, err := json.Marshal(secretsRecord{V: 1, Secrets: secrets})
	if err != nil {
		return err
	}
	return sb.Put([]byte(name), b)
}

// secretsRecordTx reads the secrets record of a profile (empty when none).
func secretsRecordTx(tx *bolt.Tx, name string) (secretsRecord, error) {
	var sr secretsRecord
	raw := tx.Bucket([]byte(bucketSecrets)).Get([]byte(name))
	if raw == nil {
		return sr, nil
	}
	if err := json.Unmarshal(raw, &sr); err != nil {
		return sr, fmt.Errorf("profile %q: stored secrets are unreadable: %v", name, err)
	}
	return sr, nil
}

// profileRecordTx reads a profile record without its secrets.
func profileRecordTx(tx *bolt.Tx, name string) (Profile, error) {
	raw := tx.Bucket([]byte(bucketProfiles)).Get([]byte(name))
	if raw == nil {
		return Profile{}, fmt.Errorf("profile %q: %w", name, ErrNotFound)
	}
	var rec profileRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Profile{}, fmt.Errorf("profile %q: stored record is unreadable: %v", name, err)
	}
	return rec.Profile, nil
}

// GetProfile loads one profile with its secrets; ErrNotFound if missing.
func (s *Store) GetProfile(name string) (Profile, error) {
	if s.absent {
		return Profile{}, s.notYet(fmt.Sprintf("profile %q", name))
	}
	var p Profile
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		p, err = getProfileTx(tx, name)
		return err
	})
	return p, err
}

func getProfileTx(tx *bolt.Tx, name string) (Profile, error) {
	p, err := profileRecordTx(tx, name)
	if err != nil {
		return Profile{}, err
	}
	sr, err := secretsRecordTx(tx, name)
	if err != nil {
		return Profile{}, err
	}
	p.Secrets = secretsOf(name, sr, p.SecretOrigins())
	return p, nil
}

// ListProfiles returns every profile's summary, sorted by name (bbolt keeps
// keys sorted bytewise).
func (s *Store) ListProfiles() ([]ProfileSummary, error) {
	if s.absent {
		return nil, nil
	}
	var out []ProfileSummary
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketProfiles))
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeSummary(v)
			if err != nil {
				return fmt.Errorf("profile %q: stored record is unreadable: %v", k, err)
			}
			p := Profile{Issuer: r.Issuer, TokenURL: r.TokenURL, AuthURL: r.AuthURL, DeviceURL: r.DeviceURL,
				IntrospectURL: r.IntrospectURL, UserinfoURL: r.UserinfoURL, TargetURL: r.TargetURL}
			out = append(out, ProfileSummary{Name: string(k), Kind: r.Kind, Endpoint: RedactURL(p.Endpoint()),
				Tags: r.Tags, Demo: r.Demo, UpdatedAt: r.UpdatedAt})
			return nil
		})
	})
	return out, err
}

// DeleteProfile removes a profile with its secrets, token cache and
// history; ErrNotFound if it does not exist.
// The file is then compacted when a secret value or token went with it,
// so neither stays readable in freed pages.
func (s *Store) DeleteProfile(name string) error {
	return s.updateWiping(func(tx *bolt.Tx) (bool, error) {
		key := []byte(name)
		pb := tx.Bucket([]byte(bucketProfiles))
		if pb.Get(key) == nil {
			return false, fmt.Errorf("profile %q: %w", name, ErrNotFound)
		}
		wipe := tx.Bucket([]byte(bucketTokens)).Get(key) != nil
		sr, err := secretsRecordTx(tx, name)
		wipe = wipe || err != nil // unreadable or not, its bytes must go
		for _, st := range sr.Secrets {
			wipe = wipe || st.Value != ""
		}
		for _, b := range []string{bucketProfiles, bucketSecrets, bucketTokens} {
			if err := tx.Bucket([]byte(b)).Delete(key); err != nil {
				return false, err
			}
		}
		hb := tx.Bucket([]byte(bucketHistory))
		if hb.Bucket(key) != nil {
			return wipe, hb.DeleteBucket(key)
		}
		return wipe, nil
	})
}
