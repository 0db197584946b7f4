package layer

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// Result describes a layer made by Create.
type Result struct {
	DiffID digest.Digest // sha256 of the uncompressed tar
	Size   int64         // uncompressed size
	Index  []Entry
}

// Create writes dir as a zstd-compressed layer to out in one streaming
// pass: this goroutine walks the tree into tar, which is cut into
// independent zstd frames compressed on every core (frameWriter); the
// diff id is hashed on a goroutine of its own, and the frames are written
// to out, in order, on another. Memory stays bounded whatever the tree's
// size. out is written from one goroutine at a time.
func Create(ctx context.Context, dir string, out io.Writer, opts WriteOptions) (Result, error) {
	return compress(out, func(w io.Writer) ([]Entry, error) { return WriteTar(ctx, dir, w, opts) })
}

// compress has write write a tar into a frameWriter on out, and returns
// what the layer is.
func compress(out io.Writer, write func(io.Writer) ([]Entry, error)) (Result, error) {
	fw := newFrameWriter(out)
	entries, err := write(fw)
	cerr := fw.Close()
	switch {
	case err != nil:
		return Result{}, err
	case cerr != nil:
		return Result{}, fmt.Errorf("create layer: %w", cerr)
	}
	return Result{DiffID: fw.DiffID(), Size: fw.size, Index: entries}, nil
}
