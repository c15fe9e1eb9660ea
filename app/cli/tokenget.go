package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/flows/oauth"
	"authlab/flows/token"
	"authlab/store"
)

type tokenGetFlags struct {
	minTTL       time.Duration
	format       string
	timeout      time.Duration
	subjectToken string
	proofURL     string // --format dpop-proof: the request the proof is for
	proofMethod  string
}

func newTokenGetCmd(g *globals) *cobra.Command {
	var f tokenGetFlags
	cmd := &cobra.Command{
		Use:   "get PROFILE [--min-ttl 60s] [--format raw|header|json|k8s|dpop-proof]",
		Short: "Print a currently valid access token for a profile (cached, renewed when needed)",
		Long: `Print a currently valid access token of a saved profile, and nothing else,
on stdout: a credential helper for scripts, curl and kubectl. Errors go to
stderr as one line.

The token comes from the store's token cache when it is valid for at least
--min-ttl more. Otherwise it is renewed: with the refresh_token grant when the
cache holds a refresh token (a rotated refresh token is kept), else by running
the profile's flow again for kinds that need no person (client-credentials,
mtls, jwt-bearer, password, token-exchange with --subject-token). auth-code and device profiles
without a usable refresh token need a browser: run 'authlab run NAME' once.
A token whose expiry is unknown (no expires_in, not a JWT with exp) is used
as it is.

Many callers at once (20 processes after expiry) cause one renewal at the
IdP: the first takes a renewal lease in the store, the others wait for the
new token and print it.

Formats: raw (the token), header ("Bearer TOKEN", or "DPoP TOKEN" for a
DPoP-bound token, for an Authorization header), json (access_token,
token_type, expires_at, expires_in), k8s (a client.authentication.k8s.io/v1
ExecCredential for a kubeconfig exec plugin), dpop-proof (a DPoP proof for
one request, --url and --method, signed with the profile's DPoP key and
bound to the token: a DPoP-bound token needs a fresh proof per request,
RFC 9449 4 and 7.1).

Exit status: 0 a token was printed; 1 renewal failed or needs a browser;
2 usage or configuration error.`,
		Example: `  curl -H "Authorization: Bearer $(authlab token get api)" https://api.example.com/
  curl -H "Authorization: $(authlab token get api --format header)" https://api.example.com/
  authlab token get api --min-ttl 5m --format json | jq -r .expires_at
  # a DPoP-bound token: the header and a proof for this one request
  curl -H "Authorization: $(authlab token get api --format header)" \
       -H "DPoP: $(authlab token get api --format dpop-proof --url https://api.example.com/orders)" https://api.example.com/orders`,
		Args: exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenGet(cmd.Context(), g, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.minTTL, "min-ttl", time.Minute, "renew when the cached token expires within this time")
	fl.StringVar(&f.format, "format", "raw", "output: raw, header, json, k8s or dpop-proof")
	fl.StringVar(&f.proofURL, "url", "", "--format dpop-proof: the URL of the request the proof is for")
	fl.StringVar(&f.proofMethod, "method", http.MethodGet, "--format dpop-proof: the request's HTTP method")
	fl.DurationVar(&f.timeout, "timeout", flows.DefaultTimeout, "timeout of each HTTP call of a renewal")
	fl.StringVar(&f.subjectToken, "subject-token", "", "token-exchange profiles: the subject token (a value, - for stdin, env:NAME or file:PATH)")
	return cmd
}

// tokenGetFormats are the --format values.
func tokenGetFormats() []string { return []string{"raw", "header", "json", "k8s", "dpop-proof"} }

// Renewal lease timing: a waiter polls the store with a bounded backoff;
// a failed renewal is reported to its waiters for failureHold, then the
// next caller tries again.
const (
	leasePollMin = 5 * time.Millisecond
	leasePollMax = 100 * time.Millisecond
	failureHold  = 5 * time.Second
)

func runTokenGet(ctx context.Context, g *globals, f *tokenGetFlags, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if !tokContains(tokenGetFormats(), f.format) {
		return usageErr("--format %q: use %s", f.format, strings.Join(tokenGetFormats(), ", "))
	}
	if (f.format == "dpop-proof") != (f.proofURL != "") {
		return usageErr("--format dpop-proof and --url go together: the proof is for one request's URL")
	}
	if f.minTTL < 0 || f.timeout <= 0 {
		return usageErr("--min-ttl must not be negative and --timeout must be positive")
	}
	path, err := g.resolveStorePath()
	if err != nil {
		return storeErr(err)
	}
	var p store.Profile
	var st store.TokenState
	if err := store.View(path, func(s *store.Store) error {
		if p, err = s.GetProfile(name); err != nil {
			return err
		}
		st, err = s.TokenState(name)
		return err
	}); err != nil {
		return storeErr(err)
	}
	// A secret not confirmed for the hosts a renewal sends it to refuses
	// the profile, as `authlab run` does.
	if err := p.TrustError(); err != nil {
		return storeErr(err)
	}
	subject := ""
	if p.Kind == store.KindTokenExchange && f.subjectToken != "" {
		if subject, err = readTokenFlag("--subject-token", f.subjectToken, g.stdin); err != nil {
			return err
		}
	}
	tg := &tokenGetter{g: g, f: f, path: path, p: p, subject: subject, holder: newHolderID()}
	ct, err := tg.get(ctx, st)
	if err != nil {
		return err
	}
	return tg.print(ct)
}

// tokenGetter renews one profile's token with the store as the only
// coordinator between processes.
type tokenGetter struct {
	g       *globals
	f       *tokenGetFlags
	path    string
	p       store.Profile
	subject string // token-exchange subject token, or ""
	holder  string
}

func newHolderID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b))
}

