package objects

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A zstd layer's gzip twin record (indexes/sha256/<hex>.gzip) names the
// gzip layer `push --compression gzip` made of blob <hex>, and the diff id
// its tar was found to have as it was recompressed: one line, "<gzip
// digest> <size> <diff id>". Without it every such push recompressed
// every zstd layer of the history (4 s for a Debian layer), however
// little was new. The gzip stream has no name and no time, so the twin
// is what a conversion would make again, with this compressor.

func (s *Store) gzipTwinPath(d digest.Digest) string {
	return s.indexPath(d) + ".gzip"
}

// GzipTwin returns the gzip layer recorded for zstd layer d and the diff
// id found for its tar, if the record reads whole and the gzip blob is
// still in the store, a gzip stream of the size recorded whose own diff
// id record agrees (Reuse: it is about to be named by a commit).
func (s *Store) GzipTwin(d digest.Digest) (ocispec.Descriptor, digest.Digest, bool) {
	desc, diffID, err := s.readGzipTwin(d, s.Reuse)
	return desc, diffID, err == nil
}

// errTwinGone is readGzipTwin's error for a record whose gzip blob is
// not stored: gc removed it (no ref names it), no damage.
var errTwinGone = errors.New("its gzip blob is not stored")

// readGzipTwin reads d's twin record and checks it against the store;
// stored tells whether the gzip blob is there (Reuse, or Has for a look
// that names it in no commit). Its error says what is wrong with the
// record: fs.ErrNotExist for none, errTwinGone, or what a record cut,
// rewritten or planted gets wrong.
func (s *Store) readGzipTwin(d digest.Digest, stored func(digest.Digest) bool) (ocispec.Descriptor, digest.Digest, error) {
	if err := validate(d); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	b, err := readRegular(s.gzipTwinPath(d), 4096)
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	line, ok := strings.CutSuffix(string(b), "\n")
	f := strings.Fields(line)
	if !ok || len(f) != 3 {
		return ocispec.Descriptor{}, "", errors.New("does not read as one line '<gzip digest> <size> <diff id>' (cut, or rewritten)")
	}
	gz, diffID := digest.Digest(f[0]), digest.Digest(f[2])
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || size < 0 || validate(gz) != nil || diffID.Validate() != nil {
		return ocispec.Descriptor{}, "", errors.New("does not read as one line '<gzip digest> <size> <diff id>' (cut, or rewritten)")
	}
	if !stored(gz) {
		return ocispec.Descriptor{}, "", errTwinGone
	}
	// A record that gives the blob another size than it has (rewritten,
	// or planted) would put that size in the manifest pushed: a puller
	// refuses such a commit. It reads as none, and the layer is
	// recompressed.
	if n, err := s.Size(gz); err != nil || n != size {
		return ocispec.Descriptor{}, "", fmt.Errorf("gives gzip blob %s %d bytes, it has %d", gz, size, n)
	}
	// Nor is one naming a blob that is no gzip stream (the zstd layer
	// itself, a config): it would go as a gzip layer.
	if gz == d || !s.isGzip(gz) {
		return ocispec.Descriptor{}, "", fmt.Errorf("names blob %s, no gzip stream", gz)
	}
	// Nor one naming another layer's gzip blob, of the right size: it
	// would go in this layer's place, under this layer's diff id, and a
	// puller would refuse the commit. Whether a gzip stream holds this
	// layer's tar only a decompression tells; the gzip blob's own diff
	// id record (RecordGzipTwin writes it, an unpack of a pulled gzip
	// layer too) must say so, so two records must agree. A twin an older
	// strata recorded has none: its layer is recompressed once.
	if rec := s.VerifiedDiffID(gz); rec != diffID {
		if rec == "" {
			return ocispec.Descriptor{}, "", errTwinUnconfirmed
		}
		return ocispec.Descriptor{}, "", fmt.Errorf("gives diff id %s, the diff id record of its gzip blob %s gives %s", diffID, gz, rec)
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: gz, Size: size}, diffID, nil
}

// errTwinUnconfirmed is readGzipTwin's error for a record whose gzip
// blob has no diff id record (an older strata wrote the twin): no damage.
var errTwinUnconfirmed = errors.New("its gzip blob has no diff id record")

// RecordGzipTwin records gz as the gzip twin of zstd layer d, whose tar
// the caller hashed to diffID while it wrote gz; and, unless it says so
// already, diffID as the diff id record of gz (GzipTwin reads both).
// Like a diff id record, it is not synced: one a crash left cut reads
// as none.
func (s *Store) RecordGzipTwin(d digest.Digest, gz ocispec.Descriptor, diffID digest.Digest) error {
	if err := validate(d); err != nil {
		return fmt.Errorf("gzip twin record of %s: %w", d, err)
	}
	if err := validate(gz.Digest); err != nil {
		return fmt.Errorf("gzip twin record of %s: %w", d, err)
	}
	if s.VerifiedDiffID(gz.Digest) != diffID {
		if err := s.RecordDiffID(gz.Digest, diffID); err != nil {
			return fmt.Errorf("gzip twin record of %s: %w", d, err)
		}
	}
	line := fmt.Sprintf("%s %d %s\n", gz.Digest, gz.Size, diffID)
	if err := s.writeRecord(s.gzipTwinPath(d), ".gzip-", line); err != nil {
		return fmt.Errorf("gzip twin record of %s: %w", d, err)
	}
	return nil
}

// isGzip reports whether blob d begins as a gzip stream does (RFC 1952:
// ID1 ID2 and CM 8, deflate).
func (s *Store) isGzip(d digest.Digest) bool {
	f, err := s.OpenUnhashed(d)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [3]byte
	_, err = f.ReadAt(head[:], 0)
	return err == nil && head == [3]byte{0x1f, 0x8b, 8}
}
