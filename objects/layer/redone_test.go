package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A tar may give a path twice (tar -r, a concatenation). The last entry
// wins, as in docker's unpack: a directory given twice gets the mode
// and times of its last entry (the first entry's times won), and a
// directory with a subdirectory that a later file replaces leaves the
// file with its own times (the unpack failed: "open directory etc/d:
// not a directory"). Into an empty directory and over an existing tree.
func TestPathGivenTwiceLastEntryWins(t *testing.T) {
	requireRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, typ byte, mode int64, sec int64, body string) {
		hdr := &tar.Header{Name: name, Typeflag: typ, Mode: mode, ModTime: time.Unix(sec, 0), Size: int64(len(body)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add("etc/", tar.TypeDir, 0o755, 1000, "")
	add("etc/", tar.TypeDir, 0o700, 2000, "")
	add("etc/d/", tar.TypeDir, 0o755, 3000, "")
	add("etc/d/sub/", tar.TypeDir, 0o755, 3001, "")
	add("etc/d", tar.TypeReg, 0o644, 4000, "a file now\n")
	add("etc/e", tar.TypeReg, 0o644, 5000, "a file first\n")
	add("etc/e/", tar.TypeDir, 0o750, 6000, "")
	tw.Close()
	for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
		for _, over := range []bool{false, true} {
			dst := t.TempDir()
			if over {
				if err := os.MkdirAll(filepath.Join(dst, "etc/d/sub"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := Unpack(context.Background(), bytes.NewReader(buf.Bytes()), dst, mode); err != nil {
				t.Fatalf("mode %v, over a tree %v: %v", mode, over, err)
			}
			for name, want := range map[string]struct {
				mode os.FileMode
				sec  int64
			}{
				"etc":   {os.ModeDir | 0o700, 2000},
				"etc/d": {0o644, 4000},
				"etc/e": {os.ModeDir | 0o750, 6000},
			} {
				fi, err := os.Lstat(filepath.Join(dst, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != want.mode || fi.ModTime().Unix() != want.sec {
					t.Errorf("mode %v, over a tree %v: %s is %v at %d, want %v at %d", mode, over, name, fi.Mode(), fi.ModTime().Unix(), want.mode, want.sec)
				}
			}
		}
	}
}
