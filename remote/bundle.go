package remote

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// A history bundle holds, in one blob, the manifests and configs of the
// commits a full ancestor list names (docs/format.md, "History
// bundles"): a clone of 1,000 commits then costs one request, not 2,000.
// It is an optimisation only: every entry is checked against its digest,
// and whatever it lacks or gets wrong is asked for one object at a time.

// bundleMax bounds a bundle's bytes: a push stops adding commits there
// (the rest are fetched one by one) and a fetch refuses a larger one. A
// fetch holds it in memory. A variable for tests.
var bundleMax int64 = 32 << 20

// bundlePrefix is the directory of the entries, as in an OCI layout.
const bundlePrefix = "blobs/sha256/"

// buildBundle writes the bundle of list l: for the list's commit and each
// entry, newest first, its manifest and then its config (once per
// config), as tar entries named blobs/sha256/<hex>. It is deterministic:
// the same list gives the same blob. A commit missing locally (a shallow
// history) is left out; at bundleMax it stops.
func buildBundle(st *objects.Store, l ancestorList) ([]byte, int, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[digest.Digest]bool{}
	add := func(d digest.Digest, b []byte) error {
		seen[d] = true
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: bundlePrefix + d.Encoded(), Mode: 0o444,
			Size: int64(len(b)), ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	n := 0
	for _, id := range append([]digest.Digest{l.Commit}, l.Ancestors...) {
		raw, err := st.ReadBlob(id)
		if err != nil {
			continue
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, 0, fmt.Errorf("commit %s: %w", short(id), err)
		}
		var cfg []byte
		if !seen[m.Config.Digest] {
			if cfg, err = st.ReadBlob(m.Config.Digest); err != nil {
				continue
			}
		}
		// Each entry costs a 512-byte header and up to 511 of padding.
		if int64(buf.Len()+len(raw)+len(cfg)+4096) > bundleMax {
			break
		}
		if !seen[id] {
			if err := add(id, raw); err != nil {
				return nil, 0, err
			}
		}
		if cfg != nil {
			if err := add(m.Config.Digest, cfg); err != nil {
				return nil, 0, err
			}
		}
		n++
	}
	if err := tw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n, nil
}

// bundle is a history bundle read back: its entries, each already
// checked against the digest it is named by.
type bundle struct {
	blobs map[digest.Digest][]byte
}

// readBundle downloads the bundle of list l, the list of commit of. Nil,
// logged, when it is too large, missing, or does not match its digest:
// the caller then asks for each object. A tar that breaks off keeps the
// entries read before it; an entry that does not match its name is
// dropped.
func (s *Session) readBundle(ctx context.Context, of digest.Digest, l *ancestorList) *bundle {
	d, err := s.bundleBlob(ctx, l)
	if err != nil {
		slog.Debug("history bundle not used", "list", of, "why", err)
		return nil
	}
	b, err := s.readBundleErr(ctx, d)
	if err != nil {
		slog.Debug("history bundle not used", "list", of, "why", err)
		return nil
	}
	return b
}

func (s *Session) readBundleErr(ctx context.Context, d ocispec.Descriptor) (*bundle, error) {
	if d.Size < 0 || d.Size > bundleMax {
		return nil, fmt.Errorf("bundle of %d bytes: %w", d.Size, ErrBadImage)
	}
	raw, err := s.fetchSmall(ctx, d)
	if err != nil {
		return nil, err
	}
	b := &bundle{blobs: map[digest.Digest][]byte{}}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			slog.Debug("history bundle cut short", "bundle", d.Digest, "entries", len(b.blobs), "why", err)
			break
		}
		hex, ok := strings.CutPrefix(hdr.Name, bundlePrefix)
		name := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if !ok || hdr.Typeflag != tar.TypeReg || name.Validate() != nil {
			continue
		}
		if hdr.Size > int64(len(raw)) {
			break // cannot be: the tar is in raw
		}
		e := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, e); err != nil {
			break
		}
		if digest.FromBytes(e) != name {
			slog.Debug("history bundle entry does not match its name; not used", "entry", name)
			continue
		}
		b.blobs[name] = e
	}
	return b, nil
}

// plannedFromBundle returns commit d from bundle b, planned as a fetched
// manifest is (toPlanned), or nil if b has no good entry for it. Only an
// OCI manifest stored as it is serves: its digest is the commit id.
func (s *Session) plannedFromBundle(b *bundle, d digest.Digest) *incoming {
	if b == nil || b.blobs[d] == nil {
		return nil
	}
	in, err := s.toPlanned(b.blobs[d], ocispec.Descriptor{Digest: d})
	if err != nil || in.id != d {
		return nil
	}
	return in
}

// config hands config c to the prefetch cache if the bundle holds it
// with its size; receiveSmall then stores it without a request.
func (s *Session) configFromBundle(st *objects.Store, b *bundle, c ocispec.Descriptor) bool {
	if b == nil || st == nil {
		return false
	}
	raw, ok := b.blobs[c.Digest]
	if !ok || int64(len(raw)) != c.Size || st.Has(c.Digest) {
		return false
	}
	return s.pre.put(c.Digest, raw)
}

// useBundle says whether a list's bundle is worth its download: when at
// least a quarter of the list is new here. A fetch of a few new commits
// asks for them; a clone takes the bundle.
func useBundle(l *ancestorList, fresh int) bool {
	has := l.bundle.Digest != "" || l.bundleManifest.Digest != ""
	return has && fresh > 0 && 4*fresh >= len(l.Ancestors)
}
