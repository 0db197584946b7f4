package objects

import (
	"errors"
	"os"
	"testing"
)

// A read that stops short of EOF (toEOF false, a walk's) still refuses a
// blob cut short, changed, or with bytes appended: a local filesystem
// returns all of a small file to one read, so content and trailing bytes
// are checked together.
func TestReadVerifiedToEOF(t *testing.T) {
	s, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`{"schemaVersion":2}`)
	desc, err := s.PutBytes("application/json", content)
	if err != nil {
		t.Fatal(err)
	}
	set := func(b []byte) {
		t.Helper()
		p := s.BlobPath(desc.Digest)
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	read := func(toEOF bool) error {
		b, err := s.readVerified(desc.Digest, nil, toEOF)
		if err == nil && string(b) != string(content) {
			t.Fatalf("toEOF %v: read %q, want %q", toEOF, b, content)
		}
		return err
	}
	for _, toEOF := range []bool{true, false} {
		if err := read(toEOF); err != nil {
			t.Fatalf("intact blob, toEOF %v: %v", toEOF, err)
		}
	}
	appended := append(append([]byte{}, content...), " trailing"...)
	for _, bad := range [][]byte{content[:5], []byte(`{"schemaVersion":3}`), appended} {
		set(bad)
		for _, toEOF := range []bool{true, false} {
			if err := read(toEOF); !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("blob %q, toEOF %v: %v, want ErrDigestMismatch", bad, toEOF, err)
			}
		}
	}
}
