package objects

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/asyncwrite"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/objects/layer"
)

// AddLayerFromDir makes a zstd layer of dir (an overlay upper if
// opts.Overlay), stores it and its file index, in one streaming pass.
// opts.Index, if set, receives a copy of the index as it is written.
func (s *Store) AddLayerFromDir(ctx context.Context, dir string, opts layer.WriteOptions) (Layer, error) {
	return s.AddLayerFromDirIf(ctx, dir, opts, nil)
}

// AddLayerFromDirIf is AddLayerFromDir for a caller that decides, while
// the layer is written, whether it wants it: keep, if set, is called once
// the layer is written and before it is stored; an error from it leaves
// nothing in the store and is returned. commit writes the upper while it
// is still scanning it for changes, and may find none.
func (s *Store) AddLayerFromDirIf(ctx context.Context, dir string, opts layer.WriteOptions, keep func() error) (Layer, error) {
	return s.addLayer(opts, keep, func(w io.Writer, opts layer.WriteOptions) (layer.Result, error) {
		return layer.Create(ctx, dir, w, opts)
	})
}

// AddLayerFromTar stores the layer of the directory the plain tar in f
// unpacks to, without unpacking it (layer.CreateFromTar): the same layer
// Unpack and AddLayerFromDir would store. A tar only an unpack can
// write is layer.ErrTarNeedsUnpack, and leaves nothing in the store.
func (s *Store) AddLayerFromTar(ctx context.Context, f *os.File, opts layer.WriteOptions) (Layer, error) {
	return s.addLayer(opts, nil, func(w io.Writer, opts layer.WriteOptions) (layer.Result, error) {
		return layer.CreateFromTar(ctx, f, w, opts)
	})
}

// addLayer stores the layer create writes, with its diff id and index.
func (s *Store) addLayer(opts layer.WriteOptions, keep func() error, create func(io.Writer, layer.WriteOptions) (layer.Result, error)) (Layer, error) {
	w, err := s.NewWriter()
	if err != nil {
		return Layer{}, err
	}
	defer w.Abort()
	// The file index streams to a temp file beside the blob: held in
	// memory it would grow with the number of files.
	ix, err := os.CreateTemp(s.TempDir(), ".index-")
	if err != nil {
		return Layer{}, fmt.Errorf("write layer index: %w", err)
	}
	defer func() {
		ix.Close()
		os.Remove(ix.Name())
	}()
	sum := sha256.New() // the index's, for its record
	if opts.Index != nil {
		opts.Index = io.MultiWriter(ix, sum, opts.Index)
	} else {
		opts.Index = io.MultiWriter(ix, sum)
	}
	res, err := create(w, opts)
	if err != nil {
		return Layer{}, err
	}
	if keep != nil {
		if err := keep(); err != nil {
			return Layer{}, err
		}
	}
	desc, err := w.Commit("")
	if err != nil {
		return Layer{}, err
	}
	desc.MediaType = ocispec.MediaTypeImageLayerZstd
	if err := s.writeDiffID(desc.Digest, res.DiffID, digest.NewDigest(digest.SHA256, sum)); err != nil {
		return Layer{}, err
	}
	if err := s.placeIndex(desc.Digest, ix); err != nil {
		return Layer{}, err
	}
	return Layer{Desc: desc, DiffID: res.DiffID}, nil
}

// placeIndex makes the finished index file f the index of layer d, as
// writeIndex does with one in memory: synced, read-only, renamed in.
func (s *Store) placeIndex(d digest.Digest, f *os.File) error {
	p := s.indexPath(d)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write layer index %s: %w", d, err)
	}
	if err := f.Chmod(0o444); err != nil {
		return fmt.Errorf("write layer index %s: %w", d, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write layer index %s: %w", d, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("write layer index %s: %w", d, err)
	}
	return atomicfile.SyncDir(p)
}

