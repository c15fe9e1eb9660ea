package oauth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"authlab/flows"
	"authlab/flows/oauth"
)

// jarStorage is zitadel's example storage with one more key: the web
// client's request object key, which the OP looks up by kid and client.
type jarStorage struct {
	*storage.Storage
	kid string
	pub crypto.PublicKey
}

func (s jarStorage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	if keyID == s.kid && clientID == "web" {
		return &jose.JSONWebKey{KeyID: keyID, Use: "sig", Algorithm: "RS256", Key: s.pub}, nil
	}
	return s.Storage.GetKeyByIDAndClientID(ctx, keyID, clientID)
}

// zitadelJAROP is zitadelOP whose web client can sign request objects with
// the RSA key it returns (as a PEM file).
func zitadelJAROP(t *testing.T, redirect string) (issuer, keyFile string) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	keyFile = filepath.Join(t.TempDir(), "jar.pem")
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	kid, err := flows.JWKThumbprint(&rk.PublicKey) // the kid authlab gives a PEM key
	if err != nil {
		t.Fatal(err)
	}
	issuer = serveZitadelOP(t, redirect, func(st *storage.Storage) exampleop.Storage {
		return jarStorage{Storage: st, kid: kid, pub: &rk.PublicKey}
	})
	return issuer, keyFile
}

// zitadelModesBrowser signs in on the example OP's form, then carries the
// response to the listener in whatever mode the OP used (walk).
func zitadelModesBrowser(t *testing.T, username, password string) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		go func() {
			jar, _ := cookiejar.New(nil)
			nf := noFollow()
			nf.Jar = jar
			resp, err := zitadelSignIn(nf, u, username, password)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			if err := walk(nf, resp); err != nil {
				t.Errorf("browser: after login: %v", err)
			}
		}()
		return nil
	}
}

// TestZitadelRequestObjectAndResponseModes runs JAR (RFC 9101, verified by
// zitadel's ParseRequestObject against the client's key) and the query,
// fragment and form_post response modes against zitadel/oidc's OP. That OP
// has no PAR endpoint, no JARM and no RAR: those run against the mock IdP
// only.
func TestZitadelRequestObjectAndResponseModes(t *testing.T) {
	for _, c := range []struct {
		mode string
		jar  bool
	}{{"", true}, {"query", true}, {"fragment", false}, {"fragment", true}, {"form_post", false}, {"form_post", true}} {
		t.Run(fmt.Sprintf("%s/jar=%v", c.mode, c.jar), func(t *testing.T) {
			cb, redirect := loopbackCallback(t)
			issuer, key := zitadelJAROP(t, redirect)
			req := flows.Request{Flow: flows.FlowAuthCode, Issuer: issuer, ClientID: "web", ClientSecret: "secret",
				Scopes: []string{"openid", "profile"}, Wait: 20 * time.Second, Shape: flows.Shape{ResponseMode: c.mode}}
			if c.jar {
				req.RequestObject, req.RequestKey = true, key
			}
			eng, err := oauth.New(req, oauth.Options{Listener: cb, OpenURL: zitadelModesBrowser(t, "test-user@127.0.0.1", "verysecure")})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := eng.AuthCode(ctx, nil)
			mustOK(t, "zitadel "+c.mode, res)
			if res.IDToken == nil || res.IDToken.Claims["sub"] != "id1" {
				t.Fatalf("id token %+v", res.IDToken)
			}
			if c.mode != "" && !hasCheck(res.Checks, "response_mode", flows.Pass) {
				t.Fatalf("response_mode check: %+v", res.Checks)
			}
			u, _ := url.Parse(res.AuthURL)
			if c.jar && (u.Query().Get("request") == "" || u.Query().Get("state") != "" || u.Query().Get("code_challenge") != "") {
				t.Fatalf("JAR request carries plain parameters: %s", res.AuthURL)
			}
		})
	}
}

// TestZitadelRejectsForeignRequestObject: signed with a key the OP does
// not know, the request object is refused (a negative control: the OP
// really verifies what authlab signs).
func TestZitadelRejectsForeignRequestObject(t *testing.T) {
	cb, redirect := loopbackCallback(t)
	issuer, _ := zitadelJAROP(t, redirect)
	_, other := zitadelJAROP(t, redirect) // another OP's key: unknown here
	req := flows.Request{Flow: flows.FlowAuthCode, Issuer: issuer, ClientID: "web", ClientSecret: "secret",
		Scopes: []string{"openid"}, Wait: 20 * time.Second, Shape: flows.Shape{RequestObject: true}, RequestKey: other}
	got := make(chan string, 1)
	eng, err := oauth.New(req, oauth.Options{Listener: cb, OpenURL: func(ctx context.Context, u string) error {
		go func() {
			resp, err := noFollow().Get(u)
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got <- fmt.Sprintf("HTTP %d %s", resp.StatusCode, b)
		}()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	// The OP cannot trust the request, so it shows its error rather than
	// redirecting; the flow is cancelled once that page is seen.
	ctx, cancel := context.WithCancel(context.Background())
	var msg string
	done := make(chan *flows.Result, 1)
	go func() { done <- eng.AuthCode(ctx, nil) }()
	msg = <-got
	cancel()
	res := <-done
	if !strings.HasPrefix(msg, "HTTP 400") || !strings.Contains(msg, "invalid_request") || !strings.Contains(msg, "invalid request signature") {
		t.Fatalf("zitadel answered %q", msg)
	}
	if res.OK || res.Err == nil || res.Err.Kind != flows.ErrCancelled {
		t.Fatalf("flow: ok=%v err=%+v", res.OK, res.Err)
	}
}
