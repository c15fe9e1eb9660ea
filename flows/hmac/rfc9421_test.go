package hmac

import (
	"os"
	"strings"
	"testing"
	"time"
)

// RFC 9421 Appendix B.1.5: test-shared-secret, base64.
const rfcSharedSecretB64 = "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="

func rfcKey(t testing.TB) Key {
	t.Helper()
	k, err := KeySource{}.ParseKey("base64:" + rfcSharedSecretB64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func loadRaw(t testing.TB, name string) *Message {
	t.Helper()
	b, err := os.ReadFile("../../testdata/hmac/" + name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseRawRequest(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// RFC 9421 Appendix B.2.5, reproduced exactly.
const b25Base = `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@authority": example.com
"content-type": application/json
"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`

func TestRFC9421B25Sign(t *testing.T) {
	m := loadRaw(t, "rfc9421-b2-request.http")
	rec, err := Sign9421(m, rfcKey(t), RFC9421Options{
		Label:      "sig-b25",
		Components: `"date" "@authority" "content-type"`,
		Params:     Params{Created: 1618884473, KeyID: "test-shared-secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.SignatureBase != b25Base {
		t.Errorf("base:\n%s\nwant:\n%s", rec.SignatureBase, b25Base)
	}
	if got := m.Header.Get("Signature"); got != "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:" {
		t.Errorf("Signature = %s", got)
	}
	if got := m.Header.Get("Signature-Input"); got != `sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"` {
		t.Errorf("Signature-Input = %s", got)
	}
	if len(rec.Headers) != 2 {
		t.Errorf("added %v; Date and Content-Digest were present, only the two signature headers should be added", rec.Headers)
	}
}

func TestRFC9421B25Verify(t *testing.T) {
	m := loadRaw(t, "rfc9421-b25-signed.http")
	at := time.Unix(1618884473+10, 0)
	v := &Verifier{Key: rfcKey(t), Now: func() time.Time { return at }}
	r := v.Verify9421(m)
	if !r.OK {
		t.Fatalf("published B.2.5 request does not verify: %+v", r.Problem)
	}
	if r.SignatureBase != b25Base || r.KeyID != "test-shared-secret" || r.Label != "sig-b25" {
		t.Errorf("result %+v", r)
	}
	// A day later the same request is stale.
	later := time.Unix(1618884473+86400, 0)
	v.Now = func() time.Time { return later }
	if r := v.Verify9421(m); r.OK || r.Problem.Kind != ProblemStale {
		t.Errorf("stale request: %+v", r.Problem)
	}
}

func TestRFC9421DefaultComponentsRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m, _ := NewMessage("POST", "https://api.example.com/orders?id=7", nil, []byte(`{"n":1}`))
	key := NewKey([]byte("demo-secret"))
	rec, err := Sign9421(m, key, RFC9421Options{Now: clock, Params: Params{KeyID: "demo", Nonce: "n-1"}})
	if err != nil {
		t.Fatal(err)
	}
	wantBase := `"@method": POST
"@target-uri": https://api.example.com/orders?id=7
"content-digest": sha-256=:` + mustDigest(t, `{"n":1}`) + `:
"date": Fri, 27 Nov 2026 04:00:00 GMT
"@signature-params": ("@method" "@target-uri" "content-digest" "date");created=` + itoa(now.Unix()) + `;keyid="demo";nonce="n-1"`
	if rec.SignatureBase != wantBase {
		t.Errorf("base:\n%s\nwant:\n%s", rec.SignatureBase, wantBase)
	}
	if len(rec.Headers) != 4 || rec.Headers[0].Name != "Content-Digest" || rec.Headers[1].Name != "Date" {
		t.Errorf("headers added: %+v", rec.Headers)
	}
	cache := NewNonceCache(10)
	v := &Verifier{Key: key, Now: clock, Nonces: cache}
	if r := v.Verify9421(m); !r.OK {
		t.Fatalf("round trip: %+v", r.Problem)
	}
	if r := v.Verify9421(m); r.OK || r.Problem.Kind != ProblemReplay {
		t.Fatalf("replay not refused: %+v", r.Problem)
	}
}

func mustDigest(t *testing.T, body string) string {
	d, err := ContentDigest("sha-256", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(d, "sha-256=:"), ":")
}

func itoa(n int64) string {
	s, _ := SerializeBare(n)
	return s
}
