package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"authlab/flows/token"
)

func diffToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	raw, err := token.Mint(token.MintOptions{Claims: claims, Kid: "k1", Key: token.MintKey{Key: []byte("cli-diff-secret-0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestTokenDiffCLI(t *testing.T) {
	now := time.Now()
	a := diffToken(t, map[string]any{"sub": "alice", "aud": "api", "exp": now.Add(time.Hour).Unix()})
	b := diffToken(t, map[string]any{"sub": "alice", "aud": "other", "exp": now.Add(5 * time.Minute).Unix()})
	file := filepath.Join(t.TempDir(), "b.jwt")
	if err := os.WriteFile(file, []byte(b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// B from a file, A from stdin.
	code, out, errs := runAuthlab(t, "", a, "token", "diff", "-", file)
	if code != 1 || errs != "" {
		t.Fatalf("exit %d stderr %q\n%s", code, errs, out)
	}
	for _, want := range []string{"~ aud", "~ exp", "aud differs: an API that accepts A (audience api) rejects B", "B expires 55 min earlier", "What it means"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sub") {
		t.Errorf("a claim that is the same is listed without --all:\n%s", out)
	}
	code, out, _ = runAuthlab(t, "", "", "token", "diff", a, a, "--json")
	var j struct {
		SameClaims bool `json:"same_claims"`
		Fields     []struct {
			Name, Change string
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || !j.SameClaims || len(j.Fields) == 0 {
		t.Fatalf("same: exit %d %v %s", code, err, out)
	}
	for _, bad := range [][]string{{"token", "diff", a, "not.a.jwt"}, {"token", "diff", a, "opaque-token"}, {"token", "diff", "-", "-"}, {"token", "diff", a}} {
		if code, _, errs := runAuthlab(t, "", "", bad...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d %q", bad[2:], code, errs)
		}
	}
}
