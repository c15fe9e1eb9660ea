package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"authlab/mockidp/mockidptest"
)

func auditFlowArgs(iss string, extra ...string) []string {
	return append([]string{"--issuer", iss, "--client-id", "demo-cc", "--client-secret", demoCCSecret, "--scope", "api:read"}, extra...)
}

// TestAuditCLIHelloClean: flow flags get the valid token, the mock IdP
// signs the claims cases, /api/hello rejects every one: exit 0.
func TestAuditCLIHelloClean(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	code, out, errs := runAuthlab(t, "", "", append([]string{"audit", "--call", iss + "/api/hello", "--require-scope", "api:read"}, auditFlowArgs(iss)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, want := range []string{"CASE", "REFERENCE", "alg-none", "CVE-2022-21449", "leeway: accepts tokens up to 0 s after exp", "no must-level case was accepted"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(errs, "warning") {
		t.Errorf("a warning for a loopback target: %s", errs)
	}
}

// TestAuditCLIJSONAndExit1: the JSON contract, and exit 1 when a
// must-level case is accepted (the flawed demo resource).
func TestAuditCLIJSONAndExit1(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	store := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runAuthlab(t, store, "", append([]string{"profile", "add", "cc", "--kind", "client-credentials"}, auditFlowArgs(iss)...)...); code != 0 {
		t.Fatalf("profile add: %s", errs)
	}
	code, out, errs := runAuthlab(t, store, "", "audit", "cc", "--call", iss+"/api/flawed?allow=alg-none,long-lived", "--json")
	if code != 1 || !strings.Contains(errs, "alg-none") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"baseline", "cases", "leeway", "target"}) {
		t.Errorf("top-level keys %v", keys)
	}
	var j struct {
		Target   string `json:"target"`
		Baseline struct {
			Status        int `json:"status"`
			NoTokenStatus int `json:"no_token_status"`
		} `json:"baseline"`
		Cases  []map[string]any `json:"cases"`
		Leeway *struct {
			ExpSeconds *int64 `json:"exp_seconds"`
		} `json:"leeway"`
	}
	json.Unmarshal([]byte(out), &j)
	if j.Baseline.Status != 200 || j.Baseline.NoTokenStatus != 401 || j.Leeway == nil || j.Leeway.ExpSeconds == nil {
		t.Errorf("baseline %+v leeway %+v", j.Baseline, j.Leeway)
	}
	verdicts := map[string]string{}
	for _, c := range j.Cases {
		var ks []string
		for k := range c {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		if !slices.Equal(ks, []string{"detail", "level", "name", "reference", "status", "verdict"}) {
			t.Errorf("case keys %v", ks)
		}
		verdicts[c["name"].(string)] = c["verdict"].(string)
	}
	if verdicts["alg-none"] != "accepted" || verdicts["long-lived"] != "accepted" || verdicts["expired"] != "rejected" {
		t.Errorf("verdicts %v", verdicts)
	}
	// Nothing minted, and no bearer token, lands in the store.
	b, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "eyJ") {
		t.Error("the store holds a JWT in bearer form after an audit")
	}
}

func TestAuditCLIExit2(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--token", "x"}, "needs --call"},
		{[]string{"audit", "--call", iss + "/api/hello"}, "needs a valid token"},
		{[]string{"audit", "--call", "ftp://x/", "--token", "x"}, "not an http(s) URL"},
		{append([]string{"audit", "--call", iss + "/.well-known/openid-configuration"}, auditFlowArgs(iss)...), "without any token"},
		{[]string{"audit", "--call", iss + "/api/hello", "--token", "eyJhbGciOiJub25lIn0.e30."}, "refused the valid token"},
		{[]string{"audit", "--call", iss + "/api/hello", "--token", "x", "--kid", "k"}, "--signing-key"},
	} {
		code, _, errs := runAuthlab(t, "", "", tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", tc.args[1:], code, errs, tc.want)
		}
	}
}

// TestAuditCLIRemoteWarning: a target off loopback gets a warning first.
func TestAuditCLIRemoteWarning(t *testing.T) {
	code, _, errs := runAuthlab(t, "", "", "audit", "--call", "http://192.0.2.1/api", "--token", "eyJhbGciOiJub25lIn0.e30.", "--timeout", "200ms")
	if code != 2 || !strings.HasPrefix(errs, "authlab: warning: 192.0.2.1 is not a loopback address") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
