package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
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
