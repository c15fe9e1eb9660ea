package hmac

import (
	"strings"
	"testing"
	"time"
)

// The AWS SigV4 test suite's credentials and instant.
var (
	suiteSecret = NewKey([]byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
	suiteTime   = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	suiteOpts   = SigV4Options{AccessKey: "AKIDEXAMPLE", Region: "us-east-1", Service: "service", Now: func() time.Time { return suiteTime }}
)

func TestSigV4Suite(t *testing.T) {
	for _, c := range []struct {
		name, method, url, creqHash, sig string
	}{
		{"get-vanilla", "GET", "https://example.amazonaws.com/", "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", "POST", "https://example.amazonaws.com/", "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewMessage(c.method, c.url, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := SignSigV4(m, suiteSecret, suiteOpts)
			if err != nil {
				t.Fatal(err)
			}
			want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + c.sig
			if got := m.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization:\n got %s\nwant %s", got, want)
			}
			if c.creqHash != "" && !strings.HasSuffix(rec.StringToSign, "\n"+c.creqHash) {
				t.Errorf("string to sign:\n%s\nwant hash %s", rec.StringToSign, c.creqHash)
			}
			v := &Verifier{Key: suiteSecret, Now: func() time.Time { return suiteTime.Add(time.Minute) }}
			if r := v.VerifySigV4(m); !r.OK {
				t.Fatalf("verify: %+v", r.Problem)
			}
		})
	}
}

func TestSigV4GetVanillaCanonicalRequest(t *testing.T) {
	m, _ := NewMessage("GET", "https://example.amazonaws.com/", nil, nil)
	rec, err := SignSigV4(m, suiteSecret, suiteOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if rec.CanonicalRequest != want {
		t.Errorf("canonical request:\n%s\nwant:\n%s", rec.CanonicalRequest, want)
	}
}

func TestSigV4SessionTokenAndTamper(t *testing.T) {
	opts := suiteOpts
	opts.SessionToken = "AQoDYXdzEPT//////////wEXAMPLE"
	m, _ := NewMessage("POST", "https://example.amazonaws.com/items?b=2&a=1", nil, []byte(`{"x":1}`))
	m.Header.Set("Content-Type", "application/json")
	if _, err := SignSigV4(m, suiteSecret, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Header.Get("Authorization"), "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,") {
		t.Errorf("session token or content-type not signed: %s", m.Header.Get("Authorization"))
	}
	v := &Verifier{Key: suiteSecret, Now: func() time.Time { return suiteTime }}
	if r := v.VerifySigV4(m); !r.OK {
		t.Fatalf("verify: %+v", r.Problem)
	}
	m.Body = []byte(`{"x":2}`)
	if r := v.VerifySigV4(m); r.OK || r.Problem.Kind != ProblemSignature {
		t.Errorf("tampered body: %+v", r.Problem)
	}
	m.Body = []byte(`{"x":1}`)
	m.Header.Del("X-Amz-Security-Token")
	if r := v.VerifySigV4(m); r.OK || r.Problem.Kind != ProblemMissingHeader || r.Problem.Component != "x-amz-security-token" {
		t.Errorf("missing token header: %+v", r.Problem)
	}
	m.Header.Set("X-Amz-Security-Token", opts.SessionToken)
	v.Now = func() time.Time { return suiteTime.Add(time.Hour) }
	if r := v.VerifySigV4(m); r.OK || r.Problem.Kind != ProblemStale {
		t.Errorf("stale: %+v", r.Problem)
	}
}

func TestGitHubDocumentedExample(t *testing.T) {
	m, _ := NewMessage("POST", "https://hooks.example.com/github", nil, []byte("Hello, World!"))
	key := NewKey([]byte("It's a Secret to Everybody"))
	if _, err := SignGitHub(m, key); err != nil {
		t.Fatal(err)
	}
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := m.Header.Get(GitHubHeader); got != want {
		t.Fatalf("X-Hub-Signature-256 = %s, want %s", got, want)
	}
	v := &Verifier{Key: key}
	if r := v.VerifyGitHub(m); !r.OK {
		t.Fatal(r.Problem)
	}
	m.Body = []byte("Hello, World?")
	if r := v.VerifyGitHub(m); r.OK || r.Problem.Kind != ProblemSignature {
		t.Errorf("changed body: %+v", r.Problem)
	}
}

func TestStripeSignAndTolerance(t *testing.T) {
	at := time.Unix(1700000000, 0)
	key := NewKey([]byte("whsec_test_secret"))
	m, _ := NewMessage("POST", "https://hooks.example.com/stripe", nil, []byte(`{"id":"evt_1"}`))
	rec, err := SignStripe(m, key, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	if rec.SignatureBase != `1700000000.{"id":"evt_1"}` {
		t.Errorf("signed payload %q", rec.SignatureBase)
	}
	h := m.Header.Get(StripeHeader)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || len(h) != len("t=1700000000,v1=")+64 {
		t.Errorf("Stripe-Signature %q", h)
	}
	v := &Verifier{Key: key, Now: func() time.Time { return at.Add(299 * time.Second) }}
	if r := v.VerifyStripe(m); !r.OK {
		t.Fatal(r.Problem)
	}
	// Rotation: an extra v1 with an old secret still verifies.
	m.Header.Set(StripeHeader, "t=1700000000,v1="+strings.Repeat("0", 64)+","+h[len("t=1700000000,"):])
	if r := v.VerifyStripe(m); !r.OK {
		t.Fatal("second v1 not accepted:", r.Problem)
	}
	v.Now = func() time.Time { return at.Add(301 * time.Second) }
	if r := v.VerifyStripe(m); r.OK || r.Problem.Kind != ProblemStale {
		t.Errorf("stale: %+v", r.Problem)
	}
}
