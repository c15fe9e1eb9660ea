package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"authlab/flows/dpop"
	"authlab/mockidp/mockidptest"
)

type dpopFlowJSON struct {
	OK    bool           `json:"ok"`
	Token map[string]any `json:"token"`
	DPoP  *struct {
		JKT          string `json:"jkt"`
		Alg          string `json:"alg"`
		NonceRetries *int   `json:"nonce_retries"`
	} `json:"dpop"`
	Exchanges []struct {
		URL  string `json:"url"`
		DPoP *struct {
			Header map[string]any `json:"header"`
			Claims map[string]any `json:"claims"`
		} `json:"dpop"`
	} `json:"exchanges"`
	Checks []struct{ Name, Status, Detail string } `json:"checks"`
}

func writeDPoPKey(t *testing.T) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	path := filepath.Join(t.TempDir(), "dpop.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFlowDPoPJSONAndTokenInspect(t *testing.T) {
	idp := mockidptest.New(t)
	keyFile := writeDPoPKey(t)
	keyPEM, _ := os.ReadFile(keyFile)
	code, out, errs := runAuthlab(t, "", "", "flow", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-dpop", "--client-secret", "demo-dpop-secret", "--dpop-key", keyFile,
		"--call", idp.Issuer()+"/api/hello", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var j dpopFlowJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.DPoP == nil || j.DPoP.Alg != "ES256" || j.DPoP.JKT == "" || j.DPoP.NonceRetries == nil || *j.DPoP.NonceRetries != 0 {
		t.Fatalf("dpop %+v", j.DPoP)
	}
	if j.Token["token_type"] != "DPoP" {
		t.Fatalf("token_type %v", j.Token["token_type"])
	}
	proofs := 0
	for _, ex := range j.Exchanges {
		if ex.DPoP != nil {
			proofs++
			if ex.DPoP.Header["typ"] != "dpop+jwt" || ex.DPoP.Claims["htu"] == nil {
				t.Fatalf("proof %+v", ex.DPoP)
			}
		}
	}
	if proofs != 2 {
		t.Fatalf("%d decoded proofs, want 2", proofs)
	}
	if strings.Contains(out+errs, "PRIVATE KEY") || strings.Contains(out, `"d":`) || strings.Contains(out+errs, strings.Split(string(keyPEM), "\n")[1]) {
		t.Fatal("the DPoP private key was printed")
	}
	at, _ := j.Token["access_token"].(string)

	// token inspect: cnf.jkt against the key file, the thumbprint, and a wrong one.
	if code, out, errs := runAuthlab(t, "", "", "token", "inspect", "--issuer", idp.Issuer(), "--dpop-key", keyFile, at); code != 0 || !strings.Contains(out, "cnf.jkt") {
		t.Fatalf("inspect --dpop-key: exit %d %s %s", code, errs, out)
	}
	if code, _, errs := runAuthlab(t, "", "", "token", "inspect", "--issuer", idp.Issuer(), "--dpop-jkt", j.DPoP.JKT, at); code != 0 {
		t.Fatalf("inspect --dpop-jkt: exit %d %s", code, errs)
	}
	other, _ := dpop.Generate("ES256")
	code, _, errs = runAuthlab(t, "", "", "token", "inspect", "--issuer", idp.Issuer(), "--dpop-jkt", other.JKT(), at)
	if code != 1 || !strings.Contains(errs, other.JKT()) || !strings.Contains(errs, j.DPoP.JKT) {
		t.Fatalf("inspect wrong jkt: exit %d %s", code, errs)
	}

	// A DPoP proof given to inspect is recognised and checked.
	k, _ := dpop.Generate("EdDSA")
	proof, _ := k.Proof("GET", idp.Issuer()+"/api/hello", "", at)
	code, out, errs = runAuthlab(t, "", "", "token", "inspect", "--method", "GET", "--url", idp.Issuer()+"/api/hello?x=1", "--access-token", at, "--json", proof)
	var pj struct {
		OK     bool   `json:"ok"`
		Kind   string `json:"kind"`
		JKT    string `json:"jkt"`
		Checks []struct{ Name, Status string }
	}
	json.Unmarshal([]byte(out), &pj)
	if code != 0 || !pj.OK || pj.Kind != "dpop_proof" || pj.JKT != k.JKT() || len(pj.Checks) < 8 {
		t.Fatalf("proof inspect: exit %d %s %s", code, errs, out)
	}
	code, _, errs = runAuthlab(t, "", "", "token", "inspect", "--method", "POST", "--url", idp.Issuer()+"/token", proof)
	if code != 1 || !strings.Contains(errs, "dpop htm") {
		t.Fatalf("proof with wrong method: exit %d %s", code, errs)
	}
}

func TestProfileKeepsDPoP(t *testing.T) {
	idp := mockidptest.New(t)
	st := filepath.Join(t.TempDir(), "s.db")
	keyFile := writeDPoPKey(t)
	if code, _, errs := runAuthlab(t, st, "", "profile", "add", "dp", "--kind", "client-credentials", "--issuer", idp.Issuer(),
		"--client-id", "demo-dpop", "--client-secret", "demo-dpop-secret", "--dpop-key", "file:"+keyFile, "--dpop-alg", "ES256"); code != 0 {
		t.Fatalf("profile add: %s", errs)
	}
	code, out, errs := runAuthlab(t, st, "", "run", "dp", "--json")
	if code != 0 {
		t.Fatalf("run: exit %d %s %s", code, errs, out)
	}
	var j dpopFlowJSON
	json.Unmarshal([]byte(out), &j)
	k, _ := dpop.Load(mustRead(t, keyFile), "")
	if j.DPoP == nil || j.DPoP.JKT != k.JKT() || j.Token["token_type"] != "DPoP" {
		t.Fatalf("run with the profile's DPoP key: %+v", j.DPoP)
	}
	_, show, _ := runAuthlab(t, st, "", "profile", "show", "dp")
	if !strings.Contains(show, "dpop") || strings.Contains(show, "PRIVATE KEY") {
		t.Fatalf("profile show: %s", show)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
