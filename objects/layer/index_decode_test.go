package layer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func sampleIndex(n int) []Entry {
	out := []Entry{
		{Path: "/", Type: TypeDir, Mode: 0o755, ModTime: time.Unix(1, 2).UTC()},
		{Path: "/dev/null", Type: TypeChar, Mode: 0o666, Major: 1, Minor: 3, ModTime: time.Unix(3, 0).UTC()},
		{Path: "/odd name\n\"q\"", Type: TypeFile, Mode: 0o4755, UID: 1000, GID: 7, Size: 12, ModTime: time.Unix(5, 999999999).UTC(),
			Digest: "blake3:" + strings.Repeat("ab", 32), Xattrs: "blake3:" + strings.Repeat("cd", 32)},
		{Path: "/ln", Type: TypeSymlink, Mode: 0o777, Link: "target with space", ModTime: time.Unix(6, 0).UTC()},
		{Path: "/hard", Type: TypeHardlink, Mode: 0o644, Size: 12, Link: "/odd name\n\"q\"", ModTime: time.Unix(7, 0).UTC()},
		{Path: "/gone", Type: TypeWhiteout, ModTime: time.Unix(0, 0).UTC()},
	}
	for i := 0; i < n; i++ {
		out = append(out, Entry{Path: fmt.Sprintf("/d%05d/f%04d", i/1000, i%1000), Type: TypeFile, Mode: 0o644,
			Size: 20, ModTime: time.Unix(1700000000, int64(i)).UTC(), Digest: fmt.Sprintf("blake3:%064x", i)})
	}
	return out
}

// TestDecodeIndex: the one-buffer decoder gives back what EncodeIndex
// wrote, from a file (read in one buffer of its size) as from any reader,
// and still names the bad line of a malformed index.
func TestDecodeIndex(t *testing.T) {
	want := sampleIndex(3000)
	var buf bytes.Buffer
	if err := EncodeIndex(&buf, want); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "index")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fromFile, err := DecodeIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	fromReader, err := DecodeIndex(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, want) || !reflect.DeepEqual(fromReader, want) {
		t.Fatalf("decoded index differs from the encoded one")
	}
	all, err := DecodeIndexFunc(bytes.NewReader(buf.Bytes()), func(*Entry) bool { return true })
	if err != nil || !reflect.DeepEqual(all, want) {
		t.Fatalf("DecodeIndexFunc keeping all differs (%v)", err)
	}
	var some []Entry
	for _, e := range want {
		if e.Type != TypeFile || strings.HasSuffix(e.Path, "7") {
			some = append(some, e)
		}
	}
	got, err := DecodeIndexFunc(bytes.NewReader(buf.Bytes()), func(e *Entry) bool { return e.Type != TypeFile || strings.HasSuffix(e.Path, "7") })
	if err != nil || !reflect.DeepEqual(got, some) {
		t.Fatalf("DecodeIndexFunc keeping some differs (%v)", err)
	}
	crlf := strings.ReplaceAll(buf.String(), "\n", "\r\n")
	if got, err := DecodeIndex(strings.NewReader(crlf)); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("CRLF index: %v", err)
	}
	if got, err := DecodeIndex(strings.NewReader(indexHeader + "\n")); err != nil || len(got) != 0 {
		t.Fatalf("empty index: %v, %d entries", err, len(got))
	}
	for _, bad := range []string{
		"",
		"strata-index 2\n",
		indexHeader + "\nf 0644 0 0 1 1.0 - - - \"/a\"\nf 0644 0 0 1 1.0 - -\n",
		indexHeader + "\nf 0644 0 0 1 1.0 - - - \"/a\"\n\nf 0644 0 0 1 1.0 - - - \"/b\"\n",
		indexHeader + "\nf 0644 0 0 1 1.0 - - - \"/a\" x\n",
		indexHeader + "\nz 0644 0 0 1 1.0 - - - \"/a\"\n",
	} {
		if _, err := DecodeIndex(strings.NewReader(bad)); !errors.Is(err, ErrBadIndex) {
			t.Errorf("%q: err %v, want ErrBadIndex", bad, err)
		}
		if _, err := DecodeIndexFunc(strings.NewReader(bad), func(*Entry) bool { return true }); !errors.Is(err, ErrBadIndex) {
			t.Errorf("%q: DecodeIndexFunc err %v, want ErrBadIndex", bad, err)
		}
	}
	_, err = DecodeIndex(strings.NewReader(indexHeader + "\nf 0644 0 0 1 1.0 - - - \"/a\"\nf 0644 0 0 1 1.0 - -\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("malformed line 3 reported as %v", err)
	}
}

// BenchmarkDecodeIndexHeap reports the live heap a decoded index holds
// per entry (heap-B/entry) and the allocations per decode (B/op), from a
// file as status reads a layer's index. Issue 15: a million-file status
// under 500 MB. Before the one-buffer decoder: 259 heap-B/entry and
// 920 B allocated per entry (200,048 allocs/op); after: 255 and 255 (11).
func BenchmarkDecodeIndexHeap(b *testing.B) {
	benchDecodeHeap(b, 100000, DecodeIndex)
}

// BenchmarkDecodeIndexFuncHeap: the live heap, per entry of the index, of
// keeping one path in a hundred (status looking up what the upper
// touched). It must stay a small fraction of BenchmarkDecodeIndexHeap's.
func BenchmarkDecodeIndexFuncHeap(b *testing.B) {
	const n = 100000
	keep := func(e *Entry) bool { return strings.HasSuffix(e.Path, "/f0000") }
	kept := benchDecodeHeap(b, n, func(f io.Reader) ([]Entry, error) { return DecodeIndexFunc(f, keep) })
	if kept != n/1000 {
		b.Fatalf("kept %d entries, want %d", kept, n/1000)
	}
}

// benchDecodeHeap reports, as heap-B/entry, the live heap of what decode
// keeps of an index of n entries (sampleIndex) read from a file, and
// returns how many entries it kept.
func benchDecodeHeap(b *testing.B, n int, decode func(io.Reader) ([]Entry, error)) (kept int) {
	var buf bytes.Buffer
	if err := EncodeIndex(&buf, sampleIndex(n)); err != nil {
		b.Fatal(err)
	}
	name := filepath.Join(b.TempDir(), "index")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	var live uint64
	b.ReportAllocs()
	for b.Loop() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		entries, err := decode(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live = ms.HeapAlloc - before
		kept = len(entries)
		runtime.KeepAlive(entries)
	}
	b.ReportMetric(float64(live)/float64(n), "heap-B/entry")
	return kept
}
