// Command benchimport times the layer codec against tar and zstd:
//
//	benchimport create DIR OUT.zst   # Create, as the store does (sha256 of the blob too)
//	benchimport createtar TAR OUT.zst # CreateFromTar of a plain tar, the same way
//	benchimport unpack LAYER.zst DIR # as a checkout unpacks it: ExtractKnownFile (mapped, sha256 of the blob)
package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/strata-sh/strata/internal/memlimit"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/pagewrite"
	"github.com/strata-sh/strata/objects/layer"
)

func main() {
	memlimit.Apply() // as strata's own main
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: benchimport create DIR OUT | createtar TAR OUT | unpack LAYER DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "benchimport:", err)
		os.Exit(1)
	}
}

func run(cmd, a, b string) error {
	ctx := context.Background()
	switch cmd {
	case "create", "createtar":
		return create(ctx, cmd, a, b)
	case "unpack":
		return unpack(ctx, a, b)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// unpack unpacks the zstd layer in file blob into dir as a checkout's
// snapshot does (snapshot.go): mapped and decoded in place, its sha256
// hashed in the same pass (printed; the snapshot compares it with the
// blob's digest).
func unpack(ctx context.Context, blob, dir string) error {
	f, err := os.Open(blob)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if err := layer.ExtractKnownFile(ctx, f, h, ocispec.MediaTypeImageLayerZstd, dir, layer.ToOverlayLower); err != nil {
		return err
	}
	fmt.Println(digest.NewDigest(digest.SHA256, h))
	return nil
}

// create writes the layer of the directory (or plain tar) src to out, as
// the store does: blob sha256 beside it, the file index to out.index.
func create(ctx context.Context, cmd, src, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	h := sha256.New()
	// Whole frames, written as the store's BlobWriter writes them.
	bw := io.MultiWriter(pagewrite.Writer{W: f}, h)
	ix, err := os.Create(out + ".index")
	if err != nil {
		return err
	}
	defer ix.Close()
	opts := layer.WriteOptions{Index: ix}
	var res layer.Result
	if cmd == "createtar" {
		t, oerr := os.Open(src)
		if oerr != nil {
			return oerr
		}
		defer t.Close()
		res, err = layer.CreateFromTar(ctx, t, bw, opts)
	} else {
		res, err = layer.Create(ctx, src, bw, opts)
	}
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println(digest.NewDigest(digest.SHA256, h), res.DiffID, res.Size)
	return nil
}
