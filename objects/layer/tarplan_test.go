package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/pagewrite"
	"github.com/strata-sh/strata/internal/pagewrite/pagewritetest"
)

// planEntry is one tar entry of a test; content for regular files.
type planEntry struct {
	hdr     tar.Header
	content string
}

func buildTar(t testing.TB, entries []planEntry) []byte {
	t.Helper()
	tb, err := writeTarOf(entries)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func writeTarOf(entries []planEntry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.content))
		}
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(e.content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func dirE(name string, mode int64) planEntry {
	return planEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func fileE(name string, mode int64, content string) planEntry {
	return planEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, content: content}
}

func linkE(typ byte, name, target string) planEntry {
	return planEntry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: target, Mode: 0o644}}
}

// writtenLayer is what a layer writer produced: the compressed blob, the
// index and the result.
type writtenLayer struct {
	blob, index []byte
	res         Result
}

// viaUnpack is the layer of the directory Unpack makes of tarBytes.
func viaUnpack(t *testing.T, tarBytes []byte) (writtenLayer, error) {
	dir := t.TempDir()
	if err := Unpack(context.Background(), bytes.NewReader(tarBytes), dir, Apply); err != nil {
		return writtenLayer{}, err
	}
	var l writtenLayer
	var blob, index bytes.Buffer
	res, err := Create(context.Background(), dir, &blob, WriteOptions{Index: &index})
	l.blob, l.index, l.res = blob.Bytes(), index.Bytes(), res
	return l, err
}

// viaPlan is CreateFromTar of tarBytes, written to a file first.
func viaPlan(t *testing.T, tarBytes []byte) (writtenLayer, error) {
	p := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(p, tarBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var l writtenLayer
	var blob, index bytes.Buffer
	res, err := CreateFromTar(context.Background(), f, &blob, WriteOptions{Index: &index})
	l.blob, l.index, l.res = blob.Bytes(), index.Bytes(), res
	return l, err
}

// planTars are tars the plan must write exactly as an unpack and Create
// do: every kind of entry it models, in an order a tar(1) of a directory
// gives (not sorted), with the names whose per-directory order differs
// from a sort of whole paths ("a-c" before "a/b").
func planTars() map[string][]planEntry {
	ns := time.Unix(1700000123, 456789012)
	long := "d/" + strings.Repeat("long-name-", 12) // a PAX path record
	return map[string][]planEntry{
		"tree": {
			dirE("./", 0o755),
			dirE("./a/", 0o750),
			fileE("./a/b", 0o644, "bee"),
			fileE("./a-c", 0o600, "sea"),
			dirE("./z", 0o755),
			fileE("./z/empty", 0o444, ""),
			linkE(tar.TypeSymlink, "./z/sym", "../a/b"),
			linkE(tar.TypeSymlink, "./z/dangling", "/nowhere/at/all"),
			linkE(tar.TypeLink, "./hard", "a/b"),
			linkE(tar.TypeLink, "./z/hard2", "./hard"),
			fileE("./a/ünïcode name", 0o644, "u"),
			fileE("./z/x", 0o640, "another inode"),
			linkE(tar.TypeLink, "./z/x2", "z/x"),
		},
		"modes and owners": {
			dirE("sticky", 0o1777),
			dirE("setgid", 0o2775),
			{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "setgid/in", Mode: 0o640, Uid: 1000, Gid: 50}, content: "x"},
			{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "setgid/sub", Mode: 0o755, Uid: 7, Gid: 8}},
			{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "suid", Mode: 0o4755, Uid: 0, Gid: 0}, content: "#!/bin/sh\n"},
			{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "sgid", Mode: 0o2711, Uid: 3, Gid: 4}, content: "y"},
			{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "owned-link", Linkname: "suid", Uid: 5, Gid: 6}},
			dirE("closed", 0o000),
			fileE("closed/inside", 0o000, "z"),
		},
		"times and PAX": {
			dirE("d", 0o755),
			{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "d/ns", Mode: 0o644, ModTime: ns, Format: tar.FormatPAX}, content: "n"},
			{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d/nsdir", Mode: 0o755, ModTime: ns, Format: tar.FormatPAX}},
			fileE(long, 0o644, "long"),
			linkE(tar.TypeSymlink, "d/longtarget", strings.Repeat("t", 300)),
			{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "d/named", Mode: 0o644, Uname: "someone", Gname: "group"}, content: "o"},
		},
		"devices": {
			dirE("dev", 0o755),
			{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
			{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "dev/loop9", Mode: 0o660, Devmajor: 7, Devminor: 9, Gid: 6}},
			{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "dev/pipe", Mode: 0o620}},
		},
		"large file": {
			fileE("big", 0o644, strings.Repeat("0123456789abcdef", 200_000)),
			fileE("after", 0o644, "a"),
		},
		"empty": {},
	}
}

