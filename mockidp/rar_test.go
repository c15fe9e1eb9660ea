package mockidp_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// grantedRAR is what the authorization request asks for and gets.
const grantedRAR = `[{"type":"account_information","actions":["list_accounts","read_balances"],"locations":["https://bank.example/accounts"]},` +
	`{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"10.00"}}]`

// rarCode runs an authorization request for demo-web (details "" asks for
// none) and returns the code and its verifier.
func rarCode(t *testing.T, s *mockidp.Server, details string) (string, string) {
	t.Helper()
	verifier, challenge := pkce()
	q := plainParams("demo-web")
	q.Set("code_challenge", challenge)
	q.Set("scope", "api:read offline_access")
	if details != "" {
		q.Set("authorization_details", details)
	}
	st, loc, body := authzReq(t, s, q)
	if st != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v %.300s", st, loc, body)
	}
	return loc.Query().Get("code"), verifier
}

// redeem sends the code to the token endpoint with an optional
// authorization_details.
func redeem(t *testing.T, s *mockidp.Server, code, verifier, details string) (int, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {loopRedirect}, "code_verifier": {verifier}}
	if details != "" {
		f.Set("authorization_details", details)
	}
	return postToken(t, s, f, "demo-web", "demo-web-secret")
}

func refreshWith(t *testing.T, s *mockidp.Server, rt, details string) (int, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if details != "" {
		f.Set("authorization_details", details)
	}
	return postToken(t, s, f, "demo-web", "demo-web-secret")
}

func jsonValue(t *testing.T, raw string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return v
}

// assertDetails checks that the token response, its access token and the
// introspection of that token all carry want.
func assertDetails(t *testing.T, s *mockidp.Server, m map[string]any, want string) {
	t.Helper()
	w := jsonValue(t, want)
	if got := m["authorization_details"]; !reflect.DeepEqual(got, w) {
		t.Errorf("token response authorization_details = %v, want %v", got, w)
	}
	at, _ := m["access_token"].(string)
	if got := decodeClaims(t, at)["authorization_details"]; !reflect.DeepEqual(got, w) {
		t.Errorf("access token authorization_details = %v, want %v", got, w)
	}
	st, in := postForm(t, s.URL()+"/introspect", url.Values{"token": {at}}, "demo-web", "demo-web-secret")
	if st != 200 || in["active"] != true || !reflect.DeepEqual(in["authorization_details"], w) {
		t.Errorf("introspection: %d %v, want authorization_details %v", st, in, w)
	}
}

func TestTokenRequestAuthorizationDetails(t *testing.T) {
	s := mockidptest.New(t)
	narrow := `[{"type":"account_information","actions":["list_accounts"],"locations":["https://bank.example/accounts"]}]`

	t.Run("absent: the granted ones", func(t *testing.T) {
		code, v := rarCode(t, s, grantedRAR)
		st, m := redeem(t, s, code, v, "")
		if st != 200 {
			t.Fatalf("%d %v", st, m)
		}
		assertDetails(t, s, m, grantedRAR)
	})
	t.Run("a subset: exactly what was asked", func(t *testing.T) {
		code, v := rarCode(t, s, grantedRAR)
		st, m := redeem(t, s, code, v, narrow)
		if st != 200 {
			t.Fatalf("%d %v", st, m)
		}
		assertDetails(t, s, m, narrow)
	})

	negatives := []struct {
		name, granted, asked, descPart string
	}{
		{"an action not granted", grantedRAR, `[{"type":"account_information","actions":["list_accounts","transfer"],"locations":["https://bank.example/accounts"]}]`, "not within"},
		{"a granted member left out", grantedRAR, `[{"type":"account_information","actions":["list_accounts"]}]`, "not within"},
		{"a member added", grantedRAR, `[{"type":"account_information","actions":["list_accounts"],"locations":["https://bank.example/accounts"],"datatypes":["balances"]}]`, "not within"},
		{"another amount", grantedRAR, `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"20.00"}}]`, "not within"},
		{"the same amount spelled as a number", grantedRAR, `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":10.00}}]`, "not within"},
		{"a type not granted", grantedRAR, `[{"type":"customer_information","actions":["read"]}]`, "not within"},
		{"a type not supported", grantedRAR, `[{"type":"crypto_withdrawal"}]`, "not supported"},
		{"not JSON", grantedRAR, `[{"type":`, "JSON array"},
		{"an empty array", grantedRAR, `[]`, "empty"},
		{"none granted", "", narrow, "not granted"},
		{"too large", grantedRAR, `[{"type":"account_information","actions":["` + strings.Repeat("x", 9000) + `"]}]`, "larger than 8 KiB"},
	}
	for _, c := range negatives {
		t.Run(c.name, func(t *testing.T) {
			code, v := rarCode(t, s, c.granted)
			st, m := redeem(t, s, code, v, c.asked)
			desc, _ := m["error_description"].(string)
			if st != 400 || m["error"] != "invalid_authorization_details" || !strings.Contains(desc, c.descPart) {
				t.Fatalf("got %d %v, want 400 invalid_authorization_details (%q)", st, m, c.descPart)
			}
			if _, ok := m["access_token"]; ok {
				t.Fatal("an error response with an access token")
			}
			// The refused request did not spend the code.
			if st, m := redeem(t, s, code, v, ""); st != 200 {
				t.Fatalf("the code after a refused request: %d %v", st, m)
			}
		})
	}
}

func TestRefreshCarriesAuthorizationDetails(t *testing.T) {
	s := mockidptest.New(t)
	code, v := rarCode(t, s, grantedRAR)
	st, m := redeem(t, s, code, v, `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"10.00"}}]`)
	rt, _ := m["refresh_token"].(string)
	if st != 200 || rt == "" {
		t.Fatalf("redeem: %d %v", st, m)
	}
	// Narrowed at redemption, the grant itself is unchanged: a refresh
	// without authorization_details gets all of it.
	st, m = refreshWith(t, s, rt, "")
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, m)
	}
	assertDetails(t, s, m, grantedRAR)
	rt = m["refresh_token"].(string)

	narrow := `[{"type":"account_information","actions":["read_balances"],"locations":["https://bank.example/accounts"]}]`
	st, m = refreshWith(t, s, rt, narrow)
	if st != 200 {
		t.Fatalf("narrowing refresh: %d %v", st, m)
	}
	assertDetails(t, s, m, narrow)
	rt = m["refresh_token"].(string)

	// Wider than the grant: refused, and the refresh token is not spent.
	st, m = refreshWith(t, s, rt, `[{"type":"account_information","actions":["read_balances","transfer"],"locations":["https://bank.example/accounts"]}]`)
	if st != 400 || m["error"] != "invalid_authorization_details" {
		t.Fatalf("widening refresh: %d %v", st, m)
	}
	st, m = refreshWith(t, s, rt, "")
	if st != 200 {
		t.Fatalf("refresh after a refused one: %d %v", st, m)
	}
	assertDetails(t, s, m, grantedRAR)

	// A grant without details cannot gain some at refresh.
	code, v = rarCode(t, s, "")
	_, m = redeem(t, s, code, v, "")
	if _, ok := m["authorization_details"]; ok {
		t.Fatalf("details in a grant that asked for none: %v", m)
	}
	st, m = refreshWith(t, s, m["refresh_token"].(string), narrow)
	if st != 400 || m["error"] != "invalid_authorization_details" {
		t.Fatalf("details at refresh of a grant without them: %d %v", st, m)
	}
}
