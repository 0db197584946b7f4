package objects

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/opencontainers/go-digest"
)

// benchStore is a repository's store, the one the hot paths use.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Init(b.TempDir() + "/.strata")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPutBytes stores a new small blob (a config, a manifest).
func BenchmarkPutBytes(b *testing.B) {
	s := benchStore(b)
	blob := make([]byte, 600)
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(blob, uint64(i))
		if _, err := s.PutBytes("application/json", blob); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut streams a new 1 MiB blob (a layer) into the store.
func BenchmarkPut(b *testing.B) {
	s := benchStore(b)
	blob := make([]byte, 1<<20)
	b.SetBytes(int64(len(blob)))
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(blob, uint64(i))
		if _, err := s.Put(context.Background(), bytes.NewReader(blob), ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBlob reads and verifies a small blob, as log does.
func BenchmarkReadBlob(b *testing.B) {
	s := benchStore(b)
	desc, err := s.PutBytes("application/json", []byte(`{"a":"config"}`))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.ReadJSONBlob(desc.Digest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHas asks for a present and a missing blob.
func BenchmarkHas(b *testing.B) {
	s := benchStore(b)
	desc, _ := s.PutBytes("application/json", []byte(`{}`))
	missing := digest.FromString("missing")
	for b.Loop() {
		if !s.Has(desc.Digest) || s.Has(missing) {
			b.Fatal("Has")
		}
	}
}
