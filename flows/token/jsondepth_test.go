package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// deepToken is an unsigned JWT whose "deep" claim nests depth arrays.
func deepToken(depth int) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims := `{"sub":"x","deep":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + "."
}

func TestDecodedJSONIsBoundedInDepth(t *testing.T) {
	raw := deepToken(9000) // about 24 KB
	d, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ") // what --json does: the indent is where the square came from
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 16*len(raw) {
		t.Fatalf("%d bytes of JSON for a %d-byte token", buf.Len(), len(raw))
	}
	var back struct{ Claims map[string]any }
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	v := back.Claims["deep"]
	for i := 1; i < MaxJSONDepth; i++ {
		a, ok := v.([]any)
		if !ok || len(a) != 1 {
			t.Fatalf("level %d is %T, want the array kept", i, v)
		}
		v = a[0]
	}
	if s, _ := v.(string); !strings.HasPrefix(s, "(nested deeper than 32 levels: ") || !strings.HasSuffix(s, " bytes of JSON not shown)") {
		t.Fatalf("at the cut: %#v", v)
	}
	// The decoded token itself is untouched (the human view shows it).
	if a, ok := d.Claims["deep"].([]any); !ok || len(a) != 1 {
		t.Fatal("Decode's claims were modified")
	}
}

func TestBoundDepthLeavesShallowValuesAlone(t *testing.T) {
	m := map[string]any{"a": []any{map[string]any{"b": "c"}}, "n": json.Number("1")}
	if got := BoundDepth(m, 3); len(got) != 2 || got["n"] != m["n"] || got["a"].([]any)[0].(map[string]any)["b"] != "c" {
		t.Fatalf("got %v", got)
	}
	got := BoundDepth(m, 2) // the object inside "a" is two levels down
	if s, _ := got["a"].([]any)[0].(string); s != DepthMarker(2, len(`{"b":"c"}`)) {
		t.Fatalf("cut at 2: %#v", got)
	}
	if _, ok := m["a"].([]any)[0].(map[string]any); !ok {
		t.Fatal("the input was modified")
	}
}
