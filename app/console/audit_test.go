package console

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	faudit "authlab/flows/audit"
	"authlab/mockidp/mockidptest"
)

// auditBackend is the fake backend plus an audit the test scripts: it
// reports fixture cases through the observer, as flows/audit does.
type auditBackend struct {
	*fakeBackend
	mu      sync.Mutex
	block   bool // wait for ctx after the first cases (a running frame)
	targets []string
	exports []*faudit.Report
}

func fixtureAuditCases() []faudit.Case {
	return []faudit.Case{
		{Name: "signature-stripped", Level: faudit.Must, Verdict: faudit.Rejected, Status: 401, Detail: "refused with HTTP 401", Reference: "RFC 7515 §5.2", Sent: "the valid token without its signature (header.payload.)"},
		{Name: "alg-none", Level: faudit.Must, Verdict: faudit.Accepted, Status: 200, Detail: "variant alg None: answered HTTP 200, like the valid call", Reference: "RFC 8725 §3.1; CVE-2015-9235", Sent: "the claims unsigned, alg none / None / NONE / nOnE"},
		{Name: "psychic-signature", Level: faudit.Must, Verdict: faudit.Inconclusive, Status: 500, Detail: "answered HTTP 500: a server error on a bad token is itself a should-level finding", Reference: "CVE-2022-21449", Sent: "ES256 with r = s = 0"},
		{Name: "token-in-query", Level: faudit.Should, Verdict: faudit.Accepted, Status: 200, Detail: "answered HTTP 200, like the valid call", Reference: "RFC 6750 §2.3, §5.3", Sent: "the valid token as ?access_token=, no Authorization header"},
		{Name: "expired", Level: faudit.Must, Verdict: faudit.Rejected, Status: 401, Detail: "refused with HTTP 401", Reference: "RFC 7519 §4.1.4", Sent: "exp 10 minutes ago, signed by a trusted key"},
		{Name: "dpop-as-bearer", Level: faudit.Must, Verdict: faudit.Rejected, Status: 401, Detail: "all 2 variants refused (HTTP 401)", Reference: "RFC 9449 §7.1", Sent: "the DPoP-bound valid token as Authorization: Bearer (without and with a proof)"},
		{Name: "dpop-replayed-jti", Level: faudit.Must, Verdict: faudit.Rejected, Status: 401, Detail: "refused with HTTP 401", Reference: "RFC 9449 §11.1; §4.3 (step 11)", Sent: "the proof the valid call was accepted with, sent again (same jti)"},
	}
}

func (b *auditBackend) AuditTarget(name string) (string, error) {
	if strings.Contains(name, "hmac") {
		return "", errors.New(name + " is a hmac profile: the audit gets its valid token from an OAuth flow")
	}
	return "http://127.0.0.1:9090/api/hello", nil
}

func (b *auditBackend) Audit(ctx context.Context, name, url string, obs flows.Observer) *faudit.Report {
	b.mu.Lock()
	b.targets = append(b.targets, url)
	block := b.block
	b.mu.Unlock()
	co := obs.(faudit.CaseObserver)
	cases := fixtureAuditCases()
	obs.Step(flows.StepEvent{Name: "token request"})
	for range 9 {
		obs.Exchange(flows.Exchange{Method: "GET", URL: url, Status: 401})
	}
	if block {
		for _, c := range cases[:3] {
			co.Case(c)
		}
		obs.Step(flows.StepEvent{Name: "case token-in-query"})
		<-ctx.Done()
		return &faudit.Report{Target: url, Cases: cases[:3], Err: flows.Errorf(flows.ErrCancelled, "audit cancelled after 3 of its cases")}
	}
	for _, c := range cases {
		co.Case(c)
	}
	l := faudit.Leeway{ExpSeconds: 30, Requests: 12}
	obs.(faudit.LeewayObserver).Leeway(l)
	return &faudit.Report{Target: url, Baseline: faudit.Baseline{Status: 200, NoTokenStatus: 401}, Cases: cases, Leeway: &l,
		Signer: "the authlab mock IdP at http://127.0.0.1:9090", Requests: 41, Duration: 1234 * time.Millisecond}
}

func (b *auditBackend) ExportAudit(name string, rep *faudit.Report) (string, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exports = append(b.exports, rep)
	return "/tmp/audit-" + name + ".json", "/tmp/audit-" + name + ".md", nil
}

