package mapfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func mapped(t *testing.T, content []byte) (string, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Map(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmap(b) })
	return p, b
}

// Drop takes pages out of the resident set, never out of the mapping.
func TestMapDropReads(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	_, b := mapped(t, want)
	Drop(b[100:])
	got, err := io.ReadAll(NewReader(b))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (%v) after Drop, want the file's %d", len(got), err, len(want))
	}
}

// A mapping read past its file's new end gives ErrFault, not a crash.
func TestReaderFaultsPastEnd(t *testing.T) {
	p, b := mapped(t, make([]byte, 1<<20))
	if err := os.Truncate(p, 4096); err != nil {
		t.Fatal(err)
	}
	r := NewReader(b)
	buf := make([]byte, 1<<20)
	var err error
	for err == nil {
		_, err = r.Read(buf)
	}
	if !errors.Is(err, ErrFault) {
		t.Fatalf("reading past the end: %v, want ErrFault", err)
	}
}

// Guard passes on any panic that is not a fault.
func TestGuardRepanics(t *testing.T) {
	defer func() {
		if v := recover(); v != "not a fault" {
			t.Fatalf("recovered %v", v)
		}
	}()
	var err error
	func() {
		defer Guard(&err)
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		panic("not a fault")
	}()
	t.Fatalf("Guard swallowed a panic (err %v)", err)
}

func TestMapEmptyAndNotRegular(t *testing.T) {
	_, b := mapped(t, nil)
	if len(b) != 0 {
		t.Fatalf("empty file mapped to %d bytes", len(b))
	}
	d, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := Map(d); err == nil {
		t.Fatal("a directory was mapped")
	}
}
