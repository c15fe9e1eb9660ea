package console

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"authlab/flows"
	"authlab/mockidp/mockidptest"
	"authlab/store"
	"authlab/views/editor"
	"authlab/views/ui"
)

func intp(n int) *int { return &n }

// editorFixtures are one profile per kind with every field that kind's
// form shows set (secrets as references, which the form shows as typed).
func editorFixtures() []store.Profile {
	ref := func(kinds ...store.SecretKind) map[store.SecretKind]store.Secret {
		m := map[store.SecretKind]store.Secret{}
		for _, k := range kinds {
			m[k] = store.ParseSecret("env:AUTHLAB_TEST_" + strings.ToUpper(string(k)))
		}
		return m
	}
	oauth := func(p store.Profile) store.Profile {
		p.Issuer, p.TokenURL, p.ClientID = "https://idp.example", "https://idp.example/token", "cli"
		p.AuthMethod, p.Scopes, p.Audience, p.Resource = "private_key_jwt", []string{"openid", "api:read"}, []string{"api"}, []string{"https://api.example/"}
		p.KeyID, p.AssertionAud, p.FAPI2 = "k1", "both", true
		p.DPoP, p.DPoPAlg = true, "EdDSA"
		p.CertFile, p.KeyFile, p.CAFile = "/tmp/c.pem", "/tmp/k.pem", "/tmp/ca.pem"
		p.JWKSURL, p.IntrospectURL, p.RevokeURL, p.UserinfoURL = "https://idp.example/jwks", "https://idp.example/introspect", "https://idp.example/revoke", "https://idp.example/userinfo"
		p.Secrets = ref(store.ClientSecret, store.PrivateKey, store.DPoPKey)
		return p
	}
	about := func(p store.Profile) store.Profile {
		p.ExtraParams = map[string]string{"call_url": "https://api.example/v1?a=1&b=2", "x_note": `a "quoted" value`, "audience2": "x"}
		p.Tags = []string{"prod", "eu"}
		p.Notes = "line one\n\tindented \\n literal\nlast"
		return p
	}
	ac := oauth(store.Profile{Name: "ac", Kind: store.KindAuthCode})
	ac.AuthURL, ac.RedirectPort, ac.PAR, ac.RequestObject, ac.ResponseMode = "https://idp.example/authorize", 8085, true, true, "form_post.jwt"
	ac.AuthorizationDetails = json.RawMessage(`[{"type":"payment_initiation","amount":"10"}]`)
	ac.Prompt, ac.LoginHint, ac.ACRValues, ac.MaxAge = "login consent", "alice@example.com", "urn:acr:mfa", intp(0)
	ac.Claims, ac.UILocales = json.RawMessage(`{"id_token":{"email":{"essential":true}}}`), "de en"
	dev := oauth(store.Profile{Name: "dev", Kind: store.KindDevice})
	dev.DeviceURL = "https://idp.example/device"
	pw := oauth(store.Profile{Name: "pw", Kind: store.KindPassword})
	pw.Username = "alice"
	pw.Secrets = ref(store.ClientSecret, store.Password)
	jb := oauth(store.Profile{Name: "jb", Kind: store.KindJWTBearer})
	jb.AssertionFile, jb.AssertionClaims = "/tmp/assertion.jwt", json.RawMessage(`{"sub":"alice","scope":null}`)
	jb.Secrets = ref(store.ClientSecret, store.AssertionKey)
	hm := store.Profile{Name: "hm", Kind: store.KindHMAC, TargetURL: "https://api.example/hmac",
		HMAC:    store.HMAC{Scheme: "aws-sigv4", KeyID: "kid-1", Label: "sig1", Components: `"@method" "@authority"`, Region: "eu-west-1", Service: "execute-api", AccessKey: "AKIDEXAMPLE"},
		Secrets: ref(store.HMACKey)}
	ak := store.Profile{Name: "ak", Kind: store.KindAPIKey, TargetURL: "https://api.example/key", APIKeyHeader: "X-Api-Key", Secrets: ref(store.APIKey)}
	akq := store.Profile{Name: "akq", Kind: store.KindAPIKey, TargetURL: "https://api.example/key", APIKeyQuery: "api_key", Secrets: ref(store.APIKey)}
	cc := oauth(store.Profile{Name: "cc", Kind: store.KindClientCredentials})
	te := oauth(store.Profile{Name: "te", Kind: store.KindTokenExchange})
	mt := oauth(store.Profile{Name: "mt", Kind: store.KindMTLS})
	mt.AuthMethod = "tls_client_auth"
	out := []store.Profile{ac, dev, pw, jb, hm, ak, akq, cc, te, mt}
	for i := range out {
		out[i] = about(out[i])
	}
	return out
}

