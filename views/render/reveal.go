package render

import "time"

// Reveal is which item of a screen (a tab, an exchange) shows its token in
// clear, and until when: a masked screen reveals one thing at a time, and
// not for long. The zero value reveals nothing.
type Reveal struct {
	at    int
	until time.Time
}

// Show shows item at in clear until until.
func (r *Reveal) Show(at int, until time.Time) { r.at, r.until = at, until }

// Hide masks again what Show revealed.
func (r *Reveal) Hide() { r.until = time.Time{} }

// On reports whether item at is in clear at now.
func (r *Reveal) On(at int, now time.Time) bool { return at == r.at && now.Before(r.until) }

// Left is how long the item stays in clear after now.
func (r *Reveal) Left(now time.Time) time.Duration { return r.until.Sub(now) }
