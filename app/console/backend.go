package console

import (
	"context"

	"authlab/flows"
	"authlab/flows/audit"
	"authlab/flows/bench"
	"authlab/flows/check"
	"authlab/store"
	"authlab/views/history"
	"authlab/views/inspect"
	"authlab/views/profiles"
)

// Backend is every piece of I/O the console does: the store, the flows, the
// token engine. The root model calls it only from tea.Cmds, never from View
// or Update, so a slow store or network never freezes a frame. Tests use a
// fake; StoreBackend is the real one.
type Backend interface {
	// Profiles lists every profile in display order (fast: no history).
	Profiles() ([]profiles.Row, error)
	// LastRuns reads the latest run of every profile (a second pass, so the
	// list shows before history is read).
	LastRuns() (map[string]profiles.LastRun, error)
	// Delete removes a profile (with its secrets, history and cached token).
	Delete(name string) error
	// Duplicate copies a profile under a free name and returns that name.
	Duplicate(name string) (string, error)
	// Export writes the profile (secrets as references or placeholders) and
	// says where.
	Export(name string) (string, error)
	// Import reads an export file (secrets as references or placeholders)
	// and adds its profiles; on any error nothing changes.
	Import(path string) (int, error)
	// History is a profile's past runs, newest first, redacted.
	History(name string) ([]history.Entry, error)
	// Run runs a flow. It must honour ctx and report progress to ev.
	Run(ctx context.Context, req RunRequest, ev Events) *flows.Result
	// Inspect decodes, verifies and checks a pasted token.
	Inspect(ctx context.Context, raw string) (inspect.Data, error)
	// Form and SaveForm back the profile editor.
	Form(name string) (Form, error)
	SaveForm(f Form, original string) error
	// Discover fills endpoints of a form from its issuer's discovery document.
	Discover(ctx context.Context, f Form) (Form, error)
}

// RunRequest says what to run.
type RunRequest struct {
	Profile string
	// Flow overrides the profile's own flow for follow-up actions:
	// refresh, introspect, revoke, userinfo, and flows.FlowCall (call the API).
	Flow string
	// Token is the input token of a follow-up (the previous run's access
	// or refresh token); empty uses the profile's cached token.
	Token string
}

// Events is the observer a running flow reports to, plus the two moments
// where the user has to act: a browser sign-in and a device code.
type Events interface {
	flows.Observer
	AuthURL(url string)
	Device(d flows.DeviceAuthorization)
}

// Form is the profile editor's content: field values by key, kind-specific.
type Form struct {
	Name   string
	Kind   string
	Fields map[string]string
}

// Bencher is the optional part of a Backend that repeats a profile's flow
// under load (flows/bench). The console offers bench only when the backend
// has it.
type Bencher interface {
	// BenchTarget says what a bench of the profile would repeat and where,
	// or why the profile cannot be benched (an interactive flow).
	BenchTarget(name string) (flow, target string, err error)
	// StartBench prepares the operation (discovery, one shared transport)
	// and starts it in the background. The run ends with ctx or its bounds.
	StartBench(ctx context.Context, name string, cfg bench.Config) (BenchRun, error)
}

// Truster is the optional part of a Backend that confirms where a profile's
// secrets may go. Runs refuse a secret that came through an import, or whose
// profile's URLs changed, until the person confirms it: the console shows
// Trust's items (which file, variable or stored secret goes to which host)
// and, on yes, passes the same items to ConfirmTrust, which refuses them if
// the profile changed in between.
type Truster interface {
	Trust(name string) ([]store.TrustItem, error)
	ConfirmTrust(name string, shown []store.TrustItem) error
}

// Describer is the optional part of a Backend that reads the profile
// list's detail pane: a profile's settings, latest run with its checks
// counted and cached token (fingerprint and times). It never returns a
// secret or a token.
type Describer interface {
	Describe(name string) (profiles.Detail, error)
}

// TokenHistorian is the optional part of a Backend whose history entries
// also carry each run's decoded tokens (header, claims, fingerprint; never
// the token), so the history screen can compare two runs.
type TokenHistorian interface {
	HistoryTokens(name string) ([]history.Entry, error)
}

// Auditor is the optional part of a Backend that audits an API's token
// validation with a profile's token (flows/audit), as `authlab audit
// PROFILE --call URL` does. The console offers the audit screen only when
// the backend has it.
type Auditor interface {
	// AuditTarget is the URL the prompt starts with (the profile's call
	// URL, or ""), or why the profile cannot be audited.
	AuditTarget(name string) (string, error)
	// Audit runs the profile's flow for the valid token, then the audit.
	// It honours ctx; obs also receives each case and the leeway
	// (audit.CaseObserver, audit.LeewayObserver). It never returns nil.
	Audit(ctx context.Context, name, url string, obs flows.Observer) *audit.Report
	// ExportAudit writes the report as JSON and Markdown and says where.
	ExportAudit(name string, rep *audit.Report) (jsonPath, mdPath string, err error)
}

// Checker is the optional part of a Backend that checks a profile's
// issuer against the FAPI 2.0 Security Profile or RFC 9700 (flows/check),
// as `authlab check --issuer` does. The console offers the Check screen
// only when the backend has it.
type Checker interface {
	// CheckTarget is the issuer a check of the profile reads, or why the
	// profile has none.
	CheckTarget(name string) (issuer string, err error)
	// Check reads the issuer's metadata and checks it against profile
	// (check.ProfileFAPI2 or check.ProfileBCP). It honours ctx.
	Check(ctx context.Context, name, profile string) (*check.Report, error)
	// ExportCheck writes the report as JSON (the `authlab check --json`
	// object) and says where.
	ExportCheck(name string, rep *check.Report) (string, error)
}

// BenchRun is a bench in progress (a *bench.Handle, plus what it measures).
type BenchRun struct {
	Flow, Target string
	Handle       BenchHandle
}

// BenchHandle is the part of *bench.Handle the console reads.
type BenchHandle interface {
	Snapshots() <-chan bench.Snapshot
	Done() <-chan struct{}
	Report() (*bench.Report, error)
}
