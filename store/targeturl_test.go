package store

import (
	"errors"
	"strings"
	"testing"
)

// TestImportOldTargetURLShape: export files written before target_url
// existed keep their hmac / api-key URL in token_url; they still import, and
// the URL lands in TargetURL (exported back under target_url).
func TestImportOldTargetURLShape(t *testing.T) {
	old := `{"format":"authlab-profiles","version":1,"profiles":[
  {"name":"sig","kind":"hmac","token_url":"https://api.example.com/signed","hmac":{"scheme":"github"}},
  {"name":"key","kind":"api-key","token_url":"https://api.example.com/things","api_key_header":"X-Key"},
  {"name":"cc","kind":"client-credentials","token_url":"https://idp.example.com/token","client_id":"c"}]}`
	s, _ := openTemp(t)
	if n, err := s.Import([]byte(old), false); err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	for name, want := range map[string]string{"sig": "https://api.example.com/signed", "key": "https://api.example.com/things"} {
		p, err := s.GetProfile(name)
		if err != nil || p.TargetURL != want || p.TokenURL != "" {
			t.Fatalf("%s: %+v %v", name, p, err)
		}
	}
	if cc, _ := s.GetProfile("cc"); cc.TokenURL != "https://idp.example.com/token" || cc.TargetURL != "" {
		t.Fatalf("cc: %+v", cc)
	}
	out, err := s.Export([]string{"sig"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"target_url": "https://api.example.com/signed"`) || strings.Contains(string(out), "token_url") {
		t.Fatalf("export: %s", out)
	}
	back, err := ParseImport(out)
	if err != nil || len(back) != 1 || back[0].TargetURL != "https://api.example.com/signed" {
		t.Fatalf("re-import: %+v %v", back, err)
	}
}

// TestTargetURLWriters: every way in carries an old-shaped hmac profile
// forward, and a profile that names both URLs is refused with the field.
func TestTargetURLWriters(t *testing.T) {
	s, _ := openTemp(t)
	old := Profile{Name: "sig", Kind: KindHMAC, TokenURL: "https://api.example.com/a", HMAC: HMAC{Scheme: "stripe"}}
	if err := s.PutProfile(old, false); err != nil {
		t.Fatal(err)
	}
	if err := s.ImportProfiles([]Profile{{Name: "key", Kind: KindAPIKey, TokenURL: "https://api.example.com/b"}}, false); err != nil {
		t.Fatal(err)
	}
	if old.TokenURL == "" {
		t.Fatal("PutProfile changed the caller's profile")
	}
	for name, want := range map[string]string{"sig": "https://api.example.com/a", "key": "https://api.example.com/b"} {
		if p, _ := s.GetProfile(name); p.TargetURL != want || p.TokenURL != "" {
			t.Fatalf("%s: %+v", name, p)
		}
	}
	both := Profile{Name: "both", Kind: KindHMAC, TokenURL: "https://idp.example.com/token", TargetURL: "https://api.example.com/c", HMAC: HMAC{Scheme: "stripe"}}
	var ve *ValidationError
	if err := s.PutProfile(both, false); !errors.As(err, &ve) || ve.Fields[0].Field != "token_url" || !strings.Contains(err.Error(), "target_url") {
		t.Fatalf("both URLs: %v", err)
	}
	bad := Profile{Name: "bad", Kind: KindAPIKey, TargetURL: "ftp://api.example.com"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `target_url: "ftp://api.example.com" is not an http(s) URL`) {
		t.Fatalf("bad target: %v", err)
	}
}

func TestFlowRequestCallsTargetURL(t *testing.T) {
	p := Profile{Name: "key", Kind: KindAPIKey, TargetURL: "https://api.example.com/things"}
	req, err := p.FlowRequest("client-credentials")
	if err != nil || req.CallURL != "https://api.example.com/things" || req.Endpoints.Token != "" {
		t.Fatalf("req %+v %v", req, err)
	}
	p.ExtraParams = map[string]string{CallURLParam: "https://api.example.com/other"}
	if req, _ := p.FlowRequest("client-credentials"); req.CallURL != "https://api.example.com/other" {
		t.Fatalf("call_url wins: %q", req.CallURL)
	}
}
