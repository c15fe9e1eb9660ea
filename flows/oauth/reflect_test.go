package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/oauth"
)

// reflectingServer answers every token request with an error that echoes
// the request: the form body in a text body, the Authorization header in a
// JSON error_description, as misconfigured gateways and debug builds do.
func reflectingServer(t *testing.T, jsonBody bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if jsonBody {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request",
				"error_description": "rejected Authorization: " + r.Header.Get("Authorization") + " with body " + string(body)})
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "upstream refused: %s (auth %s)", body, r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// everything is every place a result is printed, stored or exported from:
// its JSON, the full exchanges, the steps and the one-line reason.
func everything(t *testing.T, res *flows.Result) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := json.Marshal(res.Exchanges)
	return string(b) + string(ex) + res.Reason() + res.Err.Explain(func(f flows.Field) string { return "--" + string(f) })
}

func TestReflectedSecretsAreMasked(t *testing.T) {
	const secret = "s3cr3t/with+odd chars&="
	const refresh = "refresh-token-0123456789"
	basic := base64.StdEncoding.EncodeToString([]byte("cli:" + url.QueryEscape(secret)))
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), basic, refresh}
	for _, tc := range []struct {
		name     string
		jsonBody bool
		method   flows.AuthMethod
		flow     string
	}{
		{"text body, post", false, flows.AuthClientSecretPost, flows.FlowClientCredentials},
		{"json description, basic", true, flows.AuthClientSecretBasic, flows.FlowClientCredentials},
		{"refresh token, text", false, flows.AuthClientSecretBasic, flows.FlowRefresh},
		{"client assertion, json", true, flows.AuthClientSecretJWT, flows.FlowClientCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := reflectingServer(t, tc.jsonBody)
			req := flows.Request{Flow: tc.flow, Endpoints: flows.Endpoints{Token: srv.URL + "/token"},
				ClientID: "cli", ClientSecret: flows.Secret(secret), AuthMethod: tc.method, Token: refresh}
			if tc.method == flows.AuthClientSecretJWT {
				req.ClientSecret = "a-shared-secret-of-enough-length-for-hs256"
			}
			var live strings.Builder // what a front end saw while the flow ran
			obs := flows.ObserverFuncs{
				OnStep:     func(ev flows.StepEvent) { live.WriteString(ev.Detail) },
				OnExchange: func(ex flows.Exchange) { b, _ := json.Marshal(ex); live.Write(b) },
			}
			res := oauth.Run(context.Background(), req, obs)
			if res.Err == nil {
				t.Fatalf("want a failure, got %+v", res)
			}
			all := everything(t, res) + live.String()
			if len(res.Exchanges) == 0 || res.Exchanges[0].ResponseBody == "" {
				t.Fatalf("no response body recorded: %+v", res.Exchanges)
			}
			check := append([]string(nil), forms...)
			if tc.method == flows.AuthClientSecretJWT {
				check = []string{string(req.ClientSecret), "eyJ"} // the assertion is a JWT
			}
			for _, f := range check {
				if strings.Contains(all, f) {
					t.Errorf("%q leaks into the output:\n%s", f, all)
				}
			}
			if !strings.Contains(all, flows.Masked) {
				t.Errorf("nothing masked: %s", all)
			}
		})
	}
}
