package store

import (
	"fmt"
	"path/filepath"
	"testing"
)

// importFile is an export file of n client-credentials profiles.
func importFile(b *testing.B, n int) []byte {
	b.Helper()
	ps := make([]Profile, n)
	for i := range ps {
		ps[i] = Profile{Name: fmt.Sprintf("p%05d", i), Kind: KindClientCredentials,
			TokenURL: "https://idp.example.com/token", ClientID: "client", Scopes: []string{"read", "write"},
			Tags: []string{"bench"}, Notes: "benchmark profile"}
	}
	data, err := EncodeExport(ps, false)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParseImport20k parses a 20,000-profile export file.
func BenchmarkParseImport20k(b *testing.B) {
	data := importFile(b, 20000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ps, err := ParseImport(data)
		if err != nil || len(ps) != 20000 {
			b.Fatalf("ParseImport: %d profiles, %v", len(ps), err)
		}
	}
}

// BenchmarkImport20k imports a 20,000-profile file into a fresh store.
func BenchmarkImport20k(b *testing.B) {
	data := importFile(b, 20000)
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		s, err := Open(filepath.Join(dir, fmt.Sprintf("s%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		n, err := s.Import(data, false)
		s.Close()
		if err != nil || n != 20000 {
			b.Fatalf("Import: %d, %v", n, err)
		}
	}
}
