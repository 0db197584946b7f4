package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
)

// importTarFile stores a tar file (plain, gzip or zstd) as one layer, in
// the form an import of the same directory takes: it is unpacked into a
// directory of .strata/tmp and that directory is written as a layer, so
// that "tar -C dir -cf - ." and dir give the same commit id (the tar's
// "./" entry, its order, owner names and format do not reach the layer).
func importTarFile(ctx context.Context, r *repo.Repo, path string) (objects.Layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return objects.Layer{}, err
	}
	defer f.Close()
	dr, err := layer.Decompress(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return objects.Layer{}, err
	}
	defer dr.Close()
	tmp, err := os.MkdirTemp(r.Objects.TempDir(), "import-")
	if err != nil {
		return objects.Layer{}, err
	}
	defer os.RemoveAll(tmp)
	if err := layer.Unpack(ctx, dr, tmp, layer.Apply); err != nil {
		return objects.Layer{}, err
	}
	mt, err := layerMtimes()
	if err != nil {
		return objects.Layer{}, err
	}
	return r.Objects.AddLayerFromDir(ctx, tmp, layer.WriteOptions{Mtime: mt})
}

// importDirOptions leaves the repository's own .strata out of an import
// of a directory that holds it ("strata import ." in the project).
func importDirOptions(r *repo.Repo, src string) (layer.WriteOptions, error) {
	mt, err := layerMtimes()
	if err != nil {
		return layer.WriteOptions{}, err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return layer.WriteOptions{}, fmt.Errorf("import: %w", err)
	}
	rel, err := filepath.Rel(realPath(abs), realPath(r.Root))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return layer.WriteOptions{Mtime: mt}, nil
	}
	skip := "/" + filepath.ToSlash(rel)
	return layer.WriteOptions{Mtime: mt, Exclude: func(p string, isDir bool) bool { return p == skip }}, nil
}
