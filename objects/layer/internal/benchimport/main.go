// Command benchimport times the layer codec against tar and zstd:
//
//	benchimport create DIR OUT.zst   # Create, as the store does (sha256 of the blob too)
//	benchimport unpack LAYER.zst DIR # Decompress + Unpack(Apply)
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/strata-sh/strata/internal/memlimit"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects/layer"
)

func main() {
	memlimit.Apply() // as strata's own main
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: benchimport create DIR OUT | unpack LAYER DIR")
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
	case "create":
		f, err := os.Create(b)
		if err != nil {
			return err
		}
		h := sha256.New()
		bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
		// The file index streams to a file, as the store writes it.
		ix, err := os.Create(b + ".index")
		if err != nil {
			return err
		}
		defer ix.Close()
		res, err := layer.Create(ctx, a, bw, layer.WriteOptions{Index: ix})
		if err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Println(digest.NewDigest(digest.SHA256, h), res.DiffID, res.Size)
	case "unpack":
		f, err := os.Open(a)
		if err != nil {
			return err
		}
		defer f.Close()
		r, err := layer.Decompress(f)
		if err != nil {
			return err
		}
		defer r.Close()
		return layer.Unpack(ctx, r, b, layer.Apply)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	return nil
}
