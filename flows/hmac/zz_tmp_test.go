package hmac

import (
	"testing"
	"time"
)

func BenchmarkTmpClone(b *testing.B) {
	proto := benchMessage()
	for b.Loop() {
		m := *proto
		m.Header = proto.Header.Clone()
	}
}
func BenchmarkTmpSign(b *testing.B) {
	key := NewKey([]byte("bench-secret-0123456789abcdef"))
	now := time.Unix(1795752000, 0)
	signer, _ := NewSigner9421(key, RFC9421Options{Now: func() time.Time { return now }, Params: Params{KeyID: "k"}})
	proto := benchMessage()
	b.ReportAllocs()
	for b.Loop() {
		m := *proto
		m.Header = proto.Header.Clone()
		signer.Sign(&m)
	}
}
func BenchmarkTmpVerify(b *testing.B) {
	key := NewKey([]byte("bench-secret-0123456789abcdef"))
	now := time.Unix(1795752000, 0)
	signer, _ := NewSigner9421(key, RFC9421Options{Now: func() time.Time { return now }, Params: Params{KeyID: "k"}})
	m := benchMessage()
	signer.Sign(m)
	v := &Verifier{Key: key, Now: func() time.Time { return now }}
	b.ReportAllocs()
	for b.Loop() {
		v.Verify9421(m)
	}
}
func BenchmarkTmpMAC(b *testing.B) {
	key := NewKey([]byte("bench-secret-0123456789abcdef"))
	msg := make([]byte, 215)
	for b.Loop() {
		st := key.state()
		st.sumOf(msg)
		key.put(st)
	}
}

func BenchmarkTmpPieces(b *testing.B) {
	key := NewKey([]byte("bench-secret-0123456789abcdef"))
	now := time.Unix(1795752000, 0)
	signer, _ := NewSigner9421(key, RFC9421Options{Now: func() time.Time { return now }, Params: Params{KeyID: "k"}})
	m := benchMessage()
	signer.Sign(m)
	v := &Verifier{Key: key, Now: func() time.Time { return now }}
	si, sg := m.Header.Get("Signature-Input"), m.Header.Get("Signature")
	b.Run("parseInput", func(b *testing.B) {
		for b.Loop() {
			var in sigInput
			parseSigInputFast(si, "", &in)
		}
	})
	b.Run("parseSig", func(b *testing.B) {
		for b.Loop() {
			var buf [64]byte
			parseSignatureFast(sg, "sig1", &buf)
		}
	})
	var in sigInput
	parseSigInputFast(si, "", &in)
	b.Run("base", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		for b.Loop() {
			bb := buf[:0]
			for _, id := range in.ids[:in.n] {
				bb, _ = appendPlainComponent(bb, id, id[1:len(id)-1], m)
			}
		}
	})
	b.Run("digest", func(b *testing.B) {
		cd := m.Header.Get("Content-Digest")
		for b.Loop() {
			contentDigestMatches(cd, m.Body)
		}
	})
	b.Run("result", func(b *testing.B) {
		for b.Loop() {
			r := newResult(SchemeRFC9421)
			r.pass("key known", keyDetail("k"))
			r.pass("covered", "x")
			r.pass("digest", "")
			r.pass("sig", "x")
		}
	})
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			r := newResult(SchemeRFC9421)
			v.checkFreshness9421(r, freshness9421{created: now.Unix(), keyid: "k"})
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			r := newResult(SchemeRFC9421)
			v.verify9421Fast(r, m)
		}
	})
}
