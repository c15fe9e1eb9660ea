// Package audit asks a resource server (an API, a gateway, a middleware)
// which bad tokens it accepts: it takes one valid token, forges the classic
// token-validation attacks from it, sends each once, paced and bounded, to
// the one URL under test, and reports a verdict per case and the expiry
// leeway the server really allows. No terminal, no store.
package audit

import (
	"fmt"
	"time"

	"authlab/flows"
)

// Level says how bad it is for a server to accept a case.
type Level string

const (
	Must   Level = "must"   // accepting it is a vulnerability
	Should Level = "should" // accepting it is a warning
)

// Verdict is what the server did with a case.
type Verdict string

const (
	Accepted     Verdict = "accepted"     // answered like the valid call
	Rejected     Verdict = "rejected"     // 401 or 403
	Inconclusive Verdict = "inconclusive" // anything else
	Skipped      Verdict = "skipped"      // not sent; Detail says why
)

// Case is one attack and what the server made of it. The JSON fields are
// the contract of `authlab audit --json`.
type Case struct {
	Name      string  `json:"name"`
	Level     Level   `json:"level"`
	Verdict   Verdict `json:"verdict"`
	Status    int     `json:"status"`
	Detail    string  `json:"detail"`
	Reference string  `json:"reference"`
	// Sent says in words what was sent.
	Sent string `json:"-"`
}

// ServerError reports whether the server answered the bad token with a
// 5xx: a should-level finding of its own (a bad token is a 401).
func (c Case) ServerError() bool { return c.Verdict == Inconclusive && c.Status >= 500 }

// Baseline is the valid call and the call without any token.
type Baseline struct {
	Status        int `json:"status"`
	NoTokenStatus int `json:"no_token_status"`
}

// Leeway is how long after exp the server still accepts a token.
type Leeway struct {
	ExpSeconds int64 `json:"exp_seconds"`
	// AtLeast: the server accepted the longest probe (the bound), so the
	// real leeway may be longer.
	AtLeast  bool `json:"-"`
	Requests int  `json:"-"`
}

// MaxAcceptableLeeway is where accepting expired tokens becomes a finding.
const MaxAcceptableLeeway = 60

// Report is an audit's outcome.
type Report struct {
	Target   string   `json:"target"`
	Baseline Baseline `json:"baseline"`
	Cases    []Case   `json:"cases"`
	Leeway   *Leeway  `json:"leeway"`

	// Signer names what signed the claims cases ("" when none was trusted).
	Signer string `json:"-"`
	// SignerNote says why the claims cases were skipped, when they were.
	SignerNote string `json:"-"`
	// Requests counts the requests sent to the target.
	Requests  int              `json:"-"`
	Duration  time.Duration    `json:"-"`
	Exchanges []flows.Exchange `json:"-"`
	// Err is why the audit could not run: a *BaselineError, a *FlowError,
	// or a *flows.Error of kind config for bad input; Cases are empty
	// then. A cancelled audit's Err is of kind cancelled, and Cases hold
	// the cases that finished before.
	Err error `json:"-"`
}

// BaselineError says why the audit stopped before any case: the valid call
// was refused, or the call without a token was not.
type BaselineError struct {
	Status, NoTokenStatus int
	Message               string
}

func (e *BaselineError) Error() string { return e.Message }

// Vulnerable reports whether a must-level case was accepted.
func (r *Report) Vulnerable() bool {
	for _, c := range r.Cases {
		if c.Level == Must && c.Verdict == Accepted {
			return true
		}
	}
	return false
}

// Counts tallies the report: must-level cases accepted, should-level
// findings (should cases accepted, 5xx answers, a leeway over a minute),
// cases rejected, inconclusive and skipped.
func (r *Report) Counts() (must, should, rejected, inconclusive, skipped int) {
	for _, c := range r.Cases {
		switch c.Verdict {
		case Accepted:
			if c.Level == Must {
				must++
			} else {
				should++
			}
		case Rejected:
			rejected++
		case Inconclusive:
			inconclusive++
			if c.ServerError() {
				should++
			}
		case Skipped:
			skipped++
		}
	}
	if r.Leeway != nil && r.Leeway.ExpSeconds > MaxAcceptableLeeway {
		should++
	}
	return
}

// Summary is the report in one line.
func (r *Report) Summary() string {
	if r.Err != nil {
		return "audit stopped: " + r.Err.Error()
	}
	must, should, rejected, inconclusive, skipped := r.Counts()
	verdict := "no must-level case was accepted"
	if must > 0 {
		verdict = fmt.Sprintf("VULNERABLE: %d must-level case(s) accepted", must)
	}
	return fmt.Sprintf("%s; %d warning(s); %d rejected, %d inconclusive, %d skipped; %d requests in %s",
		verdict, should, rejected, inconclusive, skipped, r.Requests, r.Duration.Round(time.Millisecond))
}

// LeewayLine says what the leeway probe found, in words.
func (r *Report) LeewayLine() string {
	l := r.Leeway
	switch {
	case l == nil && r.Signer == "":
		return "leeway: not measured (needs a signing key the API trusts)"
	case l == nil:
		return "leeway: not measured"
	case l.AtLeast:
		return fmt.Sprintf("leeway: accepts tokens at least %d s after exp (the probe's bound); over %d s is a warning", l.ExpSeconds, MaxAcceptableLeeway)
	case l.ExpSeconds > MaxAcceptableLeeway:
		return fmt.Sprintf("leeway: accepts tokens up to %d s after exp; over %d s is a warning", l.ExpSeconds, MaxAcceptableLeeway)
	}
	return fmt.Sprintf("leeway: accepts tokens up to %d s after exp", l.ExpSeconds)
}

// CaseObserver is an observer that also wants each case as soon as it has
// its verdict (a console filling in live). Run calls it by type assertion.
type CaseObserver interface {
	Case(Case)
}

// LeewayObserver is told the leeway once it is measured.
type LeewayObserver interface {
	Leeway(Leeway)
}
