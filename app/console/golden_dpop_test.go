package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

const fixtureJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

// fixtureDPoPResult is fixtureResult with a DPoP-bound token: proofs on the
// token requests (one nonce retry), token_type DPoP and cnf.jkt = our key.
func fixtureDPoPResult(jkt string) *flows.Result {
	r := fixtureResult()
	iat := fixedNow.Add(-10 * time.Minute)
	r.Token = flows.NewTokenResponse(map[string]any{"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig", "token_type": "DPoP", "expires_in": 3600.0}, iat)
	r.AccessToken.Claims["cnf"] = map[string]any{"jkt": jkt}
	r.DPoP = &flows.DPoPInfo{JKT: fixtureJKT, Alg: "ES256", NonceRetries: 1}
	proof := func(nonce string) *flows.ProofView {
		c := map[string]any{"jti": "x7Hq2vJ1kQ", "htm": "POST", "htu": "http://127.0.0.1:9090/token", "iat": num(iat.Unix())}
		if nonce != "" {
			c["nonce"] = nonce
		}
		return &flows.ProofView{Header: map[string]any{"typ": "dpop+jwt", "alg": "ES256",
			"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}}, Claims: c}
	}
	reqH := http.Header{"Authorization": {"Basic " + flows.Masked}, "Content-Type": {"application/x-www-form-urlencoded"}, "Dpop": {"eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0In0.eyJodG0iOiJQT1NUIn0.c2ln"}}
	r.Exchanges = []flows.Exchange{r.Exchanges[0],
		{Step: "token request", Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 400, RequestHeaders: reqH,
			RequestBody: "grant_type=client_credentials&scope=api%3Aread", DPoP: proof(""),
			ResponseHeaders: http.Header{"Content-Type": {"application/json"}, "Dpop-Nonce": {"n-4f2a"}},
			ResponseBody:    `{"error":"use_dpop_nonce","error_description":"a DPoP nonce is required"}`, Duration: 2 * time.Millisecond},
		{Step: "token request", Method: "POST", URL: "http://127.0.0.1:9090/token", Status: 200, RequestHeaders: reqH,
			RequestBody: "grant_type=client_credentials&scope=api%3Aread", DPoP: proof("n-4f2a"),
			ResponseHeaders: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			ResponseBody:    `{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.sig","token_type":"DPoP","expires_in":3600}`, Duration: 5 * time.Millisecond},
	}
	r.Steps = []flows.StepEvent{r.Steps[0],
		{Name: "dpop nonce", Done: true, OK: true, Detail: "the server asked for a DPoP nonce (use_dpop_nonce); retried once with it"},
		{Name: "token request", Done: true, OK: true, Duration: 7 * time.Millisecond, Detail: "HTTP 200, DPoP, expires in 3600 s"},
	}
	r.Checks = append(r.Checks,
		flows.Check{Name: "dpop token_type", Status: flows.Pass, Detail: "DPoP: the token is bound to our key (RFC 9449 5)"},
		flows.Check{Name: "cnf.jkt", Status: flows.Pass, Detail: "the access token is bound to our key (jkt " + fixtureJKT + ")"})
	return r
}

// The run screen with a DPoP-bound token: the binding line, the nonce
// retry on the timeline, and an exchange's proof decoded in its detail.
func TestGoldenRunDPoP(t *testing.T) {
	for _, sz := range sizes {
		for _, c := range []struct {
			name string
			keys []string
			want string
		}{
			{"run_dpop_token", nil, "cnf.jkt = our key ✓"},
			{"run_dpop_exchange_detail", []string{"2", "j", "j", "enter"}, "DPOP PROOF"},
		} {
			b := &fakeBackend{rows: fixtureRows(), runFn: func(context.Context, RunRequest, Events) *flows.Result {
				return fixtureDPoPResult(fixtureJKT)
			}}
			tm := startTea(t, newTestModel(b), sz.w, sz.h)
			waitText(t, tm, "staging-gateway")
			press(tm, "j", "j", "enter")
			waitText(t, tm, "Raw JSON")
			press(tm, c.keys...)
			frame := finalModel(t, tm).View()
			if !strings.Contains(frame, c.want) {
				t.Errorf("%s: no %q in the frame", c.name, c.want)
			}
			golden(t, sizeName(c.name, sz.w, sz.h), frame)
		}
	}
}

// A token bound to another key shows the mismatch, naming that key.
func TestRunDPoPMismatchShown(t *testing.T) {
	b := &fakeBackend{rows: fixtureRows(), runFn: func(context.Context, RunRequest, Events) *flows.Result {
		return fixtureDPoPResult("someone-elses-key-thumbprint")
	}}
	tm := startTea(t, newTestModel(b), 120, 40)
	waitText(t, tm, "staging-gateway")
	press(tm, "j", "j", "enter")
	waitText(t, tm, "Raw JSON")
	frame := finalModel(t, tm).View()
	if !strings.Contains(frame, "cnf.jkt ≠ our key ✗ (token is bound to someone-elses-key-thumbprint)") {
		t.Fatalf("no mismatch line:\n%s", frame)
	}
}
