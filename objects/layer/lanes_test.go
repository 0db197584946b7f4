package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

// The pool creates the new small files of a tree unpacked from empty
// (queueNew), while the unpacker goes on. These layers each hold an
// entry that needs one of those files to exist, or one of the directory
// fds the queued files are created in to stay what it was: each must
// come out as if every entry were made in tar order.

// unpackEachWay unpacks tarball into a new directory from a plain stream
// and from zstd frames (content taken in place), calling check on each.
func unpackEachWay(t *testing.T, tarball []byte, check func(how, dir string, err error)) {
	t.Helper()
	dir := t.TempDir()
	check("plain", dir, Unpack(context.Background(), bytes.NewReader(tarball), dir, ToOverlayLower))

	var blob bytes.Buffer
	zw := NewZstdWriter(&blob)
	if _, err := zw.Write(tarball); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	_, err := ExtractUnindexed(context.Background(), &blob, "application/vnd.oci.image.layer.v1.tar+zstd", dir, ToOverlayLower)
	check("frames", dir, err)
}

// wantFile checks that name below dir is a file holding content.
func wantFile(t *testing.T, how, dir, name, content string) {
	t.Helper()
	if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != content {
		t.Errorf("%s: %s = %q (%v), want %q", how, name, got, err, content)
	}
}

// wantUnpacked checks that es unpacks each way, name then holding content.
func wantUnpacked(t *testing.T, es []h, name, content string) {
	t.Helper()
	unpackEachWay(t, craft(t, es), func(how, dir string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		wantFile(t, how, dir, name, content)
	})
}

// smallFiles is n files a/f0... of content "v1 a/fN", after directory a.
func smallFiles(n int) []h {
	es := []h{{"d", "a", ""}}
	for i := range n {
		name := fmt.Sprintf("a/f%d", i)
		es = append(es, h{"f", name, "v1 " + name})
	}
	return es
}

func TestQueuedFileMadeAgain(t *testing.T) {
	requireRoot(t)
	// f39 is in the batch still being filled when the later entries come.
	es := append(smallFiles(40),
		h{"f", "a/f38", "v2"},     // the same name again
		h{"d", "a/f37", ""},       // a directory over it
		h{"f", "a/f37/x", "in"},   // and a file in that directory
		h{"h", "a/hard", "a/f39"}, // a hard link to it
		h{"l", "a/f36", "f1"},     // a symlink over it
		h{"f", "a/./f34", "v3"},   // the same name, spelt otherwise
	)
	unpackEachWay(t, craft(t, es), func(how, dir string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		want := map[string]string{"a/f38": "v2", "a/f37/x": "in", "a/hard": "v1 a/f39", "a/f39": "v1 a/f39", "a/f34": "v3", "a/f1": "v1 a/f1"}
		for name, w := range want {
			wantFile(t, how, dir, name, w)
		}
		a, errA := os.Stat(filepath.Join(dir, "a/hard"))
		b, errB := os.Stat(filepath.Join(dir, "a/f39"))
		if errA != nil || errB != nil || a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino {
			t.Errorf("%s: a/hard is not a link of a/f39 (%v, %v)", how, errA, errB)
		}
		if target, err := os.Readlink(filepath.Join(dir, "a/f36")); err != nil || target != "f1" {
			t.Errorf("%s: a/f36 -> %q (%v), want a symlink to f1", how, target, err)
		}
	})
}

func TestPathThroughQueuedFile(t *testing.T) {
	requireRoot(t)
	// a/f39 is a file (not yet created when a/f39/x comes): the entry
	// is refused as it would be were a/f39 already there, and no
	// directory is made in its place.
	es := append(smallFiles(40), h{"f", "a/f39/x", "x"})
	unpackEachWay(t, craft(t, es), func(how, dir string, err error) {
		if err == nil || !strings.Contains(err.Error(), `"a/f39/x"`) || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("%s: %v, want entry \"a/f39/x\": ... not a directory", how, err)
		}
	})
}

