package hmac

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

// One Sign covers every scheme and signs exactly as the scheme's own signer.
func TestSignAllSchemes(t *testing.T) {
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	now := func() time.Time { return at }
	key := NewKey([]byte("secret"))
	for _, c := range []struct {
		cfg  Config
		own  func(m *Message) (*Signed, error)
		name string
	}{
		{Config{Key: key, KeyID: "k", Now: now}, func(m *Message) (*Signed, error) {
			return Sign9421(m, key, RFC9421Options{Params: Params{KeyID: "k"}, Now: now})
		}, "Signature"},
		{Config{Scheme: SchemeSigV4, Key: key, AccessKey: "AK", Region: "us-east-1", Service: "s3", Now: now}, func(m *Message) (*Signed, error) {
			return SignSigV4(m, key, SigV4Options{AccessKey: "AK", Region: "us-east-1", Service: "s3", Now: now})
		}, "Authorization"},
		{Config{Scheme: SchemeStripe, Key: key, Now: now}, func(m *Message) (*Signed, error) { return SignStripe(m, key, now) }, StripeHeader},
		{Config{Scheme: SchemeGitHub, Key: key}, func(m *Message) (*Signed, error) { return SignGitHub(m, key) }, GitHubHeader},
	} {
		a, _ := NewMessage(http.MethodPost, "https://api.example.com/v1?x=1", nil, []byte(`{"a":1}`))
		b, _ := NewMessage(http.MethodPost, "https://api.example.com/v1?x=1", nil, []byte(`{"a":1}`))
		got, err := Sign(a, c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.cfg.Scheme, err)
		}
		want, _ := c.own(b)
		if got.Signature != want.Signature || a.Header.Get(c.name) != b.Header.Get(c.name) || a.Header.Get(c.name) == "" {
			t.Errorf("%s: Sign %q, own signer %q", c.cfg.Scheme, got.Signature, want.Signature)
		}
	}
	// A random nonce differs per signature, also through a prepared signer.
	s, err := NewSigner(Config{Key: key, Nonce: RandomNonce})
	if err != nil {
		t.Fatal(err)
	}
	m1, _ := NewMessage("", "https://x/", nil, nil)
	m2, _ := NewMessage("", "https://x/", nil, nil)
	s.Sign(m1)
	s.Sign(m2)
	if m1.Header.Get("Signature-Input") == m2.Header.Get("Signature-Input") || !strings.Contains(m1.Header.Get("Signature-Input"), "nonce=") {
		t.Errorf("nonces %q / %q", m1.Header.Get("Signature-Input"), m2.Header.Get("Signature-Input"))
	}
	if _, err := NewSigner(Config{Scheme: "md5", Key: key}); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("unknown scheme: %v", err)
	}
}

// Send signs, sends, records and checks: accepted by the demo verifier;
// a signed Host header is the request's Host; a rejection carries the
// server's words and the first line where its base differs from ours.
func TestSend(t *testing.T) {
	var sawHost string
	mux := http.NewServeMux()
	mux.Handle("/ok", NewDemoVerifier(time.Now).Handler(SchemeRFC9421))
	mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) { sawHost = r.Host })
	mux.HandleFunc("/reject", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(ErrorBody{Error: "invalid_signature", ErrorDescription: "signature mismatch",
			SignatureBase: "\"@method\": PUT\n\"@signature-params\": (\"@method\")"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	demo := Config{Key: NewKey([]byte(DemoSecret)), KeyID: DemoKeyID, Nonce: RandomNonce}

	var steps []string
	obs := flows.ObserverFuncs{OnStep: func(e flows.StepEvent) {
		if e.Done {
			steps = append(steps, e.Name)
		}
	}}
	res := Send(context.Background(), Request{Config: demo, URL: srv.URL + "/ok", Body: []byte(`{"hi":1}`)}, obs)
	sent := SentOf(res)
	if !res.OK || res.Failed() || len(res.Checks) != 1 || res.Checks[0].Name != CheckAccepted || len(res.Exchanges) != 1 || sent.Message.Method != http.MethodPost {
		t.Fatalf("accepted: %+v", res)
	}
	if strings.Join(steps, ",") != "sign (rfc9421),signed request" {
		t.Errorf("steps %v", steps)
	}
	if sent.Response == nil || sent.Response.Status != 200 || sent.Signed.Signature == "" {
		t.Errorf("record %+v", sent)
	}

	res = Send(context.Background(), Request{Config: demo, URL: srv.URL + "/host", Header: http.Header{"Host": {"api.internal"}}}, nil)
	if res.Failed() || sawHost != "api.internal" {
		t.Fatalf("Host header: server saw %q, %s", sawHost, res.Reason())
	}

	res = Send(context.Background(), Request{Config: demo, URL: srv.URL + "/reject"}, nil)
	sent = SentOf(res)
	if res.Err == nil || res.Err.Kind != flows.ErrCheck || res.Err.Status != 401 || !strings.Contains(res.Err.Message, "signature mismatch") ||
		res.Checks[0].Status != flows.Fail || sent.ServerDiff == nil || sent.ServerDiff.Line != 1 {
		t.Fatalf("rejected: %+v, diff %+v", res.Err, sent.ServerDiff)
	}

	res = Send(context.Background(), Request{Config: demo, URL: srv.URL + "/ok", DryRun: true}, nil)
	if !res.OK || len(res.Exchanges) != 0 || SentOf(res).Signed == nil {
		t.Fatalf("dry run: %+v", res)
	}

	// Configuration problems are config errors naming the field.
	res = Send(context.Background(), Request{Config: Config{Scheme: SchemeSigV4, Key: NewKey([]byte("k"))}, URL: "https://x/"}, nil)
	if res.Err == nil || res.Err.Kind != flows.ErrConfig || !strings.Contains(res.Err.Message, string(FieldAccessKey)) || strings.Contains(res.Err.Message, "--") {
		t.Fatalf("sigv4 without access key: %+v", res.Err)
	}
	if got := res.Err.Explain(func(f flows.Field) string { return "--" + strings.ReplaceAll(string(f), "_", "-") }); !strings.Contains(got, "(--access-key)") {
		t.Fatalf("explained %q", got)
	}
}
