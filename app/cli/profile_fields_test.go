package cli

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/spf13/pflag"

	"authlab/internal/testtools"
	"authlab/mockidp/mockidptest"
	"authlab/store"
)

// Every field of a profile can be set by a flag of `profile add` (and so
// of `profile set`): a field added to store.Profile without a flag fails
// here, and every secret kind names a flag that `profile add` has.
func TestProfileAddCoversEveryField(t *testing.T) {
	set := map[string]bool{}
	for _, f := range append(profileFlagFields(), authzFlagFields()...) {
		top, _, _ := strings.Cut(f.field, ".")
		set[top] = true
	}
	fs := profileAddFlags(t)
	for _, f := range append(profileFlagFields(), authzFlagFields()...) {
		if fs.Lookup(f.flag) == nil {
			t.Errorf("profile add has no --%s", f.flag)
		}
	}
	notFlags := map[string]bool{"name": true, "kind": true, "demo": true, "created_at": true, "updated_at": true}
	rt := reflect.TypeFor[store.Profile]()
	for _, f := range reflect.VisibleFields(rt) {
		if f.Anonymous {
			continue // flows.Shape: its fields are the profile's, listed here too
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !notFlags[tag] && !set[tag] {
			t.Errorf("profile field %s (%s) has no profile add flag", f.Name, tag)
		}
	}
	for _, k := range store.SecretKinds() {
		if fs.Lookup(strings.TrimPrefix(k.Flag(), "--")) == nil {
			t.Errorf("secret %s: profile add has no %s", k, k.Flag())
		}
	}
}

// profileAddFlags are the flags of `authlab profile add`.
func profileAddFlags(t *testing.T) *pflag.FlagSet {
	t.Helper()
	root := newRootCmd(&globals{})
	cmd, _, err := root.Find([]string{"profile", "add"})
	if err != nil {
		t.Fatal(err)
	}
	return cmd.Flags()
}

// Each grant and authorization request field goes in with `profile add`
// and comes back with `profile show --json` (secrets masked) and in the
// human `profile show`.
func TestProfileAddShowRoundTripGrantFields(t *testing.T) {
	dir := t.TempDir()
	details := filepath.Join(dir, "details.json")
	if err := os.WriteFile(details, []byte("[\n  {\"type\": \"account_information\", \"actions\": [\"list_accounts\"]}\n]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const passwordValue = "pw-value-Kx71"
	cases := []struct {
		flags []string
		field string // JSON field of profile show --json
		want  string // its JSON
		human string // a line of profile show
	}{
		{[]string{"--par"}, "par", `true`, "par:                   yes"},
		{[]string{"--request-object"}, "request_object", `true`, "request object:        yes (signed with the private key)"},
		{[]string{"--response-mode", "form_post.jwt"}, "response_mode", `"form_post.jwt"`, "response mode:         form_post.jwt"},
		{[]string{"--authorization-details", "@" + details}, "authorization_details", `[{"type":"account_information","actions":["list_accounts"]}]`,
			`authorization details: [{"type":"account_information","actions":["list_accounts"]}]`},
		{[]string{"--prompt", "login"}, "prompt", `"login"`, "prompt:                login"},
		{[]string{"--login-hint", "alice"}, "login_hint", `"alice"`, "login hint:            alice"},
		{[]string{"--acr-values", "urn:a urn:b"}, "acr_values", `"urn:a urn:b"`, "acr values:            urn:a urn:b"},
		{[]string{"--max-age", "0"}, "max_age", `0`, "max age:               0 s"},
		{[]string{"--claims", `{"id_token":{"email":null}}`}, "claims", `{"id_token":{"email":null}}`, `claims:                {"id_token":{"email":null}}`},
		{[]string{"--ui-locales", "de en"}, "ui_locales", `"de en"`, "ui locales:            de en"},
		{[]string{"--assertion-aud", "both"}, "assertion_aud", `"both"`, "assertion aud:         both"},
		{[]string{"--kid", "k-9"}, "kid", `"k-9"`, "kid:                   k-9"},
		{[]string{"--fapi2"}, "fapi2", `true`, "fapi2:                 yes"},
		{[]string{"--username", "alice"}, "username", `"alice"`, "username:              alice"},
		{[]string{"--assertion", "/tmp/a.jwt"}, "assertion_file", `"/tmp/a.jwt"`, "assertion file:        /tmp/a.jwt"},
		{[]string{"--assertion-claims", `{"sub":"bob"}`}, "assertion_claims", `{"sub":"bob"}`, `assertion claims:      {"sub":"bob"}`},
		{[]string{"--dpop-alg", "EdDSA"}, "dpop_alg", `"EdDSA"`, "dpop alg:              EdDSA"},
		{[]string{"--dpop"}, "dpop", `true`, "dpop:                  yes"},
		{[]string{"--password", passwordValue}, "secrets", `{"user_password":"<stored secret>"}`, "user password:         •••••• (stored)"},
		{[]string{"--assertion-key", "env:AK"}, "secrets", `{"assertion_key":"env:AK"}`, "assertion key:         env:AK"},
		{[]string{"--dpop-key", "file:/k.pem"}, "secrets", `{"dpop_key":"file:/k.pem"}`, "dpop key:              file:/k.pem"},
	}
	c := newCLI(t)
	for _, tc := range cases {
		name := strings.Trim(strings.ReplaceAll(tc.flags[0], "-", ""), " ")
		args := append([]string{"profile", "add", name, "--kind", "auth-code", "--issuer", "https://idp.example.com", "--client-id", "c"}, tc.flags...)
		c.ok(args...)
		out := c.ok("profile", "show", name, "--json")
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		var got, want any
		_ = json.Unmarshal(m[tc.field], &got)
		_ = json.Unmarshal([]byte(tc.want), &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: %s is %s, want %s", tc.flags, tc.field, m[tc.field], tc.want)
		}
		human := c.ok("profile", "show", name)
		k, v, _ := strings.Cut(tc.human, ":")
		line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(k) + `: +` + regexp.QuoteMeta(strings.TrimSpace(v)) + `$`)
		if !line.MatchString(human) {
			t.Errorf("%v: profile show lacks %q:\n%s", tc.flags, tc.human, human)
		}
		if strings.Contains(out+human, passwordValue) {
			t.Fatalf("%v: profile show printed the password", tc.flags)
		}
	}
	c.ok("profile", "add", "key", "--kind", "api-key", "--target-url", "https://api.example.com/v1", "--api-key", "env:K", "--api-key-query", "api_key")
	if out := c.ok("profile", "show", "key", "--json"); !strings.Contains(out, `"api_key_query": "api_key"`) {
		t.Errorf("--api-key-query: %s", out)
	}
	if out := c.ok("profile", "show", "key"); !regexp.MustCompile(`(?m)^api key query: +api_key$`).MatchString(out) {
		t.Errorf("profile show lacks the api key query:\n%s", out)
	}
	// Not given, a field is absent (max_age 0 above is a real value).
	out := c.ok("profile", "show", "par", "--json")
	for _, f := range []string{"max_age", "response_mode", "authorization_details", "fapi2"} {
		if strings.Contains(out, `"`+f+`"`) {
			t.Errorf("profile without --%s shows %s: %s", f, f, out)
		}
	}
}

// Bad values are one-line usage errors naming the flag, from profile add,
// and naming the field from an import; nothing is saved.
func TestProfileGrantFieldErrors(t *testing.T) {
	c := newCLI(t)
	base := []string{"profile", "add", "x", "--kind", "auth-code", "--issuer", "https://idp.example.com"}
	for _, tc := range []struct {
		flags []string
		says  string
	}{
		{[]string{"--response-mode", "web_message"}, "--response-mode"},
		{[]string{"--authorization-details", `{"type":"x"}`}, "--authorization-details"},
		{[]string{"--authorization-details", `[{"type":`}, "--authorization-details"},
		{[]string{"--authorization-details", "@/does/not/exist"}, "--authorization-details"},
		{[]string{"--max-age", "-5"}, "--max-age"},
		{[]string{"--claims", "[1]"}, "--claims"},
		{[]string{"--assertion-claims", "nope"}, "--assertion-claims"},
		{[]string{"--assertion-aud", "somewhere"}, "--assertion-aud"},
	} {
		code, _, errs := c.run("", append(base, tc.flags...)...)
		if code != 2 || !strings.Contains(errs, tc.says) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d %q", tc.flags, code, errs)
		}
	}
	if code, _, _ := c.run("", "profile", "show", "x"); code != 2 {
		t.Fatal("a refused profile was saved")
	}
	for _, tc := range []struct{ field, value, says string }{
		{"response_mode", `"web_message"`, "response_mode: unknown mode"},
		{"authorization_details", `{"type":"x"}`, "authorization_details: not a JSON array of objects"},
		{"authorization_details", `[1,2]`, "authorization_details: not a JSON array of objects"},
		{"max_age", `-1`, "max_age"},
		{"claims", `"x"`, "claims: not a JSON object"},
	} {
		file := `[{"name":"imp","kind":"auth-code","issuer":"https://idp.example.com","` + tc.field + `":` + tc.value + `}]`
		code, _, errs := c.run(file, "profile", "import", "-")
		if code != 2 || !strings.Contains(errs, tc.says) {
			t.Errorf("import %s=%s: exit %d %q", tc.field, tc.value, code, errs)
		}
	}
}

// A saved PAR + JAR + JARM + RAR profile of the demo-jwt client runs with
// `authlab run` against the mock IdP ($BROWSER is curl).
func TestRunProfileWithPARJARJARMRAR(t *testing.T) {
	curl := testtools.Require(t, "curl")
	idp := mockidptest.New(t)
	t.Setenv("BROWSER", curl+" -s -o /dev/null -L --max-time 20")
	c := newCLI(t)
	c.ok("profile", "add", "bank", "--kind", "auth-code", "--issuer", idp.Issuer(), "--client-id", "demo-jwt",
		"--private-key", demoJWTJWK(t), "--scope", "openid", "--par", "--request-object", "--response-mode", "jwt",
		"--authorization-details", `[{"type":"account_information","actions":["list_accounts"]}]`, "--max-age", "600")
	code, out, errs := c.run("", "run", "bank", "--json", "--wait", "30s")
	if code != 0 {
		t.Fatalf("run: exit %d %s\n%s", code, errs, out)
	}
	checkPARRun(t, out, "the saved --par pushed nothing", "jarm signature", "par expires_in", "authorization_details", "id_token auth_time")
	// profile set turns the push off again, and the run no longer pushes.
	c.ok("profile", "set", "bank", "--par=false", "--request-object=false", "--response-mode", "query")
	code, out, errs = c.run("", "run", "bank", "--json", "--wait", "30s")
	if code != 0 || strings.Contains(out, "pushed authorization request") || strings.Contains(out, `"jarm signature"`) {
		t.Fatalf("after set: exit %d %s\n%s", code, errs, out)
	}
}

// A password profile with a stored password runs; the password never
// reaches the output; a wrong one set with `profile set` fails the run.
func TestRunPasswordProfile(t *testing.T) {
	idp := mockidptest.New(t)
	c := newCLI(t)
	c.ok("profile", "add", "legacy", "--kind", "password", "--issuer", idp.Issuer(), "--client-id", "demo-password",
		"--client-secret", "demo-password-secret", "--username", "bob", "--password", "bob", "--scope", "openid")
	code, out, errs := c.run("", "run", "legacy", "--json")
	if code != 0 {
		t.Fatalf("run: exit %d %s %s", code, out, errs)
	}
	var j struct {
		OK      bool `json:"ok"`
		IDToken struct {
			Claims map[string]any `json:"claims"`
		} `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || !j.OK {
		t.Fatalf("json %v: %s", err, out)
	}
	if !strings.Contains(out, `"sub": "bob"`) {
		t.Errorf("not bob's token: %s", out)
	}
	if strings.Contains(out+errs, `"bob"`+"&") || strings.Contains(out+errs, "password=bob") {
		t.Fatalf("the password reached the output: %s %s", out, errs)
	}
	c.ok("profile", "set", "legacy", "--password", "wrong-password-Ty5")
	code, out, errs = c.run("", "run", "legacy")
	if code != 1 || !strings.Contains(errs, "invalid_grant") || strings.Contains(out+errs, "wrong-password-Ty5") {
		t.Fatalf("wrong password: exit %d %s %s", code, out, errs)
	}
}

// A jwt-bearer profile runs with its assertion key and claims, and with a
// saved assertion file.
func TestRunJWTBearerProfile(t *testing.T) {
	idp := mockidptest.New(t)
	c := newCLI(t)
	c.ok("profile", "add", "bearer", "--kind", "jwt-bearer", "--issuer", idp.Issuer(), "--client-id", "demo-jwt",
		"--private-key", demoKeyFile, "--kid", "demo-jwt-1", "--assertion-key", demoKeyFile,
		"--assertion-claims", `{"sub":"bob"}`, "--scope", "api:read")
	code, out, errs := c.run("", "run", "bearer", "--json")
	if code != 0 || !strings.Contains(out, `"sub": "bob"`) {
		t.Fatalf("run: exit %d %s %s", code, out, errs)
	}
	// A saved assertion file (a JWT signed elsewhere) is sent as it is.
	assertion := filepath.Join(t.TempDir(), "assertion.jwt")
	if err := os.WriteFile(assertion, []byte(signDemoAssertion(t, idp.Issuer(), "alice")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("profile", "add", "presigned", "--kind", "jwt-bearer", "--issuer", idp.Issuer(), "--client-id", "demo-jwt",
		"--private-key", demoKeyFile, "--kid", "demo-jwt-1", "--assertion", assertion)
	if code, out, errs := c.run("", "run", "presigned", "--json"); code != 0 || !strings.Contains(out, `"sub": "alice"`) {
		t.Fatalf("run with the assertion file: exit %d %s %s", code, out, errs)
	}
	// A saved kid that names no registered key is refused: the field is used.
	c.ok("profile", "set", "bearer", "--kid", "no-such-kid")
	if code, _, errs := c.run("", "run", "bearer"); code != 1 || !strings.Contains(errs, "invalid_client") {
		t.Fatalf("wrong kid: exit %d %s", code, errs)
	}
}

// signDemoAssertion signs a jwt-bearer grant assertion for sub with the
// demo-jwt key, independently of authlab's own signer (go-jose).
func signDemoAssertion(t *testing.T, issuer, sub string) string {
	t.Helper()
	b, err := os.ReadFile(demoKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		if key, err = x509.ParseECPrivateKey(blk.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "demo-jwt-1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"iss": "demo-jwt", "sub": sub, "aud": issuer + "/token",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": fmt.Sprintf("t-%d", now.UnixNano())})
	jws, err := sig.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
