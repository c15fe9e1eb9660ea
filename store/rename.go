package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// RenameProfile gives profile old the name new in one transaction, moving
// everything kept under its name: the profile record, its secrets with the
// hosts they were confirmed for (the DPoP key among them), the cached token,
// the renewal record and the run history (whose runs then name new). It
// refuses a new name that is invalid or taken, and a profile whose token
// another process is renewing right now (that process would cache the new
// token under the old name). The file is then compacted when a secret value
// or a token moved, so no copy stays under the old name in a freed page.
func (s *Store) RenameProfile(old, new string) error {
	if err := ValidName(new); err != nil {
		return fmt.Errorf("rename %s: new name %v", old, err)
	}
	if old == new {
		return fmt.Errorf("rename %s: the new name is the same as the old one", old)
	}
	now := s.now()
	return s.updateWiping(func(tx *bolt.Tx) (bool, error) {
		p, err := profileRecordTx(tx, old)
		if err != nil {
			return false, err
		}
		if tx.Bucket([]byte(bucketProfiles)).Get([]byte(new)) != nil {
			return false, fmt.Errorf("rename %s: profile %q: %w (remove it first, or pick another name)", old, new, ErrExists)
		}
		if r, ok := renewalTx(tx, old); ok && r.Holder != "" && r.Error == "" && now.Before(r.Deadline) {
			return false, fmt.Errorf("rename %s: its token is being renewed by another authlab (%w); try again in a moment", old, ErrInUse)
		}
		// Leftovers under the new name (a token cached after its profile
		// was removed) belong to nobody: a renamed profile must not
		// inherit them.
		wipe, err := dropKeyTx(tx, new)
		if err != nil {
			return false, err
		}
		p.Name, p.UpdatedAt = new, now
		b, err := json.Marshal(profileRecord{V: 1, Profile: p})
		if err != nil {
			return false, err
		}
		pb := tx.Bucket([]byte(bucketProfiles))
		if err := pb.Put([]byte(new), b); err != nil {
			return false, err
		}
		if err := pb.Delete([]byte(old)); err != nil {
			return false, err
		}
		moved, err := moveSecretsAndTokenTx(tx, old, new)
		if err != nil {
			return false, err
		}
		return wipe || moved, moveHistoryTx(tx, old, new)
	})
}

// RenameProfile opens the store at path, renames the profile
// (Store.RenameProfile) and closes it again.
func RenameProfile(path, old, new string, opts ...Option) error {
	return Update(path, func(s *Store) error { return s.RenameProfile(old, new) }, opts...)
}

// keyedBuckets are the flat buckets whose keys are profile names, and
// whether a value there may hold a secret or a token (renewal records keep
// fingerprints and deadlines only).
var keyedBuckets = []struct {
	name   string
	secret bool
}{{bucketSecrets, true}, {bucketTokens, true}, {bucketRenewals, false}}

// dropKeyTx removes whatever the keyed buckets and history hold for name
// (which has no profile); it reports whether a secret or token went.
func dropKeyTx(tx *bolt.Tx, name string) (bool, error) {
	key := []byte(name)
	wipe := false
	for _, kb := range keyedBuckets {
		b := tx.Bucket([]byte(kb.name))
		if b == nil || b.Get(key) == nil {
			continue
		}
		wipe = wipe || kb.secret
		if err := b.Delete(key); err != nil {
			return false, err
		}
	}
	if hb := tx.Bucket([]byte(bucketHistory)); hb.Bucket(key) != nil {
		if err := hb.DeleteBucket(key); err != nil {
			return false, err
		}
	}
	return wipe, nil
}

// moveSecretsAndTokenTx moves the secrets record (bytes unchanged: the
// confirmations are per host, not per name), the cached token and the
// renewal record; it reports whether a secret or a token moved, leaving
// its old copy in a freed page.
func moveSecretsAndTokenTx(tx *bolt.Tx, old, new string) (bool, error) {
	wipe := false
	for _, kb := range keyedBuckets {
		b := tx.Bucket([]byte(kb.name))
		if b == nil {
			continue
		}
		raw := b.Get([]byte(old))
		if raw == nil {
			continue
		}
		wipe = wipe || kb.secret
		// A value is valid only until the bucket changes: copy it first.
		v := append([]byte(nil), raw...)
		if err := b.Put([]byte(new), v); err != nil {
			return false, err
		}
		if err := b.Delete([]byte(old)); err != nil {
			return false, err
		}
	}
	return wipe, nil
}

// moveHistoryTx copies the history bucket of old to new, keeping its
// sequence (so later runs number on) and setting each run's profile to
// new; the run JSON is otherwise kept byte for byte, so nothing a newer
// field holds is lost. An unreadable run moves as it is.
func moveHistoryTx(tx *bolt.Tx, old, new string) error {
	hb := tx.Bucket([]byte(bucketHistory))
	src := hb.Bucket([]byte(old))
	if src == nil {
		return nil
	}
	dst, err := hb.CreateBucket([]byte(new))
	if err != nil {
		return err
	}
	name, err := json.Marshal(new)
	if err != nil {
		return err
	}
	err = src.ForEach(func(k, v []byte) error {
		var rec map[string]json.RawMessage
		if json.Unmarshal(v, &rec) == nil && rec != nil {
			rec["profile"] = name
			if b, err := json.Marshal(rec); err == nil {
				v = b
			}
		}
		return dst.Put(append([]byte(nil), k...), append([]byte(nil), v...))
	})
	if err != nil {
		return err
	}
	if err := dst.SetSequence(src.Sequence()); err != nil {
		return err
	}
	return hb.DeleteBucket([]byte(old))
}
