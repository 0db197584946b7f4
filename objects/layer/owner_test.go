package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// chown(2) takes 32 bits and reads 4294967295 as "leave it": an owner
// outside 0..4294967294 became another one (4294967296 root) without a
// word. Such an entry is refused, naming it; the largest owner is kept.
func TestUnpackRefusesOwnerOutOfRange(t *testing.T) {
	requireRoot(t)
	layerWith := func(id int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Uid: id, Gid: id, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		return buf.Bytes()
	}
	for _, id := range []int{1 << 32, 1<<32 + 5, 1<<32 - 1, -1} {
		err := Unpack(context.Background(), bytes.NewReader(layerWith(id)), t.TempDir(), Apply)
		if !errors.Is(err, ErrOwnerRange) {
			t.Errorf("owner %d: %v, want ErrOwnerRange", id, err)
		}
	}
	dst := t.TempDir()
	if err := Unpack(context.Background(), bytes.NewReader(layerWith(1<<32-2)), dst, Apply); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dst, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1<<32-2 || st.Gid != 1<<32-2 {
		t.Errorf("owner %d:%d, want 4294967294:4294967294", st.Uid, st.Gid)
	}
}
