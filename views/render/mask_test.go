package render

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"authlab/flows"
)

const testJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVzLWZvci10ZXN0cw"

// fp is the fingerprint computed here, independently of flows.Fingerprint.
func fp(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:12]
}

func TestMaskTokenFormat(t *testing.T) {
	got := MaskToken(testJWT)
	if want := "eyJhbGci…  (sha256:" + fp(testJWT) + ")"; got != want {
		t.Fatalf("MaskToken = %q, want %q", got, want)
	}
	// the fingerprint is the one a masked Bearer header shows, so the two can be matched
	h := flows.MaskHeaders(http.Header{"Authorization": {"Bearer " + testJWT}}).Get("Authorization")
	if !strings.Contains(h, "(sha256:"+fp(testJWT)+")") {
		t.Errorf("masked header %q and MaskToken %q name different fingerprints", h, got)
	}
	// a short code keeps a quarter of itself at most
	if got := MaskToken("abcdefghijkl"); !strings.HasPrefix(got, "abc…") || strings.Contains(got, "abcd") {
		t.Errorf("MaskToken(12 chars) = %q, want 3 characters kept", got)
	}
	for _, v := range []string{"", flows.Masked, got} {
		if MaskToken(v) != v {
			t.Errorf("MaskToken(%q) = %q: masked and empty values stay as they are", v, MaskToken(v))
		}
	}
	if got := MaskToken("\x1b]52;c;aaaaaaaaaaaaaaaaaaaaaaaa"); strings.Contains(got, "\x1b") {
		t.Errorf("MaskToken kept a control character: %q", got)
	}
}

func TestMaskerByNameAndValue(t *testing.T) {
	rt := "rt-0123456789abcdef"
	m := NewMasker()
	m.LearnExchange(flows.Exchange{ResponseBody: `{"access_token":"` + testJWT + `","refresh_token":"` + rt + `","token_type":"Bearer"}`})

	// a form keeps its order and its other parameters
	form := m.Pairs("grant_type=refresh_token&refresh_token=" + rt + "&scope=openid")
	if want := "grant_type=refresh_token&refresh_token=" + MaskToken(rt) + "&scope=openid"; form != want {
		t.Errorf("Pairs = %q, want %q", form, want)
	}
	// a code in a redirect's query and an access token in a fragment, though never learned
	u := m.URL("http://127.0.0.1:5000/cb?state=s1&code=SplxlOBeZQQYbYS6WxSbIA#access_token=frag-token-123456&x=1")
	if strings.Contains(u, "SplxlOBeZQQYbYS6WxSbIA") || strings.Contains(u, "frag-token-123456") || !strings.Contains(u, "state=s1") || !strings.Contains(u, "&x=1") {
		t.Errorf("URL = %q: want code and access_token masked, the rest kept", u)
	}
	if got := m.Header("Authorization", "Bearer "+testJWT); got != "Bearer "+MaskToken(testJWT) {
		t.Errorf("Header = %q", got)
	}
	if got := m.Header("Authorization", "DPoP "+flows.Masked+" (sha256:abc)"); got != "DPoP "+flows.Masked+" (sha256:abc)" {
		t.Errorf("a masked header must stay as the recorder wrote it, got %q", got)
	}
	// known values are masked in any text (an error body echoing a token)
	if got := m.Text("invalid token " + rt); got != "invalid token "+MaskToken(rt) {
		t.Errorf("Text = %q", got)
	}
	lines := m.JSONLines([]string{
		`{`,
		`  "id_token": "never-learned-id-token",`,
		`  "authorization_url": "http://idp/authorize?client_id=c&request=eyJraWQiOiJrMSJ9.e30.c2ln",`,
		`  "name": "code",`,
		`  "expires_in": 3600`,
		`}`,
	})
	joined := strings.Join(lines, "\n")
	for _, leak := range []string{"never-learned-id-token", "eyJraWQiOiJrMSJ9.e30.c2ln"} {
		if strings.Contains(joined, leak) {
			t.Errorf("JSONLines kept %q:\n%s", leak, joined)
		}
	}
	if lines[3] != `  "name": "code",` || lines[4] != `  "expires_in": 3600` || !strings.Contains(lines[2], "client_id=c&request=") {
		t.Errorf("JSONLines changed what it must keep:\n%s", joined)
	}
	// a nil Masker is a revealed view: everything in clear
	var none *Masker
	if none.Text(rt) != rt || none.Pairs("code=abcdefghijkl") != "code=abcdefghijkl" || none.Header("Authorization", "Bearer "+testJWT) != "Bearer "+testJWT {
		t.Error("a nil Masker must mask nothing")
	}
}

// TestShownURLShowsTheMask: a masked query value the recorder encoded reads
// as the mask, on its own and through a Masker; other escapes stay.
func TestShownURLShowsTheMask(t *testing.T) {
	rec := "https://api.example.com/x?api_key=" + url.QueryEscape(flows.Masked) + "&q=a%20b"
	want := "https://api.example.com/x?api_key=" + flows.Masked + "&q=a%20b"
	if got := ShownURL(rec); got != want {
		t.Fatalf("ShownURL = %q, want %q", got, want)
	}
	var nilMasker *Masker
	if got := nilMasker.URL(rec); got != want {
		t.Fatalf("nil Masker URL = %q, want %q", got, want)
	}
}

// TestEditPairs: only the pairs edit changes are rewritten (name as
// written, then the new value); the others keep their order and spelling,
// and edit sees the name unescaped and the value as written.
func TestEditPairs(t *testing.T) {
	var seen []string
	got := EditPairs("b%5Fx=1%202&code&grant_type=a+b&=z", func(name, v string, has bool) (string, bool) {
		seen = append(seen, name+"|"+v)
		switch {
		case name == "code" && !has:
			return "X", true
		case name == "b_x":
			return "9", true
		}
		return "", false
	})
	if want := "b%5Fx=9&code=X&grant_type=a+b&=z"; got != want {
		t.Errorf("EditPairs = %q, want %q", got, want)
	}
	if want := "b_x|1%202,code|,grant_type|a+b,|z"; strings.Join(seen, ",") != want {
		t.Errorf("edit saw %q, want %q", strings.Join(seen, ","), want)
	}
}