func TestCreateFromTarMatchesUnpack(t *testing.T) {
	if !ownersKept() {
		t.Skip("needs root in the initial user namespace, as an unpack does to keep owners")
	}
	for name, entries := range planTars() {
		t.Run(name, func(t *testing.T) {
			tb := buildTar(t, entries)
			want, err := viaUnpack(t, tb)
			if err != nil {
				t.Fatal(err)
			}
			got, err := viaPlan(t, tb)
			if err != nil {
				t.Fatalf("CreateFromTar: %v", err)
			}
			if got.res.DiffID != want.res.DiffID || got.res.Size != want.res.Size {
				t.Errorf("diff id %s size %d, want %s size %d", got.res.DiffID, got.res.Size, want.res.DiffID, want.res.Size)
			}
			if !bytes.Equal(got.index, want.index) {
				t.Errorf("index:\n%s\nwant:\n%s", got.index, want.index)
			}
			if !bytes.Equal(got.blob, want.blob) {
				t.Errorf("blob differs (%d bytes, want %d)", len(got.blob), len(want.blob))
			}
		})
	}
}

// unplannedTars are tars only an unpack can write: CreateFromTar must say
// ErrTarNeedsUnpack and write nothing, whatever the unpack then makes of
// them (some it refuses).
func unplannedTars() map[string][]planEntry {
	return map[string][]planEntry{
		"xattr": {{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o644,
			PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}}, content: "x"}},
		"named twice":     {fileE("f", 0o644, "1"), fileE("f", 0o600, "2")},
		"dir over file":   {fileE("f", 0o644, "1"), dirE("f", 0o755)},
		"implied parent":  {fileE("no/parent", 0o644, "x")},
		"through symlink": {dirE("d", 0o755), linkE(tar.TypeSymlink, "d/s", "/tmp"), fileE("d/s/escape", 0o644, "x")},
		"through file":    {fileE("f", 0o644, "x"), fileE("f/g", 0o644, "y")},
		"link to nothing": {linkE(tar.TypeLink, "l", "missing")},
		"link to symlink": {linkE(tar.TypeSymlink, "s", "t"), linkE(tar.TypeLink, "l", "s")},
		"link to dir":     {dirE("d", 0o755), linkE(tar.TypeLink, "l", "d")},
		"link to itself":  {linkE(tar.TypeLink, "l", "l")},
		"link escaping":   {fileE("f", 0o644, "x"), linkE(tar.TypeLink, "l", "../f")},
		"whiteout":        {dirE("d", 0o755), fileE("d/.wh.gone", 0o644, "")},
		"opaque":          {dirE("d", 0o755), fileE("d/.wh..wh..opq", 0o644, "")},
		"device 0:0":      {{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "c", Mode: 0o600}}},
		"absolute":        {fileE("/etc/passwd", 0o644, "x")},
		"dotdot":          {fileE("a/../../x", 0o644, "x")},
		"negative mtime":  {{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o644, ModTime: time.Unix(-5, 0)}}},
		"owner past 2^31": {{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o644, Uid: 1 << 31}}},
		"root a file":     {fileE(".", 0o644, "")},
		"other PAX record": {{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o644,
			PAXRecords: map[string]string{"LIBARCHIVE.xattr.user.k": "dg=="}}}},
	}
}

func TestCreateFromTarRefusesWhatNeedsUnpack(t *testing.T) {
	if !ownersKept() {
		t.Skip("needs root in the initial user namespace")
	}
	for name, entries := range unplannedTars() {
		t.Run(name, func(t *testing.T) {
			got, err := viaPlan(t, buildTar(t, entries))
			if !errors.Is(err, ErrTarNeedsUnpack) {
				t.Fatalf("CreateFromTar: %v, want ErrTarNeedsUnpack", err)
			}
			if len(got.blob) != 0 || len(got.index) != 0 {
				t.Errorf("wrote %d bytes of layer and %d of index before refusing", len(got.blob), len(got.index))
			}
		})
	}
}

