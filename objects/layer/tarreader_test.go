package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// step is what one Next and the read of the content gave.
type step struct {
	hdr     *tar.Header
	err     string
	content []byte
	readErr string
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// readSteps reads every entry of a tar, content included.
func readSteps(next func() (*tar.Header, error), content io.Reader) []step {
	var steps []step
	for range 200 {
		hdr, err := next()
		s := step{hdr: hdr, err: errString(err)}
		if err != nil {
			return append(steps, s)
		}
		// At most 64 KiB: a sparse entry may claim petabytes of holes.
		b, err := io.ReadAll(io.LimitReader(content, 64<<10))
		s.content, s.readErr = b, errString(err)
		steps = append(steps, s)
	}
	return steps
}

// sameAsArchiveTar fails unless tarReader reads data as archive/tar does.
func sameAsArchiveTar(t *testing.T, data []byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	want := readSteps(tr.Next, tr)
	fr := newTarReader(bytes.NewReader(data))
	got := readSteps(fr.Next, fr)
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w step
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("entry %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
	}
}

// tarOf writes headers (and content of their size) with archive/tar.
func tarOf(t testing.TB, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarSeeds are tars of every kind of header, and broken ones.
func tarSeeds(t testing.TB) map[string][]byte {
	mtime := time.Unix(1700000000, 0)
	plain := func(f tar.Format) []byte {
		return tarOf(t,
			&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime, Format: f},
			&tar.Header{Name: "d/empty", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime, Format: f},
			&tar.Header{Name: "d/one", Typeflag: tar.TypeReg, Size: 1, Mode: 0o4755, Uid: 1000, Gid: 100, Uname: "u", Gname: "g", ModTime: mtime, Format: f},
			&tar.Header{Name: "d/block", Typeflag: tar.TypeReg, Size: 512, Mode: 0o600, ModTime: mtime, Format: f},
			&tar.Header{Name: "d/more", Typeflag: tar.TypeReg, Size: 513, Mode: 0o600, ModTime: mtime, Format: f},
			&tar.Header{Name: "d/link", Typeflag: tar.TypeSymlink, Linkname: "one", Mode: 0o777, ModTime: mtime, Format: f},
			&tar.Header{Name: "d/hard", Typeflag: tar.TypeLink, Linkname: "d/one", ModTime: mtime, Format: f},
			&tar.Header{Name: strings.Repeat("p", 120) + "/" + strings.Repeat("n", 90), Typeflag: tar.TypeReg, Size: 3, ModTime: mtime, Format: f},
			&tar.Header{Name: "dev", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, ModTime: mtime, Format: f},
			&tar.Header{Name: "fifo", Typeflag: tar.TypeFifo, ModTime: mtime, Format: f},
		)
	}
	seeds := map[string][]byte{
		"ustar": plain(tar.FormatUSTAR),
		"gnu":   plain(tar.FormatGNU),
		"pax": tarOf(t,
			&tar.Header{Name: strings.Repeat("long/", 60) + "f", Typeflag: tar.TypeReg, Size: 5, ModTime: mtime, Format: tar.FormatPAX},
			&tar.Header{Name: "x", Typeflag: tar.TypeReg, Size: 2, ModTime: time.Unix(1700000000, 123456789), Format: tar.FormatPAX},
			&tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 1, PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}, Format: tar.FormatPAX},
			&tar.Header{Name: "é", Typeflag: tar.TypeReg, Size: 1, Format: tar.FormatPAX},
			&tar.Header{Name: "after", Typeflag: tar.TypeReg, Size: 4, Format: tar.FormatUSTAR},
		),
		"global": tarOf(t,
			&tar.Header{Name: "g", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "c"}},
			&tar.Header{Name: "f", Typeflag: tar.TypeReg, Size: 600},
		),
		"base256": tarOf(t, &tar.Header{Name: "big-uid", Typeflag: tar.TypeReg, Size: 1, Uid: 1 << 30, Format: tar.FormatGNU}),
	}
	u := seeds["ustar"]
	bad := func(name string, edit func(b []byte) []byte) {
		seeds[name] = edit(bytes.Clone(u))
	}
	bad("cut in a header", func(b []byte) []byte { return b[:512+100] })
	bad("cut in content", func(b []byte) []byte { return b[:3*512+1] })
	bad("cut in padding", func(b []byte) []byte { return b[:3*512+100] })
	bad("cut at a header", func(b []byte) []byte { return b[:3*512] })
	bad("bad checksum", func(b []byte) []byte { b[512+offChksum] = '7'; return b })
	bad("star trailer", func(b []byte) []byte { copy(b[offTrailer:], "tar\x00"); fixChecksum(b[:512]); return b })
	bad("non-ASCII name", func(b []byte) []byte { b[512+1] = 0xe9; fixChecksum(b[512:1024]); return b })
	bad("stray byte in size", func(b []byte) []byte { b[512+offSize+3] = '9'; fixChecksum(b[512:1024]); return b })
	bad("no NUL after size", func(b []byte) []byte { b[512+offSize+11] = ' '; fixChecksum(b[512:1024]); return b })
	bad("zero block then data", func(b []byte) []byte { return append(append(b[:512], zeroBlock[:]...), u[512:]...) })
	bad("size on a directory", func(b []byte) []byte { copy(b[offSize:], "00000000001\x00"); fixChecksum(b[:512]); return b })
	bad("regA file", func(b []byte) []byte { b[512+offType] = 0; fixChecksum(b[512:1024]); return b })
	return seeds
}

