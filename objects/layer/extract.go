package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/asyncwrite"
	"github.com/strata-sh/strata/internal/mapfile"
	"github.com/zeebo/blake3"
)

// Extract unpacks the layer blob r into dir (as Unpack does) and returns
// the diff id and file index of its tar (as Index does), reading r once
// and to its end. The blob's bytes must match mediaType (CheckMediaType).
// The diff id is hashed beside the decompression, on a goroutine of its
// own; the index is built from the headers the unpacker reads, with the
// content digests computed by the workers that write the files. On error
// the caller removes dir.
func Extract(ctx context.Context, r io.Reader, mediaType, dir string, mode UnpackMode) (digest.Digest, []Entry, error) {
	h := sha256.New()
	entries, err := extractBlob(ctx, r, mediaType, dir, mode, h, nil, true)
	if err != nil {
		return "", nil, err
	}
	return digest.NewDigest(digest.SHA256, h), entries, nil
}

// ExtractUnindexed is Extract for a layer whose file index is already
// stored: it builds none, which for a million files is most of the
// memory an unpack takes (issue 15).
func ExtractUnindexed(ctx context.Context, r io.Reader, mediaType, dir string, mode UnpackMode) (digest.Digest, error) {
	h := sha256.New()
	if _, err := extractBlob(ctx, r, mediaType, dir, mode, h, nil, false); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// ExtractKnown is ExtractUnindexed for a layer whose diff id is known
// too: it hashes nothing. r must check its own bytes, as a reader that
// verifies the blob digest at EOF does: ExtractKnown reads it to the end
// and returns its error.
func ExtractKnown(ctx context.Context, r io.Reader, mediaType, dir string, mode UnpackMode) error {
	_, err := extractBlob(ctx, r, mediaType, dir, mode, nil, nil, false)
	return err
}

// ExtractKnownFile is ExtractKnown for the blob in the open file f, whose
// every byte it writes to blob, in the same pass: the caller checks
// blob's sum against the blob's digest once it returns, and until then
// trusts nothing in dir.
func ExtractKnownFile(ctx context.Context, f *os.File, blob hash.Hash, mediaType, dir string, mode UnpackMode) error {
	_, err := extractBlob(ctx, f, mediaType, dir, mode, nil, blob, false)
	return err
}

// extractBlob is Extract, hashing the tar into h and the blob into blob
// if they are set. A zstd blob in a regular file is mapped, not read
// (newMappedFrameReader).
func extractBlob(ctx context.Context, r io.Reader, mediaType, dir string, mode UnpackMode, h, blob hash.Hash, index bool) ([]Entry, error) {
	if f, ok := r.(*os.File); ok {
		if entries, mapped, err := extractFile(ctx, f, mediaType, dir, mode, h, blob, index); mapped {
			return entries, err
		}
	}
	if blob != nil {
		r = io.TeeReader(r, blob)
	}
	br := bufio.NewReaderSize(r, 256<<10)
	head, err := br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("extract layer: %w", err)
	}
	if err := CheckMediaType(mediaType, head); err != nil {
		return nil, err
	}
	if Sniff(head) == Zstd {
		fr := newFrameReader(br, h)
		defer fr.Close()
		return extract(ctx, fr, br, dir, mode, index)
	}
	var dr io.Reader = br
	if Sniff(head) == Gzip {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("extract layer: %w", err)
		}
		defer z.Close()
		dr = z
	}
	if h == nil {
		return extract(ctx, dr, br, dir, mode, index)
	}
	hw := asyncwrite.New(h, 8, 256<<10)
	entries, err := extract(ctx, io.TeeReader(dr, hw), br, dir, mode, index)
	if cerr := hw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("extract layer: %w", cerr)
	}
	return entries, err
}

// extractFile is extractBlob of f mapped, if it is a zstd blob
// (mapZstdBlob); mapped=false if it is to be read as a stream. The
// decoders and the blob's hasher read the mapping apart: a write to f
// between the two would have the tree of some bytes accepted under the
// digest of others, so f changed while read fails with mapfile.ErrFault.
func extractFile(ctx context.Context, f *os.File, mediaType, dir string, mode UnpackMode, h, blob hash.Hash, index bool) (_ []Entry, mapped bool, _ error) {
	stamp, err := mapfile.StampOf(f)
	if err != nil {
		return nil, false, nil
	}
	data := mapZstdBlob(f)
	if data == nil {
		return nil, false, nil
	}
	defer mapfile.Unmap(data)
	entries, err := extractMapped(ctx, data, mediaType, dir, mode, h, blob, index)
	if err == nil {
		if err = mapfile.Unchanged(f, stamp); err != nil {
			err = fmt.Errorf("extract layer: blob changed while read: %w", err)
		}
	}
	return entries, true, err
}

