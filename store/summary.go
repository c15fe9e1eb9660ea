package store

import (
	"bytes"
	"encoding/json"
	"time"
)

// decodeSummary reads the few top-level fields `profile list` needs from a
// profile record without decoding the rest: a 10,000-profile list must stay
// well under 100 ms, and full JSON decoding was most of that. Anything it
// does not expect (bad JSON, odd types) falls back to encoding/json, so the
// result matches a full decode for every record encoding/json writes (the
// only writer of this bucket) and for the odd inputs store_test.go lists.
func decodeSummary(v []byte) (summaryRecord, error) {
	var r summaryRecord
	if scanSummary(v, &r) {
		return r, nil
	}
	r = summaryRecord{}
	err := json.Unmarshal(v, &r)
	return r, err
}

// scanSummary walks one JSON object; it returns false when it meets
// anything it does not handle, and the caller decodes normally.
func scanSummary(b []byte, r *summaryRecord) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		kEnd, esc := scanString(b, i)
		if kEnd < 0 || esc {
			return false
		}
		key := b[i+1 : kEnd-1]
		for _, c := range key {
			if c >= 'A' && c <= 'Z' { // encoding/json matches keys case-insensitively
				return false
			}
		}
		i = skipWS(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		vEnd := skipValue(b, i)
		if vEnd < 0 {
			return false
		}
		val := b[i:vEnd]
		var dst *string
		switch string(key) {
		case "name":
			dst = &r.Name
		case "kind":
			dst = (*string)(&r.Kind)
		case "issuer":
			dst = &r.Issuer
		case "token_url":
			dst = &r.TokenURL
		case "target_url":
			dst = &r.TargetURL
		case "auth_url":
			dst = &r.AuthURL
		case "device_url":
			dst = &r.DeviceURL
		case "introspect_url":
			dst = &r.IntrospectURL
		case "userinfo_url":
			dst = &r.UserinfoURL
		case "tags":
			tags, ok := plainStringList(val)
			if !ok {
				return false
			}
			r.Tags = tags
		case "demo":
			switch string(val) {
			case "true":
				r.Demo = true
			case "false":
				r.Demo = false
			default:
				return false
			}
		case "updated_at":
			// The same parser encoding/json uses, for the same result.
			var t time.Time
			if val[0] != '"' || t.UnmarshalJSON(val) != nil {
				return false
			}
			r.UpdatedAt = t
		}
		if dst != nil {
			s, ok := plainString(val)
			if !ok {
				return false
			}
			*dst = s
		}
		i = skipWS(b, vEnd)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipWS(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipWS(b, i+1)
	}
}

// plainString returns the contents of a JSON string without escapes.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	end, esc := scanString(v, 0)
	if end != len(v) || esc {
		return "", false
	}
	for _, c := range v[1 : len(v)-1] {
		if c < 0x20 { // invalid JSON: let encoding/json report it
			return "", false
		}
	}
	return string(v[1 : len(v)-1]), true
}

// plainStringList reads ["a","b"] without escapes; null is a nil list.
func plainStringList(v []byte) ([]string, bool) {
	if string(v) == "null" {
		return nil, true
	}
	i := skipWS(v, 0)
	if i >= len(v) || v[i] != '[' {
		return nil, false
	}
	out := []string{}
	i = skipWS(v, i+1)
	if i < len(v) && v[i] == ']' {
		return out, skipWS(v, i+1) == len(v)
	}
	for {
		end, esc := scanString(v, i)
		if i >= len(v) || v[i] != '"' || end < 0 || esc {
			return nil, false
		}
		s, ok := plainString(v[i:end])
		if !ok {
			return nil, false
		}
		out = append(out, s)
		i = skipWS(v, end)
		if i >= len(v) {
			return nil, false
		}
		if v[i] == ']' {
			return out, skipWS(v, i+1) == len(v)
		}
		if v[i] != ',' {
			return nil, false
		}
		i = skipWS(v, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the closing quote of the string at
// b[i], and whether it contains a backslash escape; -1 if unterminated.
// bytes.IndexByte keeps the common escape-free case fast.
func scanString(b []byte, i int) (int, bool) {
	esc := false
	j := i + 1
	for j <= len(b) {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1, esc
		}
		end := j + k
		if bs := bytes.IndexByte(b[j:end], '\\'); bs >= 0 {
			// Step over the escape and look for the closing quote again.
			esc = true
			j += bs + 2
			continue
		}
		return end + 1, esc
	}
	return -1, esc
}

// skipValue returns the index after the JSON value at b[i], or -1. It
// checks structure only loosely; callers only trust values they decode.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := scanString(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := scanString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
