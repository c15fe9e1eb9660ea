package flows

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSecretsMaskEverySpelling(t *testing.T) {
	const secret = `p@ss/w"rd+<&>`
	var s Secrets
	s.AddBasic("id:x", secret)
	s.Add("short") // below MinMaskedSecret: masked by name only
	j, _ := json.Marshal(secret)
	for _, form := range []string{
		secret, url.QueryEscape(secret), url.PathEscape(secret), strings.ToLower(url.QueryEscape(secret)),
		string(j[1 : len(j)-1]), strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("id:x") + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte("id:x:" + secret)),
	} {
		if got := s.Mask("before " + form + " after"); got != "before "+Masked+" after" {
			t.Errorf("%q masked as %q", form, got)
		}
	}
	if got := s.Mask("a short word"); got != "a short word" {
		t.Errorf("a short value masked everywhere: %q", got)
	}
}

func TestSecretsMaskACutSecret(t *testing.T) {
	var s Secrets
	s.Add("refresh-token-0123456789")
	ex := s.MaskExchange(Exchange{ResponseBody: "echo: refresh-token-0123", BodyTruncated: true})
	if strings.Contains(ex.ResponseBody, "refresh-token-0123") {
		t.Errorf("the start of a secret cut by the body cap shows: %q", ex.ResponseBody)
	}
}

func TestSecretsLearnWhatARequestSends(t *testing.T) {
	var s Secrets
	req, _ := http.NewRequest("POST", "https://idp/token?access_token=query-token-123456", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("cli:basic-secret-value")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "a=cookie-value-123456; b=x")
	s.LearnRequest(req, []byte("grant_type=authorization_code&code=the-code-123456&code_verifier=verifier-123456&subject_token=subject-123456"))
	for _, v := range []string{"basic-secret-value", "query-token-123456", "cookie-value-123456", "the-code-123456", "verifier-123456", "subject-123456"} {
		if got := s.Mask(v); got != Masked {
			t.Errorf("%q not learned (%q)", v, got)
		}
	}
	if got := s.Mask("authorization_code"); got != "authorization_code" {
		t.Errorf("a non-secret value was learned: %q", got)
	}
}

func TestMaskErrorKeepsExplainMasked(t *testing.T) {
	var s Secrets
	s.Add("s3cr3t-value-xyz")
	e := Errorf(ErrOAuth, "%s: server said %q", FieldClientSecret, "bad s3cr3t-value-xyz")
	e.OAuthDescription = "got s3cr3t-value-xyz"
	res := &Result{Flow: "x"}
	res.Fail(e)
	s.MaskResult(res)
	for _, got := range []string{res.Err.Message, res.Err.OAuthDescription, res.Err.Explain(func(Field) string { return "--client-secret" })} {
		if strings.Contains(got, "s3cr3t") {
			t.Errorf("secret in %q", got)
		}
	}
	if !strings.Contains(res.Err.Explain(func(Field) string { return "--client-secret" }), "--client-secret: server said") {
		t.Errorf("Explain lost its fields: %q", res.Err.Explain(func(Field) string { return "--client-secret" }))
	}
}

func TestMaskCredentialsHidesTokensAndCodes(t *testing.T) {
	body := []byte("grant_type=refresh_token&refresh_token=rt&code=c&token=t&subject_token=st&assertion=a&scope=openid")
	got := MaskCredentials(body, "application/x-www-form-urlencoded")
	vals, _ := url.ParseQuery(got)
	for _, k := range []string{"refresh_token", "code", "token", "subject_token", "assertion"} {
		if vals.Get(k) != Masked {
			t.Errorf("%s shown: %q", k, got)
		}
	}
	if vals.Get("scope") != "openid" || vals.Get("grant_type") != "refresh_token" {
		t.Errorf("non-secret fields lost: %q", got)
	}
}

func TestSecretsInheritIsolated(t *testing.T) {
	var base, run1, run2 Secrets
	base.Add("engine-secret-1")
	run1.Inherit(&base)
	run2.Inherit(&base)
	run1.Add("run-one-code-1")
	base.Add("engine-late-2")
	for _, c := range []struct {
		s    *Secrets
		v    string
		want bool
	}{{&run1, "engine-secret-1", true}, {&run1, "run-one-code-1", true}, {&run2, "run-one-code-1", false},
		{&base, "run-one-code-1", false}, {&run1, "engine-late-2", false}, {&base, "engine-late-2", true}} {
		if got := c.s.Mask(c.v) == Masked; got != c.want {
			t.Errorf("%q masked = %v, want %v", c.v, got, c.want)
		}
	}
}
