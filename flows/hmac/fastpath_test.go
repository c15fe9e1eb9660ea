package hmac

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The verifier's fast path must give exactly the Result of the general
// path whenever it accepts a request, and decline (so the general path
// runs) on every form it does not handle.

func generalResult(v *Verifier, m *Message) *Result {
	r := &Result{Scheme: SchemeRFC9421}
	fresh, ok := v.verify9421General(r, m)
	if !ok {
		return r
	}
	return v.checkFreshness9421(r, fresh)
}

func fastResult(v *Verifier, m *Message) (*Result, bool) {
	a := newResultAlloc(SchemeRFC9421)
	fresh, ok := v.verify9421Fast(a, m)
	if !ok {
		return nil, false
	}
	return v.checkFreshness9421(&a.r, fresh), true
}

var fastNow = time.Unix(1795752000, 0)

func fastMsg(t testing.TB, body string) *Message {
	t.Helper()
	m, err := NewMessage("POST", "https://api.example.com/orders?id=7", http.Header{
		"Content-Type": {"application/json"},
		"Date":         {"Fri, 27 Nov 2026 04:00:00 GMT"},
	}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func signFast(t testing.TB, m *Message, key Key, o RFC9421Options) {
	t.Helper()
	o.Now = func() time.Time { return fastNow }
	if _, err := Sign9421(m, key, o); err != nil {
		t.Fatal(err)
	}
}

// compareFastGeneral runs both paths on m with fresh nonce caches and
// reports whether the fast path accepted it.
func compareFastGeneral(t *testing.T, v Verifier, m *Message) bool {
	t.Helper()
	vf, vg := v, v
	if v.Nonces != nil {
		vf.Nonces, vg.Nonces = NewNonceCache(8), NewNonceCache(8)
	}
	got, ok := fastResult(&vf, m)
	want := generalResult(&vg, m)
	if !ok {
		return false
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path and general path disagree:\nfast    %+v\ngeneral %+v", got, want)
	}
	return true
}

func TestVerify9421FastPathMatchesGeneral(t *testing.T) {
	key := NewKey([]byte("fast-secret"))
	clock := func() time.Time { return fastNow }
	cases := []struct {
		name string
		body string
		opts RFC9421Options
		v    Verifier
		edit func(m *Message)
	}{
		{name: "default components", body: `{"a":1}`, opts: RFC9421Options{Params: Params{KeyID: "k"}}},
		{name: "all parameters", body: `{"a":1}`, opts: RFC9421Options{Params: Params{KeyID: "k", Nonce: "n-1", Tag: "app", Alg: AlgHMACSHA256, Expires: fastNow.Unix() + 60}},
			v: Verifier{Nonces: NewNonceCache(8), RequireNonce: true}},
		{name: "derived components", opts: RFC9421Options{Components: `"@method" "@authority" "@path" "@query" "@scheme" "@request-target" "content-type"`}},
		{name: "required covered", body: "x", opts: RFC9421Options{}, v: Verifier{Required: `"@method" "content-digest"`}},
		{name: "unparsable requirement ignored", opts: RFC9421Options{}, v: Verifier{Required: `"UPPER"`}},
		{name: "no created", opts: RFC9421Options{NoCreated: true, Components: `"@method" "date"`}},
		{name: "body not covered", body: "x", opts: RFC9421Options{Components: `"@method"`}},
		{name: "stale", opts: RFC9421Options{Params: Params{Created: fastNow.Unix() - 3600}}},
		{name: "second label selected", body: "x", opts: RFC9421Options{Label: "sig2", Components: `"@method"`}, v: Verifier{Label: "sig2"},
			edit: func(m *Message) { signFast(t, m, key, RFC9421Options{Label: "sig1"}) }},
		{name: "sha-512 digest", body: "x", opts: RFC9421Options{DigestAlg: "sha-512"}},
		{name: "padding left off", opts: RFC9421Options{}, edit: func(m *Message) {
			m.Header.Set("Signature", strings.TrimSuffix(m.Header.Get("Signature"), "=:")+":")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fastMsg(t, c.body)
			if c.edit != nil && c.name == "second label selected" {
				c.edit(m)
			}
			signFast(t, m, key, c.opts)
			if c.edit != nil && c.name != "second label selected" {
				c.edit(m)
			}
			v := c.v
			v.Key, v.Now = key, clock
			if !compareFastGeneral(t, v, m) {
				t.Fatalf("the fast path declined a canonical request: %q / %q", m.Header.Get("Signature-Input"), m.Header.Get("Signature"))
			}
		})
	}
}

func TestVerify9421FastPathDeclinesOtherForms(t *testing.T) {
	key := NewKey([]byte("fast-secret"))
	clock := func() time.Time { return fastNow }
	cases := []struct {
		name string
		opts RFC9421Options
		edit func(m *Message)
	}{
		{"extra spaces in the list", RFC9421Options{}, func(m *Message) {
			m.Header.Set("Signature-Input", strings.Replace(m.Header.Get("Signature-Input"), "(", "(  ", 1))
		}},
		{"leading zero in created", RFC9421Options{}, func(m *Message) {
			m.Header.Set("Signature-Input", strings.Replace(m.Header.Get("Signature-Input"), "created=", "created=0", 1))
		}},
		{"escaped string", RFC9421Options{Params: Params{KeyID: `k"q`}}, nil},
		{"component parameter", RFC9421Options{Components: `"@method" "content-type";bs`}, nil},
		{"two digests", RFC9421Options{Components: `"@method" "date"`}, func(m *Message) {
			d256, _ := ContentDigest("sha-256", m.Body)
			d512, _ := ContentDigest("sha-512", m.Body)
			m.Header.Set("Content-Digest", d256+", "+d512)
		}},
		{"signature over two field lines", RFC9421Options{}, func(m *Message) {
			m.Header["Signature"] = []string{"other=:AAAA:", m.Header.Get("Signature")}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fastMsg(t, `{"a":1}`)
			signFast(t, m, key, c.opts)
			if c.edit != nil {
				c.edit(m)
			}
			v := Verifier{Key: key, Now: clock}
			if compareFastGeneral(t, v, m) {
				t.Fatalf("the fast path accepted a form it should leave to the general path")
			}
			// Verify9421 falls back and still verifies, as before.
			if r := v.Verify9421(m); !r.OK || !reflect.DeepEqual(r, generalResult(&v, m)) {
				t.Fatalf("fallback result differs or fails: %+v", r.Problem)
			}
		})
	}
}

func TestRFC9421B25TakesFastPath(t *testing.T) {
	m := loadRaw(t, "rfc9421-b25-signed.http")
	v := Verifier{Key: rfcKey(t), Now: func() time.Time { return time.Unix(1618884473, 0) }}
	if !compareFastGeneral(t, v, m) {
		t.Fatal("the RFC 9421 B.2.5 request did not take the fast path")
	}
}

func TestWriteDurationMatchesString(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 59 * time.Second, time.Minute, 300 * time.Second, 61 * time.Minute, 25*time.Hour + 3*time.Second,
		1500 * time.Millisecond, -5 * time.Second, 999 * time.Hour, 1000 * time.Hour, 3 * time.Nanosecond} {
		var b strings.Builder
		writeDuration(&b, d)
		if b.String() != d.String() {
			t.Errorf("writeDuration(%v) = %q", d, b.String())
		}
	}
}

// FuzzVerify9421FastMatchesGeneral signs whatever Signature-Input the fuzzer
// writes (with the general path's own base) and checks that, when the fast
// path accepts it, both paths return the same Result.
func FuzzVerify9421FastMatchesGeneral(f *testing.F) {
	for _, s := range sfSeeds {
		f.Add(s, false)
	}
	f.Add(`sig1=("@method" "@target-uri" "content-digest" "date");created=1795752000;keyid="k"`, true)
	f.Add(`sig1=("@method"  "date");created=01795752000`, false)
	f.Add(`a=("date"), sig1=("@method");nonce="x";tag="t";expires=1795752600`, true)
	key := NewKey([]byte("fuzz-secret"))
	f.Fuzz(func(t *testing.T, input string, padless bool) {
		m := fastMsg(t, `{"a":1}`)
		d, _ := ContentDigest("", m.Body)
		m.Header.Set("Content-Digest", d)
		m.Header.Set("Signature-Input", input)
		v := Verifier{Key: key, Now: func() time.Time { return fastNow }, Nonces: NewNonceCache(4)}
		dict, err := ParseDictionary(input)
		if err == nil && len(dict) > 0 && dict[0].List != nil {
			if base, err := SignatureBase(m, dict[0].List); err == nil {
				sig := base64.StdEncoding.EncodeToString(key.mac([]byte(base)))
				if padless {
					sig = strings.TrimRight(sig, "=")
				}
				m.Header.Set("Signature", dict[0].Key+"=:"+sig+":")
			}
		}
		if m.Header.Get("Signature") == "" {
			m.Header.Set("Signature", "sig1=:AAAA:")
		}
		compareFastGeneral(t, v, m)
	})
}
