package mockidp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	hmacsig "authlab/flows/hmac"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// /api/hmac is served by the IdP itself with the published demo key: a
// signed request passes, its replay and an unsigned one do not, and the skew
// fault moves the verifier's clock like every other IdP clock.
func TestHMACResource(t *testing.T) {
	idp := mockidptest.New(t)
	send := func(sign bool, nonce string, now time.Time) (int, map[string]any) {
		t.Helper()
		m, err := hmacsig.NewMessage("POST", idp.URL()+"/api/hmac", nil, []byte(`{"hi":1}`))
		if err != nil {
			t.Fatal(err)
		}
		if sign {
			opts := hmacsig.RFC9421Options{Now: func() time.Time { return now }, Params: hmacsig.Params{KeyID: hmacsig.DemoKeyID, Nonce: nonce}}
			if _, err := hmacsig.Sign9421(m, hmacsig.NewKey([]byte(hmacsig.DemoSecret)), opts); err != nil {
				t.Fatal(err)
			}
		}
		req, _ := http.NewRequest(m.Method, m.URL.String(), bytes.NewReader(m.Body))
		req.Header = m.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	now := time.Now()
	if code, body := send(true, "n1", now); code != 200 || body["keyid"] != hmacsig.DemoKeyID {
		t.Fatalf("signed request: %d %v", code, body)
	}
	if code, body := send(true, "n1", now); code != 401 || !bytes.Contains(mustJSON(body), []byte("replay")) {
		t.Fatalf("replayed nonce: %d %v", code, body)
	}
	if code, _ := send(false, "", now); code != 401 {
		t.Fatalf("unsigned request: %d", code)
	}
	// The IdP's clock 10 minutes ahead: a fresh signature is stale to it.
	if err := idp.SetFaults(mockidp.Faults{Skew: mockidp.Duration(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if code, body := send(true, "n2", now); code != 401 || !bytes.Contains(mustJSON(body), []byte("stale")) {
		t.Fatalf("skewed IdP: %d %v", code, body)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