// TestCreateFromTarBounds: a plan holds its entries in memory and is
// written depth first, so a tar past its bounds is left to the unpack.
func TestCreateFromTarBounds(t *testing.T) {
	if !ownersKept() {
		t.Skip("needs root in the initial user namespace")
	}
	var deep []planEntry
	name := "d"
	for range planMaxDepth + 1 {
		deep = append(deep, dirE(name, 0o755))
		name += "/d"
	}
	many := []planEntry{dirE("d", 0o755)}
	for i := range 30 {
		many = append(many, fileE(fmt.Sprintf("d/%s%d", strings.Repeat("n", 200), i), 0o644, ""))
	}
	defer func(n, b int) { planMax, planMaxBytes = n, b }(planMax, planMaxBytes)
	for name, c := range map[string]struct {
		entries          []planEntry
		maxEntries, maxB int
	}{
		"deep":          {deep, planMax, planMaxBytes},
		"many entries":  {many, 20, planMaxBytes},
		"long names":    {many, planMax, 4000},
		"within bounds": {many, 31, 7000},
	} {
		t.Run(name, func(t *testing.T) {
			planMax, planMaxBytes = c.maxEntries, c.maxB
			_, err := viaPlan(t, buildTar(t, c.entries))
			if within := name == "within bounds"; within != (err == nil) || !within && !errors.Is(err, ErrTarNeedsUnpack) {
				t.Fatalf("CreateFromTar: %v", err)
			}
		})
	}
}

func TestCreateFromTarBrokenTars(t *testing.T) {
	if !ownersKept() {
		t.Skip("needs root in the initial user namespace")
	}
	whole := buildTar(t, []planEntry{fileE("a", 0o644, strings.Repeat("x", 3000)), fileE("b", 0o644, "y")})
	for name, tb := range map[string][]byte{
		"truncated in content": whole[:512+1000],
		"truncated in header":  whole[:512+3072+100],
		"garbage":              bytes.Repeat([]byte("not a tar "), 100),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := viaPlan(t, tb)
			if !errors.Is(err, ErrTarNeedsUnpack) || len(got.blob) != 0 {
				t.Fatalf("CreateFromTar: %v, %d bytes written; want ErrTarNeedsUnpack and nothing", err, len(got.blob))
			}
			if _, err := viaUnpack(t, tb); err == nil {
				t.Fatal("the unpack took it: the fallback would not report it")
			}
		})
	}
}

// FuzzCreateFromTarEntries builds well-formed tars from a few names, each
// entry's type, name, mode, owner, time and target taken from 4 bytes of
// the input, so that names given twice, links to links or to nothing,
// paths through files and symlinks, and entries before their directory
// all come up; where the plan writes a layer, it must be the unpack's.
func FuzzCreateFromTarEntries(f *testing.F) {
	if !ownersKept() {
		f.Skip("needs root in the initial user namespace")
	}
	f.Add([]byte{0, 0, 0xed, 1, 1, 2, 0xa4, 1, 3, 1, 0, 2, 3, 9, 0, 3, 2, 5, 0, 2})
	f.Add([]byte{1, 0, 0xa4, 1, 1, 0, 0x80, 2, 0, 2, 0xff, 0x0f, 4, 7, 0x90, 1})
	f.Fuzz(func(t *testing.T, prog []byte) {
		tb, err := writeTarOf(entriesOf(prog))
		if err != nil {
			return // archive/tar would not write it
		}
		planOrUnpack(t, tb)
	})
}

// planOrUnpack checks that CreateFromTar either refuses tb before
// writing anything, or writes the layer an unpack of tb gives.
func planOrUnpack(t *testing.T, tb []byte) {
	got, err := viaPlan(t, tb)
	if errors.Is(err, ErrTarNeedsUnpack) {
		if len(got.blob) != 0 {
			t.Fatalf("wrote %d bytes before refusing", len(got.blob))
		}
		return
	}
	want, werr := viaUnpack(t, tb)
	if err != nil || werr != nil {
		t.Fatalf("plan: %v; unpack: %v", err, werr)
	}
	if got.res.DiffID != want.res.DiffID || !bytes.Equal(got.index, want.index) || !bytes.Equal(got.blob, want.blob) {
		t.Fatalf("layers differ:\n%s\nwant:\n%s", got.index, want.index)
	}
}