// mapZstdBlob maps f if it is a regular file, not read yet, that holds
// a zstd stream; otherwise it returns nil and f is read as a stream.
func mapZstdBlob(f *os.File) []byte {
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return nil
	}
	data, err := mapfile.Map(f)
	if err != nil || len(data) < 4 {
		mapfile.Unmap(data)
		return nil
	}
	if head, err := headOf(data); err != nil || Sniff(head) != Zstd {
		mapfile.Unmap(data)
		return nil
	}
	return data
}

// headOf is the first bytes of a mapped blob, copied out safely.
func headOf(data []byte) ([]byte, error) {
	head := make([]byte, min(len(data), headSize))
	_, err := io.ReadFull(mapfile.NewReader(data), head)
	return head, err
}

// extractMapped is extractBlob of the zstd blob mapped at data.
func extractMapped(ctx context.Context, data []byte, mediaType, dir string, mode UnpackMode, h, blob hash.Hash, index bool) ([]Entry, error) {
	head, err := headOf(data)
	if err != nil {
		return nil, fmt.Errorf("extract layer: %w", err)
	}
	if err := CheckMediaType(mediaType, head); err != nil {
		return nil, err
	}
	fr := newMappedFrameReader(data, h, blob)
	defer fr.Close()
	return extract(ctx, fr, nil, dir, mode, index)
}

// extract unpacks tarball, then reads it and the blob (if any: a mapped
// blob is all hashed by its frame reader) to their ends: the diff id
// covers the tar's padding, and a verifying blob reader reports a
// mismatch only at EOF.
func extract(ctx context.Context, tarball, blob io.Reader, dir string, mode UnpackMode, index bool) ([]Entry, error) {
	entries, err := unpackTar(ctx, tarball, dir, mode, index)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, tarball); err != nil {
		return nil, fmt.Errorf("extract layer: %w", err)
	}
	if blob == nil {
		return entries, nil
	}
	if _, err := io.Copy(io.Discard, blob); err != nil {
		return nil, fmt.Errorf("extract layer: %w", err)
	}
	return entries, nil
}

// indexer builds a layer's file index during unpack. Content digests of
// files written by the pool arrive later, hardlinks take theirs from
// their target's entry: both are filled in by finish.
type indexer struct {
	entries []Entry
	digests []pendingDigest
	links   [][2]int       // a hardlink's entry, its target's entry
	files   map[string]int // a regular file's path, its entry
	nodes   map[string]int // a symlink's, device's or FIFO's path, its entry
	hash    *blake3.Hasher // for files the unpacker writes itself
	next    *string        // the digest slot of the current file entry
}

type pendingDigest struct {
	i int
	d *string
}

// indexEntry records hdr's entry, as Index does.
func (u *unpacker) indexEntry(hdr *tar.Header) error {
	ix := u.ix
	e, err := headerEntry(hdr)
	if err != nil {
		return err
	}
	ix.next = nil
	switch e.Type {
	case TypeFile:
		d := new(string)
		ix.digests = append(ix.digests, pendingDigest{len(ix.entries), d})
		ix.next = d
		defer func() { ix.files[e.Path] = len(ix.entries) - 1 }()
	case TypeHardlink:
		if i, ok := ix.nodes[e.Link]; ok {
			e = linkedNode(e.Path, &ix.entries[i])
		} else if i, ok := ix.files[e.Link]; ok {
			ix.links = append(ix.links, [2]int{len(ix.entries), i})
		}
	}
	if e.Type.node() {
		ix.nodes[e.Path] = len(ix.entries)
	} else if len(ix.nodes) > 0 {
		delete(ix.nodes, e.Path)
	}
	ix.entries = append(ix.entries, e)
	return nil
}

// fileDigest hands out the digest slot of the file entry being unpacked;
// nil when no index is built.
func (ix *indexer) fileDigest() *string {
	if ix == nil {
		return nil
	}
	d := ix.next
	ix.next = nil
	return d
}

// finishIndex fills in digests once every file is written.
func (u *unpacker) finishIndex() []Entry {
	ix := u.ix
	for _, p := range ix.digests {
		ix.entries[p.i].Digest = *p.d
	}
	for _, l := range ix.links {
		ix.entries[l[0]].Size, ix.entries[l[0]].Digest = ix.entries[l[1]].Size, ix.entries[l[1]].Digest
	}
	return ix.entries
}
