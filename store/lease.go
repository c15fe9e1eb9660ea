package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

// bucketRenewals maps a profile name to its renewal record: who is renewing
// the cached token right now (a lease), and how the last renewal ended. It
// is created on first use, so older stores need no migration; it holds
// fingerprints and deadlines only, never a token.
const bucketRenewals = "renewals"

// Renewal is the renewal record of one profile's cached token. Many
// processes asking for a token at once (scripts, kubectl) must cause one
// request at the IdP: the first takes the lease, the others wait for the
// cache to change. The bbolt file lock is taken per transaction only, never
// across the network call.
type Renewal struct {
	// Basis is the fingerprint of the cached token response the lease was
	// taken for ("" when there was none): a lease whose basis is no longer
	// the cached response is stale, someone already renewed.
	Basis    string    `json:"basis"`
	Holder   string    `json:"holder"`
	Deadline time.Time `json:"deadline"`
	// Error is set when the holder's renewal failed: waiters report it
	// instead of all retrying at the IdP, until Deadline.
	Error string `json:"error,omitempty"`
	// Subject is the fingerprint of the subject token a token-exchange
	// renewal used, so the cached token is reused only for the same subject;
	// SubjectOf is the fingerprint of the cached response it belongs to.
	Subject   string `json:"subject,omitempty"`
	SubjectOf string `json:"subject_of,omitempty"`
}

type renewalRecord struct {
	V int `json:"v"`
	Renewal
}

// ResponseFingerprint identifies a cached token response ("" for none).
func (t CachedToken) ResponseFingerprint() string {
	if len(t.Response) == 0 {
		return ""
	}
	return flows.Fingerprint(string(t.Response))
}

// TokenState is what one read of the cache says about a profile's token.
type TokenState struct {
	Token    CachedToken
	HasToken bool
	Renewal  Renewal
	Leased   bool // a renewal record exists (it may be past its deadline)
}

// TokenState reads the cached token and the renewal record in one
// transaction.
func (s *Store) TokenState(profile string) (TokenState, error) {
	var st TokenState
	if s.absent {
		return st, nil
	}
	err := s.view(func(tx *bolt.Tx) error { return readTokenState(tx, profile, &st) })
	return st, err
}

func readTokenState(tx *bolt.Tx, profile string, st *TokenState) error {
	if raw := tx.Bucket([]byte(bucketTokens)).Get([]byte(profile)); raw != nil {
		var rec tokenRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("cached token for %q is unreadable: %v", profile, err)
		}
		st.Token, st.HasToken = rec.CachedToken, true
	}
	st.Renewal, st.Leased = renewalTx(tx, profile) // an unreadable record is replaced
	return nil
}

// renewalTx reads the renewal record of name; an unreadable one counts as none.
func renewalTx(tx *bolt.Tx, name string) (Renewal, bool) {
	b := tx.Bucket([]byte(bucketRenewals))
	if b == nil {
		return Renewal{}, false
	}
	raw := b.Get([]byte(name))
	var rec renewalRecord
	if raw == nil || json.Unmarshal(raw, &rec) != nil {
		return Renewal{}, false
	}
	return rec.Renewal, true
}

// ErrLeaseHeld: another process holds the renewal lease for the same basis.
var ErrLeaseHeld = errors.New("another authlab is renewing this token")

// ErrCacheChanged: the cached token is no longer the one the caller saw.
var ErrCacheChanged = errors.New("the cached token changed")

// AcquireRenewal takes the renewal lease of profile for holder until now+ttl,
// in one transaction and only when the cached response still has the
// fingerprint basis (compare-and-set). It fails with ErrCacheChanged when
// the cache moved on, and with ErrLeaseHeld when another holder's lease (or
// a failure it recorded) for the same basis has not expired; st is the state
// it saw either way.
func (s *Store) AcquireRenewal(profile, basis, holder string, ttl time.Duration) (TokenState, error) {
	var st TokenState
	if err := ValidName(profile); err != nil {
		return st, fmt.Errorf("token cache: profile name %v", err)
	}
	now := s.now()
	err := s.update(func(tx *bolt.Tx) error {
		if err := readTokenState(tx, profile, &st); err != nil {
			return err
		}
		if st.Token.ResponseFingerprint() != basis {
			return ErrCacheChanged
		}
		r := st.Renewal
		if st.Leased && r.Basis == basis && r.Holder != holder && now.Before(r.Deadline) {
			return ErrLeaseHeld
		}
		r.Basis, r.Holder, r.Deadline, r.Error = basis, holder, now.Add(ttl), ""
		st.Renewal, st.Leased = r, true
		return putRenewalTx(tx, profile, r)
	})
	return st, err
}

// FinishRenewal ends holder's lease: with failure "" it clears it (keeping
// the subject binding, set to subject for the now cached response when
// subject is not ""), else it records the failure until now+hold, so the
// callers waiting on this renewal report it rather than each retry.
func (s *Store) FinishRenewal(profile, holder, failure, subject string, hold time.Duration) error {
	return s.update(func(tx *bolt.Tx) error {
		var st TokenState
		if err := readTokenState(tx, profile, &st); err != nil {
			return err
		}
		if st.Leased && st.Renewal.Holder != holder {
			return nil // taken over after our deadline: theirs now
		}
		r := Renewal{Subject: st.Renewal.Subject, SubjectOf: st.Renewal.SubjectOf}
		if subject != "" {
			r.Subject, r.SubjectOf = subject, st.Token.ResponseFingerprint()
		}
		if failure != "" {
			r.Basis, r.Holder, r.Error, r.Deadline = st.Renewal.Basis, holder, failure, s.now().Add(hold)
		}
		return putRenewalTx(tx, profile, r)
	})
}

func putRenewalTx(tx *bolt.Tx, profile string, r Renewal) error {
	b, err := tx.CreateBucketIfNotExists([]byte(bucketRenewals))
	if err != nil {
		return err
	}
	v, err := json.Marshal(renewalRecord{V: 1, Renewal: r})
	if err != nil {
		return err
	}
	return b.Put([]byte(profile), v)
}