// fixChecksum sets blk's checksum for its content.
func fixChecksum(blk []byte) {
	copy(blk[offChksum:offChksum+lenChksum], "        ")
	sum := 0
	for _, c := range blk {
		sum += int(c)
	}
	copy(blk[offChksum:], fmt.Sprintf("%06o\x00 ", sum))
}

func TestTarReaderAsArchiveTar(t *testing.T) {
	for name, data := range tarSeeds(t) {
		t.Run(name, func(t *testing.T) { sameAsArchiveTar(t, data) })
	}
}

// failingReader reads data, but fails once with errBroken at offset
// at: a reader that went on after a failure would read on.
type failingReader struct {
	data   []byte
	at     int
	off    int
	failed bool
}

var errBroken = errors.New("broken stream")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.off >= r.at && !r.failed {
		r.failed = true
		return 0, errBroken
	}
	end := len(r.data)
	if !r.failed {
		end = min(r.at, end)
	}
	n := copy(p, r.data[r.off:end])
	r.off += n
	if n == 0 && r.off == len(r.data) {
		return 0, io.EOF
	}
	return n, nil
}

// TestTarReaderFailingStream: a stream that fails (a decoder's error)
// fails both readers alike, wherever it breaks, and they stay failed.
func TestTarReaderFailingStream(t *testing.T) {
	data := tarSeeds(t)["ustar"]
	for at := 0; at < len(data); at += 97 {
		tr := tar.NewReader(&failingReader{data: data, at: at})
		want := readSteps(tr.Next, tr)
		fr := newTarReader(&failingReader{data: data, at: at})
		got := readSteps(fr.Next, fr)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stream failing at %d:\n got %+v\nwant %+v", at, got, want)
		}
	}
}

// TestTarReaderParsesPlainHeaders checks that the fast path is taken
// for what strata writes: parseUSTAR parses every header of a plain
// ustar tar, as archive/tar does.
func TestTarReaderParsesPlainHeaders(t *testing.T) {
	data := tarSeeds(t)["ustar"]
	tr := tar.NewReader(bytes.NewReader(data))
	for off := 0; ; {
		want, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseUSTAR((*[blockSize]byte)(data[off : off+blockSize]))
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("header at %d: %+v (%v), want %+v", off, got, ok, want)
		}
		off += blockSize + int(contentSize(want)+padding(contentSize(want)))
	}
}

func FuzzTarReader(f *testing.F) {
	for _, data := range tarSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsArchiveTar(t, data) })
}
