package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

// renameFixture is a profile named "old" with a confirmed client secret, a
// DPoP key, an imported (unconfirmed) API key reference, two runs, a cached
// token and a renewal record; plus a token left under "new" by nobody.
func renameFixture(t *testing.T, path string) {
	t.Helper()
	p := Profile{Name: "old", Kind: KindClientCredentials, Issuer: "https://idp.example.com", ClientID: "c",
		DPoP: true, Tags: []string{"t1"},
		Secrets: map[SecretKind]Secret{ClientSecret: SecretValue("rn-secret-Q1"), DPoPKey: SecretValue("rn-dpop-key-Q2")}}
	err := Update(path, func(s *Store) error {
		if err := s.PutProfile(p, false); err != nil {
			return err
		}
		imported := p
		imported.Secrets = map[SecretKind]Secret{ClientSecret: KeepStored(), DPoPKey: KeepStored(), APIKey: ParseSecret("env:RN_API_KEY")}
		if _, err := s.ImportProfilesReport([]Profile{imported}, true); err != nil {
			return err
		}
		for _, at := range []string{"rn-at-1", "rn-at-Q3"} {
			res := tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": at, "refresh_token": "rn-rt-Q4"})
			if err := s.RecordRun("old", res); err != nil {
				return err
			}
		}
		st, err := s.TokenState("old")
		if err != nil {
			return err
		}
		if _, err := s.AcquireRenewal("old", st.Token.ResponseFingerprint(), "h1", time.Minute); err != nil {
			return err
		}
		if err := s.FinishRenewal("old", "h1", "", "subject-fp-Q6", 0); err != nil {
			return err
		}
		return s.PutToken("new", CachedToken{Flow: "client-credentials", Response: json.RawMessage(`{"access_token":"stray-Q5"}`)})
	}, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot is everything a profile owns, as the store's readers see it.
type snapshot struct {
	Profile Profile
	Values  map[SecretKind]string
	Trust   []TrustItem
	TrustE  string
	Token   CachedToken
	Renewal Renewal
	Runs    []Run
}

func snap(t *testing.T, path, name string) snapshot {
	t.Helper()
	var sn snapshot
	err := View(path, func(s *Store) error {
		p, err := s.GetProfile(name)
		if err != nil {
			return err
		}
		sn.Values = map[SecretKind]string{}
		for k, sec := range p.Secrets {
			if sec.Confirmed() {
				v, err := sec.Resolve()
				if err != nil && !sec.IsRef() {
					return err
				}
				sn.Values[k] = v
			}
		}
		if e := p.TrustError(); e != nil {
			sn.TrustE = e.Error()
		}
		p.Secrets, p.UpdatedAt = nil, time.Time{}
		sn.Profile = p
		if sn.Trust, err = s.TrustItems(name); err != nil {
			return err
		}
		st, err := s.TokenState(name)
		if err != nil {
			return err
		}
		sn.Token, sn.Renewal = st.Token, st.Renewal
		sn.Runs, err = s.History(name, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func TestRenameProfileMovesEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	t.Setenv("RN_API_KEY", "rn-api-key-value")
	renameFixture(t, path)
	before := snap(t, path, "old")
	if len(before.Runs) != 2 || before.Renewal.Subject != "subject-fp-Q6" || len(before.Trust) != 3 || before.TrustE == "" {
		t.Fatalf("fixture: %d runs, renewal %+v, trust %v, trust error %q", len(before.Runs), before.Renewal, before.Trust, before.TrustE)
	}

	if err := RenameProfile(path, "old", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProfile(path, "old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name after rename: %v", err)
	}
	// Nothing anywhere in the file is keyed by or names the old profile,
	// and no copy of a moved secret or token is left in a freed page.
	for _, k := range rawKeys(t, path) {
		if k == "old" {
			t.Fatalf("a bucket still has the key %q", k)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(`"profile":"old"`)) || bytes.Contains(raw, []byte(`"name":"old"`)) {
		t.Fatal("the file still names the old profile")
	}
	for v, n := range map[string]int{"rn-secret-Q1": 1, "rn-dpop-key-Q2": 1, "rn-at-Q3": 1, "rn-rt-Q4": 1, "stray-Q5": 0} {
		if got := bytes.Count(raw, []byte(v)); got != n {
			t.Errorf("the file holds %s %d times, want %d", v, got, n)
		}
	}

	after := snap(t, path, "new")
	if after.Profile.Name != "new" {
		t.Fatalf("name %q", after.Profile.Name)
	}
	// Everything else is what "old" had: the name in runs and in the
	// trust refusal is the only difference.
	want := before
	want.Profile.Name = "new"
	want.TrustE = strings.ReplaceAll(before.TrustE, "old", "new")
	for i := range want.Trust {
		want.Trust[i].Profile = "new"
	}
	want.Runs = nil
	for _, r := range before.Runs {
		r.Profile = "new"
		want.Runs = append(want.Runs, r)
	}
	if !reflect.DeepEqual(after, want) {
		t.Fatalf("after rename:\n got %+v\nwant %+v", after, want)
	}
	// A confirmation shown for the new name covers the moved secrets.
	err = Update(path, func(s *Store) error {
		items, err := s.TrustItems("new")
		if err != nil {
			return err
		}
		return s.ConfirmTrust("new", items)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := LoadRunProfile(path, "new"); err != nil || p.Secrets[DPoPKey].IsZero() {
		t.Fatalf("run profile after trust: %v", err)
	}
	// History numbering goes on: a new run is the newest of three.
	res := tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": "rn-at-later"})
	if err := RecordRun(path, "new", res); err != nil {
		t.Fatal(err)
	}
	if runs := snap(t, path, "new").Runs; len(runs) != 3 || runs[0].Profile != "new" || !runs[1].Time.Equal(before.Runs[0].Time) {
		t.Fatalf("history after a later run: %+v", runs)
	}

}

// rawKeys lists every key of every bucket, nested ones included, straight
// from bbolt.
func rawKeys(t *testing.T, path string) []string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys []string
	var walk func(b *bolt.Bucket)
	walk = func(b *bolt.Bucket) {
		_ = b.ForEach(func(k, v []byte) error {
			keys = append(keys, string(k))
			if v == nil {
				walk(b.Bucket(k))
			}
			return nil
		})
	}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { walk(b); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestRenameProfileRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authlab.db")
	cc := func(name string) Profile {
		return Profile{Name: name, Kind: KindClientCredentials, TokenURL: "https://idp.example.com/token", ClientID: name}
	}
	now := time.Unix(1_700_000_000, 0)
	clock := WithClock(func() time.Time { return now })
	err := Update(path, func(s *Store) error {
		for _, n := range []string{"a", "b", "leased"} {
			if err := s.PutProfile(cc(n), false); err != nil {
				return err
			}
		}
		if err := s.PutToken("leased", CachedToken{Response: json.RawMessage(`{"access_token":"x"}`)}); err != nil {
			return err
		}
		st, _ := s.TokenState("leased")
		_, err := s.AcquireRenewal("leased", st.Token.ResponseFingerprint(), "other", time.Minute)
		return err
	}, clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		old, new string
		is       error
		says     string
	}{
		{"a", "b", ErrExists, `"b"`},
		{"missing", "c", ErrNotFound, `"missing"`},
		{"a", "bad name", nil, "not a valid name"},
		{"a", "", nil, "missing"},
		{"a", "a", nil, "same"},
		{"leased", "c", ErrInUse, "being renewed"},
	} {
		err := Update(path, func(s *Store) error { return s.RenameProfile(c.old, c.new) }, clock)
		if err == nil || c.is != nil && !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "\n") {
			t.Errorf("rename %q → %q: %v", c.old, c.new, err)
		}
	}
	// Nothing changed: every profile is still where it was.
	for _, n := range []string{"a", "b", "leased"} {
		if p, err := LoadProfile(path, n); err != nil || p.ClientID != n {
			t.Errorf("%s after refusals: %+v %v", n, p, err)
		}
	}
	// Once the lease is over the rename goes through, renewal record and all.
	now = now.Add(2 * time.Minute)
	if err := RenameProfile(path, "leased", "c", clock); err != nil {
		t.Fatal(err)
	}
	err = View(path, func(s *Store) error {
		st, err := s.TokenState("c")
		if err != nil || !st.HasToken || !st.Leased || st.Renewal.Holder != "other" {
			t.Errorf("moved state: %+v %v", st, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A read-only store refuses.
	err = View(path, func(s *Store) error { return s.RenameProfile("a", "d") })
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only: %v", err)
	}
}
