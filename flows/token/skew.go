package token

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"authlab/flows"
)

// Skew estimates how far the IdP's clock is from this machine's.
type Skew struct {
	// Offset is the IdP's clock minus ours: positive means the IdP is ahead.
	Offset time.Duration
	// Uncertainty is the half-width of the interval the true offset lies in.
	Uncertainty time.Duration
	// Source says where the estimate comes from ("Date header of GET https://…").
	Source string
	// At is when (local clock) the estimate was taken.
	At time.Time
}

// Known reports whether s holds an estimate.
func (s Skew) Known() bool { return s.Source != "" }

// MarshalJSON gives the shape of the --json "skew" field (README).
func (s Skew) MarshalJSON() ([]byte, error) {
	if !s.Known() {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		OffsetMS      int64  `json:"offset_ms"`
		UncertaintyMS int64  `json:"uncertainty_ms"`
		Source        string `json:"source"`
	}{s.Offset.Milliseconds(), s.Uncertainty.Milliseconds(), s.Source})
}

// interval turns "the IdP stamped a time in [stamp, stamp+res) at some local
// moment in [sent, received]" into an offset estimate.
func interval(stamp time.Time, res time.Duration, sent, received time.Time, source string) Skew {
	if received.Before(sent) {
		sent, received = received, sent
	}
	lo := stamp.Sub(received)      // earliest server time, latest local time
	hi := stamp.Add(res).Sub(sent) // latest server time, earliest local time
	return Skew{Offset: (lo + hi) / 2, Uncertainty: (hi - lo + 1) / 2, Source: source, At: received}
}

// SkewFromDate estimates skew from an HTTP Date header (1 s resolution) of a
// response to a request sent at sent and answered at received (local clock).
func SkewFromDate(date string, sent, received time.Time, source string) (Skew, error) {
	t, err := http.ParseTime(date)
	if err != nil {
		//lint:ignore ST1005 "Date" is the header's name
		return Skew{}, fmt.Errorf("Date header %q is not an HTTP date", date)
	}
	if source == "" {
		source = "Date header"
	}
	return interval(t, time.Second, sent, received, source), nil
}

// SkewFromResponse estimates skew from a recorded response's Date header.
func SkewFromResponse(r *flows.Response) (Skew, bool) {
	if r == nil {
		return Skew{}, false
	}
	s, err := SkewFromDate(r.Header.Get("Date"), r.Sent, r.Received, "Date header of "+r.Exchange.Method+" "+r.Exchange.URL)
	return s, err == nil
}

// SkewFromExchange estimates skew from an observed exchange (Started and
// Duration bound when the server stamped its Date header).
func SkewFromExchange(ex flows.Exchange) (Skew, bool) {
	if ex.ResponseHeaders == nil || ex.Err != "" {
		return Skew{}, false
	}
	s, err := SkewFromDate(ex.ResponseHeaders.Get("Date"), ex.Started, ex.Started.Add(ex.Duration), "Date header of "+ex.Method+" "+ex.URL)
	return s, err == nil
}

// SkewFromIssuedAt estimates skew from a token the IdP issued while answering
// a request sent at sent and received at received: its iat is the IdP's
// clock at that moment. Only meaningful for a freshly issued token.
func SkewFromIssuedAt(iat time.Time, sent, received time.Time) Skew {
	res := time.Second // iat is usually whole seconds, truncated
	if iat.Nanosecond() != 0 {
		res = time.Millisecond
	}
	return interval(iat, res, sent, received, "iat of a freshly issued token")
}

// CombineSkew picks the tightest known estimate (smallest uncertainty).
func CombineSkew(estimates ...Skew) (Skew, bool) {
	var best Skew
	for _, s := range estimates {
		if !s.Known() {
			continue
		}
		if !best.Known() || s.Uncertainty < best.Uncertainty {
			best = s
		}
	}
	return best, best.Known()
}

// Verdict says in words what the skew means for a verifier with the given
// leeway, e.g. "the IdP's clock is 42 s ± 1 s ahead of yours; a 30 s leeway
// will reject its tokens for the first 12 s".
func (s Skew) Verdict(leeway time.Duration) string {
	_, msg := s.verdict(leeway)
	return msg
}

// Check is the verdict as a check: pass within the leeway, warn when the
// uncertainty straddles it, fail beyond it.
func (s Skew) Check(leeway time.Duration) flows.Check {
	st, msg := s.verdict(leeway)
	return flows.Check{Name: "clock skew", Status: st, Detail: msg}
}

func (s Skew) verdict(leeway time.Duration) (flows.Status, string) {
	if !s.Known() {
		return flows.Warn, "clock skew unknown"
	}
	if leeway < 0 {
		leeway = 0
	}
	off := s.Offset.Round(time.Second)
	unc := s.Uncertainty
	if unc < time.Second {
		unc = unc.Round(time.Millisecond)
	} else {
		unc = unc.Round(time.Second)
	}
	mag := off
	dir := "ahead of"
	if off < 0 {
		mag, dir = -off, "behind"
	}
	head := fmt.Sprintf("the IdP's clock is %s ± %s %s yours", HumanDuration(mag), HumanDuration(unc), dir)
	if mag == 0 {
		head = fmt.Sprintf("the IdP's clock agrees with yours to within %s", HumanDuration(unc))
	}
	abs := s.Offset
	if abs < 0 {
		abs = -abs
	}
	over := abs - leeway
	switch {
	case over > s.Uncertainty:
		if s.Offset > 0 {
			return flows.Fail, fmt.Sprintf("%s; a %s leeway will reject its tokens for the first %s (iat/nbf in the future)", head, HumanDuration(leeway), HumanDuration(over.Round(time.Second)))
		}
		return flows.Fail, fmt.Sprintf("%s; with a %s leeway its tokens look expired %s before their exp", head, HumanDuration(leeway), HumanDuration(over.Round(time.Second)))
	case over > -s.Uncertainty:
		return flows.Warn, fmt.Sprintf("%s; that is about the %s leeway, so tokens may be rejected near their start or end", head, HumanDuration(leeway))
	}
	return flows.Pass, fmt.Sprintf("%s; within the %s leeway", head, HumanDuration(leeway))
}
