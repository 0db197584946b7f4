package layer

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
)

// benchTree is STRATA_BENCH_TREE (a Debian tree, say) or a busybox rootfs.
func benchTree(b *testing.B) string {
	if dir := os.Getenv("STRATA_BENCH_TREE"); dir != "" {
		return dir
	}
	return testrootfs.Busybox(b)
}

func BenchmarkCreate(b *testing.B) {
	dir := benchTree(b)
	var size int64
	for b.Loop() {
		res, err := Create(context.Background(), dir, io.Discard, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		size = res.Size
	}
	b.SetBytes(size)
}

func BenchmarkUnpack(b *testing.B) {
	requireRoot(b)
	var blob bytes.Buffer
	res, err := Create(context.Background(), benchTree(b), &blob, WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Size)
	for b.Loop() {
		b.StopTimer()
		dst, err := os.MkdirTemp(b.TempDir(), "unpack-")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := Decompress(bytes.NewReader(blob.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if err := Unpack(context.Background(), r, dst, Apply); err != nil {
			b.Fatal(err)
		}
		r.Close()
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}
