package layer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/strata-sh/strata/objects/layer/layertest"
	"golang.org/x/sys/unix"
)

// A sparse file reaches a layer as its zeros. Unpacked, whatever the
// layer's compression and whether or not its index is built, it keeps
// its size and content and takes the disk of its data only: each
// snapshot of a 64 MiB file with a few bytes of data took 64 MiB.
func TestSparseFileUnpacksWithHoles(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	f, err := os.Create(filepath.Join(src, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 10<<20 + 3, 64<<20 - 5} {
		if _, err := f.WriteAt([]byte("data!"), off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(80 << 20); err != nil { // ends in a hole
		t.Fatal(err)
	}
	f.Close()
	zst, _ := create(t, src, WriteOptions{})
	tarball := streamDecode(t, zst)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarball)
	zw.Close()
	for kind, blob := range map[string][]byte{
		"application/vnd.oci.image.layer.v1.tar+zstd": zst,
		"application/vnd.oci.image.layer.v1.tar+gzip": gz.Bytes(),
	} {
		for _, indexed := range []bool{true, false} {
			dst := t.TempDir()
			if indexed {
				_, _, err = Extract(context.Background(), bytes.NewReader(blob), kind, dst, Apply)
			} else {
				_, err = ExtractUnindexed(context.Background(), bytes.NewReader(blob), kind, dst, Apply)
			}
			if err != nil {
				t.Fatalf("%s (indexed %v): %v", kind, indexed, err)
			}
			layertest.Compare(t, src, dst)
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(dst, "disk.img"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Size != 80<<20 || st.Blocks*512 > 4*holeBlock {
				t.Errorf("%s (indexed %v): size %d, %d bytes on disk; want 80 MiB in at most 4 blocks of 64 KiB (its data is 3 runs)", kind, indexed, st.Size, st.Blocks*512)
			}
		}
	}
}

// pwriteHoles leaves out whole aligned zero blocks only, wherever the
// pieces it is given start and end.
func TestPwriteHolesPieces(t *testing.T) {
	want := make([]byte, 5*holeBlock+100)
	for _, i := range []int{7, holeBlock - 1, 3*holeBlock + 5, len(want) - 1} {
		want[i] = 1
	}
	for _, piece := range []int{1000, holeBlock, holeBlock + 1, len(want)} {
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		if err != nil {
			t.Fatal(err)
		}
		fd := int(f.Fd())
		for off := 0; off < len(want); off += piece {
			end := min(off+piece, len(want))
			if err := pwriteHoles(fd, want[off:end], int64(off)); err != nil {
				t.Fatal(err)
			}
		}
		if err := setSize(fd, int64(len(want))); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.Name())
		f.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("pieces of %d: content differs (%v)", piece, err)
		}
	}
}

// A zero block that two pieces share takes no disk: each piece left its
// part of it unwritten only when the part was a whole block.
func TestPwriteHolesPieceEdges(t *testing.T) {
	zeros := make([]byte, 8*holeBlock)
	for _, piece := range []int{1000, holeBlock + 1, 3*holeBlock - 512} {
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		if err != nil {
			t.Fatal(err)
		}
		fd := int(f.Fd())
		for off := 0; off < len(zeros); off += piece {
			if err := pwriteHoles(fd, zeros[off:min(off+piece, len(zeros))], int64(off)); err != nil {
				t.Fatal(err)
			}
		}
		if err := setSize(fd, int64(len(zeros))); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != int64(len(zeros)) || st.Blocks != 0 {
			t.Errorf("pieces of %d: size %d, %d blocks; want %d, none", piece, st.Size, st.Blocks, len(zeros))
		}
	}
}
