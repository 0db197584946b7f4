package objects

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer"
)

const (
	// receiveBuf is the size of one read from the network; receiveBufs of
	// them are in flight between the writer and the hasher.
	receiveBuf  = 1 << 20
	receiveBufs = 8
)

// Receive stores a blob that arrives from r (a download) and must match
// want, as Put does, but sized for large blobs on two cores: what is read
// is written to the staged file on this goroutine and hashed on another,
// and what is written is flushed to disk while the rest arrives (see
// writeback). A clone of an 85 MB layer waited 60 ms on its fsync and
// 55 ms on hashing in line with the download; both now overlap it. A
// mismatch stores nothing.
func (s *Store) Receive(ctx context.Context, r io.Reader, want digest.Digest) (ocispec.Descriptor, error) {
	w, err := s.stageReceived(ctx, r, nil)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer w.Abort()
	return w.Commit(want)
}

// stageReceived writes what arrives from r to a staged blob, hashed on another
// goroutine, which also hands each buffer to tap when there is one (its
// errors are the tap's reader's to report). The caller commits or aborts
// the writer.
func (s *Store) stageReceived(ctx context.Context, r io.Reader, tap io.Writer) (*BlobWriter, error) {
	w, err := s.NewWriter()
	if err != nil {
		return nil, err
	}
	free := make(chan []byte, receiveBufs)
	for range receiveBufs {
		free <- make([]byte, receiveBuf)
	}
	full := make(chan []byte, receiveBufs)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range full {
			w.h.Write(b)
			if tap != nil {
				tap.Write(b)
			}
			free <- b[:cap(b)]
		}
	}()
	err = w.receive(ctx, r, free, full)
	close(full)
	<-hashed
	if err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// ErrBadLayer is wrapped when a layer received does not decompress as
// its media type says (layer.ErrMediaType too, when that is why).
var ErrBadLayer = errors.New("the layer does not decompress")

// badLayerError is an error of a layer's content, as err says it.
type badLayerError struct{ err error }

func (e badLayerError) Error() string   { return e.err.Error() }
func (e badLayerError) Unwrap() []error { return []error{ErrBadLayer, e.err} }

// ReceiveLayer is Receive for a layer, which is also checked against
// the diff ids that the commits naming it claim, in the same pass: what
// arrives is decompressed (by desc's media type) and hashed on other
// goroutines as it is written, so the blob is not read a second time. A
// layer whose digest is wrong, whose tar's sha256 is none of diffIDs
// (ErrDigestMismatch), or that does not decompress (ErrBadLayer, with
// layer.ErrMediaType when its bytes are not of its media type) is not
// stored. It returns the diff id found, also when it is none of
// diffIDs, so that the caller can tell which commits lie; an error with
// no diff id and without ErrBadLayer is not the layer's content's (a
// transfer, a blob digest, the disk). A plain tar's diff id is its
// digest: nothing more is computed. A layer stored gets a diff id
// record (VerifiedDiffID), without a file index.
func (s *Store) ReceiveLayer(ctx context.Context, r io.Reader, desc ocispec.Descriptor, diffIDs []digest.Digest) (digest.Digest, error) {
	if c, ok := layer.MediaCompression(desc.MediaType); ok && c == layer.Plain {
		if !slices.Contains(diffIDs, desc.Digest) {
			return desc.Digest, diffIDMismatch(desc.Digest, desc.Digest, diffIDs)
		}
		if _, err := s.Receive(ctx, r, desc.Digest); err != nil {
			return "", err
		}
		if err := s.recordReceived(desc.Digest, desc.Digest); err != nil {
			return "", err
		}
		return desc.Digest, nil
	}
	pr, pw := io.Pipe()
	type result struct {
		diffID digest.Digest
		err    error
	}
	done := make(chan result, 1)
	go func() {
		d, err := tarDigest(pr, desc.MediaType)
		if err != nil {
			pr.CloseWithError(err)
		} else {
			// Whatever follows the compressed stream is read, not used,
			// as an unpack reads it.
			io.Copy(io.Discard, pr)
		}
		done <- result{d, err}
	}()
	w, err := s.stageReceived(ctx, r, pw)
	pw.CloseWithError(err) // nil: EOF
	res := <-done
	if err != nil {
		return "", err
	}
	defer w.Abort()
	if got := w.Digest(); got != desc.Digest {
		_, err := w.Commit(desc.Digest) // the digest mismatch, as Receive says it
		return "", err
	}
	if res.err != nil {
		if errors.Is(res.err, layer.ErrMediaType) {
			return "", badLayerError{fmt.Errorf("layer %s: %w", desc.Digest, res.err)}
		}
		return "", fmt.Errorf("layer %s: %w: %v", desc.Digest, ErrBadLayer, res.err)
	}
	if !slices.Contains(diffIDs, res.diffID) {
		return res.diffID, diffIDMismatch(desc.Digest, res.diffID, diffIDs)
	}
	if _, err = w.Commit(desc.Digest); err != nil {
		return res.diffID, err
	}
	if err := s.recordReceived(desc.Digest, res.diffID); err != nil {
		return "", err
	}
	return res.diffID, nil
}

// recordReceived records the diff id a received layer was found to have
// (without an index: the unpack writes that), unless it has a record:
// a later fetch of a commit that pairs the blob with another diff id is
// then refused without reading the blob (VerifiedDiffID).
func (s *Store) recordReceived(d, diffID digest.Digest) error {
	if s.VerifiedDiffID(d) != "" {
		return nil
	}
	return s.writeDiffID(d, diffID, "")
}

func diffIDMismatch(d, got digest.Digest, claims []digest.Digest) error {
	want := "none"
	if len(claims) > 0 {
		want = claims[0].String()
	}
	return fmt.Errorf("layer %s: its content has diff id %s, the commit says %s: %w", d, got, want, ErrDigestMismatch)
}

// parallelDecode is the one layer at a time that tarDigest decompresses
// in frames on every core, as an unpack does (layer.DecompressAs, some
// 90 MB): a fetch receives 6 layers at once, and with each so decoded a
// clone of 6 layers held 500 MB. The others are decompressed on one
// goroutine each, in a zstd window's memory (layer.DecompressStreamAs),
// while the downloads keep the cores busy. A clone of one large layer
// (the usual base image) gets its decompression on both cores.
var parallelDecode = make(chan struct{}, 1)

// tarDigest returns the sha256 of the tar inside a layer blob read from r.
func tarDigest(r io.Reader, mediaType string) (digest.Digest, error) {
	decompress := layer.DecompressStreamAs
	select {
	case parallelDecode <- struct{}{}:
		defer func() { <-parallelDecode }()
		decompress = layer.DecompressAs
	default:
	}
	rc, err := decompress(r, mediaType)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// receive reads r into free buffers, writes each to the staged file and
// hands it to the hasher on full.
func (w *BlobWriter) receive(ctx context.Context, r io.Reader, free, full chan []byte) error {
	r = ContextReader(ctx, r)
	for {
		b := <-free
		n, rerr := io.ReadFull(r, b)
		if n > 0 {
			if _, err := w.f.Write(b[:n]); err != nil {
				return err
			}
			w.wrote(n)
			full <- b[:n]
		} else {
			free <- b
		}
		switch rerr {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return rerr
		}
	}
}