// leaseTTL bounds one renewal: discovery, token request and key fetch,
// each with --timeout, plus slack. A waiter takes over after it.
func (tg *tokenGetter) leaseTTL() time.Duration { return 3*tg.f.timeout + 5*time.Second }

// usable reports whether the cached token may be printed: valid for at
// least --min-ttl, or (fresh) renewed since we started waiting and not
// expired, and for token exchange made for our subject token.
func (tg *tokenGetter) usable(st store.TokenState, staleBasis string) bool {
	if !st.HasToken {
		return false
	}
	if tg.p.Kind == store.KindTokenExchange && tg.subject != "" {
		r := st.Renewal
		if r.Subject != flows.Fingerprint(tg.subject) || r.SubjectOf != st.Token.ResponseFingerprint() {
			return false
		}
	}
	if accessTokenOf(st.Token) == "" {
		return false
	}
	exp := expiryOf(st.Token)
	if exp.IsZero() {
		return true // the IdP said nothing: use it, the API will tell
	}
	left := time.Until(exp)
	if left > tg.f.minTTL {
		return true
	}
	// Renewed by someone else while we waited: the IdP's tokens may simply
	// live shorter than --min-ttl; a second renewal would not help.
	return staleBasis != "" && st.Token.ResponseFingerprint() != staleBasis && left > 0
}

