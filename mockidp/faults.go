package mockidp

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Endpoint names used by per-endpoint faults and in events.
const (
	EPDiscovery  = "discovery"
	EPJWKS       = "jwks"
	EPAuthorize  = "authorize"
	EPToken      = "token"
	EPIntrospect = "introspect"
	EPRevoke     = "revoke"
	EPUserinfo   = "userinfo"
	EPDevice     = "device_authorization"
	EPDevicePage = "device"
	EPEndSession = "end_session"
	EPAPI        = "api"
	EPAdmin      = "admin"
	EPOther      = "other"
)

// defaultExpiredBy is how long ago the expired fault puts exp: well past
// the 60 s to 5 min leeway clients commonly allow.
const defaultExpiredBy = 10 * time.Minute

// JWKS outage modes.
const (
	JWKSUp      = ""
	JWKS503     = "503"
	JWKSHang    = "hang"
	JWKSEmpty   = "empty"
	JWKSGarbage = "garbage"
)

// ErrorFault makes an endpoint answer with an error instead of its work.
type ErrorFault struct {
	Status      int    `json:"status"`                      // default 500 (400 for OAuth errors other than server_error)
	Error       string `json:"error"`                       // OAuth error code, default server_error
	Description string `json:"error_description,omitempty"` // optional
	// Count limits the fault to the next N requests (0: no count limit).
	Count int `json:"count,omitempty"`
	// Fraction applies the fault to this share of requests (0 or 1: all).
	Fraction float64 `json:"fraction,omitempty"`
}

// Faults are the ways the IdP breaks on purpose. The zero value is normal
// behaviour. Set them whole with SetFaults or edit with UpdateFaults.
type Faults struct {
	// Skew shifts the IdP's clock for iat/nbf/exp, auth_time and the Date header.
	Skew Duration `json:"skew,omitempty"`
	// Latency adds a delay per endpoint name (EPToken, ...; "*" for all).
	Latency map[string]Duration `json:"latency,omitempty"`
	// Errors answers per endpoint name with an error.
	Errors map[string]ErrorFault `json:"errors,omitempty"`
	// JWKS outage: "", "503", "hang", "empty", "garbage".
	JWKS string `json:"jwks,omitempty"`
	// HangLimit bounds a JWKS hang (0: until the client goes away).
	HangLimit Duration `json:"hang_limit,omitempty"`
	// UnknownKey signs tokens with a key that is not in the JWKS.
	UnknownKey bool `json:"unknown_key,omitempty"`
	// AlgNone issues unsigned tokens (alg "none").
	AlgNone bool `json:"alg_none,omitempty"`
	// Lifetime overrides the access and ID token lifetime (0: configured).
	Lifetime Duration `json:"lifetime,omitempty"`
	// Expired issues tokens whose exp is already in the past.
	Expired bool `json:"expired,omitempty"`
	// ExpiredBy is how long before now Expired puts exp (0: 10 minutes,
	// past any common leeway).
	ExpiredBy Duration `json:"expired_by,omitempty"`
	// DPoPNonceStorm answers every DPoP proof with use_dpop_nonce and a new
	// nonce, so a client's one retry fails too.
	DPoPNonceStorm bool `json:"dpop_nonce_storm,omitempty"`
	// DPoPBearerOnly ignores DPoP proofs at the token endpoint and issues
	// Bearer tokens, as a server without DPoP support does.
	DPoPBearerOnly bool `json:"dpop_bearer_only,omitempty"`
}

// IsZero reports whether no fault is set.
func (f Faults) IsZero() bool {
	return f.Skew == 0 && len(f.Latency) == 0 && len(f.Errors) == 0 && f.JWKS == "" &&
		!f.UnknownKey && !f.AlgNone && f.Lifetime == 0 && !f.Expired && f.ExpiredBy == 0 && f.HangLimit == 0 &&
		!f.DPoPNonceStorm && !f.DPoPBearerOnly
}

func (f Faults) clone() Faults {
	c := f
	if f.Latency != nil {
		c.Latency = make(map[string]Duration, len(f.Latency))
		for k, v := range f.Latency {
			c.Latency[k] = v
		}
	}
	if f.Errors != nil {
		c.Errors = make(map[string]ErrorFault, len(f.Errors))
		for k, v := range f.Errors {
			c.Errors[k] = v
		}
	}
	return c
}

// faultState is the immutable snapshot read on each request, plus the
// remaining counts of counted error faults.
type faultState struct {
	f         Faults
	zero      bool
	remaining map[string]*atomic.Int64
}

func newFaultState(f Faults) *faultState {
	st := &faultState{f: f.clone(), zero: f.IsZero()}
	for ep, ef := range f.Errors {
		if ef.Count > 0 {
			if st.remaining == nil {
				st.remaining = map[string]*atomic.Int64{}
			}
			n := &atomic.Int64{}
			n.Store(int64(ef.Count))
			st.remaining[ep] = n
		}
	}
	return st
}

func (st *faultState) latency(ep string) time.Duration {
	if st.zero || len(st.f.Latency) == 0 {
		return 0
	}
	if d, ok := st.f.Latency[ep]; ok {
		return d.D()
	}
	return st.f.Latency["*"].D()
}

// errorFor reports the error fault to apply to this request, if any; roll
// is a uniform random number in [0,1).
func (st *faultState) errorFor(ep string, roll func() float64) (ErrorFault, bool) {
	if st.zero || len(st.f.Errors) == 0 {
		return ErrorFault{}, false
	}
	ef, ok := st.f.Errors[ep]
	if !ok {
		if ef, ok = st.f.Errors["*"]; !ok {
			return ErrorFault{}, false
		}
		ep = "*"
	}
	if ef.Fraction > 0 && ef.Fraction < 1 && roll() >= ef.Fraction {
		return ErrorFault{}, false
	}
	if n := st.remaining[ep]; n != nil {
		if n.Add(-1) < 0 {
			return ErrorFault{}, false
		}
	}
	if ef.Error == "" {
		ef.Error = "server_error"
	}
	if ef.Status == 0 {
		ef.Status = 500
		if ef.Error != "server_error" && ef.Error != "temporarily_unavailable" {
			ef.Status = 400
		}
		if ef.Error == "temporarily_unavailable" {
			ef.Status = 503
		}
	}
	return ef, true
}

func (f Faults) validate() error {
	switch f.JWKS {
	case JWKSUp, JWKS503, JWKSHang, JWKSEmpty, JWKSGarbage:
	default:
		return fmt.Errorf("faults: jwks %q: want \"\", 503, hang, empty or garbage", f.JWKS)
	}
	for ep, d := range f.Latency {
		if d < 0 || d.D() > 5*time.Minute {
			return fmt.Errorf("faults: latency for %s: %s is outside 0..5m", ep, d.D())
		}
	}
	for ep, e := range f.Errors {
		if e.Status != 0 && (e.Status < 400 || e.Status > 599) {
			return fmt.Errorf("faults: error for %s: status %d is not 4xx/5xx", ep, e.Status)
		}
		if e.Fraction < 0 || e.Fraction > 1 || e.Count < 0 {
			return fmt.Errorf("faults: error for %s: fraction must be 0..1 and count ≥ 0", ep)
		}
	}
	if f.Lifetime < 0 {
		return fmt.Errorf("faults: lifetime must not be negative")
	}
	if f.ExpiredBy < 0 {
		return fmt.Errorf("faults: expired_by must not be negative (it is how long ago exp was)")
	}
	return nil
}
