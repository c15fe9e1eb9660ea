package token

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeEmptySegments(t *testing.T) {
	for raw, want := range map[string]string{
		"....":     "token header segment: empty protected header",
		".a.b.c.d": "token header segment: empty protected header",
		".":        "token: only dots",
		"...":      "token: only dots",
	} {
		d, err := Decode(raw)
		var de *DecodeError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Decode(%q) = %+v, %v; want a DecodeError %q", raw, d, err, want)
		}
	}
}

func TestDecodeHTMLHint(t *testing.T) {
	d, err := Decode("  <html>")
	if err != nil || d.Format != FormatOpaque || !strings.Contains(d.Hint, "looks like HTML") {
		t.Fatalf("got %+v, %v; want opaque with the HTML hint", d, err)
	}
	_, err = Decode("<!DOCTYPE html><html><body>Sign in</body></html>")
	if err == nil || !strings.Contains(err.Error(), "looks like HTML, not a token") {
		t.Fatalf("err = %v, want the HTML hint", err)
	}
	d, err = Decode("2YotnFZFEjr1zCsicMWpAA")
	if err != nil || d.Hint != "" {
		t.Fatalf("plain opaque token got hint %q, %v", d.Hint, err)
	}
}
