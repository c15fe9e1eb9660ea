package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/oauth"
	"authlab/mockidp/mockidptest"
)

// auditDPoPVerdicts runs audit --json and returns the DPoP cases' verdicts.
func auditDPoPVerdicts(t *testing.T, args ...string) (int, map[string]string, string) {
	t.Helper()
	code, out, errs := runAuthlab(t, "", "", append([]string{"audit", "--json"}, args...)...)
	var rep struct {
		Cases []struct{ Name, Verdict, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, errs)
	}
	got := map[string]string{}
	for _, c := range rep.Cases {
		if strings.HasPrefix(c.Name, "dpop-") {
			got[c.Name] = c.Verdict + ": " + c.Detail
		}
	}
	return code, got, errs
}

// TestAuditCLIDPoP: with --dpop the flow's key presents the token and the
// five DPoP cases run (all rejected by /api/hello); with --token the key
// comes from --dpop-key, and without it they are skipped with the reason.
func TestAuditCLIDPoP(t *testing.T) {
	idp := mockidptest.New(t)
	iss := idp.Issuer()
	call := iss + "/api/hello"
	code, got, errs := auditDPoPVerdicts(t, "--call", call, "--issuer", iss, "--client-id", "demo-dpop",
		"--client-secret", "demo-dpop-secret", "--scope", "api:read", "--dpop")
	if code != 0 || len(got) != 5 {
		t.Fatalf("flow flags --dpop: exit %d, %v\n%s", code, got, errs)
	}
	for n, v := range got {
		if !strings.HasPrefix(v, "rejected") {
			t.Errorf("%s: %s", n, v)
		}
	}

	pem, err := dpop.GeneratePEM("ES256")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	res := oauth.Run(context.Background(), flows.Request{Flow: flows.FlowClientCredentials, Issuer: iss, ClientID: "demo-dpop",
		ClientSecret: "demo-dpop-secret", Scopes: []string{"api:read"}, DPoPKey: keyFile}, nil)
	if res.Failed() {
		t.Fatal(res.Reason())
	}
	tok := res.Token.AccessToken
	code, got, errs = auditDPoPVerdicts(t, "--call", call, "--token", tok, "--dpop-key", keyFile)
	if code != 0 || len(got) != 5 || !strings.HasPrefix(got["dpop-other-key"], "rejected") {
		t.Fatalf("--token --dpop-key: exit %d, %v\n%s", code, got, errs)
	}
	// without the key the baseline (sent as Bearer) is refused: exit 2, saying why
	code, _, errs = runAuthlab(t, "", "", "audit", "--call", call, "--token", tok)
	if code != 2 || !strings.Contains(errs, "DPoP-bound") || !strings.Contains(errs, "--dpop-key") {
		t.Errorf("--token without its key: exit %d, %s", code, errs)
	}
	other, err := dpop.GeneratePEM("ES256")
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherFile, other, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runAuthlab(t, "", "", "audit", "--call", call, "--token", tok, "--dpop-key", otherFile)
	if code != 2 || !strings.Contains(errs, "not the key the valid token is bound to") {
		t.Errorf("--dpop-key of another key: exit %d, %s", code, errs)
	}
}