// get returns a usable cached token, renewing it (or waiting for another
// process's renewal) when needed.
func (tg *tokenGetter) get(ctx context.Context, st store.TokenState) (store.CachedToken, error) {
	if tg.usable(st, "") {
		return st.Token, nil
	}
	if refreshTokenOf(st.Token) == "" && !tg.nonInteractive() {
		if tg.p.Kind == store.KindTokenExchange {
			return store.CachedToken{}, usageErr("profile %s is a token-exchange profile: give --subject-token (a value, env:NAME, file:PATH or -) to exchange", tg.p.Name)
		}
		why := "no cached token"
		if st.HasToken {
			why = "the cached token has no refresh token"
		}
		return store.CachedToken{}, tg.needsBrowser(why)
	}
	basis := ""
	if st.HasToken {
		basis = st.Token.ResponseFingerprint()
	}
	staleBasis := basis
	started := time.Now()
	deadline := started.Add(2*tg.leaseTTL() + time.Second)
	wait := leasePollMin
	for {
		var err error
		err = store.Update(tg.path, func(s *store.Store) error {
			st, err = s.AcquireRenewal(tg.p.Name, basis, tg.holder, tg.leaseTTL())
			return err
		})
		switch {
		case err == nil:
			return tg.renew(ctx, st)
		case errors.Is(err, store.ErrCacheChanged):
			if tg.usable(st, staleBasis) {
				return st.Token, nil
			}
			// Changed but still not usable (for example `authlab run`
			// cached an old token): renew from what is there now.
			basis = st.Token.ResponseFingerprint()
			if !st.HasToken {
				basis = ""
			}
			continue
		case errors.Is(err, store.ErrLeaseHeld):
			if msg := st.Renewal.Error; msg != "" {
				return store.CachedToken{}, failErr(fmt.Errorf("profile %s: renewing the token failed (in another authlab a moment ago): %s", tg.p.Name, msg))
			}
		default:
			return store.CachedToken{}, storeErr(err)
		}
		// Another process renews: wait for the cache to change, polling
		// with a bounded backoff until its lease runs out, then take over.
		for {
			if time.Now().After(deadline) {
				return store.CachedToken{}, failErr(fmt.Errorf("profile %s: waited %s for another authlab's renewal; giving up", tg.p.Name, time.Since(started).Round(time.Second)))
			}
			select {
			case <-ctx.Done():
				return store.CachedToken{}, failErr(ctx.Err())
			case <-time.After(wait):
			}
			wait = min(wait*3/2+time.Millisecond, leasePollMax)
			if err := store.View(tg.path, func(s *store.Store) error {
				st, err = s.TokenState(tg.p.Name)
				return err
			}); err != nil {
				return store.CachedToken{}, storeErr(err)
			}
			if tg.usable(st, staleBasis) {
				return st.Token, nil
			}
			r := st.Renewal
			if r.Error != "" && r.Basis == basis {
				return store.CachedToken{}, failErr(fmt.Errorf("profile %s: renewing the token failed (in another authlab): %s", tg.p.Name, r.Error))
			}
			if st.Token.ResponseFingerprint() != basis || r.Holder == "" || r.Basis != basis || !time.Now().Before(r.Deadline) {
				break // finished, released or expired: try to take the lease
			}
		}
	}
}