// AddLayer stores a layer that came from elsewhere (gzip, zstd or plain),
// reading r once: the blob must match desc.Digest (and desc.Size if set)
// and, if diffID is set, its uncompressed tar must match diffID. Every
// check runs before the blob is renamed into blobs/: on any mismatch
// nothing is stored and the error wraps ErrDigestMismatch. The returned
// diff id is the content's, so the file index written with the blob
// always belongs to a verified diff id. The descriptor's media type is
// kept; if empty it is set from the content.
func (s *Store) AddLayer(ctx context.Context, r io.Reader, desc ocispec.Descriptor, diffID digest.Digest) (Layer, error) {
	what := "add layer"
	if desc.Digest != "" {
		what += " " + desc.Digest.String()
	}
	w, err := s.NewWriter()
	if err != nil {
		return Layer{}, err
	}
	defer w.Abort()
	// Hashing and writing the blob run beside decompressing and indexing.
	aw := asyncwrite.New(w, 8, 256<<10)
	defer aw.Close()
	br := bufio.NewReaderSize(io.TeeReader(ContextReader(ctx, r), aw), 64<<10)
	head, _ := br.Peek(512)
	comp := layer.Sniff(head)
	if err := layer.CheckMediaType(desc.MediaType, head); err != nil {
		return Layer{}, fmt.Errorf("%s: %w", what, err)
	}
	dr, err := layer.Decompress(br)
	if err != nil {
		return Layer{}, fmt.Errorf("%s: %w", what, err)
	}
	gotDiff, entries, err := layer.Index(dr)
	dr.Close()
	if err != nil {
		return Layer{}, fmt.Errorf("%s: %w", what, err)
	}
	// Bytes after the compressed stream are part of the blob too.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return Layer{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := aw.Close(); err != nil {
		return Layer{}, fmt.Errorf("%s: %w", what, err)
	}
	if desc.Size > 0 && w.Size() != desc.Size {
		return Layer{}, fmt.Errorf("%s: size %d, descriptor says %d: %w", what, w.Size(), desc.Size, ErrDigestMismatch)
	}
	if diffID != "" && gotDiff != diffID {
		return Layer{}, fmt.Errorf("%s: diff id is %s, config says %s: %w", what, gotDiff, diffID, ErrDigestMismatch)
	}
	stored, err := w.Commit(desc.Digest)
	if err != nil {
		return Layer{}, fmt.Errorf("add layer: %w", err)
	}
	stored.MediaType, stored.Annotations, stored.Platform = desc.MediaType, desc.Annotations, desc.Platform
	if stored.MediaType == "" {
		stored.MediaType = map[layer.Compression]string{
			layer.Zstd: ocispec.MediaTypeImageLayerZstd, layer.Gzip: ocispec.MediaTypeImageLayerGzip, layer.Plain: ocispec.MediaTypeImageLayer,
		}[comp]
	}
	if err := s.writeIndex(stored.Digest, gotDiff, entries); err != nil {
		return Layer{}, err
	}
	return Layer{Desc: stored, DiffID: gotDiff}, nil
}

// OpenLayer returns the uncompressed tar of a stored layer. The blob is
// verified as it is read: the reader fails rather than reach EOF on a
// blob that does not match its digest.
func (s *Store) OpenLayer(desc ocispec.Descriptor) (io.ReadCloser, error) {
	blob, err := s.Open(desc.Digest)
	if err != nil {
		return nil, err
	}
	dec, err := layer.DecompressAs(blob, desc.MediaType)
	if err != nil {
		blob.Close()
		return nil, fmt.Errorf("open layer %s: %w", desc.Digest, err)
	}
	return &layerReader{dec: dec, blob: blob, d: desc.Digest}, nil
}

type layerReader struct {
	dec, blob io.ReadCloser
	d         digest.Digest
}

func (l *layerReader) Read(p []byte) (int, error) {
	n, err := l.dec.Read(p)
	if err == io.EOF {
		// The decompressor may stop before the blob's end; verify all of it.
		if _, verr := io.Copy(io.Discard, l.blob); verr != nil {
			return n, verr
		}
	} else if err != nil {
		err = fmt.Errorf("read layer %s: %w", l.d, err)
	}
	return n, err
}

func (l *layerReader) Close() error {
	l.dec.Close()
	return l.blob.Close()
}

// LayerIndex returns the file index of the stored layer l, rebuilding it
// from the blob if it is missing. A rebuild is an ingest of its own: it
// refuses a blob whose bytes do not match l.Desc.MediaType
// (layer.ErrMediaType) or whose tar does not have l.DiffID
// (ErrDigestMismatch), and writes no index then. An index, once written,
// stands for a verified diff id: only AddLayerFromDir, AddLayer, this
// rebuild and PutLayerIndex (after a verifying unpack) write one.
func (s *Store) LayerIndex(l Layer) ([]layer.Entry, error) {
	desc := l.Desc
	d := desc.Digest
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("layer index %q: %w", d, err)
	}
	f, err := s.openIndex(d)
	if err == nil {
		entries, err := layer.DecodeIndex(f) // an *os.File: read in one buffer of its size
		f.Close()
		if err == nil {
			return entries, nil
		}
		if err := s.dropBadIndex(d, err); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("layer index %s: %w", d, err)
	}
	rc, err := s.OpenLayer(desc)
	if err != nil {
		return nil, fmt.Errorf("layer index %s: %w", d, err)
	}
	defer rc.Close()
	// Index reads to EOF, where OpenLayer's reader checks the blob digest.
	gotDiff, entries, err := layer.Index(rc)
	if err != nil {
		return nil, fmt.Errorf("layer index %s: %w", d, err)
	}
	if gotDiff != l.DiffID {
		return nil, fmt.Errorf("layer index %s: diff id is %s, the commit says %s: %w", d, gotDiff, l.DiffID, ErrDigestMismatch)
	}
	return entries, s.writeIndex(d, l.DiffID, entries)
}

