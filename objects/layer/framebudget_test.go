package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

// A checkout's frame reader holds a frame for each decoder, the one
// being read and one that the file pool writes from: each is 8 MiB of
// fresh memory that the kernel zeroes. With no more than that, a layer
// whose files lie across frames (a large file over several, pooled small
// files on every boundary) unpacks whole, with one decoder and with two,
// as a checkout unpacks it (mapped, the blob hashed beside).
func TestExtractFrameBudget(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	layertest.BuildLarge(t, src, 16<<20)
	smallFilesAcrossFrames(t, filepath.Join(src, "small"), 12<<20)
	blob, _ := create(t, src, WriteOptions{})
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, procs := range []int{1, 2} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			fr := newFrameReader(bytes.NewReader(blob), nil)
			held := len(fr.frames)
			fr.Close()
			if want := procs + 2; held != want {
				t.Errorf("a frame reader with %d decoders holds %d frames, want %d", procs, held, want)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dst, h := t.TempDir(), sha256.New()
			if err := ExtractKnownFile(context.Background(), f, h, ocispec.MediaTypeImageLayerZstd, dst, Apply); err != nil {
				t.Fatal(err)
			}
			if got, want := digest.NewDigest(digest.SHA256, h), digest.FromBytes(blob); got != want {
				t.Errorf("blob hashed %s, want %s", got, want)
			}
			layertest.Compare(t, src, dst)
		})
	}
}

// smallFilesAcrossFrames writes size bytes of files of 1 to 64 KiB into
// dir, so that the pool holds content of some of them in two frames.
func smallFilesAcrossFrames(t *testing.T, dir string, size int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	for i := 0; size > 0; i++ {
		b := make([]byte, 1<<10+rng.Intn(63<<10))
		rng.Read(b[:len(b)/4]) // some of it incompressible, as in real trees
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%05d", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		size -= len(b)
	}
}
