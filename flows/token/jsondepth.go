package token

import (
	"encoding/json"
	"strconv"
)

// MaxJSONDepth is how deeply nested a header or claim value is written out
// as JSON. Indented JSON repeats the indent of every level on every line,
// so output grows with the square of the nesting: a 26 KB token nesting
// ten thousand arrays became 200 MB. Real claims nest a handful of levels.
const MaxJSONDepth = 32

// BoundDepth returns m with every object or array nested more than max
// levels below it replaced by a string saying what was left out (see
// DepthMarker). m is never modified; when nothing is that deep, m itself is
// returned. The cost is linear in the size of m.
func BoundDepth(m map[string]any, max int) map[string]any {
	if m == nil || !deeperThan(m, max) {
		return m
	}
	out, _ := bound(m, 0, max).(map[string]any)
	return out
}

// DepthMarker is the value written in place of a subtree cut at max levels.
func DepthMarker(max, size int) string {
	return "(nested deeper than " + strconv.Itoa(max) + " levels: " + strconv.Itoa(size) + " bytes of JSON not shown)"
}

// deeperThan reports whether v holds a container more than max levels down;
// it stops at depth max+1, so its recursion is bounded too.
func deeperThan(v any, max int) bool {
	switch x := v.(type) {
	case map[string]any:
		if max <= 0 {
			return true
		}
		for _, e := range x {
			if deeperThan(e, max-1) {
				return true
			}
		}
	case []any:
		if max <= 0 {
			return true
		}
		for _, e := range x {
			if deeperThan(e, max-1) {
				return true
			}
		}
	}
	return false
}

// bound copies v down to max levels; each cut subtree is encoded once to
// measure it, so the whole is still linear.
func bound(v any, depth, max int) any {
	switch x := v.(type) {
	case map[string]any:
		if depth >= max {
			return cut(x, max)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = bound(e, depth+1, max)
		}
		return out
	case []any:
		if depth >= max {
			return cut(x, max)
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = bound(e, depth+1, max)
		}
		return out
	}
	return v
}

func cut(v any, max int) string {
	b, err := json.Marshal(v)
	if err != nil {
		return DepthMarker(max, 0)
	}
	return DepthMarker(max, len(b))
}

// MarshalJSON writes the token with its header and claims bounded to
// MaxJSONDepth levels, so JSON output stays linear in the token's size.
func (d Decoded) MarshalJSON() ([]byte, error) {
	type plain Decoded // without this method
	p := plain(d)
	p.Header = BoundDepth(d.Header, MaxJSONDepth)
	p.Claims = BoundDepth(d.Claims, MaxJSONDepth)
	return json.Marshal(p)
}
