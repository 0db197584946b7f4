package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/tarcompress"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
)

// importTarFile stores a tar file (plain, gzip or zstd) as one layer, in
// the form an import of the same directory takes: the layer of the
// directory the tar unpacks to, so that "tar -C dir -cf - ." and dir give
// the same commit id (the tar's "./" entry, its order, owner names and
// format do not reach the layer). Most tars are written straight from
// their headers (layer.CreateFromTar); the rest are unpacked into a
// directory of .strata/tmp, which is then written.
func importTarFile(ctx context.Context, r *repo.Repo, path string) (objects.Layer, error) {
	f, err := openInterruptible(ctx, path, os.O_RDONLY)
	if err != nil {
		return objects.Layer{}, err
	}
	defer f.Close()
	return importTar(ctx, r, f)
}

// importTar is importTarFile of a tar read from src (a file, or a pipe
// such as "docker export" writes).
func importTar(ctx context.Context, r *repo.Repo, src io.Reader) (objects.Layer, error) {
	mt, err := layerMtimes()
	if err != nil {
		return objects.Layer{}, err
	}
	tarFile, err := plainTar(r, src)
	if err != nil {
		return objects.Layer{}, err
	}
	if tarFile != src {
		defer tarFile.Close()
	}
	// A tar has at least its end blocks; nothing at all is more likely a
	// producer that failed (docker export of a missing container) than
	// an empty root filesystem.
	if fi, err := tarFile.Stat(); err == nil && fi.Size() == 0 {
		return objects.Layer{}, errors.New("empty input, not a tar")
	}
	if prefix, err := scanTar(tarFile); err != nil {
		return objects.Layer{}, err
	} else if prefix != "" {
		return objects.Layer{}, &imageArchiveError{prefix}
	}
	info, err := r.Objects.AddLayerFromTar(ctx, tarFile, layer.WriteOptions{Mtime: mt})
	if !errors.Is(err, layer.ErrTarNeedsUnpack) {
		return info, err
	}
	slog.Debug("import: unpacking the tar", "why", err)
	tmp, err := os.MkdirTemp(r.Objects.TempDir(), "import-")
	if err != nil {
		return objects.Layer{}, err
	}
	defer os.RemoveAll(tmp)
	if err := layer.Unpack(ctx, io.NewSectionReader(tarFile, 0, 1<<62), tmp, layer.Apply); err != nil {
		return objects.Layer{}, err
	}
	return r.Objects.AddLayerFromDir(ctx, tmp, layer.WriteOptions{Mtime: mt})
}

// imageArchiveError: a tar to import as a root filesystem is an image
// archive, which the prefix imports as an image.
type imageArchiveError struct{ prefix string }

func (e *imageArchiveError) Error() string {
	return fmt.Sprintf("an image archive, not a root filesystem: import it as %sFILE", e.prefix)
}

// scanTar reads the headers of the tar in f before it is imported as a
// root filesystem. It refuses a ".wh." name and a 0:0 character device,
// as an import of the directory does: a root filesystem has no
// whiteouts, and the unpack would take the file for one and drop it. It returns "docker-archive:"
// if the top level is exactly what docker save writes (manifest.json
// beside layers, configs, blobs/ and docker 25's OCI files),
// "oci-archive:" if it is exactly an OCI layout (oci-layout, index.json,
// blobs/), and "" for anything else: no root filesystem looks like either.
func scanTar(f *os.File) (string, error) {
	top := map[string]bool{}
	tr := tar.NewReader(io.NewSectionReader(f, 0, 1<<62))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil // the import says what is wrong with the tar
		}
		name := path.Clean("/" + hdr.Name)[1:]
		if name == "" {
			continue
		}
		if layer.ReservedName(path.Base(name)) {
			return "", fmt.Errorf("%s: %w", pathquote.Quote("/"+name), layer.ErrReservedName)
		}
		if hdr.Typeflag == tar.TypeChar && hdr.Devmajor == 0 && hdr.Devminor == 0 {
			return "", fmt.Errorf("%s: %w", pathquote.Quote("/"+name), layer.ErrWhiteoutDevice)
		}
		first, _, _ := strings.Cut(name, "/")
		top[first] = true
	}
	layers := false // docker's HEX/layer.tar and HEX.json
	for n := range top {
		switch {
		case n == "manifest.json" || n == "repositories" || n == "oci-layout" || n == "index.json" || n == "blobs":
		case hexName().MatchString(n):
			layers = true
		default:
			return "", nil
		}
	}
	switch {
	case top["manifest.json"] && (top["blobs"] || layers):
		return "docker-archive:", nil
	case top["oci-layout"] && top["index.json"] && top["blobs"] && !layers && !top["repositories"]:
		return "oci-archive:", nil
	}
	return "", nil
}

// hexName is a member docker save writes beside manifest.json: a config
// (HEX.json) or a directory of a layer (HEX).
var hexName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}(\.json)?$`) })

// plainTar returns src if it is an uncompressed tar in a regular file, or
// else a new unlinked file in .strata/tmp holding the tar src decompresses
// to (layer.SpoolTar: read up to the tar's end, and no further): a tar is
// written from its headers by reading each file's content where the tar
// holds it.
func plainTar(r *repo.Repo, src io.Reader) (*os.File, error) {
	if f, ok := src.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			head := make([]byte, 6)
			n, err := f.ReadAt(head, 0)
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			if tarcompress.Kind(head[:n]) == "" {
				return f, checkTarStart(f)
			}
		}
	}
	dr, err := tarcompress.Reader(src)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	spool, err := os.CreateTemp(r.Objects.TempDir(), "import-")
	if err != nil {
		return nil, err
	}
	os.Remove(spool.Name())
	if err := layer.SpoolTar(spool, dr); err != nil {
		spool.Close()
		return nil, fmt.Errorf("read tar: %w", err)
	}
	return spool, nil
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

// checkTarStart says a file is not a tar when its first block is neither
// a header nor the end of the archive: one line, not the unpack's error.
// An empty file is left to importTar, which names it so.
func checkTarStart(f *os.File) error {
	_, err := tar.NewReader(io.NewSectionReader(f, 0, 1<<62)).Next()
	if err == nil || err == io.EOF {
		return nil
	}
	return fmt.Errorf("not a tar, nor a gzip, zstd, xz or bzip2 tar (%v)", err)
}
