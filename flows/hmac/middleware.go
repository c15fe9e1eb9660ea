package hmac

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"authlab/flows"
)

// Demo key of the mock IdP's /api/hmac resource. It is a published test
// value, like the RFC's test-shared-secret: never use it for anything real.
const (
	DemoKeyID  = "authlab-demo"
	DemoSecret = "authlab-demo-hmac-secret"
)

// MaxVerifyBody caps the body a middleware reads to check a digest.
const MaxVerifyBody = 1 << 20

// NewDemoVerifier is the verifier behind the mock IdP's /api/hmac: the demo
// key by keyid, the default 300 s tolerance, a bounded nonce cache, and
// "@method" "@target-uri" and `created` required, and the key chosen by its
// keyid. Its 401 answers carry the server's signature base and hints about
// key encodings: right for a demo that teaches, wrong for a real API.
func NewDemoVerifier(now func() time.Time) *Verifier {
	demo := NewKey([]byte(DemoSecret))
	return &Verifier{
		Keys: func(id string) (Key, bool) {
			if id == DemoKeyID {
				return demo, true
			}
			return Key{}, false
		},
		Now:            now,
		Nonces:         NewNonceCache(DefaultNonceCacheSize),
		Required:       `"@method" "@target-uri"`,
		RequireCreated: true,
	}
}

type resultKey struct{}

// ResultFromContext returns the verification result the Middleware stored.
func ResultFromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(resultKey{}).(*Result)
	return r, ok
}

// ErrorBody is what Middleware answers with 401: the problem and the base
// this server computed, so a client can diff it with its own.
type ErrorBody struct {
	Error            string        `json:"error"`
	ErrorDescription string        `json:"error_description"`
	Problem          *Problem      `json:"problem,omitempty"`
	SignatureBase    string        `json:"signature_base,omitempty"`
	CanonicalRequest string        `json:"canonical_request,omitempty"`
	Checks           []flows.Check `json:"checks,omitempty"`
}

// Middleware verifies every request with the given scheme before next runs;
// failures get 401 with an ErrorBody (and Accept-Signature for RFC 9421).
// The result is in the request context (ResultFromContext).
func (v *Verifier) Middleware(scheme string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, err := FromRequest(r, MaxVerifyBody)
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, ErrorBody{Error: "invalid_request", ErrorDescription: err.Error()})
			return
		}
		res, err := v.Verify(scheme, m)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, ErrorBody{Error: "server_error", ErrorDescription: err.Error()})
			return
		}
		if !res.OK {
			if scheme == SchemeRFC9421 || scheme == "" {
				req := v.Required
				if req == "" {
					req = DefaultComponents
				}
				w.Header().Set("Accept-Signature", DefaultLabel+"=("+req+`);alg="`+AlgHMACSHA256+`"`)
			}
			// The base goes back masked: the caller's secret headers are
			// no business of whatever logs this answer (MaskBase keeps
			// length and hash, so the caller can still diff it).
			mr := res.Masked()
			body := ErrorBody{Error: "invalid_signature", Problem: res.Problem, SignatureBase: mr.SignatureBase, CanonicalRequest: mr.CanonicalRequest, Checks: res.Checks}
			if res.Problem != nil {
				body.ErrorDescription = res.Problem.Message
			}
			writeJSON(w, http.StatusUnauthorized, body)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resultKey{}, res)))
	})
}

// Handler is the demo resource: 200 with what was verified, or 401.
func (v *Verifier) Handler(scheme string) http.Handler {
	return v.Middleware(scheme, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _ := ResultFromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{
			"ok": true, "scheme": res.Scheme, "label": res.Label, "keyid": res.KeyID, "covered": res.Covered,
			"message": "signature verified",
		})
	}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