// renew runs the renewal while holding the lease, records it (history and
// cache, as every run does) and ends the lease.
func (tg *tokenGetter) renew(ctx context.Context, st store.TokenState) (store.CachedToken, error) {
	res, err := tg.runRenewal(ctx, st)
	failure := ""
	switch {
	case err != nil:
		failure = err.Error()
	case res.Err != nil || res.Token == nil || res.Token.AccessToken == "":
		failure = res.Reason()
		if failure == "" {
			failure = res.Flow + ": the token response has no access_token"
		}
	}
	subject := ""
	if failure == "" && res.Flow == flows.FlowTokenExchange {
		subject = flows.Fingerprint(tg.subject)
	}
	var out store.CachedToken
	serr := store.Update(tg.path, func(s *store.Store) error {
		if res != nil {
			if err := s.RecordRun(tg.p.Name, res); err != nil {
				return err
			}
		}
		if err := s.FinishRenewal(tg.p.Name, tg.holder, failure, subject, failureHold); err != nil {
			return err
		}
		if failure == "" {
			var err error
			out, err = s.GetToken(tg.p.Name)
			return err
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if failure != "" {
		return out, failErr(fmt.Errorf("profile %s: renewing the token failed: %s", tg.p.Name, failure))
	}
	if serr != nil {
		return out, storeErr(serr)
	}
	if flows.AnyFailed(res.Checks) {
		fmt.Fprintf(tg.g.stderr, "authlab: warning: %s\n", oneLine(res.Reason(), 300))
	}
	return out, nil
}

// runRenewal picks and runs the grant: refresh when there is a refresh
// token; the profile's own flow when it needs nobody (also after a refused
// refresh); else the refusal that names `authlab run`.
func (tg *tokenGetter) runRenewal(ctx context.Context, st store.TokenState) (*flows.Result, error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	// A DPoP profile without a key gets one stored first, as `authlab run`
	// does, so the renewed token stays bound to the same key.
	if made, err := store.EnsureDPoPKey(tg.path, tg.p.Name, dpop.GeneratePEM); err != nil {
		return nil, storeErr(err)
	} else if made {
		if tg.p, err = store.LoadProfile(tg.path, tg.p.Name); err != nil {
			return nil, storeErr(err)
		}
	}
	if rt := refreshTokenOf(st.Token); rt != "" {
		res, err := tg.run(ctx, flows.FlowRefresh, rt)
		if err != nil || res.Err == nil && res.Token != nil && res.Token.AccessToken != "" {
			return res, err
		}
		if res.Err == nil || res.Err.OAuthError != "invalid_grant" {
			return res, nil // a failure to report, not a dead refresh token
		}
		if !tg.nonInteractive() {
			return res, tg.needsBrowser("the refresh token was refused (invalid_grant)")
		}
		// A refused refresh token: the profile's flow gets a new one.
	}
	if !tg.nonInteractive() {
		return nil, tg.needsBrowser("the cached token has no refresh token")
	}
	return tg.run(ctx, "", tg.subject)
}

func (tg *tokenGetter) needsBrowser(why string) error {
	return failErr(fmt.Errorf("profile %s (%s) needs a browser: run `authlab run %s` (%s)", tg.p.Name, tg.p.Kind, tg.p.Name, why))
}

// nonInteractive: kinds whose flow runs without a person.
func (tg *tokenGetter) nonInteractive() bool {
	switch tg.p.Kind {
	case store.KindClientCredentials, store.KindMTLS, store.KindJWTBearer, store.KindPassword:
		return true
	case store.KindTokenExchange:
		return tg.subject != ""
	}
	return false
}

func (tg *tokenGetter) run(ctx context.Context, flow, input string) (*flows.Result, error) {
	req, err := tg.p.FlowRequest(flow)
	if err != nil {
		return nil, usageErr("profile %s: %v", tg.p.Name, err)
	}
	if input != "" {
		req.Token = flows.Secret(input)
	}
	req.Timeout, req.Wait, req.NoBrowser = tg.f.timeout, tg.f.timeout, true
	eng, err := oauth.New(req, oauth.Options{})
	if err != nil {
		return nil, flowErr(err)
	}
	defer eng.Close()
	return eng.Run(ctx, flows.Discard), nil
}

// cachedFields reads the members token get needs from a cached response.
func cachedFields(ct store.CachedToken) (access, typ, refresh string) {
	var m struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(ct.Response, &m) != nil {
		return "", "", ""
	}
	return m.AccessToken, m.TokenType, m.RefreshToken
}

func accessTokenOf(ct store.CachedToken) string  { a, _, _ := cachedFields(ct); return a }
func refreshTokenOf(ct store.CachedToken) string { _, _, r := cachedFields(ct); return r }

// expiryOf is the cached expiry, else the access token's exp claim.
func expiryOf(ct store.CachedToken) time.Time {
	if !ct.ExpiresAt.IsZero() {
		return ct.ExpiresAt
	}
	if d, err := token.Decode(accessTokenOf(ct)); err == nil {
		if t, ok := d.Time("exp"); ok {
			return t
		}
	}
	return time.Time{}
}

// proof is a DPoP proof for the --method/--url request, bound to access
// (ath) and signed with the profile's stored DPoP key, the key the token
// is bound to. A server nonce (RFC 9449 9) is not known here: a resource
// server that demands one answers 401 use_dpop_nonce.
func (tg *tokenGetter) proof(access, typ string) (string, error) {
	if !isDPoPBound(access, typ) {
		return "", usageErr("profile %s: the token is not DPoP-bound; send it as a Bearer token (--format header)", tg.p.Name)
	}
	// Read again: a renewal of this call may have stored the key first.
	p, err := store.LoadProfile(tg.path, tg.p.Name)
	if err != nil {
		return "", storeErr(err)
	}
	sec := p.Secrets[store.DPoPKey]
	if sec.IsZero() {
		return "", usageErr("profile %s has a DPoP-bound token but no stored DPoP key to prove it with", tg.p.Name)
	}
	pem, err := sec.Resolve()
	if err != nil {
		return "", storeErr(fmt.Errorf("profile %s: DPoP key: %v", tg.p.Name, err))
	}
	key, err := dpop.Load([]byte(pem), p.DPoPAlg)
	if err != nil {
		return "", usageErr("profile %s: DPoP key: %v", tg.p.Name, err)
	}
	htu, err := dpop.HTU(tg.f.proofURL)
	if err != nil {
		return "", usageErr("--url: %v", err)
	}
	proof, err := key.Proof(strings.ToUpper(tg.f.proofMethod), htu, "", access)
	if err != nil {
		return "", failErr(fmt.Errorf("profile %s: making the DPoP proof: %v", tg.p.Name, err))
	}
	return proof, nil
}

// isDPoPBound: token_type DPoP, or a JWT naming a key in cnf.jkt.
func isDPoPBound(access, typ string) bool {
	if strings.EqualFold(typ, "DPoP") {
		return true
	}
	d, err := token.Decode(access)
	if err != nil {
		return false
	}
	cnf, _ := d.Claims["cnf"].(map[string]any)
	_, ok := cnf["jkt"]
	return ok
}

type execCredential struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Status     execCredentialStatus `json:"status"`
}

type execCredentialStatus struct {
	Token               string `json:"token"`
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
}

func (tg *tokenGetter) print(ct store.CachedToken) error {
	access, typ, _ := cachedFields(ct)
	if access == "" {
		return failErr(fmt.Errorf("profile %s: the cached token response has no access_token", tg.p.Name))
	}
	exp := expiryOf(ct)
	w := tg.g.stdout
	var err error
	switch tg.f.format {
	case "raw":
		_, err = io.WriteString(w, access+"\n")
	case "header":
		scheme := "Bearer"
		if isDPoPBound(access, typ) {
			scheme = dpop.Scheme // the request also needs a DPoP proof header (--format dpop-proof)
		}
		_, err = io.WriteString(w, scheme+" "+access+"\n")
	case "dpop-proof":
		proof, perr := tg.proof(access, typ)
		if perr != nil {
			return perr
		}
		_, err = io.WriteString(w, proof+"\n")
	case "json":
		out := struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresAt   string `json:"expires_at,omitempty"`
			ExpiresIn   *int64 `json:"expires_in,omitempty"`
		}{AccessToken: access, TokenType: typ}
		if out.TokenType == "" {
			out.TokenType = "Bearer"
		}
		if !exp.IsZero() {
			out.ExpiresAt = exp.UTC().Format(time.RFC3339)
			left := int64(time.Until(exp) / time.Second)
			out.ExpiresIn = &left
		}
		err = json.NewEncoder(w).Encode(out)
	case "k8s":
		out := execCredential{APIVersion: "client.authentication.k8s.io/v1", Kind: "ExecCredential", Status: execCredentialStatus{Token: access}}
		if !exp.IsZero() {
			out.Status.ExpirationTimestamp = exp.UTC().Format(time.RFC3339)
		}
		err = json.NewEncoder(w).Encode(out)
	}
	if err != nil {
		return failErr(fmt.Errorf("writing the token: %v", err))
	}
	return nil
}
