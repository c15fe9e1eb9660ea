package hmac

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var diagNow = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)

func diagClock() time.Time { return diagNow }

func signedDemo(t *testing.T, key Key, comps string) *Message {
	t.Helper()
	m, _ := NewMessage("POST", "https://api.example.com/orders", nil, []byte(`{"n":1}`))
	m.Header.Set("Content-Type", "application/json")
	if _, err := Sign9421(m, key, RFC9421Options{Components: comps, Now: diagClock, Params: Params{KeyID: "k1"}}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerifyPointsAtFirstActionableDifference(t *testing.T) {
	key := NewKey([]byte("s3cret"))
	cases := []struct {
		name      string
		comps     string
		mutate    func(m *Message)
		v         Verifier
		kind      string
		component string
	}{
		{"missing header", `"@method" "content-type"`, func(m *Message) { m.Header.Del("Content-Type") }, Verifier{}, ProblemMissingHeader, "content-type"},
		{"body digest", "", func(m *Message) { m.Body = []byte(`{"n":2}`) }, Verifier{}, ProblemBodyDigest, `"content-digest"`},
		{"value changed, signer base known", `"@method" "content-type"`, func(m *Message) { m.Header.Set("Content-Type", "text/plain") },
			Verifier{SignerBase: "\"@method\": POST\n\"content-type\": application/json\n\"@signature-params\": (\"@method\" \"content-type\");created=" + fmt.Sprint(diagNow.Unix()) + ";keyid=\"k1\""},
			ProblemValueChanged, `"content-type"`},
		{"order differs from expectation", `"content-type" "@method"`, func(m *Message) { m.Header.Set("Content-Type", "text/plain") }, Verifier{Expected: `"@method" "content-type"`}, ProblemComponentOrder, `"content-type"`},
		{"expected component not covered", `"@method"`, func(m *Message) { m.Method = "PUT" }, Verifier{Expected: `"@method" "@path"`}, ProblemCoveredDiffers, `"@path"`},
		{"scheme changed by a proxy", `"@method" "@target-uri"`, func(m *Message) { m.URL.Scheme = "http" }, Verifier{}, ProblemValueChanged, `"@target-uri"`},
		{"explicit default port", `"@authority"`, func(m *Message) { m.URL.Host = "api.example.com:8443" }, Verifier{}, ProblemSignature, ""},
		{"stale created", "", nil, Verifier{Now: func() time.Time { return diagNow.Add(10 * time.Minute) }}, ProblemStale, "created"},
		{"created in the future", "", nil, Verifier{Now: func() time.Time { return diagNow.Add(-10 * time.Minute) }}, ProblemFuture, "created"},
		{"required component", `"date"`, nil, Verifier{Required: `"@method"`}, ProblemNotCovered, `"@method"`},
		{"no signature", "", func(m *Message) { m.Header.Del("Signature") }, Verifier{}, ProblemMissingSignature, ""},
		{"unknown keyid", "", nil, Verifier{Keys: func(string) (Key, bool) { return Key{}, false }}, ProblemUnknownKey, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := signedDemo(t, key, c.comps)
			if c.mutate != nil {
				c.mutate(m)
			}
			v := c.v
			if v.Keys == nil {
				v.Key = key
			}
			if v.Now == nil {
				v.Now = diagClock
			}
			r := v.Verify9421(m)
			if r.OK {
				t.Fatal("verified, want a problem")
			}
			if r.Problem.Kind != c.kind || r.Problem.Component != c.component {
				t.Fatalf("problem = %+v, want kind %s component %s", r.Problem, c.kind, c.component)
			}
			if r.Problem.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestVerifyExplainsKeyEncoding(t *testing.T) {
	// The signer base64-decoded the key; the user passed the base64 text as a value.
	m := loadRaw(t, "rfc9421-b25-signed.http")
	k, _ := KeySource{}.ParseKey(rfcSharedSecretB64)
	v := &Verifier{Key: k, Now: func() time.Time { return time.Unix(1618884473, 0) }}
	r := v.Verify9421(m)
	if r.OK || r.Problem.Kind != ProblemKeyEncoding || !strings.Contains(r.Problem.Message, "base64") {
		t.Fatalf("problem = %+v", r.Problem)
	}
}

func TestDiffBasesOrder(t *testing.T) {
	d := DiffBases("\"a\": 1\n\"b\": 2\n\"@signature-params\": (\"a\" \"b\")", "\"b\": 2\n\"a\": 1\n\"@signature-params\": (\"b\" \"a\")")
	if d == nil || d.Kind != ProblemComponentOrder || d.Line != 1 {
		t.Fatalf("diff = %+v", d)
	}
	if DiffBases("x\ny", "x\ny\n") != nil {
		t.Error("a trailing newline in the signer's log is not a difference")
	}
}

func TestKeyNeverPrints(t *testing.T) {
	src := KeySource{Getenv: func(n string) string { return map[string]string{"HMAC_KEY": "super-secret-value"}[n] }}
	k, err := src.ParseKey("env:HMAC_KEY")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(struct{ K Key }{k})
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x", k, k, k, k, k, k), string(js)} {
		if strings.Contains(s, "super") || strings.Contains(s, "7375706572") {
			t.Fatalf("key leaked: %s", s)
		}
	}
	if string(k.Bytes()) != "super-secret-value" {
		t.Error("key bytes wrong")
	}
	for _, bad := range []string{"env:NOPE", "hex:zz", "base64:!!", "", "file:/nonexistent/key"} {
		_, err := KeySource{Getenv: func(string) string { return "" }, ReadFile: func(string) ([]byte, error) { return nil, fmt.Errorf("no such file") }}.ParseKey(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	h, _ := KeySource{}.ParseKey("hex:00ff")
	if string(h.Bytes()) != "\x00\xff" {
		t.Error("hex key")
	}
}

func TestNonceCacheBoundedAndExpiring(t *testing.T) {
	c := NewNonceCache(3)
	t0 := diagNow
	for i := 0; i < 3; i++ {
		if !c.Use(fmt.Sprint(i), t0, t0.Add(time.Minute)) {
			t.Fatal("fresh nonce refused")
		}
	}
	if c.Use("1", t0, t0.Add(time.Minute)) {
		t.Fatal("replay accepted")
	}
	if !c.Use("3", t0, t0.Add(time.Minute)) || c.Len() != 3 {
		t.Fatalf("full cache: len %d", c.Len())
	}
	if !c.Use("1", t0.Add(2*time.Minute), t0.Add(3*time.Minute)) {
		t.Fatal("expired nonce still refused")
	}
	if c.Len() != 1 {
		t.Fatalf("expired entries kept: %d", c.Len())
	}
}

func TestDemoHandler(t *testing.T) {
	now := diagNow
	v := NewDemoVerifier(func() time.Time { return now })
	srv := httptest.NewServer(v.Handler(SchemeRFC9421))
	defer srv.Close()
	send := func(nonce string, created int64, opts ...func(*RFC9421Options)) (*http.Response, ErrorBody) {
		m, _ := NewMessage("POST", srv.URL+"/api/hmac", nil, []byte(`{"hi":1}`))
		o := RFC9421Options{Now: func() time.Time { return now }, Params: Params{KeyID: DemoKeyID, Nonce: nonce, Created: created}}
		for _, f := range opts {
			f(&o)
		}
		if _, err := Sign9421(m, NewKey([]byte(DemoSecret)), o); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(m.Method, m.URL.String(), strings.NewReader(string(m.Body)))
		req.Header = m.Header
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb ErrorBody
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &eb)
		return resp, eb
	}
	if resp, eb := send("n1", 0); resp.StatusCode != 200 {
		t.Fatalf("status %d %+v", resp.StatusCode, eb)
	}
	resp, eb := send("n1", 0)
	if resp.StatusCode != 401 || eb.Problem == nil || eb.Problem.Kind != ProblemReplay {
		t.Fatalf("replay: %d %+v", resp.StatusCode, eb.Problem)
	}
	if resp.Header.Get("Accept-Signature") == "" || eb.SignatureBase == "" {
		t.Error("401 without Accept-Signature or the server's base")
	}
	if resp, eb := send("n2", now.Add(-time.Hour).Unix()); resp.StatusCode != 401 || eb.Problem.Kind != ProblemStale {
		t.Fatalf("stale: %d %+v", resp.StatusCode, eb.Problem)
	}
	// Without created a captured request could be replayed forever: refused.
	if resp, eb := send("n3", 0, func(o *RFC9421Options) { o.NoCreated = true }); resp.StatusCode != 401 || eb.Problem == nil || eb.Problem.Kind != ProblemMissingCreated {
		t.Fatalf("no created: %d %+v", resp.StatusCode, eb.Problem)
	}
	// The key is chosen by keyid: a signature without one is not the demo's.
	if resp, eb := send("n4", 0, func(o *RFC9421Options) { o.Params.KeyID = "" }); resp.StatusCode != 401 || eb.Problem == nil || eb.Problem.Kind != ProblemUnknownKey {
		t.Fatalf("no keyid: %d %+v", resp.StatusCode, eb.Problem)
	}
}
