package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"authlab/flows"
	"authlab/flows/apikey"
	"authlab/flows/bench"
	"authlab/flows/hmac"
	"authlab/store"
)

// benchFlags are bench's own flags; the profile flags (issuer, client, TLS,
// HMAC) are the ones `authlab profile add` and `authlab flow` share.
type benchFlags struct {
	prof        profileFlags
	flow        string
	requests    int
	duration    time.Duration
	concurrency int
	rate        float64
	slo         string
	asJSON      bool
	token       string
	call        string
	timeout     time.Duration
	method      string
	data        string
	headers     []string
	// probes
	every   time.Duration
	giveUp  time.Duration
	via     []string
	url     string
	samples int
	// cpuProfile profiles the measuring client itself.
	cpuProfile string
	export     benchExportFlags // --push, --instance, --metrics (benchpush.go)
}

func addBenchFlags(fs *pflag.FlagSet, b *benchFlags, probe bool) {
	addProfileFlags(fs, &b.prof)
	// Profile bookkeeping and interactive-only flags mean nothing to bench.
	for _, name := range []string{"tag", "notes", "redirect-port", "param", "api-key", "api-key-header", "api-key-query", "auth-url", "device-url"} {
		fs.MarkHidden(name)
	}
	fs.StringVar(&b.token, "token", "", "token: refresh token (refresh), subject token (token-exchange), access token (call, introspect); a value or env:NAME")
	fs.StringVar(&b.call, "call", "", "protected resource URL: the target of --flow call/hmac/mtls, polled by the revocation probe")
	fs.DurationVar(&b.timeout, "timeout", flows.DefaultTimeout, "per HTTP call")
	fs.BoolVar(&b.asJSON, "json", false, "print one JSON object on stdout")
	if probe {
		fs.DurationVar(&b.every, "every", 0, "probe period (revocation poll 250ms, JWKS fetch 500ms)")
		fs.DurationVar(&b.giveUp, "give-up", time.Minute, "revocation: stop polling after this long")
		fs.StringSliceVar(&b.via, "via", nil, "revocation: introspection and/or call (default: whatever is configured)")
		fs.StringVar(&b.url, "url", "", "jwks: JWKS URL (default --jwks-url or discovery); mtls: https URL (default --call or the token endpoint)")
		fs.IntVarP(&b.samples, "requests", "n", 0, "jwks: fetches (20); mtls: handshakes (bounded by -z); issuance: requests per grant (50)")
		fs.DurationVarP(&b.duration, "duration", "z", 0, "mtls: handshake for this long (default 10s)")
		fs.IntVarP(&b.concurrency, "concurrency", "c", 1, "mtls: parallel handshakes")
		return
	}
	fs.StringVar(&b.flow, "flow", "", "what to repeat: "+strings.Join(bench.BenchFlows(), ", ")+" (default: the profile's kind, else client-credentials)")
	fs.IntVarP(&b.requests, "requests", "n", 0, "stop after N requests (the time bound still applies)")
	fs.DurationVarP(&b.duration, "duration", "z", 0, "stop after this long (default 10s)")
	fs.IntVarP(&b.concurrency, "concurrency", "c", 1, "workers")
	fs.Float64Var(&b.rate, "rate", 0, "requests per second over all workers (0: as fast as the server answers)")
	fs.StringVar(&b.slo, "slo", "", "objectives, e.g. 'p95<50ms,success>=99.9%,rps>=100'; exit 1 when one is missed")
	fs.StringVar(&b.method, "method", "", "hmac: request method (default GET, POST with --data)")
	fs.StringVar(&b.data, "data", "", "hmac: request body")
	fs.StringArrayVarP(&b.headers, "header", "H", nil, "hmac: request header 'Name: value' (repeatable)")
	fs.StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to FILE (to check the client is not the bottleneck)")
	fs.MarkHidden("cpuprofile")
	addBenchExportFlags(fs, &b.export)
}

