package hmac

import (
	"reflect"
	"testing"
)

var sfSeeds = []string{
	`sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`,
	`sig1=("@method" "@target-uri" "content-digest" "date");created=1;keyid="k";nonce="n";tag="t"`,
	`sig1=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:, sig2=:AAAA:`,
	`a=?1, b;x=1.5, c=("x";bs "y";key="k");p, d=tok/en:x, e=-12`,
	`sig1=("@query-param";name="Pet")`,
	`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`,
}

// FuzzParseSignatureInput: no panic; whatever parses serializes, and the
// serialization parses back to the same structure.
func FuzzParseSignatureInput(f *testing.F) {
	for _, s := range sfSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDictionary(s)
		if err != nil {
			return
		}
		out, err := SerializeDictionary(d)
		if err != nil {
			t.Fatalf("parsed %q but cannot serialize: %v", s, err)
		}
		d2, err := ParseDictionary(out)
		if err != nil {
			t.Fatalf("serialized %q does not parse: %v", out, err)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed %q:\n%#v\n%#v", s, d, d2)
		}
	})
}

// FuzzParseComponents: the --components parser and signature base never
// panic on any input.
func FuzzParseComponents(f *testing.F) {
	f.Add(DefaultComponents)
	f.Add(`"@query-param";name="a" "x";bs "y";key="k"`)
	f.Add(`"@status" "@nope" "UPPER"`)
	f.Fuzz(func(t *testing.T, s string) {
		items, err := ParseComponents(s)
		if err != nil {
			return
		}
		m, _ := NewMessage("GET", "https://e.example/p?a=1", nil, nil)
		m.Header.Set("X", "1")
		m.Header.Set("Y", "k=1")
		SignatureBase(m, &InnerList{Items: items})
	})
}

// FuzzVerify9421: arbitrary Signature-Input / Signature headers never
// panic the verifier and never verify without the key.
func FuzzVerify9421(f *testing.F) {
	for _, s := range sfSeeds {
		f.Add(s, `sig1=:AAAA:`)
	}
	f.Fuzz(func(t *testing.T, input, sig string) {
		m, _ := NewMessage("POST", "https://e.example/p", nil, []byte("x"))
		m.Header.Set("Signature-Input", input)
		m.Header.Set("Signature", sig)
		m.Header.Set("Content-Digest", "sha-256=:AAAA:")
		v := &Verifier{Key: NewKey([]byte("k")), Nonces: NewNonceCache(4)}
		if r := v.Verify9421(m); r.OK {
			t.Fatalf("forged signature verified: %q %q", input, sig)
		}
	})
}
