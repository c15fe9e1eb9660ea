package render

import (
	"testing"
	"time"
)

func TestReveal(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var r Reveal
	if r.On(0, now) {
		t.Fatal("the zero Reveal must reveal nothing")
	}
	r.Show(2, now.Add(10*time.Second))
	if !r.On(2, now) || r.On(1, now) || r.Left(now) != 10*time.Second {
		t.Fatalf("Show(2): On(2)=%v On(1)=%v Left=%v", r.On(2, now), r.On(1, now), r.Left(now))
	}
	if !r.On(2, now.Add(10*time.Second-time.Nanosecond)) || r.On(2, now.Add(10*time.Second)) {
		t.Error("the item must be in clear until, not at, its time")
	}
	r.Hide()
	if r.On(2, now) {
		t.Error("Hide must mask it again at once")
	}
}
