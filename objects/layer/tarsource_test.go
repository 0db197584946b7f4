package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// smallFrames compresses tarball as independent frames of chunk bytes of
// content each, with their sizes: every file of more than chunk bytes
// crosses frames.
func smallFrames(t *testing.T, tarball []byte, chunk int) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out []byte
	for off := 0; off < len(tarball); off += chunk {
		out = enc.EncodeAll(tarball[off:min(off+chunk, len(tarball))], out)
	}
	return out
}

// Content taken in place from the decoder's frames (filePool.addInPlace,
// the large-file loop) lands whole when files cross frame boundaries, and
// the index and diff id are the ones Index computes.
func TestExtractContentAcrossFrames(t *testing.T) {
	requireRoot(t)
	rng := rand.New(rand.NewSource(1))
	sizes := map[string]int{"empty": 0, "one": 1, "small": 1000, "frames": 300 << 10, "pool-max": poolMax, "large": 3<<20 + 17}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	want := map[string][]byte{}
	mtime := time.Unix(1700000000, 0)
	for _, name := range []string{"empty", "one", "small", "frames", "pool-max", "large"} {
		b := make([]byte, sizes[name])
		rng.Read(b)
		want[name] = b
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	tarball := tb.Bytes()
	wantDiff, wantIndex, err := Index(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{4096, 100 << 10} {
		blob := smallFrames(t, tarball, chunk)
		dst := t.TempDir()
		diff, index, err := Extract(context.Background(), bytes.NewReader(blob), "application/vnd.oci.image.layer.v1.tar+zstd", dst, Apply)
		if err != nil {
			t.Fatalf("frames of %d: %v", chunk, err)
		}
		if diff != wantDiff || !reflect.DeepEqual(index, wantIndex) {
			t.Errorf("frames of %d: diff id %s, index %v; want %s, %v", chunk, diff, index, wantDiff, wantIndex)
		}
		// Without the index, large files are written in pieces by the pool.
		udst := t.TempDir()
		if diff, err := ExtractUnindexed(context.Background(), bytes.NewReader(blob), "application/vnd.oci.image.layer.v1.tar+zstd", udst, Apply); err != nil || diff != wantDiff {
			t.Fatalf("frames of %d, unindexed: diff id %s (%v), want %s", chunk, diff, err, wantDiff)
		}
		checkFiles(t, chunk, dst, want, mtime)
		checkFiles(t, chunk, udst, want, mtime)
	}
	// Content cut short, in a pooled file and in a large one: an error,
	// never a shorter file taken as whole.
	for _, cut := range []int{len(tarball) - (3 << 20), 4096 + 100<<10} {
		blob := smallFrames(t, tarball[:cut], 4096)
		_, _, err := Extract(context.Background(), bytes.NewReader(blob), "application/vnd.oci.image.layer.v1.tar+zstd", t.TempDir(), Apply)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("tar cut at %d: %v, want unexpected EOF", cut, err)
		}
		_, err = ExtractUnindexed(context.Background(), bytes.NewReader(blob), "application/vnd.oci.image.layer.v1.tar+zstd", t.TempDir(), Apply)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("tar cut at %d, unindexed: %v, want unexpected EOF", cut, err)
		}
	}
}

func checkFiles(t *testing.T, chunk int, dst string, want map[string][]byte, mtime time.Time) {
	t.Helper()
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("frames of %d: %s: %d bytes (%v), want %d", chunk, name, len(got), err, len(b))
		}
		fi, err := os.Stat(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("frames of %d: %s: mtime %v, want %v", chunk, name, fi.ModTime(), mtime)
		}
	}
}