// LayerIndexFunc returns the entries of l's file index that keep accepts,
// reading a written index line by line (see LayerIndex for the rest).
func (s *Store) LayerIndexFunc(l Layer, keep func(*layer.Entry) bool) ([]layer.Entry, error) {
	d := l.Desc.Digest
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("layer index %q: %w", d, err)
	}
	f, err := s.openIndex(d)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("layer index %s: %w", d, err)
		}
		all, err := s.LayerIndex(l)
		if err != nil {
			return nil, err
		}
		var out []layer.Entry
		for i := range all {
			if keep(&all[i]) {
				out = append(out, all[i])
			}
		}
		return out, nil
	}
	entries, err := layer.DecodeIndexFunc(f, keep)
	f.Close()
	if err != nil {
		if err := s.dropBadIndex(d, err); err != nil {
			return nil, err
		}
		return s.LayerIndexFunc(l, keep) // made again from the blob
	}
	return entries, nil
}

// openIndex opens layer d's written index. One that is not a regular
// file (a link to /dev/zero, which would never end, in a repository
// handed over) is removed as damaged and reads as missing: the caller
// makes it again from the blob.
func (s *Store) openIndex(d digest.Digest) (*os.File, error) {
	f, err := openBlobFile(s.indexPath(d))
	if errors.Is(err, ErrNotRegular) {
		slog.Debug("layer index is not a regular file; making it again from the blob", "layer", d)
		if err := s.RemoveLayerIndex(d); err != nil {
			return nil, err
		}
		return nil, &fs.PathError{Op: "open", Path: s.indexPath(d), Err: fs.ErrNotExist}
	}
	return f, err
}

// dropBadIndex removes layer d's index when err, from reading it, says
// it is damaged (a truncated file): it is derived from the blob, and the
// next read makes it again, verified. Any other error is returned.
func (s *Store) dropBadIndex(d digest.Digest, err error) error {
	if !errors.Is(err, layer.ErrBadIndex) {
		return fmt.Errorf("layer index %s: %w", d, err)
	}
	// Made again and verified at once: nothing for the user to do.
	slog.Debug("layer index damaged; making it again from the blob", "layer", d, "err", err)
	return s.RemoveLayerIndex(d)
}

// HasLayerIndex reports whether layer d's file index is written.
func (s *Store) HasLayerIndex(d digest.Digest) bool {
	_, err := os.Stat(s.indexPath(d))
	return err == nil
}

// PutLayerIndex records the file index of layer d, made by a reader of
// its content (layer.Index) such as a snapshot's unpack, and the diff id
// that reader computed. The caller must have checked that diff id against
// the commit's: an index stands for a verified diff id.
func (s *Store) PutLayerIndex(d, diffID digest.Digest, entries []layer.Entry) error {
	return s.writeIndex(d, diffID, entries)
}

// RemoveLayerIndex deletes the file index of layer d and its records
// (diff id, gzip twin), for gc. A missing index is not an error.
func (s *Store) RemoveLayerIndex(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	for _, p := range []string{s.indexPath(d), s.diffIDPath(d), s.gzipTwinPath(d)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// PruneLayerIndexes removes the file indexes (and records) of
// layers no longer in the store: gc removes a layer's index with the
// layer, but a gc killed between the two, or a reader that indexed a
// layer as gc removed it, leaves one that nothing would ever remove. An
// index is written after its layer, so one whose layer is absent is
// never a writer's.
func (s *Store) PruneLayerIndexes() error {
	dir := filepath.Join(s.root, "indexes", "sha256")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		hex, _, _ := strings.Cut(name, ".") // <hex>, <hex>.diffid, <hex>.gzip
		d := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if validate(d) != nil || s.Has(d) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (s *Store) indexPath(d digest.Digest) string {
	return filepath.Join(s.root, "indexes", d.Algorithm().String(), d.Encoded())
}

func (s *Store) writeIndex(d, diffID digest.Digest, entries []layer.Entry) error {
	var b bytes.Buffer
	if err := layer.EncodeIndex(&b, entries); err != nil {
		return err
	}
	p := s.indexPath(d)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write layer index %s: %w", d, err)
	}
	if err := s.writeDiffID(d, diffID, digest.FromBytes(b.Bytes())); err != nil {
		return err
	}
	if err := atomicfile.Write(s.TempDir(), p, b.Bytes(), 0o444); err != nil {
		return fmt.Errorf("write layer index %s: %w", d, err)
	}
	return nil
}
