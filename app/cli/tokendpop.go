package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"authlab/flows"
	"authlab/flows/dpop"
	"authlab/views/render"
)

// tokDPoPFlags are token inspect's DPoP options.
type tokDPoPFlags struct {
	key, jkt, method, url, accessToken string
}

// wantJKT is the thumbprint --dpop-key or --dpop-jkt names, or "".
func (f *tokDPoPFlags) wantJKT() (string, error) {
	switch {
	case f.key != "" && f.jkt != "":
		return "", usageErr("give --dpop-key or --dpop-jkt, not both")
	case f.jkt != "":
		return strings.TrimSpace(f.jkt), nil
	case f.key != "":
		b, err := flows.ReadFileCapped(f.key, flows.MaxKeyFileSize)
		if err != nil {
			return "", usageErr("--dpop-key: %v", err)
		}
		k, err := dpop.Load(b, "")
		if err != nil {
			return "", usageErr("--dpop-key %s: %v", f.key, err)
		}
		return k.JKT(), nil
	}
	return "", nil
}

// jktCheck is the cnf.jkt check of a token against --dpop-key/--dpop-jkt;
// ok false when neither was given.
func (f *tokDPoPFlags) jktCheck(claims map[string]any) (flows.Check, bool, error) {
	want, err := f.wantJKT()
	if err != nil || want == "" {
		return flows.Check{}, false, err
	}
	return dpop.JKTCheck(want, dpop.CnfJKT(claims), "the token"), true, nil
}

type tokProofJSON struct {
	Flow   string         `json:"flow"`
	OK     bool           `json:"ok"`
	Error  *flows.Error   `json:"error,omitempty"`
	Kind   string         `json:"kind"`
	Header map[string]any `json:"header,omitempty"`
	Claims map[string]any `json:"claims,omitempty"`
	JKT    string         `json:"jkt,omitempty"`
	Checks []flows.Check  `json:"checks"`
}

// inspectProof checks a DPoP proof (typ dpop+jwt) given to token inspect.
func inspectProof(g *globals, f *tokDPoPFlags, leeway time.Duration, asJSON bool, raw string) error {
	want, err := f.wantJKT()
	if err != nil {
		return err
	}
	window := 5 * time.Minute
	if leeway > window {
		window = leeway
	}
	checks, jkt, d := dpop.Verify(raw, dpop.VerifyOptions{Method: f.method, URL: f.url, AccessToken: f.accessToken, JKT: want, Window: window})
	failed := flows.AnyFailed(checks)
	if asJSON {
		out := tokProofJSON{Flow: "token inspect", OK: !failed, Kind: "dpop_proof", JKT: jkt, Checks: checks}
		if d != nil {
			out.Header, out.Claims = d.Header, d.Claims
		}
		for _, c := range checks {
			if c.Status == flows.Fail {
				out.Error = &flows.Error{Kind: flows.ErrCheck, Message: c.Name + ": " + c.Detail}
				break
			}
		}
		if err := tokWriteJSON(g.stdout, out); err != nil {
			return err
		}
	} else {
		var b strings.Builder
		b.WriteString("DPoP proof (typ dpop+jwt, RFC 9449)")
		if jkt != "" {
			fmt.Fprintf(&b, ", key jkt %s", jkt)
		}
		b.WriteString("\n")
		if d != nil {
			for _, part := range []struct {
				name string
				m    map[string]any
			}{{"header", d.Header}, {"claims", d.Claims}} {
				fmt.Fprintf(&b, "  %s:", part.name)
				for _, k := range sortedKeys(part.m) {
					v := part.m[k]
					if k == "jwk" {
						if m, ok := v.(map[string]any); ok {
							v = fmt.Sprintf("%v %v", m["kty"], m["crv"])
						}
					}
					fmt.Fprintf(&b, " %s=%v", k, v)
				}
				b.WriteString("\n")
			}
		}
		b.WriteString("\n")
		b.WriteString(render.Checks(checks, render.Options{Width: 100, Now: time.Now(), Loc: time.Local}))
		if _, err := io.WriteString(g.stdout, printableLines(b.String())+"\n"); err != nil {
			return err
		}
	}
	for _, c := range checks {
		if c.Status == flows.Fail {
			return failErr(fmt.Errorf("check %s failed: %s", render.Printable(c.Name), render.Printable(c.Detail)))
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
