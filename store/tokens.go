package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

// CachedToken is the latest token response of a profile, kept so a later
// run can refresh or re-use it. This is the only place the store keeps
// bearer and refresh tokens (history keeps fingerprints); the file is 0600,
// and `profile rm` deletes the entry with the profile and compacts the file.
type CachedToken struct {
	Flow      string          `json:"flow,omitempty"`
	Response  json.RawMessage `json:"response"` // the token response as received
	Obtained  time.Time       `json:"obtained_at"`
	ExpiresAt time.Time       `json:"expires_at,omitzero"`
}

// String never shows the tokens, only a fingerprint of the response.
func (t CachedToken) String() string {
	return fmt.Sprintf("token response from %s, obtained %s, sha256 %s", t.Flow, t.Obtained.Format(time.RFC3339), flows.Fingerprint(string(t.Response))[:16])
}

// GoString keeps %#v from dumping the response.
func (t CachedToken) GoString() string { return t.String() }

type tokenRecord struct {
	V int `json:"v"`
	CachedToken
}

// PutToken replaces the profile's cached token response.
func (s *Store) PutToken(profile string, t CachedToken) error {
	if err := ValidName(profile); err != nil {
		return fmt.Errorf("token cache: profile name %v", err)
	}
	if t.Obtained.IsZero() {
		t.Obtained = s.now()
	}
	if !json.Valid(t.Response) {
		return fmt.Errorf("token cache for %q: the response is not JSON", profile)
	}
	return s.update(func(tx *bolt.Tx) error { return putTokenTx(tx, profile, t) })
}

func putTokenTx(tx *bolt.Tx, profile string, t CachedToken) error {
	b, err := json.Marshal(tokenRecord{V: 1, CachedToken: t})
	if err != nil {
		return err
	}
	return tx.Bucket([]byte(bucketTokens)).Put([]byte(profile), b)
}

// GetToken returns the cached token response; ErrNotFound when none.
func (s *Store) GetToken(profile string) (CachedToken, error) {
	if s.absent {
		return CachedToken{}, s.notYet(fmt.Sprintf("cached token for %q", profile))
	}
	var rec tokenRecord
	err := s.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketTokens)).Get([]byte(profile))
		if raw == nil {
			return fmt.Errorf("cached token for %q: %w", profile, ErrNotFound)
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("cached token for %q is unreadable: %v", profile, err)
		}
		return nil
	})
	return rec.CachedToken, err
}

// DeleteToken forgets the cached token (and compacts the file, so it is not
// left in a freed page); deleting a missing one is not an error.
func (s *Store) DeleteToken(profile string) error {
	return s.updateWiping(func(tx *bolt.Tx) (bool, error) {
		b := tx.Bucket([]byte(bucketTokens))
		if b.Get([]byte(profile)) == nil {
			return false, nil
		}
		return true, b.Delete([]byte(profile))
	})
}
