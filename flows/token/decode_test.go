package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

// RFC 7519 §3.1 (the same JWS as RFC 7515 Appendix A.1).
const rfc7515A1 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" +
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// The HMAC key of RFC 7515 A.1, as a JWK "k".
const rfc7515A1Key = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"

func TestDecodeRFCVector(t *testing.T) {
	d, err := Decode(rfc7515A1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatJWS || d.Alg() != "HS256" || d.Typ() != "JWT" {
		t.Fatalf("header: %v", d.Header)
	}
	if d.String("iss") != "joe" || d.Claims["http://example.com/is_root"] != true {
		t.Fatalf("claims: %v", d.Claims)
	}
	if n, ok := d.Claims["exp"].(json.Number); !ok || n.String() != "1300819380" {
		t.Fatalf("exp should stay the exact json.Number 1300819380, got %#v", d.Claims["exp"])
	}
	if exp, _ := d.Time("exp"); !exp.Equal(time.Unix(1300819380, 0)) {
		t.Fatalf("exp time %v", exp)
	}
	if d.Fingerprint != flows.Fingerprint(rfc7515A1) {
		t.Fatal("fingerprint")
	}
	// The published key verifies the published signature.
	k, _ := base64.RawURLEncoding.DecodeString(rfc7515A1Key)
	rep := InspectDecoded(context.Background(), d, Options{Keys: SecretKeys(k), Now: func() time.Time { return time.Unix(1300819000, 0) }})
	if !rep.Verified || !rep.OK() {
		t.Fatalf("RFC 7515 A.1 should verify: %+v", rep.Checks)
	}
	// One flipped key byte must not.
	k[0] ^= 1
	rep = InspectDecoded(context.Background(), d, Options{Keys: SecretKeys(k), Now: func() time.Time { return time.Unix(1300819000, 0) }})
	if rep.Verified || rep.OK() {
		t.Fatal("a wrong key verified")
	}
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestDecodeErrors(t *testing.T) {
	hdr := seg(`{"alg":"RS256"}`)
	cases := []struct {
		name, in, want string
	}{
		{"empty", "  ", "empty input"},
		{"segments", hdr + ".abc", "has 2 segments"},
		{"six segments", hdr + ".a.b.c.d.e", "has 6 segments"},
		{"bad b64 header", "eyJhbGciOiJSUzI1NiJ9x*.e30.c2ln", "token header segment: bad base64url byte '*' at offset 21"},
		{"std base64 claims", hdr + ".e30+.c2ln", "token claims segment: bad base64url byte '+' (standard base64; JWTs use base64url: - and _) at offset 3"},
		{"padding", hdr + ".e30=.c2ln", "padding"},
		{"header not JSON", seg(`{"alg":`) + "." + seg(`{}`) + ".c2ln", "token header segment: is not JSON"},
		{"claims not JSON", hdr + "." + seg(`{"a":1,}`) + ".c2ln", "token claims segment: is not JSON"},
		{"claims array", hdr + "." + seg(`[1,2]`) + ".c2ln", "claims segment: is an array, not a JSON object"},
		{"claims trailing", hdr + "." + seg(`{} {}`) + ".c2ln", "has data after the JSON value"},
		{"exp string", hdr + "." + seg(`{"exp":"tomorrow"}`) + ".c2ln", `"exp" is a string ("tomorrow"), not a number`},
		{"iat huge", hdr + "." + seg(`{"iat":1e300}`) + ".c2ln", `"iat" is 1e300, out of range`},
		{"too big", "eyJ" + strings.Repeat("a", MaxTokenSize), "larger than the 64 KiB limit"},
		{"bearer", "Bearer abc.def.ghi", `starts with "Bearer "`},
		{"space inside", hdr + ". e30.c2ln", "tokens are printable ASCII"},
		{"empty header", ".e30.c2ln", "token header segment: is empty"},
		{"truncated b64", hdr + ".e30.c2lua", "bad base64url length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.in)
			if err == nil {
				t.Fatalf("no error for %q", c.in)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestDecodeFormats(t *testing.T) {
	d, err := Decode("2YotnFZFEjr1zCsicMWpAA")
	if err != nil || d.Format != FormatOpaque || d.Length != 22 || d.Fingerprint != flows.Fingerprint("2YotnFZFEjr1zCsicMWpAA") {
		t.Fatalf("opaque: %+v %v", d, err)
	}
	// Google-style opaque token with a dot is opaque, not a broken JWT.
	if d, err := Decode("ya29.a0AfH6SMBx"); err != nil || d.Format != FormatOpaque {
		t.Fatalf("ya29: %+v %v", d, err)
	}
	if d, err := Decode("v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIn0"); err != nil || d.Format != FormatOpaque {
		t.Fatalf("PASETO: %+v %v", d, err)
	}
	jwe := seg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a2V5.aXY.Y2lwaGVy.dGFn"
	d, err = Decode(jwe)
	if err != nil || d.Format != FormatJWE || d.HeaderString("enc") != "A256GCM" || d.Claims != nil {
		t.Fatalf("jwe: %+v %v", d, err)
	}
	rep, _ := Inspect(context.Background(), jwe, Options{})
	if len(rep.Checks) != 1 || rep.Checks[0].Status != flows.Warn || !strings.Contains(rep.Checks[0].Detail, "A256GCM") {
		t.Fatalf("jwe report: %+v", rep.Checks)
	}
	if _, err := Decode(seg(`{"alg":"x"}`) + ".a2V5.aXY.Y2*l.dGFn"); err == nil || !strings.Contains(err.Error(), "ciphertext") {
		t.Fatalf("bad JWE segment should be named: %v", err)
	}
	d, _ = Decode(seg(`{"alg":"none"}`) + "." + seg(`{"aud":["a","b",3]}`) + ".")
	if got := d.Audience(); len(got) != 2 || got[0] != "a" {
		t.Fatalf("aud list: %v", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(rfc7515A1)
	f.Add("2YotnFZFEjr1zCsicMWpAA")
	f.Add(seg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a2V5.aXY.Y2lwaGVy.dGFn")
	f.Add("eyJ.eyJ.")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(s)
		if err != nil {
			if d != nil {
				t.Fatal("both a token and an error")
			}
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if d.Format == FormatJWS && d.Claims == nil {
			t.Fatal("JWS without claims")
		}
		// Whatever decodes must survive the checks without panicking.
		InspectDecoded(context.Background(), d, Options{Now: func() time.Time { return time.Unix(1e9, 0) }, Nonce: "n", AccessToken: "a", Issuer: "i", Audience: []string{"x"}})
	})
}
