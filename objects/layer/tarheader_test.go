package layer

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeBoth writes the entries (each with size bytes of content) with
// archive/tar and with tarStream, and fails on the first byte they differ
// in, or if one refuses a header the other takes.
func writeBoth(t testing.TB, hs []header) *tarStream {
	t.Helper()
	var want, got bytes.Buffer
	tw, ts := tar.NewWriter(&want), newTarStream(&got)
	for i := range hs {
		h := &hs[i]
		werr := tw.WriteHeader(h.toTar())
		gerr := ts.WriteHeader(h)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("header %d (%+v): archive/tar says %v, tarStream %v", i, *h, werr, gerr)
		}
		if werr != nil {
			continue
		}
		typ := h.typ
		if typ == typeRegA && strings.HasSuffix(h.name, "/") {
			typ = tar.TypeDir
		}
		if !headerOnly(typ) && h.size <= 1<<16 {
			data := bytes.Repeat([]byte{byte('a' + i%26)}, int(h.size))
			if _, err := tw.Write(data); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Write(data); err != nil {
				t.Fatal(err)
			}
		}
		compare(t, fmt.Sprintf("after header %d (%+v)", i, *h), want.Bytes(), got.Bytes())
		if !headerOnly(typ) && h.size > 1<<16 {
			return ts // its content is too large to write here
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	compare(t, "after close", want.Bytes(), got.Bytes())
	return ts
}

func compare(t testing.TB, when string, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	n := min(len(want), len(got))
	i := 0
	for i < n && want[i] == got[i] {
		i++
	}
	t.Fatalf("%s: the streams differ at byte %d (block %d, offset %d): archive/tar %d bytes, tarStream %d\nwant %q\ngot  %q",
		when, i, i/blockSize, i%blockSize, len(want), len(got), around(want, i), around(got, i))
}

func around(b []byte, i int) []byte {
	return b[max(0, i-16):min(len(b), i+48)]
}

var nameParts = []string{"a", "etc", "usr", "lib64", "x86_64-linux-gnu", "python3.12", "site-packages",
	"ünïcode", "日本", "with space", "dot.ted", "...", "-", "very-long-" + strings.Repeat("n", 90), strings.Repeat("z", 120),
	"PaxHeaders.0", ".wh.x", ".wh..wh..opq", "tab\there", "new\nline"}

func randName(r *rand.Rand) string {
	var parts []string
	for range 1 + r.IntN(8) {
		parts = append(parts, nameParts[r.IntN(len(nameParts))])
	}
	if r.IntN(10) == 0 { // a component of random printable bytes
		b := make([]byte, 1+r.IntN(200))
		for i := range b {
			b[i] = byte(' ' + r.IntN(95))
		}
		parts = append(parts, strings.ReplaceAll(string(b), "/", "_"))
	}
	return strings.Join(parts, "/")
}

var interestingTimes = []time.Time{
	time.Unix(0, 0), time.Unix(0, 1), time.Unix(1, 0), time.Unix(-1, 0), time.Unix(-1, 500000000),
	time.Unix(-62135596800, 0), time.Unix(1<<33-1, 0), time.Unix(1<<33, 0), time.Unix(1<<33, 999999999),
	time.Unix(1700000000, 123456789), time.Unix(1700000000, 100000000), time.Unix(1700000000, 0),
	time.Unix(-5000000000, 999999999), {},
}

func randTime(r *rand.Rand) time.Time {
	switch r.IntN(4) {
	case 0:
		return interestingTimes[r.IntN(len(interestingTimes))]
	case 1:
		return time.Unix(r.Int64N(1<<34)-1<<32, 0)
	default:
		ns := r.Int64N(1e9)
		if r.IntN(3) == 0 {
			ns = ns / 1e6 * 1e6 // trailing zeros
		}
		return time.Unix(r.Int64N(1<<34)-1<<32, ns)
	}
}

func randID(r *rand.Rand) int {
	switch r.IntN(5) {
	case 0:
		return 0
	case 1:
		return []int{1<<21 - 1, 1 << 21, 65534, 100000, 1<<31 - 1, -1}[r.IntN(6)]
	default:
		return r.IntN(70000)
	}
}

func randHeader(r *rand.Rand) header {
	types := []byte{tar.TypeReg, tar.TypeReg, tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink,
		tar.TypeChar, tar.TypeBlock, tar.TypeFifo}
	h := header{
		typ: types[r.IntN(len(types))], name: randName(r), mode: int64(r.IntN(0o10000)),
		uid: randID(r), gid: randID(r), mtime: randTime(r),
	}
	switch h.typ {
	case tar.TypeReg:
		h.size = []int64{0, 1, 511, 512, 513, int64(r.IntN(5000)), 1<<33 - 1, 1 << 33}[r.IntN(8)]
	case tar.TypeDir:
		h.name += "/"
	case tar.TypeSymlink:
		h.link = []string{"/usr/bin/x", "../lib", "./a/../b", "", randName(r), "/" + randName(r)}[r.IntN(6)]
	case tar.TypeLink:
		h.link = randName(r)
	case tar.TypeChar, tar.TypeBlock:
		h.devmajor, h.devminor = int64(r.IntN(300)), int64(r.IntN(1<<22))
	}
	if r.IntN(5) == 0 {
		h.mode = []int64{-1, 1 << 21, 0o7777777}[r.IntN(3)]
	}
	if r.IntN(4) == 0 {
		names := []string{"user.a", "user.b", "security.capability", "trusted.x", "user.ünï", "user.a=b",
			"system.posix_acl_access", "user." + strings.Repeat("k", 200)}
		for range 1 + r.IntN(3) {
			n := names[r.IntN(len(names))]
			v := []string{"", "v", "\x00\x01\x02", strings.Repeat("value", 100), "ü"}[r.IntN(5)]
			h.xattrs = append(h.xattrs, xattr{n, v})
		}
		slices.SortFunc(h.xattrs, func(a, b xattr) int { return strings.Compare(a.name, b.name) })
		h.xattrs = slices.CompactFunc(h.xattrs, func(a, b xattr) bool { return a.name == b.name })
	}
	return h
}

// TestTarStreamMatchesArchiveTar writes many generated headers both ways.
func TestTarStreamMatchesArchiveTar(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 15))
	fast, total := 0, 0
	for range 300 {
		hs := make([]header, 1+r.IntN(40))
		for i := range hs {
			hs[i] = randHeader(r)
		}
		ts := writeBoth(t, hs)
		fast, total = fast+ts.fast, total+len(hs)
	}
	// The comparison must have covered the fast path, not only archive/tar.
	if fast < total/10 {
		t.Fatalf("only %d of %d headers took the fast path", fast, total)
	}
}