func newEditor() *editor.Model {
	m := editor.New(&ui.Context{Theme: testTheme(), Now: time.Now})
	m.SetSize(120, 40)
	return m
}

// comparable: the profile as JSON without its name and times (secrets
// show as their references).
func comparable(t *testing.T, p store.Profile) string {
	t.Helper()
	p.Name, p.CreatedAt, p.UpdatedAt = "", time.Time{}, time.Time{}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every field of a profile goes profile → form → editor → save → profile
// unchanged. Saving the editor's form as a NEW profile (nothing to keep
// from an old one) proves the form of each kind shows and returns every
// field that kind has; the fixtures together set every Profile field, so
// a field added to the store without an editor mapping fails here.
func TestEditorRoundTripEveryField(t *testing.T) {
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db")}
	fixtures := editorFixtures()
	set := map[string]bool{}
	for _, p := range fixtures {
		v := reflect.ValueOf(p)
		for _, f := range reflect.VisibleFields(v.Type()) {
			if !v.FieldByIndex(f.Index).IsZero() {
				set[f.Name] = true
			}
		}
	}
	for _, f := range reflect.VisibleFields(reflect.TypeOf(store.Profile{})) {
		if f.Anonymous {
			continue // flows.Shape: its promoted fields are checked one by one
		}
		switch f.Name {
		case "Demo", "CreatedAt", "UpdatedAt": // not edited: kept by the store
			continue
		}
		if !set[f.Name] {
			t.Errorf("no fixture sets Profile.%s: the round trip does not cover it", f.Name)
		}
	}
	for _, p := range fixtures {
		if err := store.Update(b.Path, func(s *store.Store) error { return s.PutProfile(p, false) }); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		want, err := store.LoadProfile(b.Path, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := b.Form(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		m := newEditor()
		m.Load(editor.Form{Name: f.Name, Kind: f.Kind, Fields: f.Fields}, p.Name)
		if errs := m.Errors(); len(errs) > 0 {
			t.Errorf("%s: the editor flags a valid profile: %v", p.Name, errs)
		}
		ef := m.Form()
		// in place
		if err := b.SaveForm(Form{Name: ef.Name, Kind: ef.Kind, Fields: ef.Fields}, p.Name); err != nil {
			t.Fatalf("%s: save in place: %v", p.Name, err)
		}
		got, err := store.LoadProfile(b.Path, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if comparable(t, got) != comparable(t, want) {
			t.Errorf("%s: in place\n got %s\nwant %s", p.Name, comparable(t, got), comparable(t, want))
		}
		// as a new profile: only what the form carries
		if err := b.SaveForm(Form{Name: p.Name + "-new", Kind: ef.Kind, Fields: ef.Fields}, ""); err != nil {
			t.Fatalf("%s: save as new: %v", p.Name, err)
		}
		got, err = store.LoadProfile(b.Path, p.Name+"-new")
		if err != nil {
			t.Fatal(err)
		}
		if comparable(t, got) != comparable(t, want) {
			t.Errorf("%s: as new, the form lost fields\n got %s\nwant %s", p.Name, comparable(t, got), comparable(t, want))
		}
	}
}

// A stored secret value reaches the form only as its placeholder, never
// shows on screen, and saving the form keeps it.
func TestEditorStoredSecretPlaceholder(t *testing.T) {
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db")}
	p := store.Profile{Name: "pw", Kind: store.KindPassword, TokenURL: "https://idp.example/token", ClientID: "c", Shape: flows.Shape{Username: "alice"},
		Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("cs-Zq81"), store.Password: store.SecretValue("pw-Xy42")}}
	if err := store.Update(b.Path, func(s *store.Store) error { return s.PutProfile(p, false) }); err != nil {
		t.Fatal(err)
	}
	f, err := b.Form("pw")
	if err != nil {
		t.Fatal(err)
	}
	m := newEditor()
	m.Load(editor.Form{Name: f.Name, Kind: f.Kind, Fields: f.Fields}, "pw")
	if v := m.View(); strings.Contains(v, "pw-Xy42") || strings.Contains(v, "cs-Zq81") || !strings.Contains(v, "<stored secret>") {
		t.Fatalf("editor view:\n%s", v)
	}
	for k, v := range f.Fields {
		if strings.Contains(v, "pw-Xy42") || strings.Contains(v, "cs-Zq81") {
			t.Fatalf("the form holds a secret value under %s", k)
		}
	}
	ef := m.Form()
	if err := b.SaveForm(Form{Name: ef.Name, Kind: ef.Kind, Fields: ef.Fields}, "pw"); err != nil {
		t.Fatal(err)
	}
	got, err := store.LoadProfile(b.Path, "pw")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[store.SecretKind]string{store.ClientSecret: "cs-Zq81", store.Password: "pw-Xy42"} {
		if v, err := got.Secrets[k].Resolve(); err != nil || v != want {
			t.Errorf("%s after save = %q, %v", k, v, err)
		}
	}
}

// Each JSON field refuses bad input on save with one line naming the
// field, in the editor (inline and in the banner) and in the backend.
func TestEditorJSONFieldErrors(t *testing.T) {
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db")}
	kinds := map[string]string{"authorization_details": "auth-code", "claims": "auth-code", "assertion_claims": "jwt-bearer"}
	for _, key := range editor.JSONKeys() {
		for _, c := range []struct{ in, want string }{
			{`{"type":`, "not valid JSON"},
			{`not json`, "not valid JSON"},
			{`"a string"`, "not a JSON"},
			{`42`, "not a JSON"},
		} {
			form := Form{Name: "j", Kind: kinds[key], Fields: map[string]string{"token_url": "https://idp.example/token",
				"auth_url": "https://idp.example/authorize", "client_id": "c", key: c.in}}
			err := b.SaveForm(form, "")
			if err == nil || !strings.HasPrefix(err.Error(), key+": ") || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s = %s: backend error %v, want one line %q…%q", key, c.in, err, key+": ", c.want)
			}
			m := newEditor()
			m.Load(editor.Form{Name: form.Name, Kind: form.Kind, Fields: form.Fields}, "")
			if msg := m.Errors()[key]; !strings.Contains(msg, c.want) {
				t.Errorf("%s = %s: inline error %q", key, c.in, msg)
			}
			if cmd := m.Update(keyMsg("ctrl+s")); cmd != nil {
				t.Errorf("%s = %s: the editor saved a bad value", key, c.in)
			}
			if v := m.View(); !strings.Contains(v, "fix the fields marked ✗ first: ") || !strings.Contains(v, c.want) {
				t.Errorf("%s = %s: banner does not name the problem:\n%s", key, c.in, v)
			}
		}
	}
	if _, err := store.LoadProfile(b.Path, "j"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused form was saved: %v", err)
	}
	// the other typed fields: numbers and the k=v list
	for k, in := range map[string]string{"max_age": "-3", "redirect_port": "eighty", "extra_params": "novalue"} {
		err := b.SaveForm(Form{Name: "j", Kind: "auth-code", Fields: map[string]string{"token_url": "https://idp.example/token",
			"auth_url": "https://idp.example/authorize", "client_id": "c", k: in}}, "")
		if err == nil || !strings.HasPrefix(err.Error(), k+": ") {
			t.Errorf("%s = %q: %v", k, in, err)
		}
	}
}

// Renaming in the editor is the store's rename: the history and the
// cached token follow the profile, the secrets stay, the old name is gone;
// a taken name is refused with nothing changed.
func TestEditorRenameKeepsHistoryAndToken(t *testing.T) {
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db")}
	p := store.Profile{Name: "old", Kind: store.KindClientCredentials, TokenURL: "https://idp.example/token", ClientID: "c",
		Secrets: map[store.SecretKind]store.Secret{store.ClientSecret: store.SecretValue("cs-Rn55")}}
	other := store.Profile{Name: "taken", Kind: store.KindClientCredentials, TokenURL: "https://idp.example/token", ClientID: "t"}
	tok := store.CachedToken{Flow: "client-credentials", Response: json.RawMessage(`{"access_token":"at-Rn55","token_type":"Bearer"}`), Obtained: fixedNow}
	err := store.Update(b.Path, func(s *store.Store) error {
		for _, x := range []store.Profile{p, other} {
			if err := s.PutProfile(x, false); err != nil {
				return err
			}
		}
		for i := range 3 {
			if err := s.AddRun(store.Run{Profile: "old", Flow: "client-credentials", Time: fixedNow.Add(time.Duration(i) * time.Minute), OK: true}); err != nil {
				return err
			}
		}
		return s.PutToken("old", tok)
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Form("old")
	if err != nil {
		t.Fatal(err)
	}
	f.Name = "taken"
	if err := b.SaveForm(f, "old"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	f.Name, f.Fields["scopes"] = "new", "api:write"
	if err := b.SaveForm(f, "old"); err != nil {
		t.Fatal(err)
	}
	err = store.View(b.Path, func(s *store.Store) error {
		if _, err := s.GetProfile("old"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old name still there: %v", err)
		}
		got, err := s.GetProfile("new")
		if err != nil {
			return err
		}
		if strings.Join(got.Scopes, " ") != "api:write" {
			t.Errorf("the edit was lost in the rename: scopes %v", got.Scopes)
		}
		if v, err := got.Secrets[store.ClientSecret].Resolve(); err != nil || v != "cs-Rn55" {
			t.Errorf("client secret after rename = %q, %v", v, err)
		}
		runs, err := s.History("new", 0)
		if err != nil || len(runs) != 3 {
			t.Errorf("history after rename: %d runs, %v", len(runs), err)
		}
		for _, r := range runs {
			if r.Profile != "new" {
				t.Errorf("a run still names %q", r.Profile)
			}
		}
		ct, err := s.GetToken("new")
		if err != nil || string(ct.Response) != string(tok.Response) {
			t.Errorf("cached token after rename: %v", err)
		}
		if _, err := s.GetToken("old"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a token is still cached under the old name: %v", err)
		}
		if tp, err := s.GetProfile("taken"); err != nil || tp.ClientID != "t" {
			t.Errorf("the refused rename changed %q: %+v %v", "taken", tp, err)
		}
		return nil
	}, store.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
}

// Discovery fills every endpoint the document names, and the editor takes
// those its form shows.
func TestEditorDiscoverFillsEndpoints(t *testing.T) {
	srv := mockidptest.New(t)
	b := &StoreBackend{Path: filepath.Join(t.TempDir(), "authlab.db")}
	f, err := b.Discover(t.Context(), Form{Name: "d", Kind: "auth-code", Fields: map[string]string{"issuer": srv.Issuer()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"token_url", "auth_url", "jwks_url", "introspect_url", "revoke_url", "userinfo_url"} {
		if !strings.HasPrefix(f.Fields[k], srv.Issuer()) {
			t.Errorf("%s = %q, want a URL of %s", k, f.Fields[k], srv.Issuer())
		}
	}
	m := newEditor()
	m.Load(editor.Form{Name: "d", Kind: "auth-code", Fields: map[string]string{"issuer": srv.Issuer(), "client_id": "c"}}, "")
	m.Update(editor.FilledMsg{Fields: f.Fields})
	got := m.Form().Fields
	if got["jwks_url"] != f.Fields["jwks_url"] || got["auth_url"] != f.Fields["auth_url"] {
		t.Errorf("editor after discovery: %v", got)
	}
	if _, ok := got["device_url"]; ok {
		t.Error("an auth-code form took the device endpoint it does not show")
	}
}