// entriesOf reads up to 24 tar entries from prog, 4 bytes each.
func entriesOf(prog []byte) []planEntry {
	names := []string{"a", "b", "a/b", "a/c", "b/a", "a-c", "a/b/c", "c", ".", "./a/", "d/e", "a/.wh.x", "a//c", "./b"}
	var entries []planEntry
	for i := 0; i+4 <= len(prog) && len(entries) < 24; i += 4 {
		op, n, m, x := prog[i], prog[i+1], int64(prog[i+2]), prog[i+3]
		name, other := names[int(n)%len(names)], names[int(x)%len(names)]
		h := tar.Header{Name: name, Mode: (m | int64(x&0xf)<<8) & 0o7777, Uid: int(x%3) * 1000, Gid: int(x%5) * 7,
			ModTime: time.Unix(1700000000+int64(x), m*1000)}
		var content string
		switch op % 7 {
		case 0:
			h.Typeflag = tar.TypeDir
		case 1, 6:
			h.Typeflag, content = tar.TypeReg, strings.Repeat(name, int(x%16))
		case 2:
			h.Typeflag, h.Linkname = tar.TypeSymlink, other
		case 3:
			h.Typeflag, h.Linkname = tar.TypeLink, other
		case 4:
			h.Typeflag = tar.TypeFifo
		case 5:
			h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, int64(x%3), int64(m%4)
		}
		entries = append(entries, planEntry{hdr: h, content: content})
	}
	return entries
}

// FuzzCreateFromTar checks the plan against an unpack on any tar: where
// the plan writes a layer, the unpacked directory gives the same one.
func FuzzCreateFromTar(f *testing.F) {
	if !ownersKept() {
		f.Skip("needs root in the initial user namespace")
	}
	for _, entries := range planTars() {
		if tb := buildTar(f, entries); len(tb) < 64<<10 { // large inputs slow mutation to a crawl
			f.Add(tb)
		}
	}
	for _, entries := range unplannedTars() {
		f.Add(buildTar(f, entries))
	}
	f.Fuzz(func(t *testing.T, tb []byte) {
		planOrUnpack(t, tb)
	})
}

// TestSpoolTarStopsAtTheEnd: SpoolTar copies a tar up to its end blocks
// and no further, and refuses a stream that is not a tar after its first
// block rather than after copying it all.
func TestSpoolTarStopsAtTheEnd(t *testing.T) {
	tb := buildTar(t, []planEntry{dirE("d", 0o755), fileE("d/f", 0o644, strings.Repeat("x", 3000))})
	var out bytes.Buffer
	if err := SpoolTar(&out, io.MultiReader(bytes.NewReader(tb), strings.NewReader("trailing, never read"))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), tb[:out.Len()]) || out.Len() > len(tb) || len(bytes.TrimRight(tb[out.Len():], "\x00")) != 0 {
		t.Fatalf("spooled %d bytes of a %d-byte tar", out.Len(), len(tb))
	}
	out.Reset()
	src := io.MultiReader(strings.NewReader(strings.Repeat("not a tar ", 100)), endless{})
	if err := SpoolTar(&out, src); err == nil || out.Len() > 64<<10 {
		t.Fatalf("SpoolTar of garbage: %v after %d bytes", err, out.Len())
	}
}

// endless reads as 'x' forever.
type endless struct{}

func (endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}

// ownersKept reports whether an unpack here gives each entry the tar's
// owner, as the tests that hold the plan to the unpack need: root, with
// every id mapped (outside a user namespace).
func ownersKept() bool {
	if os.Geteuid() != 0 {
		return false
	}
	for _, m := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		b, err := os.ReadFile(m)
		if err != nil || !bytes.Equal(bytes.Join(bytes.Fields(b), []byte(" ")), []byte("0 0 4294967295")) {
			return false
		}
	}
	return true
}

// TestSpoolTarWritesAreCapped: the spool file gets writes of at most
// pagewrite.Max bytes (its buffer holds 1 MiB), and the tar whole.
func TestSpoolTarWritesAreCapped(t *testing.T) {
	tb := buildTar(t, []planEntry{fileE("f", 0o644, strings.Repeat("x", 3*pagewrite.Max+5))})
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd() // blocking: the writes stay on this thread
	calls := pagewritetest.Calls(t, func() { err = SpoolTar(f, bytes.NewReader(tb)) })
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	n := int(fi.Size())
	if want := (n + pagewrite.Max - 1) / pagewrite.Max; n <= 3*pagewrite.Max || calls != want {
		t.Errorf("%d bytes spooled in %d write calls, want %d of at most %d", n, calls, want, pagewrite.Max)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, tb[:n]) {
		t.Fatalf("the spool is not the tar (%v)", err)
	}
}