const benchLong = `Repeat a non-interactive flow under load and report auth SLIs: requests,
success rate, failures grouped by HTTP status and OAuth error, throughput,
latency min/p50/p90/p95/p99/max of every completed request, failures included
(nearest-rank: the smallest observed latency with at least p% of requests at
or below it) and a histogram.

The flow comes from a saved PROFILE (store) or from the same flags as
'authlab flow'. --flow picks what to repeat:
  client-credentials, refresh, token-exchange, introspect, userinfo  the OAuth endpoint
  call   GET --call URL with a cached access token (--token, or client credentials)
  hmac   an HMAC-signed request to --call URL (--scheme, --hmac-key, ...)
  mtls   a request to --call URL over TLS with --cert/--key

Bounds: -n N requests and/or -z DURATION; without -z a run stops after 10s.
Calls in flight at the bound get 2s to finish; those cut off are reported as
interrupted, not as failures. Ctrl-C stops early and reports what completed.
Sending more than 50 requests/s to a host that is not loopback prints a
warning first (use --rate).

SLO gate: --slo 'p95<50ms,success>=99.9%' with objectives min, p50, p90, p95,
p99, max (durations), success (percent) and rps (requests/s), each with
< <= > or >=. A missed objective exits 1 and names it; bad syntax exits 2.

Prometheus: --push URL sends the run's metrics (authlab_bench_requests_total,
authlab_bench_request_duration_seconds, authlab_bench_failures_total,
authlab_bench_slo_met) to a Pushgateway as job authlab_bench, grouped by
--instance (default HOST-PID), every 5s and once at the end; --metrics FILE
writes them in the text format. Several machines, one --instance each, add
up in PromQL (README). 'authlab slo rules' writes the matching alerts.

Probes: 'authlab bench probe revocation|jwks|mtls|issuance' (see its help).

Exit status: 0 done (and every objective met); 1 an objective was missed or
no request succeeded; 2 usage or configuration error.`

func newBenchCmd(g *globals) *cobra.Command {
	var b benchFlags
	cmd := &cobra.Command{
		Use:   "bench [PROFILE] [flags]",
		Short: "Repeat a flow under load and report auth SLIs",
		Long:  benchLong,
		Example: `  authlab bench --issuer http://127.0.0.1:9090 --client-id demo-cc --client-secret demo-cc-secret -c 32 -z 10s
  authlab bench my-profile -n 2000 -c 16 --slo 'p95<50ms,success>=99.9%' --json
  authlab bench --flow call --call http://127.0.0.1:9090/api/hello --issuer ... --rate 100`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd, g, &b, args)
		},
	}
	addBenchFlags(cmd.Flags(), &b, false)
	cmd.AddCommand(newBenchProbeCmd(g))
	return cmd
}

