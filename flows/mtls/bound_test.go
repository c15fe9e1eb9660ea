package mtls

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

// fakeIdP is a minimal token endpoint + resource honouring the plain
// contract BoundToken relies on; bind chooses what cnf it puts in the token.
func fakeIdP(t *testing.T, s *CertSet, bind func(thumb string) map[string]any) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mtls/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "demo-mtls" || len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "no client certificate"})
			return
		}
		claims := map[string]any{"sub": "demo-mtls"}
		if c := bind(flows.Thumbprint(r.TLS.PeerCertificates[0].Raw)); c != nil {
			claims["cnf"] = c
		}
		p, _ := json.Marshal(claims)
		tok := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(p) + ".sig"
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
	})
	mux.HandleFunc("GET /api/mtls", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.WriteHeader(401)
			return
		}
		w.Write([]byte(`{"message":"hello over mTLS"}`))
	})
	srv := tlsServer(t, s, tls.VerifyClientCertIfGiven, "", "")
	srv.Config.Handler = mux
	return srv.URL
}

func TestBoundTokenAgainstFakeIdP(t *testing.T) {
	s := certSet(t)
	base := func(b func(string) map[string]any) BoundOptions {
		u := fakeIdP(t, s, b)
		return BoundOptions{TokenURL: u + "/mtls/token", ResourceURL: u + "/api/mtls", ClientID: "demo-mtls",
			CertFile: s.ClientCert, KeyFile: s.ClientKey, CAFile: s.CACert, Timeout: 5 * time.Second}
	}
	ctx := context.Background()

	r, err := BoundToken(ctx, base(func(th string) map[string]any { return map[string]any{"x5t#S256": th} }), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || !r.Bound || r.Resource.Status != 200 || len(r.Exchanges) != 2 {
		t.Fatalf("bound: %+v", r)
	}
	// The token travels in the recorded exchanges (the token response as
	// received, by design); the result's own fields never carry it.
	bare := *r
	bare.Exchanges = nil
	if js, _ := json.Marshal(bare); r.AccessToken == "" || strings.Contains(string(js), r.AccessToken) {
		t.Error("access token missing, or in the result's JSON fields")
	}

	r, _ = BoundToken(ctx, base(func(string) map[string]any { return nil }), nil)
	if r.OK || r.Bound || !strings.Contains(r.Error.Message, "plain bearer token") {
		t.Fatalf("unbound: %+v", r.Error)
	}
	r, _ = BoundToken(ctx, base(func(string) map[string]any { return map[string]any{"x5t#S256": "AAAA"} }), nil)
	if r.OK || !strings.Contains(r.Error.Message, "bound to certificate AAAA") {
		t.Fatalf("other cert: %+v", r.Error)
	}
	o := base(func(th string) map[string]any { return map[string]any{"x5t#S256": th} })
	o.ClientID = "someone-else"
	r, _ = BoundToken(ctx, o, nil)
	if r.OK || r.Error.OAuthError != "invalid_client" {
		t.Fatalf("refused: %+v", r.Error)
	}
}
