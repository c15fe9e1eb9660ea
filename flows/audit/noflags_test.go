package audit

import (
	"context"
	"regexp"
	"testing"

	"authlab/flows/dpop"
)

// flagLike is a command-line flag in a message: the engine names no front
// end's flags (the console has none), only what is missing.
var flagLike = regexp.MustCompile(`(^|\s|\()--[a-z]`)

// TestSkipReasonsNameNoFlags: the reasons cases are skipped for (the
// request cap, no signer, no DPoP key) read the same in every front end.
func TestSkipReasonsNameNoFlags(t *testing.T) {
	s := &resource{keys: testKeys(t)}
	capped := testConfig(t, s)
	capped.MaxRequests = 8
	unsigned := testConfig(t, s)
	unsigned.Signer = nil
	key, _ := dpop.Generate("ES256")
	keyless := dpopConfig(t, "dpop-as-bearer", key)
	keyless.DPoPKey = nil
	for name, cfg := range map[string]Config{"capped": capped, "unsigned": unsigned, "keyless": keyless} {
		rep := Run(context.Background(), cfg, nil)
		if rep.Err != nil {
			t.Fatalf("%s: %v", name, rep.Err)
		}
		skipped := 0
		for _, c := range rep.Cases {
			if c.Verdict == Skipped {
				skipped++
			}
			if flagLike.MatchString(c.Detail) {
				t.Errorf("%s: %s: %q names a flag", name, c.Name, c.Detail)
			}
		}
		if skipped == 0 {
			t.Errorf("%s: no case skipped", name)
		}
		if line := rep.LeewayLine(); flagLike.MatchString(line) {
			t.Errorf("%s: leeway line %q names a flag", name, line)
		}
	}
}