func newBenchProbeCmd(g *globals) *cobra.Command {
	var b benchFlags
	cmd := &cobra.Command{
		Use:   "probe revocation|jwks|mtls|issuance [PROFILE] [flags]",
		Short: "Measure the SLIs a load test cannot see",
		Long: `Probes measure what a load test cannot see:

  revocation  get a token (--token, else client credentials), check it is
              accepted, revoke it, then poll introspection and/or --call URL
              (--via, every --every, default 250ms) until it is refused; report
              the time. Gives up after --give-up (default 1m) and says so.
  jwks        fetch the JWKS -n times (default 20) every --every (500ms):
              latency, errors and key ids seen appearing or disappearing.
  mtls        open a new TLS connection with --cert/--key per attempt to --url
              (default --call, else the token endpoint): handshake success rate
              and handshake latency (-n, -z, -c as for load).
  issuance    token issuance latency for each grant the profile supports
              without a user (client credentials, token exchange, refresh),
              -n sequential requests each (default 50).

Exit status: 0 measured; 1 the probe failed or the token was never refused;
2 usage or configuration error.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErr("%s needs a probe name (revocation, jwks, mtls or issuance) and an optional PROFILE", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProbe(cmd, g, &b, args[0], args[1:])
		},
	}
	addBenchFlags(cmd.Flags(), &b, true)
	return cmd
}

// benchSetup turns the PROFILE argument and flags into a flows.Request.
func benchSetup(cmd *cobra.Command, g *globals, b *benchFlags, args []string) (store.Profile, flows.Request, error) {
	var p store.Profile
	if len(args) == 1 {
		path, err := g.resolveStorePath()
		if err != nil {
			return p, flows.Request{}, usageErr("%v", err)
		}
		p, err = store.LoadProfile(path, args[0])
		if errors.Is(err, store.ErrNotFound) {
			return p, flows.Request{}, usageErr("no profile %q in %s (see 'authlab profile list')", args[0], path)
		}
		if err != nil {
			return p, flows.Request{}, usageErr("store %s: %v", path, err)
		}
		if err := b.prof.overlay(cmd.Flags(), &p); err != nil {
			return p, flows.Request{}, usageErr("%v", err)
		}
		if err := p.TrustError(); err != nil { // a secret not confirmed for these hosts
			return p, flows.Request{}, usageErr("%v", err)
		}
	} else {
		var err error
		if p, err = b.prof.toProfile("", ""); err != nil {
			return p, flows.Request{}, usageErr("%v", err)
		}
	}
	// The bench flow is chosen later (--flow); here only the profile's
	// settings matter, so a profile without an OAuth kind maps as client credentials.
	flow := ""
	if p.Kind == "" || p.Kind == store.KindHMAC || p.Kind == store.KindAPIKey {
		flow = flows.FlowClientCredentials
	}
	req, err := p.FlowRequest(flow)
	if err != nil {
		return p, req, usageErr("%v", err)
	}
	req.Timeout = b.timeout
	if b.token != "" {
		v, err := resolveBenchSecret(b.token)
		if err != nil {
			return p, req, usageErr("--token: %v", err)
		}
		req.Token = flows.Secret(v)
	}
	req.CallURL = b.call
	return p, req, nil
}

func resolveBenchSecret(v string) (string, error) {
	if v == "-" {
		return "", errors.New("bench cannot read a token from stdin; pass a value or env:NAME")
	}
	return store.ParseSecret(v).Resolve()
}

// benchOp builds the operation for flow and names the URL it loads.
func benchOp(ctx context.Context, s *bench.Setup, flow string, p store.Profile, b *benchFlags) (bench.Op, string, error) {
	switch flow {
	case bench.FlowCall, bench.FlowMTLS:
		if b.call == "" {
			return nil, "", usageErr("--flow %s needs --call URL", flow)
		}
		if flow == bench.FlowMTLS {
			if !s.ClientCert {
				return nil, "", usageErr("--flow mtls needs a client certificate (--cert and --key)")
			}
			return s.RequestOp(bench.FlowMTLS, func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, b.call, nil)
			}), b.call, nil
		}
		tokens, err := s.TokenSource()
		if err != nil {
			return nil, "", err
		}
		if _, err := tokens.Get(ctx); err != nil { // fail fast, before the clock starts
			return nil, "", failErr(err)
		}
		return s.CallOp(b.call, tokens), b.call, nil
	case bench.FlowHMAC:
		if b.call == "" {
			return nil, "", usageErr("--flow hmac needs --call URL")
		}
		sec, ok := p.Secrets[store.HMACKey]
		if !ok || sec.IsZero() {
			return nil, "", usageErr("--flow hmac needs --hmac-key")
		}
		v, err := sec.Resolve()
		if err != nil {
			return nil, "", usageErr("--hmac-key: %v", err)
		}
		h := http.Header{}
		for _, line := range b.headers {
			k, val, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, "", usageErr("-H %q: want 'Name: value'", line)
			}
			h.Add(strings.TrimSpace(k), strings.TrimSpace(val))
		}
		op, err := s.HMACOp(b.call, bench.HMACConfig{Scheme: p.HMAC.Scheme, Key: hmac.NewKey([]byte(v)), KeyID: p.HMAC.KeyID,
			Label: p.HMAC.Label, Components: p.HMAC.Components, AccessKey: p.HMAC.AccessKey, Region: p.HMAC.Region,
			Service: p.HMAC.Service, Method: b.method, Header: h, Body: []byte(b.data)})
		return op, b.call, err
	}
	if flow == apikey.Flow {
		return apiKeyBenchOp(s, p, b)
	}
	op, err := s.FlowOp(flow)
	target := s.Endpoints.Token
	switch flow {
	case flows.FlowIntrospect:
		target = s.Endpoints.Introspect
	case flows.FlowUserinfo:
		target = s.Endpoints.Userinfo
	}
	return op, target, err
}

func pickFlow(b *benchFlags, p store.Profile) (string, error) {
	flow := b.flow
	if flow == "" {
		switch p.Kind {
		case store.KindHMAC, store.KindMTLS, store.KindTokenExchange, store.KindPassword, store.KindJWTBearer, store.KindAPIKey:
			flow = string(p.Kind)
		default:
			flow = flows.FlowClientCredentials
		}
	}
	benchable := append(bench.BenchFlows(), apikey.Flow) // api-key ops are built here (apiKeyBenchOp)
	if slices.Contains(benchable, flow) {
		return flow, nil
	}
	return "", usageErr("--flow %q: bench repeats %s (interactive flows cannot be benched)", flow, strings.Join(benchable, ", "))
}

// asExit maps an engine error to an exit status: configuration → 2, else 1.
func asExit(err error) error {
	var ee *exitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	err = explainFlags(err, flagFor)
	var fe *flows.Error
	if errors.As(err, &fe) && fe.Kind == flows.ErrConfig {
		return usageErr("%v", err)
	}
	return failErr(err)
}

// benchJSON is bench's --json object.
type benchJSON struct {
	Flow   string       `json:"flow"`
	Target string       `json:"target"`
	OK     bool         `json:"ok"`
	Error  *flows.Error `json:"error,omitempty"`
	bench.ReportJSON
	SLO []bench.SLOResult `json:"slo,omitempty"`
}

func runBench(cmd *cobra.Command, g *globals, b *benchFlags, args []string) error {
	var objectives []bench.Objective
	if b.slo != "" {
		var err error
		if objectives, err = bench.ParseSLO(b.slo); err != nil {
			return usageErr("--slo: %v", err)
		}
	}
	cfg := bench.Config{Requests: b.requests, Duration: b.duration, Concurrency: b.concurrency, Rate: b.rate}
	if b.requests < 0 || b.duration < 0 || b.concurrency < 1 || b.concurrency > bench.MaxConcurrency || b.rate < 0 {
		return usageErr("bad bounds: -n ≥ 0, -z ≥ 0, 1 ≤ -c ≤ %d and --rate ≥ 0 (got -n %d -z %s -c %d --rate %g)",
			bench.MaxConcurrency, b.requests, b.duration, b.concurrency, b.rate)
	}
	p, req, err := benchSetup(cmd, g, b, args)
	if err != nil {
		return err
	}
	flow, err := pickFlow(b, p)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	s, err := bench.NewSetup(ctx, req, b.concurrency)
	if err != nil {
		return asExit(err)
	}
	defer s.Close()
	op, target, err := benchOp(ctx, s, flow, p, b)
	if err != nil {
		return asExit(err)
	}
	if w := bench.RateWarning(target, b.rate); w != "" {
		fmt.Fprintf(g.stderr, "authlab: %s; use --rate %d\n", w, bench.PoliteRate)
	}
	if flowIsTerminal(g.stderr) && !b.asJSON {
		cfg.OnSnapshot = progressLine(g.stderr)
	}
	exp, err := startExport(ctx, g.stderr, &b.export, &cfg, flow, p.Name)
	if err != nil {
		return err
	}
	defer exp.stop()
	if b.cpuProfile != "" {
		f, err := os.Create(b.cpuProfile)
		if err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, cfg, op)
	if err != nil {
		return usageErr("%v", err)
	}
	if err := s.DPoPReport(rep); err != nil { // the proof's cost, beside the request time
		return asExit(err)
	}
	if b.requests > 0 && rep.StopReason == bench.StopDuration {
		fmt.Fprintf(g.stderr, "authlab: stopped at the %s time bound after %d of %d requests; raise -z for more\n",
			cfg.DurationOrDefault(), rep.Requests+rep.Interrupted, b.requests)
	}
	results := bench.Evaluate(objectives, rep)
	missed := bench.Missed(results)
	var fail error
	switch {
	case len(missed) > 0:
		fail = fmt.Errorf("SLO missed: %s", strings.Join(missed, "; "))
	case rep.Requests > 0 && rep.OK == 0:
		fail = fmt.Errorf("every request failed: %s (%s)", rep.Failures[0].Label(), rep.Failures[0].Example)
	case rep.Requests == 0:
		fail = fmt.Errorf("no request completed in %s", rep.Elapsed.Round(time.Millisecond))
	}
	if b.asJSON {
		out := benchJSON{Flow: flow, Target: maskTarget(target), OK: fail == nil, ReportJSON: rep.JSON(), SLO: results}
		if fail != nil {
			out.Error = &flows.Error{Kind: flows.ErrCheck, Message: fail.Error()}
		}
		if err := writeJSON(g.stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(g.stdout, "bench %s → %s\n", flow, maskTarget(target))
		rep.WriteText(g.stdout, 40)
		for _, r := range results {
			mark := "pass"
			if !r.Pass {
				mark = "FAIL"
			}
			fmt.Fprintf(g.stdout, "slo  %s  %-20s was %s\n", mark, r.Objective, r.Actual)
		}
	}
	if err := exp.finish(results); err != nil {
		if fail == nil {
			return failErr(err)
		}
		fmt.Fprintf(g.stderr, "authlab: %v\n", err)
	}
	if fail != nil {
		return failErr(fail)
	}
	return nil
}

// writeJSON is the commands' indented --json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progressLine redraws one stderr line per snapshot and clears it at the end.
func progressLine(w io.Writer) func(bench.Snapshot) {
	return func(s bench.Snapshot) {
		if s.Done {
			fmt.Fprint(w, "\r\033[K")
			return
		}
		fmt.Fprintf(w, "\r\033[K%6.1fs  %d requests  %.0f/s  ok %.2f%%  p50 %s  p95 %s  p99 %s",
			s.Elapsed.Seconds(), s.Requests, s.IntervalRPS, s.SuccessRate(),
			bench.FormatDuration(s.P50), bench.FormatDuration(s.P95), bench.FormatDuration(s.P99))
	}
}

func maskTarget(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(bad URL)"
	}
	return flows.MaskURL(u)
}

// probeJSON is a probe's --json object.
type probeJSON struct {
	Probe      string                  `json:"probe"`
	Target     string                  `json:"target,omitempty"`
	OK         bool                    `json:"ok"`
	Error      *flows.Error            `json:"error,omitempty"`
	Revocation *bench.RevocationResult `json:"revocation,omitempty"`
	Report     *bench.ReportJSON       `json:"report,omitempty"`
	KeyIDs     []string                `json:"key_ids,omitempty"`
	KeyChanges []bench.KeyChange       `json:"key_changes,omitempty"`
	Issuance   []issuanceJSON          `json:"issuance,omitempty"`
}

type issuanceJSON struct {
	Grant   string            `json:"grant"`
	Skipped string            `json:"skipped,omitempty"`
	Report  *bench.ReportJSON `json:"report,omitempty"`
}

func runProbe(cmd *cobra.Command, g *globals, b *benchFlags, name string, args []string) error {
	switch name {
	case bench.ProbeRevocation, bench.ProbeJWKS, bench.ProbeMTLS, bench.ProbeIssuance:
	default:
		return usageErr("unknown probe %q: use revocation, jwks, mtls or issuance", name)
	}
	if b.samples < 0 || b.duration < 0 || b.concurrency < 1 || b.concurrency > bench.MaxConcurrency || b.every < 0 || b.giveUp <= 0 {
		return usageErr("bad bounds: -n ≥ 0, -z ≥ 0, 1 ≤ -c ≤ %d, --every ≥ 0, --give-up > 0", bench.MaxConcurrency)
	}
	_, req, err := benchSetup(cmd, g, b, args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	s, err := bench.NewSetup(ctx, req, b.concurrency)
	if err != nil {
		return asExit(err)
	}
	defer s.Close()
	out := probeJSON{Probe: name, OK: true}
	var fail error
	var text strings.Builder
	switch name {
	case bench.ProbeRevocation:
		res, err := s.ProbeRevocation(ctx, bench.RevocationConfig{Via: b.via, CallURL: b.call, Every: b.every, Timeout: b.giveUp})
		if err != nil {
			return asExit(fmt.Errorf("revocation probe: %w", explainFlags(err, flagFor)))
		}
		out.Revocation = res
		fmt.Fprintf(&text, "revocation  %s\n", res.Detail)
		if !res.Refused {
			fail = fmt.Errorf("revocation probe: %s", res.Detail)
		}
	case bench.ProbeJWKS:
		u := firstNonEmpty(b.url, s.Endpoints.JWKS)
		if u == "" {
			return usageErr("jwks probe: no JWKS URL; pass --url, --jwks-url or --issuer")
		}
		out.Target = maskTarget(u)
		op, watch := s.JWKSOp(u)
		n, every := b.samples, b.every
		if n == 0 {
			n = 20
		}
		if every == 0 {
			every = 500 * time.Millisecond
		}
		rep, err := bench.Run(ctx, bench.Config{Requests: n, Concurrency: 1, Rate: float64(time.Second) / float64(every),
			Duration: time.Duration(n)*every + 10*time.Second}, op)
		if err != nil {
			return usageErr("%v", err)
		}
		j := rep.JSON()
		out.Report, out.KeyIDs, out.KeyChanges = &j, watch.KeyIDs(), watch.History()
		fmt.Fprintf(&text, "jwks %s\n", out.Target)
		rep.WriteText(&text, 40)
		fmt.Fprintf(&text, "key ids      %s\n", strings.Join(out.KeyIDs, " "))
		for _, c := range out.KeyChanges {
			fmt.Fprintf(&text, "  fetch %d: added %v removed %v\n", c.Fetch, c.Added, c.Removed)
		}
		if rep.Failed > 0 {
			fail = fmt.Errorf("jwks probe: %d of %d fetches failed (%s)", rep.Failed, rep.Requests, rep.Failures[0].Label())
		}
	case bench.ProbeMTLS:
		u := firstNonEmpty(b.url, b.call, s.Endpoints.Token)
		if u == "" {
			return usageErr("mtls probe: no URL; pass --url or --call")
		}
		out.Target = maskTarget(u)
		op, err := s.HandshakeOp(u)
		if err != nil {
			return asExit(err)
		}
		if w := bench.RateWarning(u, 0); w != "" && b.concurrency > 1 {
			fmt.Fprintf(g.stderr, "authlab: %s\n", w)
		}
		rep, err := bench.Run(ctx, bench.Config{Requests: b.samples, Duration: b.duration, Concurrency: b.concurrency}, op)
		if err != nil {
			return usageErr("%v", err)
		}
		j := rep.JSON()
		out.Report = &j
		fmt.Fprintf(&text, "mtls handshakes to %s\n", out.Target)
		rep.WriteText(&text, 40)
		if rep.Failed > 0 || rep.Requests == 0 {
			fail = fmt.Errorf("mtls probe: %d of %d handshakes failed", rep.Failed, rep.Requests)
		}
	case bench.ProbeIssuance:
		res, err := s.ProbeIssuance(ctx, b.samples)
		if err != nil {
			return asExit(fmt.Errorf("issuance probe: %w", explainFlags(err, flagFor)))
		}
		fmt.Fprintf(&text, "%-20s %8s %9s %9s %9s %9s\n", "grant", "success", "p50", "p95", "p99", "max")
		for _, r := range res {
			ij := issuanceJSON{Grant: r.Grant, Skipped: r.Skipped}
			if r.Report == nil {
				fmt.Fprintf(&text, "%-20s skipped: %s\n", r.Grant, r.Skipped)
			} else {
				j := r.Report.JSON()
				ij.Report = &j
				l := r.Report.Latency
				fmt.Fprintf(&text, "%-20s %7.1f%% %9s %9s %9s %9s\n", r.Grant, r.Report.SuccessRate(), bench.FormatDuration(l.P50),
					bench.FormatDuration(l.P95), bench.FormatDuration(l.P99), bench.FormatDuration(l.Max))
				if r.Report.OK == 0 {
					fail = fmt.Errorf("issuance probe: every %s request failed (%s)", r.Grant, r.Report.Failures[0].Example)
				}
			}
			out.Issuance = append(out.Issuance, ij)
		}
	}
	if fail != nil {
		out.OK = false
		out.Error = &flows.Error{Kind: flows.ErrCheck, Message: fail.Error()}
	}
	if b.asJSON {
		if err := writeJSON(g.stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprint(g.stdout, text.String())
	}
	if fail != nil {
		return failErr(fail)
	}
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// apiKeyBenchOp repeats an api-key profile's request (bench.APIKeyOp,
// what `authlab run` sends) against --call, else the profile's target URL.
func apiKeyBenchOp(s *bench.Setup, p store.Profile, b *benchFlags) (bench.Op, string, error) {
	if p.Kind != store.KindAPIKey {
		return nil, "", usageErr("--flow %s needs an api-key profile", apikey.Flow)
	}
	req, err := apiKeyRequest(p, b.timeout)
	if err != nil {
		return nil, "", usageErr("%v", err)
	}
	if b.call != "" {
		req.URL = b.call
	}
	req.Method = b.method
	op, err := s.APIKeyOp(req)
	if err != nil {
		return nil, "", usageErr("%s", explainFlags(err, requestFlagFor))
	}
	return op, req.URL, nil
}
