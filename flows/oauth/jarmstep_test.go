package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"authlab/flows"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
)

// jarmCapture is formBrowser that also keeps the JARM response each
// redirect carried.
type jarmCapture struct {
	mu   sync.Mutex
	raws []string
}

func (c *jarmCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		if loc, lerr := resp.Location(); lerr == nil {
			if v := loc.Query().Get("response"); v != "" {
				c.mu.Lock()
				c.raws = append(c.raws, v)
				c.mu.Unlock()
			}
		}
	}
	return resp, err
}

func (c *jarmCapture) open(t *testing.T, quiet bool) func(context.Context, string) error {
	return func(ctx context.Context, u string) error {
		hc := noFollow()
		hc.Transport = c
		go func() {
			resp, err := hc.Get(u)
			if err == nil {
				err = walk(hc, resp)
			}
			if err != nil && !quiet {
				t.Errorf("browser: %v", err)
			}
		}()
		return nil
	}
}

func (c *jarmCapture) only(t *testing.T) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.raws) != 1 {
		t.Fatalf("%d JARM responses", len(c.raws))
	}
	return c.raws[0]
}

// decodedStep parses a "header {…} claims {…}" step detail the way the
// console's Timeline does.
func decodedStep(t *testing.T, detail string) (header, claims map[string]any) {
	t.Helper()
	rest, ok := strings.CutPrefix(detail, "header ")
	if !ok {
		t.Fatalf("detail %q", detail)
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	if err := dec.Decode(&header); err != nil {
		t.Fatalf("header: %v in %q", err, detail)
	}
	rest, ok = strings.CutPrefix(strings.TrimSpace(rest[dec.InputOffset():]), "claims ")
	if !ok {
		t.Fatalf("no claims in %q", detail)
	}
	if err := json.Unmarshal([]byte(rest), &claims); err != nil {
		t.Fatalf("claims: %v in %q", err, detail)
	}
	return header, claims
}

func jarmStep(res *flows.Result) *flows.StepEvent {
	for i, s := range res.Steps {
		if s.Name == "jarm response" {
			return &res.Steps[i]
		}
	}
	return nil
}

// TestJARMResponseStep: a verified JARM response is a step with its
// header and claims decoded, equal to the JWT the server sent (read with
// golang-jwt, unverified), with the code masked and the JWT itself absent.
func TestJARMResponseStep(t *testing.T) {
	idp := mockidptest.New(t)
	c := &jarmCapture{}
	req := jwtReq(idp)
	req.PAR, req.RequestObject, req.ResponseMode = true, true, "jwt"
	res := runAuthCodeWith(t, req, c.open(t, false))
	mustOK(t, "jarm", res)
	raw := c.only(t)
	sent := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, sent)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := sent["code"].(string)
	if code == "" {
		t.Fatal("the JARM response has no code")
	}

	st := jarmStep(res)
	if st == nil || !st.OK {
		t.Fatalf("no successful jarm response step in %+v", res.Steps)
	}
	h, claims := decodedStep(t, st.Detail)
	for _, k := range []string{"alg", "kid", "typ"} {
		if want, ok := tok.Header[k]; ok && h[k] != want {
			t.Errorf("header %s = %v, the JWT says %v", k, h[k], want)
		}
	}
	if h["alg"] == nil || h["kid"] == nil {
		t.Errorf("header %v", h)
	}
	for k, want := range sent {
		got := claims[k]
		if k == "code" {
			if got != flows.Masked {
				t.Errorf("code claim shown as %v", got)
			}
			continue
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("claim %s = %s, the JWT says %s", k, gb, wb)
		}
	}
	if len(claims) != len(sent) {
		t.Errorf("%d claims shown, %d sent", len(claims), len(sent))
	}
	for _, s := range res.Steps {
		if strings.Contains(s.Detail, code) || strings.Contains(s.Detail, raw) {
			t.Errorf("step %s shows the code or the JARM response", s.Name)
		}
	}
}

// TestJARMResponseStepOnFailure: an expired JARM response still shows
// decoded, as a failed step, so the exp that failed can be read.
func TestJARMResponseStepOnFailure(t *testing.T) {
	idp := mockidptest.New(t)
	if err := idp.SetFaults(mockidp.Faults{Expired: true}); err != nil {
		t.Fatal(err)
	}
	defer idp.SetFaults(mockidp.Faults{})
	c := &jarmCapture{}
	req := jwtReq(idp)
	req.ResponseMode, req.Wait = "query.jwt", 20*time.Second
	res := runAuthCodeWith(t, req, c.open(t, true))
	if res.OK || checkStatus(res, "jarm exp") != flows.Fail {
		t.Fatalf("ok=%v checks %+v", res.OK, res.Checks)
	}
	raw := c.only(t)
	st := jarmStep(res)
	if st == nil || st.OK {
		t.Fatalf("want a failed jarm response step, got %+v", st)
	}
	_, claims := decodedStep(t, st.Detail)
	sent := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, sent); err != nil {
		t.Fatal(err)
	}
	if exp, _ := sent.GetExpirationTime(); exp == nil || claims["exp"] != float64(exp.Unix()) || claims["code"] != flows.Masked {
		t.Errorf("exp %v code %v; the JWT's exp %v", claims["exp"], claims["code"], exp)
	}
}
