package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"authlab/flows"
	"authlab/flows/oauth"
)

// The lean token path must send exactly what the engine sends: same form,
// same client authentication.
func TestTokenOpMatchesEngine(t *testing.T) {
	type seen struct {
		form  string
		authz string
		ctype string
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, seen{r.PostForm.Encode(), r.Header.Get("Authorization"), r.Header.Get("Content-Type")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":60}`))
	}))
	t.Cleanup(srv.Close)
	for _, m := range []flows.AuthMethod{flows.AuthClientSecretBasic, flows.AuthClientSecretPost, flows.AuthNone, ""} {
		req := flows.Request{Flow: flows.FlowClientCredentials, Endpoints: flows.Endpoints{Token: srv.URL + "/token"},
			ClientID: "id:1", ClientSecret: "s%cr:t", AuthMethod: m, Scopes: []string{"a", "b"}, Audience: []string{"api"}, Resource: []string{"https://r"}}
		if m == flows.AuthNone {
			req.ClientSecret = ""
		}
		got = nil
		s, err := NewSetup(context.Background(), req, 1)
		if err != nil {
			t.Fatal(err)
		}
		op, ok := s.TokenOp(map[string][]string{"grant_type": {"client_credentials"}})
		if !ok {
			t.Fatalf("%q: no lean path", m)
		}
		if o := op(context.Background()); !o.OK {
			t.Fatalf("%q: %+v", m, o)
		}
		e, err := oauth.New(req, oauth.Options{Transport: s.Transport, SkipInspect: true})
		if err != nil {
			t.Fatal(err)
		}
		if res := e.ClientCredentials(context.Background(), nil); !res.OK {
			t.Fatalf("%q: engine: %s", m, res.Reason())
		}
		if len(got) != 2 || got[0] != got[1] {
			t.Errorf("%q: lean path sent %+v, engine sent %+v", m, got[0], got[len(got)-1])
		}
	}
	// Methods that need a fresh assertion per request have no lean path.
	s := &Setup{Request: flows.Request{AuthMethod: flows.AuthPrivateKeyJWT}, Endpoints: flows.Endpoints{Token: srv.URL}}
	if _, ok := s.TokenOp(nil); ok {
		t.Error("private_key_jwt took the lean path")
	}
}

func TestTokenOpClassifiesErrors(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		oauth  string
	}{
		{401, `{"error":"invalid_client"}`, "invalid_client"},
		{200, `{"token_type":"Bearer"}`, ""},
		{200, `not json`, ""},
		{500, `oops`, ""},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		}))
		s, err := NewSetup(context.Background(), flows.Request{Endpoints: flows.Endpoints{Token: srv.URL}, ClientID: "c", ClientSecret: "s", Timeout: time.Second}, 1)
		if err != nil {
			t.Fatal(err)
		}
		op, _ := s.TokenOp(map[string][]string{"grant_type": {"client_credentials"}})
		o := op(context.Background())
		if o.OK || o.Status != c.status || o.OAuthError != c.oauth || o.Err == nil {
			t.Errorf("HTTP %d %s: outcome %+v", c.status, c.body, o)
		}
		srv.Close()
	}
}
