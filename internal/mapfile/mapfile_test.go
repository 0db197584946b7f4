package mapfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
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

// Populate maps the pages b touches (the kernel may map the rest of
// their folios too); past its file's end it does nothing, not even crash.
func TestPopulate(t *testing.T) {
	p, b := mapped(t, make([]byte, 4<<20))
	Populate(b[page+100 : 3*page])
	if kb := residentKB(t, b); kb < 2*page>>10 {
		t.Fatalf("%d kB resident after populating 2 pages, want %d or more", kb, 2*page>>10)
	}
	Drop(b)
	if err := os.Truncate(p, page); err != nil {
		t.Fatal(err)
	}
	Populate(b)
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

// A Reader drops what it has read: a blob streamed through it (a zstd
// stream of one frame) is never resident whole.
func TestReaderDropsWhatItRead(t *testing.T) {
	const size = 64 << 20
	_, b := mapped(t, bytes.Repeat([]byte{1}, size))
	r := NewReader(b)
	buf := make([]byte, 128<<10) // the streaming decoder's reads
	var n int
	for {
		k, err := r.Read(buf)
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != size {
		t.Fatalf("read %d bytes of %d", n, size)
	}
	if rss := residentKB(t, b); rss > 2*dropEvery>>10 {
		t.Fatalf("%d kB of the %d kB read still resident", rss, size>>10)
	}
}

// residentKB is the Rss of the mapping that holds b, from
// /proc/self/smaps.
func residentKB(t *testing.T, b []byte) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	at := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	in := false
	for _, line := range strings.Split(string(smaps), "\n") {
		var start, end uint64
		if _, err := fmt.Sscanf(line, "%x-%x ", &start, &end); err == nil {
			in = start <= at && at < end
			continue
		}
		var kb int
		if _, err := fmt.Sscanf(line, "Rss: %d kB", &kb); err == nil && in {
			return kb
		}
	}
	t.Fatalf("no mapping at %#x in /proc/self/smaps", at)
	return 0
}

// TestUnchanged: a write in place of the same size, even of the same
// bytes, moves the file's Stamp; a read moves nothing.
func TestUnchanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := StampOf(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(f); err != nil {
		t.Fatal(err)
	}
	if err := Unchanged(f, s); err != nil {
		t.Fatalf("after a read: %v", err)
	}
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if err := Unchanged(f, s); !errors.Is(err, ErrFault) {
		t.Fatalf("after a write in place: %v, want ErrFault", err)
	}
}
