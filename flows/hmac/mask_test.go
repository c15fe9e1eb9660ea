package hmac

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"authlab/flows"
)

func TestMaskBaseHidesSecretHeaderValues(t *testing.T) {
	base := strings.Join([]string{
		`"@method": GET`,
		`"authorization": Bearer live-bearer-token`,
		`"cookie";bs: :c2Vzc2lvbj1saXZlLWNvb2tpZQ==:`,
		`"x-api-key": live-api-key`,
		`"@query-param";name="access_token": live-query-token`,
		`"@target-uri": https://api.example/x?a=1&token=live-uri-token`,
		`"content-type": application/json`,
		`"@signature-params": ("@method" "authorization");created=1`,
	}, "\n")
	creq := strings.Join([]string{"GET", "/", "X-Amz-Security-Token=live-query-session&a=b", "host:example.amazonaws.com",
		"x-amz-date:20150830T123600Z", "x-amz-security-token:live-session-token", "", "host;x-amz-date;x-amz-security-token", "e3b0c442"}, "\n")
	got := MaskBase(base) + "\n" + MaskBase(creq)
	for _, v := range []string{"live-bearer-token", "c2Vzc2lvbj1saXZlLWNvb2tpZQ", "live-api-key", "live-query-token", "live-uri-token", "live-query-session", "live-session-token"} {
		if strings.Contains(got, v) {
			t.Errorf("%q in the masked record:\n%s", v, got)
		}
	}
	for _, v := range []string{`"@method": GET`, `"authorization": Bearer ` + flows.Masked + " (17 bytes, sha256:", `"content-type": application/json`,
		"host:example.amazonaws.com", "a=b", "host;x-amz-date;x-amz-security-token", `"@signature-params": ("@method" "authorization");created=1`} {
		if !strings.Contains(got, v) {
			t.Errorf("%q lost:\n%s", v, got)
		}
	}
	if MaskBase(MaskBase(base)) != MaskBase(base) {
		t.Error("masking is not idempotent: a base a server masked would not compare")
	}
	// Two different values of the same length still tell apart.
	one, again := MaskedValue("value-one"), MaskedValue(strings.Repeat("value-one", 1))
	if one == MaskedValue("value-two") || one != again {
		t.Error("masked values do not compare")
	}
}

func TestSendMasksBaseAndReflectedKey(t *testing.T) {
	const key = "hmac-key-reflected-123"
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "bad signature with key "+key+" for "+r.Header.Get("X-Api-Key"))
	}))
	defer srv.Close()
	for _, show := range []bool{false, true} {
		res := Send(context.Background(), Request{Config: Config{Key: NewKey([]byte(key)), Components: `"@method" "x-api-key"`, Now: func() time.Time { return time.Unix(1700000000, 0) }},
			URL: srv.URL + "/api", Header: http.Header{"X-Api-Key": {"live-api-key-456"}}, ShowSecrets: show}, nil)
		sent := SentOf(res)
		base = sent.Signed.SignatureBase
		if strings.Contains(string(sent.Response.Body), key) || strings.Contains(res.Err.Message, key) || strings.Contains(res.Checks[0].Detail, "live-api-key-456") {
			t.Errorf("show=%v: the reflected key or API key is shown: %q / %q", show, sent.Response.Body, res.Err.Message)
		}
		if has := strings.Contains(base, "live-api-key-456"); has != show {
			t.Errorf("show=%v: base %q", show, base)
		}
	}
}

func TestMiddlewareSendsMaskedBase(t *testing.T) {
	v := &Verifier{Key: NewKey([]byte("server-key-0123456789")), Now: time.Now}
	srv := httptest.NewServer(v.Middleware(SchemeRFC9421, http.NotFoundHandler()))
	defer srv.Close()
	m, _ := NewMessage("GET", srv.URL+"/x", http.Header{"Authorization": {"Bearer live-bearer-789"}}, nil)
	if _, err := Sign9421(m, NewKey([]byte("other-key-0123456789")), RFC9421Options{Components: `"@method" "authorization"`}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
	req.Header = m.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || strings.Contains(string(b), "live-bearer-789") || !strings.Contains(string(b), "sha256:") {
		t.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
}
