package ui

// ShortFP is the part of a SHA-256 fingerprint (hex) a screen shows: its
// first 12 digits, enough to tell tokens apart.
func ShortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}
