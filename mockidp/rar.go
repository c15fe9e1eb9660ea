package mockidp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// checkDetails validates RFC 9396 authorization_details: a JSON array of
// objects, each with a type the IdP supports (RFC 9396 5:
// invalid_authorization_details otherwise). It returns the compact JSON,
// or a description of the problem.
func (s *Server) checkDetails(raw string) (string, string) {
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &arr); err != nil {
		return "", "authorization_details must be a JSON array of objects (RFC 9396 2)"
	}
	if len(arr) == 0 {
		return "", "authorization_details is an empty array"
	}
	for i, o := range arr {
		var typ string
		if err := json.Unmarshal(o["type"], &typ); err != nil || typ == "" {
			return "", "authorization_details[" + strconv.Itoa(i) + "] has no string type (RFC 9396 2)"
		}
		if !slices.Contains(s.cfg.AuthorizationDetailsTypes, typ) {
			return "", "authorization_details type " + quoteOrNone(typ) + " is not supported (" + strings.Join(s.cfg.AuthorizationDetailsTypes, ", ") + ")"
		}
	}
	var b bytes.Buffer
	_ = json.Compact(&b, []byte(raw))
	return b.String(), ""
}

// tokenResponseWithDetails is tokenResponse with the granted
// authorization_details (RFC 9396 7), when there are any.
func tokenResponseWithDetails(w http.ResponseWriter, tokenType, access string, exp, now time.Time, scope, refresh, id, details string) {
	b := make([]byte, 0, len(access)+len(id)+len(details)+256)
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, access)
	if details != "" {
		b = append(b, `,"authorization_details":`...)
		b = append(b, details...)
	}
	b = appendTokenFields(b, tokenType, exp, now, scope, refresh, id, "")
	writeTokenJSON(w, b)
}

// narrowDetails decides the authorization_details of a token request from
// the granted ones (RFC 9396 6.1): absent, the grant's; else each object
// asked for must lie within a granted object (detailWithin), and the
// answer is exactly what was asked. invalid_authorization_details
// otherwise (RFC 9396 6).
func (s *Server) narrowDetails(granted, requested string) (string, *oauthErr) {
	if requested == "" {
		return granted, nil
	}
	bad := func(desc string) (string, *oauthErr) {
		return "", &oauthErr{http.StatusBadRequest, "invalid_authorization_details", desc, false}
	}
	if len(requested) > 4*maxAuthzParam { // it runs under the store lock; a narrower grant is no bigger
		return bad("authorization_details larger than " + strconv.Itoa(4*maxAuthzParam>>10) + " KiB")
	}
	if granted == "" {
		return bad("authorization_details were not granted for this grant; a token request may only narrow what the authorization granted (RFC 9396 6.1)")
	}
	norm, desc := s.checkDetails(requested)
	if desc != "" {
		return bad(desc)
	}
	want, err1 := decodeDetails(norm)
	have, err2 := decodeDetails(granted)
	if err1 != nil || err2 != nil {
		return bad("authorization_details cannot be compared with the grant")
	}
	for i, o := range want {
		if !slices.ContainsFunc(have, func(g map[string]any) bool { return detailWithin(o, g) }) {
			typ, _ := o["type"].(string)
			return bad("authorization_details[" + strconv.Itoa(i) + "] (type " + quoteOrNone(typ) + ") is not within the authorization_details granted (RFC 9396 6.1)")
		}
	}
	return norm, nil
}

// decodeDetails reads a details array keeping numbers as written, so that
// 10.00 and 10 are different amounts, as they are to a bank.
func decodeDetails(raw string) ([]map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	var out []map[string]any
	return out, d.Decode(&out)
}

// detailWithin reports whether the requested object r asks for no more
// than the granted object g. Type-specific meaning is unknown to the mock
// IdP, so it is strict: the same members (a member left out might mean
// "any"), arrays (actions, locations, datatypes, ...) may drop elements,
// every other value must be equal.
func detailWithin(r, g map[string]any) bool {
	if len(r) != len(g) {
		return false
	}
	for k, gv := range g {
		rv, ok := r[k]
		if !ok {
			return false
		}
		ga, gIsArr := gv.([]any)
		ra, rIsArr := rv.([]any)
		switch {
		case gIsArr && rIsArr:
			for _, e := range ra {
				if !slices.ContainsFunc(ga, func(x any) bool { return reflect.DeepEqual(x, e) }) {
					return false
				}
			}
		case !reflect.DeepEqual(rv, gv):
			return false
		}
	}
	return true
}