func TestQueuedFilesOutliveDirCache(t *testing.T) {
	requireRoot(t)
	// More directories than the unpacker keeps open: when it drops them,
	// files still queued in them must be created there, not in whatever
	// directory is opened next on the same fd number.
	var es []h
	n := maxCachedDirs + 100
	for i := range n {
		d := fmt.Sprintf("d%d", i)
		es = append(es, h{"d", d, ""}, h{"f", d + "/x", d}, h{"f", d + "/y", d})
	}
	unpackEachWay(t, craft(t, es), func(how, dir string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		bad := 0
		for i := range n {
			d := fmt.Sprintf("d%d", i)
			names, err := os.ReadDir(filepath.Join(dir, d))
			if err != nil || len(names) != 2 {
				bad++
				continue
			}
			for _, f := range []string{"x", "y"} {
				if got, err := os.ReadFile(filepath.Join(dir, d, f)); err != nil || string(got) != d {
					bad++ // counted, not each reported: a thousand lines would say no more
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d directories not as in the layer", how, bad, n)
		}
	})
}

func TestLinkToQueuedFile(t *testing.T) {
	requireRoot(t)
	wantUnpacked(t, append(smallFiles(40), h{"h", "a/hard", "a/f39"}), "a/hard", "v1 a/f39")
}

func TestFileOverImpliedDirectory(t *testing.T) {
	requireRoot(t)
	// x is made as the parent of x/f, with no entry of its own; the
	// file x then takes its place.
	wantUnpacked(t, []h{{"f", "x/f", "1"}, {"f", "x", "2"}}, "x", "2")
}

func TestWhiteoutUnderQueuedFile(t *testing.T) {
	requireRoot(t)
	// Nothing below a/f39 to hide, a file: the whiteout does nothing,
	// and the opaque marker cannot be set on it.
	wantUnpacked(t, append(smallFiles(40), h{"f", "a/f39/.wh.x", ""}), "a/f39", "v1 a/f39")
	es := append(smallFiles(40), h{"f", "a/f39/.wh..wh..opq", ""})
	unpackEachWay(t, craft(t, es), func(how, dir string, err error) {
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("%s: %v, want a/f39: not a directory", how, err)
		}
	})
}

func TestPoolBudgetGivenBack(t *testing.T) {
	requireRoot(t)
	// Into a directory that is not empty, the unpacker creates each file
	// and queues its fd, which holds part of the pool's budget until
	// written: 2,000 of them need it back many times over.
	es := []h{{"d", "a", ""}}
	for i := range 2000 {
		es = append(es, h{"f", fmt.Sprintf("a/f%d", i), "x"})
	}
	tarball := craft(t, es)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Unpack(context.Background(), bytes.NewReader(tarball), dir, Apply) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("unpack did not finish: the pool's budget is not given back")
	}
	if names, err := os.ReadDir(filepath.Join(dir, "a")); err != nil || len(names) != 2000 {
		t.Errorf("a holds %d files (%v), want 2000", len(names), err)
	}
}

// TestRootEntryAfterQueuedFiles: a "./" entry late in the tar gives the
// root a group and the setgid bit. Files queued before it must still be
// made under the root as it was (fuzzing found them inheriting the new
// group when the pool created them after the root's entry).
func TestRootEntryAfterQueuedFiles(t *testing.T) {
	var hdrs []*tar.Header
	for i := range 40 {
		hdrs = append(hdrs, &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("f%d", i), Mode: 0o644, Size: 0})
	}
	hdrs = append(hdrs, &tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o2775, Gid: 7})
	unpackEachWay(t, tarOf(t, hdrs...), func(how, dir string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		for i := range 40 {
			var st syscall.Stat_t
			if err := syscall.Lstat(filepath.Join(dir, fmt.Sprintf("f%d", i)), &st); err != nil || st.Gid != 0 {
				t.Fatalf("%s: f%d has group %d (%v), want 0 as its entry says", how, i, st.Gid, err)
			}
		}
	})
}

// TestBigFilePiecesShareALane: the pieces of a large file all go to the
// lane addBig gave it, so that two workers never write one file at once
// (each write takes the file's lock); the files queued between its
// pieces go to the other lane.
func TestBigFilePiecesShareALane(t *testing.T) {
	p := &filePool{dir: -1, held: semaphore.NewWeighted(heldMax)}
	for range 2 {
		p.lanes = append(p.lanes, &lane{jobs: make(chan batch, 64)})
	}
	big := &bigFile{lane: p.anyLane}
	p.anyLane = (p.anyLane + 1) % len(p.lanes)
	hdr := &tar.Header{Name: "big"}
	for i := range 6 {
		p.queue(fileJob{fd: 100, hdr: hdr, big: big, off: int64(i) * batchBytes}, batchBytes)
		p.queue(fileJob{fd: 200 + i, hdr: &tar.Header{Name: fmt.Sprint("small", i)}}, batchBytes)
	}
	p.flush()
	for i, l := range p.lanes {
		close(l.jobs)
		for b := range l.jobs {
			for _, j := range b.jobs {
				if (j.big != nil) != (i == big.lane) {
					t.Errorf("lane %d got %s (a piece of the large file: %v); the large file's lane is %d", i, j.hdr.Name, j.big != nil, big.lane)
				}
			}
		}
	}
}
