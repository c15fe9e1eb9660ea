package bench

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
)

// Where proof costs come from.
const (
	// ProofsInRun: each request's own proofs, timed as they were signed.
	ProofsInRun = "per request"
	// ProofsBefore: proofs signed before the run, because the op signs
	// inside the engine, where bench cannot time them on their own.
	ProofsBefore = "before the run"
)

// calibrationProofs is how many proofs ProofCost signs.
const calibrationProofs = 200

// DPoPStats is what DPoP cost a run: the time to sign one proof (its
// median and p99) beside the request's own latency, and nonce retries.
type DPoPStats struct {
	Alg, JKT     string
	Proofs       int64 // proofs timed
	P50, P99     time.Duration
	NonceRetries int64
	Measured     string // ProofsInRun or ProofsBefore
}

// DPoPJSON is DPoPStats for --json, in microseconds.
type DPoPJSON struct {
	Alg          string  `json:"alg,omitempty"`
	JKT          string  `json:"jkt,omitempty"`
	Proofs       int64   `json:"proofs"`
	ProofUS      float64 `json:"proof_us"` // median
	ProofP99US   float64 `json:"proof_p99_us"`
	NonceRetries int64   `json:"nonce_retries"`
	Measured     string  `json:"measured"`
}

func us(d time.Duration) float64 { return math.Round(float64(d)/10) / 100 }

// JSON converts the stats for --json.
func (d *DPoPStats) JSON() *DPoPJSON {
	return &DPoPJSON{Alg: d.Alg, JKT: d.JKT, Proofs: d.Proofs, ProofUS: us(d.P50), ProofP99US: us(d.P99),
		NonceRetries: d.NonceRetries, Measured: d.Measured}
}

// describe is the human report line, beside the request's median.
func (d *DPoPStats) describe(requestP50 time.Duration) string {
	alg := d.Alg
	if alg == "" {
		alg = "proof"
	}
	share := ""
	if requestP50 > 0 {
		share = fmt.Sprintf(" (%.1f%% of the request p50 %s)", 100*float64(d.P50)/float64(requestP50), FormatDuration(requestP50))
	}
	return fmt.Sprintf("%s proof p50 %s%s, p99 %s; %d proofs timed %s; %d nonce retries",
		alg, FormatDuration(d.P50), share, FormatDuration(d.P99), d.Proofs, d.Measured, d.NonceRetries)
}

// proofStats merges the workers' proof timings; nil when no op timed one.
func proofStats(workers []*worker) *DPoPStats {
	var n, retries int64
	var all []time.Duration
	for _, w := range workers {
		n += w.proofN
		retries += w.nonceRetries
		all = append(all, w.proofs...)
	}
	if n == 0 && retries == 0 {
		return nil
	}
	d := &DPoPStats{Proofs: n, NonceRetries: retries, Measured: ProofsInRun}
	if len(all) > 0 {
		slices.Sort(all)
		d.P50, d.P99 = Percentile(all, 0.50), Percentile(all, 0.99)
	}
	return d
}

// loadDPoP resolves the request's DPoP key once, so every op and engine
// of the run proves with the same key: a token bound to it by one op (the
// token source) is usable by another (the call op). An ephemeral key is
// generated here and handed to the engines as key data.
func (s *Setup) loadDPoP() error {
	r := &s.Request
	if !r.UsesDPoP() {
		return nil
	}
	data, err := dpop.KeyData(r)
	if err != nil {
		return err
	}
	if data == nil {
		pem, err := dpop.GeneratePEM(r.DPoPAlg)
		if err != nil {
			return flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldDPoPAlg, err)
		}
		data = pem
	}
	k, err := dpop.Load(data, r.DPoPAlg)
	if err != nil {
		return flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldDPoPKey, err)
	}
	r.DPoP, r.DPoPKey, r.DPoPKeyData, r.DPoPAlg = true, "", flows.Secret(data), k.Alg()
	s.dpop, s.nonces = k, dpop.NewNonces(0)
	return nil
}

// DPoPKey is the run's proof key, or nil without DPoP.
func (s *Setup) DPoPKey() *dpop.Key { return s.dpop }

// ProofCost signs n proofs for the token endpoint one after another and
// returns their median and p99: the cost of a proof for ops that sign
// inside the engine.
func (s *Setup) ProofCost(n int) (*DPoPStats, error) {
	if s.dpop == nil {
		return nil, nil
	}
	target := s.Endpoints.Token
	if target == "" {
		target = "https://authlab.invalid/token"
	}
	times := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := s.dpop.Proof(http.MethodPost, target, "", ""); err != nil {
			return nil, fmt.Errorf("DPoP proof: %v", err)
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	return &DPoPStats{Proofs: int64(n), P50: Percentile(times, 0.50), P99: Percentile(times, 0.99), Measured: ProofsBefore}, nil
}

// DPoPReport completes rep's DPoP stats after a run with a key: the key's
// alg and thumbprint, and a proof cost measured apart when the op could
// not time its own proofs.
func (s *Setup) DPoPReport(rep *Report) error {
	if s.dpop == nil || rep == nil {
		return nil
	}
	if rep.DPoP == nil || rep.DPoP.Proofs == 0 {
		d, err := s.ProofCost(calibrationProofs)
		if err != nil {
			return err
		}
		if rep.DPoP != nil {
			d.NonceRetries = rep.DPoP.NonceRetries
		}
		rep.DPoP = d
	}
	rep.DPoP.Alg, rep.DPoP.JKT = s.dpop.Alg(), s.dpop.JKT()
	return nil
}

// signProof signs a proof for one request and adds its time to o.
func (s *Setup) signProof(o *Outcome, htm, htu, nonce, accessToken string) (string, error) {
	t0 := time.Now()
	p, err := s.dpop.Proof(htm, htu, nonce, accessToken)
	o.Proof += time.Since(t0)
	if err != nil {
		return "", flows.Errorf(flows.ErrConfig, "DPoP proof: %v", err)
	}
	return p, nil
}
