package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestRenewalLease: compare-and-set on the cached response's fingerprint,
// one holder at a time until the deadline, a recorded failure seen by
// others, and a take-over after the deadline.
func TestRenewalLease(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutToken("p", CachedToken{Response: []byte(`{"access_token":"old-token-value"}`)}); err != nil {
		t.Fatal(err)
	}
	st, err := s.TokenState("p")
	if err != nil || !st.HasToken || st.Leased {
		t.Fatalf("state %+v %v", st, err)
	}
	basis := st.Token.ResponseFingerprint()
	if _, err := s.AcquireRenewal("p", "stale-basis", "a", time.Minute); !errors.Is(err, ErrCacheChanged) {
		t.Fatalf("stale basis: %v", err)
	}
	if _, err := s.AcquireRenewal("p", basis, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireRenewal("p", basis, "b", time.Minute); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("second holder: %v", err)
	}
	if err := s.FinishRenewal("p", "a", "token endpoint said no", "", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err = s.AcquireRenewal("p", basis, "b", time.Minute)
	if !errors.Is(err, ErrLeaseHeld) || st.Renewal.Error != "token endpoint said no" {
		t.Fatalf("after a failure: %v %+v", err, st.Renewal)
	}
	now = now.Add(6 * time.Second) // the failure's hold is over: b takes over
	if _, err := s.AcquireRenewal("p", basis, "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.PutToken("p", CachedToken{Response: []byte(`{"access_token":"new-token-value"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRenewal("p", "b", "", "subject-fp", 0); err != nil {
		t.Fatal(err)
	}
	st, _ = s.TokenState("p")
	if st.Renewal.Holder != "" || st.Renewal.Subject != "subject-fp" || st.Renewal.SubjectOf != st.Token.ResponseFingerprint() {
		t.Fatalf("after success: %+v", st.Renewal)
	}
	if _, err := s.AcquireRenewal("p", basis, "c", time.Minute); !errors.Is(err, ErrCacheChanged) {
		t.Fatalf("old basis after renewal: %v", err)
	}
}