// TestGoldenAudit: A on a profile opens the URL prompt prefilled with its
// call URL; enter runs the audit, cases fill in live (a running frame),
// then the report with its leeway gauge; x exports it.
func TestGoldenAudit(t *testing.T) {
	for _, sz := range sizes {
		for _, block := range []bool{true, false} {
			b := &auditBackend{fakeBackend: &fakeBackend{rows: fixtureRows()}, block: block}
			tm := startTea(t, newTestModel(b), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, "j", "j", "A")
			waitText(t, tm, "URL under test")
			press(tm, "enter")
			if block {
				waitText(t, tm, "psychic-signature", "case token-in-query")
				golden(t, sizeName("audit_running", sz.w, sz.h), finalModel(t, tm).View())
				continue
			}
			waitText(t, tm, "VULNERABLE", "30 s after exp")
			press(tm, "x")
			waitText(t, tm, "report written to")
			fm := finalModel(t, tm)
			golden(t, sizeName("audit_finished", sz.w, sz.h), fm.View())
			b.mu.Lock()
			if len(b.targets) != 1 || b.targets[0] != "http://127.0.0.1:9090/api/hello" || len(b.exports) != 1 {
				t.Errorf("audited %v, exported %d", b.targets, len(b.exports))
			}
			b.mu.Unlock()
		}
	}
}

// TestAuditCancelAndRefuse: esc cancels a running audit (its context
// ends, the screen stays); a profile that cannot be audited says why.
func TestAuditCancelAndRefuse(t *testing.T) {
	b := &auditBackend{fakeBackend: &fakeBackend{rows: fixtureRows()}, block: true}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "A")
	waitText(t, tm, "URL under test")
	press(tm, "enter")
	waitText(t, tm, "psychic-signature")
	press(tm, "esc")
	waitText(t, tm, "audit cancelled after 3")
	press(tm, "esc", "j", "j", "A") // back to the list, down to demo-hmac
	waitText(t, tm, "cannot audit")
	if fm := finalModel(t, tm); fm.screen != scrAudit || fm.aud.cancel != nil {
		t.Errorf("screen %v, cancel %v", fm.screen, fm.aud.cancel != nil)
	}
}

// TestStoreBackendAuditDPoP: the real backend audits the mock IdP's
// /api/hello with the demo-dpop profile's token, through the flow's own
// key: every case, the five DPoP ones included, is rejected; the export
// writes the JSON contract and a Markdown table.
func TestStoreBackendAuditDPoP(t *testing.T) {
	srv := mockidptest.New(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "authlab.db")
	if _, err := SeedDemo(path, DemoSetup{Issuer: srv.Issuer()}); err != nil {
		t.Fatal(err)
	}
	b := &StoreBackend{Path: path}
	target, err := b.AuditTarget("demo-dpop")
	if err != nil || target != srv.Issuer()+"/api/hello" {
		t.Fatalf("target %q, %v", target, err)
	}
	if _, err := b.AuditTarget("demo-hmac"); err == nil {
		t.Error("an hmac profile can be audited")
	}
	obs := &caseNames{}
	rep := b.Audit(context.Background(), "demo-dpop", target, obs)
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	dp := 0
	for _, c := range rep.Cases {
		if strings.HasPrefix(c.Name, "dpop-") {
			dp++
		}
		if c.Verdict != faudit.Rejected {
			t.Errorf("%s: %s (%s)", c.Name, c.Verdict, c.Detail)
		}
	}
	if dp != 5 || len(obs.names) != len(rep.Cases) {
		t.Errorf("%d DPoP cases; observer saw %d of %d", dp, len(obs.names), len(rep.Cases))
	}
	j, md, err := b.ExportAudit("demo-dpop", rep)
	if err != nil || filepath.Dir(j) != dir || filepath.Dir(md) != dir {
		t.Fatalf("export %q %q %v", j, md, err)
	}
	var doc map[string]json.RawMessage
	data, _ := os.ReadFile(j)
	if err := json.Unmarshal(data, &doc); err != nil || doc["cases"] == nil || doc["baseline"] == nil {
		t.Errorf("JSON export: %v\n%s", err, data)
	}
	text, _ := os.ReadFile(md)
	if !strings.Contains(string(text), "| `dpop-other-key` | must |") || !strings.Contains(string(text), "no must-level case was accepted") {
		t.Errorf("Markdown export:\n%s", text)
	}
}

type caseNames struct {
	mu    sync.Mutex
	names []string
}

func (c *caseNames) Step(flows.StepEvent)    {}
func (c *caseNames) Exchange(flows.Exchange) {}
func (c *caseNames) Case(x faudit.Case) {
	c.mu.Lock()
	c.names = append(c.names, x.Name)
	c.mu.Unlock()
}
