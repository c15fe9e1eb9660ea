package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

var recvAt = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// tokenResult is a finished run of flow that got raw as its token response.
func tokenResult(flow string, raw map[string]any) *flows.Result {
	return &flows.Result{Flow: flow, OK: true, Started: recvAt.Add(-time.Second), Token: flows.NewTokenResponse(raw, recvAt)}
}

func cachedResponse(t *testing.T, s *Store, profile string) map[string]any {
	t.Helper()
	ct, err := s.GetToken(profile)
	if err != nil {
		t.Fatalf("cached token of %s: %v", profile, err)
	}
	var m map[string]any
	if err := json.Unmarshal(ct.Response, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRecordRunCachesIssuedToken(t *testing.T) {
	s, _ := openTemp(t)
	res := tokenResult(flows.FlowAuthCode, map[string]any{"access_token": "at-secret-1", "refresh_token": "rt-secret-1",
		"id_token": "id-secret-1", "token_type": "Bearer", "expires_in": 300.0})
	res.AccessToken = &flows.DecodedToken{Header: map[string]any{"alg": "RS256"}, Claims: map[string]any{"sub": "alice"}}
	res.Exchanges = []flows.Exchange{{Step: "token request", Method: "POST", URL: "https://idp.example.com/token", Status: 200}}
	if err := s.RecordRun("corp", res); err != nil {
		t.Fatal(err)
	}
	ct, err := s.GetToken("corp")
	if err != nil {
		t.Fatal(err)
	}
	if ct.Flow != flows.FlowAuthCode || !ct.Obtained.Equal(recvAt) || !ct.ExpiresAt.Equal(recvAt.Add(300*time.Second)) {
		t.Fatalf("cache entry: flow %q obtained %s expires %s", ct.Flow, ct.Obtained, ct.ExpiresAt)
	}
	if m := cachedResponse(t, s, "corp"); m["access_token"] != "at-secret-1" || m["refresh_token"] != "rt-secret-1" {
		t.Fatalf("cached response: %v", m)
	}
	runs, err := s.History("corp", 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("history: %d %v", len(runs), err)
	}
	r := runs[0]
	if !r.OK || r.Flow != flows.FlowAuthCode || !r.Time.Equal(res.Started) || len(r.Exchanges) != 1 || len(r.Tokens) != 3 {
		t.Fatalf("run: %+v", r)
	}
	if r.Tokens[0].Kind != "access_token" || r.Tokens[0].Format != "jwt" || r.Tokens[0].Claims["sub"] != "alice" ||
		r.Tokens[0].Fingerprint != flows.Fingerprint("at-secret-1") || r.Tokens[2].Format != "opaque" {
		t.Fatalf("token summaries: %+v", r.Tokens)
	}
	// History keeps claims and fingerprints, never the bearer strings.
	s.view(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketHistory)).Bucket([]byte("corp")).ForEach(func(_, v []byte) error {
			for _, secret := range []string{"at-secret-1", "rt-secret-1", "id-secret-1"} {
				if bytes.Contains(v, []byte(secret)) {
					t.Errorf("history holds %s: %s", secret, v)
				}
			}
			return nil
		})
	})
}

// TestRecordRunLeavesCache: runs that issued no access token are recorded
// in history but leave the cached token as it was.
func TestRecordRunLeavesCache(t *testing.T) {
	before := map[string]any{"access_token": "at-good", "refresh_token": "rt-good", "token_type": "Bearer"}
	denied := &flows.Result{Flow: flows.FlowClientCredentials, Started: recvAt}
	denied.Fail(&flows.Error{Kind: flows.ErrOAuth, Message: "token endpoint refused the client", OAuthError: "invalid_client"})
	introspect := &flows.Result{Flow: flows.FlowIntrospect, OK: true, Started: recvAt, Active: new(bool)}
	// A follow-up never replaces the cache, even if it carried a token response.
	call := tokenResult("call", map[string]any{"access_token": "at-call"})
	noAccess := tokenResult(flows.FlowClientCredentials, map[string]any{"token_type": "Bearer", "id_token": "x"})
	for name, res := range map[string]*flows.Result{
		"error response": denied, "introspect": introspect, "call": call, "no access_token": noAccess,
		"revoke":   {Flow: flows.FlowRevoke, OK: true, Revoked: true, Started: recvAt},
		"userinfo": {Flow: flows.FlowUserinfo, OK: true, Userinfo: map[string]any{"sub": "alice"}, Started: recvAt},
		"hmac":     {Flow: "hmac", OK: true, Started: recvAt},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := openTemp(t)
			if err := s.RecordRun("corp", tokenResult(flows.FlowAuthCode, before)); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordRun("corp", res); err != nil {
				t.Fatal(err)
			}
			if m := cachedResponse(t, s, "corp"); m["access_token"] != "at-good" || m["refresh_token"] != "rt-good" {
				t.Fatalf("cache replaced: %v", m)
			}
			runs, _ := s.History("corp", 0)
			if len(runs) != 2 || runs[0].Flow != res.Flow || runs[0].OK == res.Failed() {
				t.Fatalf("history: %+v", runs)
			}
		})
	}
	// Nothing cached before, nothing cached after.
	s, _ := openTemp(t)
	if err := s.RecordRun("corp", denied); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken("corp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an error response was cached: %v", err)
	}
	if runs, _ := s.History("corp", 0); len(runs) != 1 || runs[0].OK || runs[0].Error == nil || runs[0].Error.OAuthError != "invalid_client" {
		t.Fatalf("history of the failed run: %+v", runs)
	}
}

