package store

import (
	"encoding/json"
	"fmt"
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
func (s *Store) PutProfile(p Profile, replace bool) error {
	p.carryTargetURL()
	if err := p.Validate(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error { return putProfileTx(tx, p, replace, s.now()) })
}

func putProfileTx(tx *bolt.Tx, p Profile, replace bool, now time.Time) error {
	pb, sb := tx.Bucket([]byte(bucketProfiles)), tx.Bucket([]byte(bucketSecrets))
	key := []byte(p.Name)
	if old := pb.Get(key); old != nil {
		if !replace {
			return fmt.Errorf("profile %q: %w (use --force to replace it)", p.Name, ErrExists)
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

	var oldSecrets secretsRecord
	if raw := sb.Get(key); raw != nil {
		if err := json.Unmarshal(raw, &oldSecrets); err != nil {
			return fmt.Errorf("profile %q: stored secrets are unreadable: %v", p.Name, err)
		}
	}
	secrets := map[SecretKind]Secret{}
	for k, sec := range p.Secrets {
		if sec.keep {
			if old, ok := oldSecrets.Secrets[k]; ok {
				secrets[k] = Secret{ref: old.Ref, value: old.Value}
			}
			continue
		}
		if !sec.IsZero() {
			secrets[k] = sec
		}
	}
	p.Secrets = nil
	b, err := json.Marshal(profileRecord{V: 1, Profile: p})
	if err != nil {
		return err
	}
	if err := pb.Put(key, b); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return sb.Delete(key)
	}
	sbytes, err := json.Marshal(toRecord(secrets))
	if err != nil {
		return err
	}
	return sb.Put(key, sbytes)
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
	raw := tx.Bucket([]byte(bucketProfiles)).Get([]byte(name))
	if raw == nil {
		return Profile{}, fmt.Errorf("profile %q: %w", name, ErrNotFound)
	}
	var rec profileRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Profile{}, fmt.Errorf("profile %q: stored record is unreadable: %v", name, err)
	}
	p := rec.Profile
	if raw := tx.Bucket([]byte(bucketSecrets)).Get([]byte(name)); raw != nil {
		var sr secretsRecord
		if err := json.Unmarshal(raw, &sr); err != nil {
			return Profile{}, fmt.Errorf("profile %q: stored secrets are unreadable: %v", name, err)
		}
		p.Secrets = fromRecord(sr)
	}
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
			out = append(out, ProfileSummary{Name: string(k), Kind: r.Kind, Endpoint: p.Endpoint(),
				Tags: r.Tags, Demo: r.Demo, UpdatedAt: r.UpdatedAt})
			return nil
		})
	})
	return out, err
}

// DeleteProfile removes a profile with its secrets, token cache and
// history; ErrNotFound if it does not exist.
func (s *Store) DeleteProfile(name string) error {
	return s.update(func(tx *bolt.Tx) error {
		key := []byte(name)
		pb := tx.Bucket([]byte(bucketProfiles))
		if pb.Get(key) == nil {
			return fmt.Errorf("profile %q: %w", name, ErrNotFound)
		}
		for _, b := range []string{bucketProfiles, bucketSecrets, bucketTokens} {
			if err := tx.Bucket([]byte(b)).Delete(key); err != nil {
				return err
			}
		}
		hb := tx.Bucket([]byte(bucketHistory))
		if hb.Bucket(key) != nil {
			return hb.DeleteBucket(key)
		}
		return nil
	})
}
