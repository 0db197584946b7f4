package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The key's format is fmt's "%q %q %o %d %t %q ": keys written by earlier
// builds stay valid only while appendEntry makes the same bytes.
func TestEntryFormatIsFmts(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"plain", "with space", "quote\"d", "tab\tand\nnewline", "ünï"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o4755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../t\"arget", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range names {
		fi, err := os.Lstat(filepath.Join(dir, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		e := entry{src: d.Name(), dst: "/dst/" + d.Name(), fi: fi, top: d.Name() == "plain"}
		if fi.Mode()&fs.ModeSymlink != 0 {
			e.link = "../t\"arget"
		}
		for _, chmod := range []fs.FileMode{0, 0o640 | fs.ModeSticky} {
			content := sha256.Sum256([]byte(d.Name()))
			x := newEntryHasher(chmod, false)
			x.add(e, content[:], "")
			mode := fi.Mode()
			if chmod != 0 && mode&fs.ModeSymlink == 0 {
				mode = mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | chmod
			}
			want := fmt.Sprintf("%q %q %o %d %t %q ", e.src, e.dst, uint32(mode), fi.Size(), e.top, e.link)
			if fi.Mode().IsRegular() {
				want += hex.EncodeToString(content[:])
			}
			h := sha256.Sum256([]byte(want + "\n"))
			if got := x.sum(); got != hex.EncodeToString(h[:]) {
				t.Errorf("%q, chmod %o: key %s, want the digest of %q", d.Name(), chmod, got, want)
			}
		}
	}
}

// TestAppendQuoteIsStrconvs: the key's quoting makes strconv.AppendQuote's
// bytes for names with every byte in every place, valid UTF-8 or not.
func TestAppendQuoteIsStrconvs(t *testing.T) {
	names := []string{"", "plain/name.txt", "with space", "ünï", "\xff\xfe", "a\u2028b", "~", "\x7f"}
	for c := 0; c < 256; c++ {
		names = append(names, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b", "usr/share/"+string([]byte{byte(c)}))
	}
	for _, s := range names {
		if got, want := string(appendQuote([]byte("x "), s)), string(strconv.AppendQuote([]byte("x "), s)); got != want {
			t.Errorf("appendQuote(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestWriteEntriesNeverWaitsOnAFIFO: a file listed for a copy that a
// FIFO (or a symlink to one) replaced meanwhile, as a container can swap
// one in its work tree, fails the copy; it is never opened for reading
// as a FIFO waits for a writer: for ever.
func TestWriteEntriesNeverWaitsOnAFIFO(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "a", "b": "b"})
	ents, src, err := collectIn(t, ctxDir, []string{"a", "b"}, "/x/")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(ctxDir, "a"))
	if err := unix.Mkfifo(filepath.Join(ctxDir, "a"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(ctxDir, "b"))
	os.Symlink("a", filepath.Join(ctxDir, "b"))
	for _, e := range ents {
		dst, err := os.OpenRoot(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := writeEntries(context.Background(), src, dst, []entry{e}, 0, 0, 0, false, false)
			done <- err
		}()
		select {
		case err = <-done:
		case <-time.After(time.Minute): // a hang guard, not a timing check
			if w, err := os.OpenFile(filepath.Join(ctxDir, "a"), os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
				w.Close() // a writer ends the reader's wait, and the test
			}
			t.Fatalf("%s: the copy waits on the FIFO", e.src)
		}
		dst.Close()
		if err == nil {
			t.Errorf("%s: copied, want refused", e.src)
		}
	}
}

// TestWriteEntriesOfFilesAndTheirDirectory: COPY f0 img /two/ writes
// f0 into /two, and img is /two itself. Files go on
// workers and directories in order, so a worker made /two as a missing
// parent while the entry of img made it too: the copy failed at random
// ("mkdirat two: file exists"), or gave /two the one mode or the other.
// Every run must succeed and give the same /two.
func TestWriteEntriesOfFilesAndTheirDirectory(t *testing.T) {
	files := map[string]string{"img/x": "x"}
	var srcs []string
	for i := range 1 {
		name := fmt.Sprintf("f%d", i)
		files[name] = name
		srcs = append(srcs, name)
	}
	ctxDir := ctxWith(t, files)
	if err := os.Chmod(filepath.Join(ctxDir, "img"), 0o700); err != nil {
		t.Fatal(err)
	}
	ents, src, err := collectIn(t, ctxDir, append(srcs, "img"), "/two/")
	if err != nil {
		t.Fatal(err)
	}
	if !dirAfterItsFile(ents) {
		t.Fatal("the copy is not seen to make a directory after its files")
	}
	modes := map[fs.FileMode]int{}
	for range 500 {
		dir := t.TempDir()
		dst, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = writeEntries(context.Background(), src, dst, ents, 0, 0, 0, false, false)
		dst.Close()
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "two"))
		if err != nil {
			t.Fatal(err)
		}
		modes[fi.Mode()]++
	}
	if len(modes) != 1 {
		t.Fatalf("/two came out as %v", modes)
	}
}

// A COPY's key holds the copied files' and directories' xattrs: a
// change to one alone is a new step, not the cached commit that lacks
// it, through the overlay and the direct copy alike.
func TestCopyKeyHoldsXattrs(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			directCopy = direct
			defer func() { directCopy = true }()
			ctxDir := ctxWith(t, map[string]string{"site/sub/a": "a"})
			r := newRepo(t, false)
			recipe := "FROM scratch\nCOPY site /srv\n"
			key := func() string {
				t.Helper()
				res, err := buildIn(t, r, ctxDir, recipe)
				if err != nil {
					t.Fatal(err)
				}
				return res.Commit.Manifest.Annotations[AnnotationKey]
			}
			seen := map[string]string{"none": key()}
			for _, p := range []string{"site/sub/a", "site/sub"} {
				if err := unix.Setxattr(filepath.Join(ctxDir, p), "user.v", []byte("1"), 0); err != nil {
					t.Fatal(err)
				}
				k := key()
				for what, old := range seen {
					if k == old {
						t.Fatalf("an xattr on %s: the key of %s", p, what)
					}
				}
				seen[p] = k
			}
		})
	}
}