// TestRecordRunRefreshRotation: a refresh that issues a new refresh token
// replaces the old one; one that issues none keeps the cached one.
func TestRecordRunRefreshRotation(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.RecordRun("corp", tokenResult(flows.FlowAuthCode, map[string]any{"access_token": "at-1", "refresh_token": "rt-1"})); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordRun("corp", tokenResult(flows.FlowRefresh, map[string]any{"access_token": "at-2", "expires_in": 60.0})); err != nil {
		t.Fatal(err)
	}
	if m := cachedResponse(t, s, "corp"); m["access_token"] != "at-2" || m["refresh_token"] != "rt-1" || m["expires_in"] != 60.0 {
		t.Fatalf("no rotation: %v", m)
	}
	runs, _ := s.History("corp", 1)
	if len(runs[0].Tokens) != 1 || runs[0].Tokens[0].Kind != "access_token" {
		t.Fatalf("history records what the response carried, not the kept token: %+v", runs[0].Tokens)
	}
	if err := s.RecordRun("corp", tokenResult(flows.FlowRefresh, map[string]any{"access_token": "at-3", "refresh_token": "rt-3"})); err != nil {
		t.Fatal(err)
	}
	if m := cachedResponse(t, s, "corp"); m["access_token"] != "at-3" || m["refresh_token"] != "rt-3" {
		t.Fatalf("rotation: %v", m)
	}
	// A new grant without a refresh token does not inherit the old one.
	if err := s.RecordRun("corp", tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": "at-4"})); err != nil {
		t.Fatal(err)
	}
	if m := cachedResponse(t, s, "corp"); m["access_token"] != "at-4" || m["refresh_token"] != nil {
		t.Fatalf("new grant: %v", m)
	}
}

// TestRecordRunFailedAfterIssue: a token issued before a later step failed
// (checks, the resource call) is cached; the run is recorded as failed.
func TestRecordRunFailedAfterIssue(t *testing.T) {
	s, _ := openTemp(t)
	res := tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": "at-1"})
	res.AddCheck(flows.Check{Name: "audience", Status: flows.Fail, Detail: "aud is not the API"})
	res.Fail(&flows.Error{Kind: flows.ErrNetwork, Message: "call resource: connection refused"})
	if err := s.RecordRun("corp", res); err != nil {
		t.Fatal(err)
	}
	if m := cachedResponse(t, s, "corp"); m["access_token"] != "at-1" {
		t.Fatalf("cache: %v", m)
	}
	if runs, _ := s.History("corp", 0); len(runs) != 1 || runs[0].OK || len(runs[0].Checks) != 1 {
		t.Fatalf("history: %+v", runs)
	}
}

func TestRecordRunAdHocAndClock(t *testing.T) {
	s, path := openTemp(t)
	res := tokenResult(flows.FlowClientCredentials, map[string]any{"access_token": "at-1"})
	res.Started, res.Token.ReceivedAt = time.Time{}, time.Time{}
	if err := s.RecordRun("", res); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.History("", 0); len(runs) != 1 || runs[0].Time.IsZero() {
		t.Fatalf("ad hoc history: %+v", runs)
	}
	s.view(func(tx *bolt.Tx) error {
		if n := tx.Bucket([]byte(bucketTokens)).Stats().KeyN; n != 0 {
			t.Errorf("a run without a profile cached a token (%d entries)", n)
		}
		return nil
	})
	if err := s.RecordRun("corp", nil); err == nil {
		t.Fatal("a nil result was recorded")
	}
	if err := s.RecordRun("bad name", res); err == nil {
		t.Fatal("a token was cached under an invalid profile name")
	}
	s.Close()
	// The path form opens the store for the one operation, with its clock.
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := RecordRun(path, "corp", res, WithClock(func() time.Time { return clock })); err != nil {
		t.Fatal(err)
	}
	err := View(path, func(s *Store) error {
		ct, err := s.GetToken("corp")
		if err != nil || !ct.Obtained.Equal(clock) {
			t.Fatalf("cache: %v %v", ct, err)
		}
		runs, err := s.History("corp", 0)
		if err != nil || len(runs) != 1 || !runs[0].Time.Equal(clock) {
			t.Fatalf("history: %+v %v", runs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Closed again: a writer gets the lock at once.
	s2, err := Open(path, WithTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatalf("RecordRun left the store locked: %v", err)
	}
	s2.Close()
}

// TestRecordRunCachesEveryTokenGrant: each grant that issues tokens caches
// them, so `run --flow introspect` and `token get` find the token after a
// password or jwt-bearer run as after client credentials.
func TestRecordRunCachesEveryTokenGrant(t *testing.T) {
	for _, flow := range []string{flows.FlowClientCredentials, flows.FlowAuthCode, flows.FlowDevice,
		flows.FlowTokenExchange, flows.FlowRefresh, flows.FlowPassword, flows.FlowJWTBearer} {
		s, _ := openTemp(t)
		if err := s.RecordRun("p", tokenResult(flow, map[string]any{"access_token": "at-" + flow})); err != nil {
			t.Fatal(err)
		}
		ct, err := s.GetToken("p")
		if err != nil || ct.Flow != flow {
			t.Fatalf("%s: not cached (%v)", flow, err)
		}
	}
	s, _ := openTemp(t)
	if err := s.RecordRun("p", tokenResult(flows.FlowIntrospect, map[string]any{"access_token": "at-x"})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken("p"); err == nil {
		t.Fatal("a follow-up replaced the cached token")
	}
}