// TestTarStreamCommonCases: the headers a layer is made of take the fast
// path, and match archive/tar.
func TestTarStreamCommonCases(t *testing.T) {
	ns := time.Unix(1700000000, 123456789)
	hs := []header{
		{typ: tar.TypeDir, name: "etc/", mode: 0o755, mtime: ns},
		{typ: tar.TypeReg, name: "etc/passwd", mode: 0o644, size: 1234, mtime: ns},
		{typ: tar.TypeReg, name: "etc/shadow", mode: 0o640, gid: 42, size: 0, mtime: time.Unix(1700000000, 0)},
		{typ: tar.TypeSymlink, name: "bin", link: "usr/bin", mode: 0o777, mtime: ns},
		{typ: tar.TypeLink, name: "usr/bin/x", link: "usr/bin/y", mode: 0o755, mtime: ns},
		{typ: tar.TypeReg, name: "usr/.wh.gone", mtime: time.Unix(0, 0)},
		{typ: tar.TypeReg, name: "usr/.wh..wh..opq", mtime: time.Unix(0, 0)},
		{typ: tar.TypeReg, name: "usr/bin/ping", mode: 0o4755, size: 3, mtime: ns,
			xattrs: []xattr{{"security.capability", "\x01\x00\x00\x02"}, {"user.mime", "text/plain"}}},
		{typ: tar.TypeReg, name: strings.Repeat("d/", 60) + "f", size: 1, mtime: ns},
		{typ: tar.TypeReg, name: strings.Repeat("d/", 60) + "f", size: 1, mtime: time.Unix(5, 0)},
		{typ: tar.TypeReg, name: "old", mode: 0o644, mtime: time.Unix(-1, 500000000)},
		{typ: tar.TypeReg, name: "big", uid: 1 << 22, gid: 100000, mtime: ns},
	}
	ts := writeBoth(t, hs)
	if ts.fast != len(hs) {
		t.Fatalf("%d of %d common headers took the fast path", ts.fast, len(hs))
	}
}

// TestTarStreamFallback: what the fast path leaves alone still matches.
func TestTarStreamFallback(t *testing.T) {
	ns := time.Unix(1700000000, 123456789)
	hs := []header{
		{typ: tar.TypeReg, name: "ünïcode", mtime: ns},
		{typ: tar.TypeChar, name: "dev/null", mode: 0o666, devmajor: 1, devminor: 3, mtime: ns},
		{typ: tar.TypeFifo, name: "fifo", mtime: ns},
		{typ: tar.TypeReg, name: "a/./b", mtime: ns},
		{typ: tar.TypeReg, name: strings.Repeat("x", 101), mtime: time.Unix(5, 0)},
		{typ: tar.TypeReg, name: "x", mtime: ns, xattrs: []xattr{{"user.a=b", "v"}}},
		{typ: tar.TypeReg, name: "x/", mtime: ns},
		{typ: tar.TypeReg, name: "zero"},
	}
	ts := writeBoth(t, hs)
	if ts.fast != 0 {
		t.Fatalf("%d headers took the fast path, want none", ts.fast)
	}
}

func FuzzTarStream(f *testing.F) {
	f.Add("etc/passwd", "", byte(tar.TypeReg), int64(0o644), 0, 0, int64(12), int64(1700000000), int64(5), "user.a", "b")
	f.Add(strings.Repeat("d/", 70)+"f", "", byte(tar.TypeDir), int64(0o755), 1<<22, 7, int64(0), int64(-3), int64(999999999), "", "")
	f.Add("l", strings.Repeat("t", 120), byte(tar.TypeSymlink), int64(0o777), 0, 0, int64(0), int64(0), int64(0), "", "")
	f.Fuzz(func(t *testing.T, name, link string, typ byte, mode int64, uid, gid int, size, sec, nsec int64, xname, xval string) {
		h := header{name: name, link: link, typ: typ, mode: mode, uid: uid, gid: gid, size: size % (1 << 34),
			mtime: time.Unix(sec, nsec%1e9)}
		if xname != "" {
			h.xattrs = []xattr{{xname, xval}}
		}
		writeBoth(t, []header{h})
	})
}

func TestByteSum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		blk := make([]byte, blockSize)
		for i := range blk {
			blk[i] = byte(r.IntN(256))
			if r.IntN(3) == 0 {
				blk[i] = 0xFF
			}
		}
		var want int64
		for _, c := range blk {
			want += int64(c)
		}
		if got := byteSum(blk); got != want {
			t.Fatalf("byteSum %d, want %d", got, want)
		}
	}
}
