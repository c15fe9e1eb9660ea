package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"authlab/flows"
)

// HistoryLimit is how many runs are kept per profile; older ones are dropped.
const HistoryLimit = 200

// adHocHistory is the history bucket of runs without a saved profile; the
// leading '~' cannot start a profile name.
const adHocHistory = "~adhoc"

// Run is one flow run as history keeps it: outcome, checks, exchange
// summaries and token claims with fingerprints. Never a bearer string, never
// a request body.
type Run struct {
	Profile   string            `json:"profile,omitempty"`
	Flow      string            `json:"flow"`
	Time      time.Time         `json:"time"`
	OK        bool              `json:"ok"`
	Error     *flows.Error      `json:"error,omitempty"`
	Checks    []flows.Check     `json:"checks,omitempty"`
	Exchanges []ExchangeSummary `json:"exchanges,omitempty"`
	Tokens    []TokenSummary    `json:"tokens,omitempty"`
}

// ExchangeSummary is the part of an HTTP exchange history keeps.
type ExchangeSummary struct {
	Step     string        `json:"step,omitempty"`
	Method   string        `json:"method"`
	URL      string        `json:"url"` // already masked by the recording client
	Status   int           `json:"status"`
	Duration time.Duration `json:"duration_ns"`
	Err      string        `json:"error,omitempty"`
}

// SummarizeExchanges keeps method, URL, status and duration of each exchange.
func SummarizeExchanges(xs []flows.Exchange) []ExchangeSummary {
	out := make([]ExchangeSummary, len(xs))
	for i, x := range xs {
		out[i] = ExchangeSummary{Step: x.Step, Method: x.Method, URL: x.URL, Status: x.Status, Duration: x.Duration, Err: x.Err}
	}
	return out
}

// TokenSummary describes a token without keeping it: which token, its
// format, decoded header and claims (JWTs), and the SHA-256 fingerprint.
type TokenSummary struct {
	Kind        string         `json:"kind"`   // access_token, id_token, refresh_token
	Format      string         `json:"format"` // jwt or opaque
	Fingerprint string         `json:"sha256"`
	Header      map[string]any `json:"header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
}

// SummarizeToken fingerprints raw; pass the decoded header and claims for a
// JWT (nil for an opaque token). raw itself is not kept.
func SummarizeToken(kind, raw string, header, claims map[string]any) TokenSummary {
	format := "opaque"
	if claims != nil {
		format = "jwt"
	}
	return TokenSummary{Kind: kind, Format: format, Fingerprint: flows.Fingerprint(raw), Header: header, Claims: claims}
}

type runRecord struct {
	V int `json:"v"`
	Run
}

func historyBucketName(profile string) []byte {
	if profile == "" {
		return []byte(adHocHistory)
	}
	return []byte(profile)
}

// AddRun appends a run to its profile's history (Profile "" for a run
// without a saved profile) and drops runs beyond HistoryLimit.
func (s *Store) AddRun(r Run) error {
	if r.Time.IsZero() {
		r.Time = s.now()
	}
	return s.update(func(tx *bolt.Tx) error { return addRunTx(tx, r) })
}

func addRunTx(tx *bolt.Tx, r Run) error {
	b, err := json.Marshal(runRecord{V: 1, Run: r})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	hb, err := tx.Bucket([]byte(bucketHistory)).CreateBucketIfNotExists(historyBucketName(r.Profile))
	if err != nil {
		return err
	}
	// Sequence numbers only grow and old runs go from the front, so the
	// kept keys are exactly (seq-HistoryLimit, seq].
	seq, err := hb.NextSequence()
	if err != nil {
		return err
	}
	if err := hb.Put(seqKey(seq), b); err != nil {
		return err
	}
	if seq <= HistoryLimit {
		return nil
	}
	oldest := seq - HistoryLimit
	c := hb.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= oldest; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// History lists a profile's runs, newest first ("" for runs without a
// profile). limit <= 0 means all kept runs.
func (s *Store) History(profile string, limit int) ([]Run, error) {
	if s.absent {
		return nil, nil
	}
	var out []Run
	err := s.view(func(tx *bolt.Tx) error {
		hb := tx.Bucket([]byte(bucketHistory)).Bucket(historyBucketName(profile))
		if hb == nil {
			return nil
		}
		c := hb.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var rec runRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("history of %q: stored run is unreadable: %v", profile, err)
			}
			out = append(out, rec.Run)
		}
		return nil
	})
	return out, err
}
