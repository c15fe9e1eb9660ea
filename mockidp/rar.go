package mockidp

import (
	"bytes"
	"encoding/json"
	"net/http"
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
// authorization_details (RFC 9396 7).
func tokenResponseWithDetails(w http.ResponseWriter, tokenType, access string, exp, now time.Time, scope, refresh, id, details string) {
	b := make([]byte, 0, len(access)+len(id)+len(details)+256)
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, access)
	b = append(b, `,"authorization_details":`...)
	b = append(b, details...)
	b = appendTokenFields(b, tokenType, exp, now, scope, refresh, id, "")
	writeTokenJSON(w, b)
}
