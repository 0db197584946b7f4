package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/internal/lockfile"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sys/unix"
)

// layoutLockTimeout is how long a push waits for one holder of a layout's
// index.json.lock.
var layoutLockTimeout = 10 * time.Second

// layoutTarget is an OCI image layout directory used as a remote. Tags are
// index.json entries named by org.opencontainers.image.ref.name; manifests
// pushed by digest are blobs only. It is created on first push, and
// written through objects.Store, the one OCI-layout writer (staging in
// its tmp/, fsync, rename, directory fsync).
type layoutTarget struct {
	name string     // the directory, as messages name it
	mu   sync.Mutex // blobs and manifests are written in parallel
	// dir is the directory to use: name, or in a work tree the
	// /proc/self/fd path of a descriptor opened on it (openLayout).
	dir string
	// parent, in a work tree, of a layout not there yet: a descriptor
	// opened on the directory where store makes it as base (-1 if none).
	parent int
	base   string
	st     *objects.Store // opened (or created) on first write
}

// openLayout is the layout directory of ep. One in a work tree
// (treepath.Path) is opened once, with no symbolic link on its way
// (treepath.OpenDir), and used by that descriptor: a container that
// swaps a directory on the way for a link while the command runs cannot
// lead it out of the tree. One not there yet is read by name in its
// parent, opened so, until store makes it there and opens it so.
func openLayout(ep Endpoint) (*layoutTarget, error) {
	t := &layoutTarget{name: ep.Dir, dir: ep.Dir, parent: -1}
	if ep.inTree {
		fd, err := treepath.OpenDir(unix.AT_FDCWD, ep.Dir)
		if errors.Is(err, fs.ErrNotExist) {
			if fd, err = treepath.OpenDir(unix.AT_FDCWD, filepath.Dir(ep.Dir)); err == nil {
				t.parent, t.base = fd, filepath.Base(ep.Dir)
				t.dir = filepath.Join(treepath.FDPath(fd), t.base)
			}
		} else if err == nil {
			t.dir = treepath.FDPath(fd)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := image.CheckLayoutVersion(t.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return t, nil
}

func (t *layoutTarget) String() string { return t.name }

// path is elem in the layout.
func (t *layoutTarget) path(elem ...string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return filepath.Join(append([]string{t.dir}, elem...)...)
}

func (t *layoutTarget) blobPath(d digest.Digest) string {
	return t.path("blobs", d.Algorithm().String(), d.Encoded())
}

func (t *layoutTarget) has(d digest.Digest) bool {
	_, err := os.Stat(t.blobPath(d))
	return err == nil
}

// store opens the layout for writing, creating it if need be.
func (t *layoutTarget) store() (*objects.Store, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st != nil {
		return t.st, nil
	}
	if t.parent >= 0 {
		// Made, then opened as openLayout opens it: a link the container
		// put there first is refused.
		if err := unix.Mkdirat(t.parent, t.base, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("layout %s: %w", t.name, err)
		}
		fd, err := treepath.OpenDir(t.parent, t.base)
		if err != nil {
			return nil, fmt.Errorf("layout %s: %w", t.name, err)
		}
		unix.Close(t.parent)
		t.dir, t.parent = treepath.FDPath(fd), -1
	}
	st, err := objects.OpenLayout(t.dir)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", t.name, err)
	}
	t.st = st
	return st, nil
}

func (t *layoutTarget) pushBlob(ctx context.Context, b outBlob) (bool, error) {
	if t.has(b.desc.Digest) {
		return false, nil
	}
	st, err := t.store()
	if err != nil {
		return false, err
	}
	rc, err := b.open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	_, err = st.Put(ctx, rc, b.desc.Digest)
	return true, err
}

func (t *layoutTarget) fetchBlob(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, err
	}
	f, err := image.OpenRegular(t.blobPath(d.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, ErrNotFound)
	}
	return f, err
}

func (t *layoutTarget) readIndex() (*ocispec.Index, error) {
	var idx ocispec.Index
	b, err := image.ReadRegularCapped(t.path(ocispec.ImageIndexFile), image.MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &idx, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", t.name, err)
	}
	return &idx, nil
}

func (t *layoutTarget) headManifest(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if strings.Contains(ref, ":") {
		d := digest.Digest(ref)
		if err := d.Validate(); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", ref, err)
		}
		fi, err := os.Stat(t.blobPath(d))
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", ref, ErrNotFound)
		}
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: fi.Size()}, nil
	}
	idx, err := t.readIndex()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == ref {
			return m, nil
		}
	}
	return ocispec.Descriptor{}, ErrNotFound // callers name the tag
}

func (t *layoutTarget) fetchManifest(ctx context.Context, ref string) ([]byte, ocispec.Descriptor, error) {
	desc, err := t.headManifest(ctx, ref)
	if err != nil {
		return nil, desc, err
	}
	if err := desc.Digest.Validate(); err != nil {
		return nil, desc, fmt.Errorf("manifest %s: %w: %v", desc.Digest, ErrBadImage, err)
	}
	if err := image.CheckDescSize(desc, "manifest", image.MaxManifestSize); err != nil {
		return nil, desc, err
	}
	b, err := image.ReadRegularCapped(t.blobPath(desc.Digest), image.MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, desc, fmt.Errorf("manifest %s: %w", desc.Digest, ErrNotFound)
	}
	if err != nil {
		return nil, desc, fmt.Errorf("manifest %s: %w", short(desc.Digest), err)
	}
	if digest.FromBytes(b) != desc.Digest {
		return nil, desc, fmt.Errorf("manifest %s: content does not match its digest: %w", desc.Digest, ErrBadImage)
	}
	if int64(len(b)) != desc.Size {
		return nil, desc, fmt.Errorf("manifest %s: %d bytes, its descriptor says %d: %w", short(desc.Digest), len(b), desc.Size, ErrBadImage)
	}
	if desc.MediaType == "" {
		desc.MediaType = image.SniffMediaType(b)
	}
	return b, desc, nil
}

func (t *layoutTarget) pushManifest(ctx context.Context, ref string, raw []byte, mediaType string) error {
	st, err := t.store()
	if err != nil {
		return err
	}
	desc, err := st.PutBytes(mediaType, raw)
	if err != nil {
		return err
	}
	if strings.Contains(ref, ":") {
		return nil
	}
	return t.setTag(st, ref, &desc)
}

// setTag points tag at desc in the layout's index.json, or removes it when
// desc is nil. One writer of index.json at a time, under strata's one lock
// discipline: a lock left by a killed push is taken over.
func (t *layoutTarget) setTag(st *objects.Store, tag string, desc *ocispec.Descriptor) error {
	lock, err := lockfile.Wait(t.path("index.json.lock"), layoutLockTimeout)
	if err != nil {
		return fmt.Errorf("layout %s: index.json: %w", t.name, err)
	}
	defer lock.Release()
	idx, err := t.readIndex()
	if err != nil {
		return err
	}
	kept := idx.Manifests[:0]
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] != tag {
			kept = append(kept, m)
		}
	}
	idx.Manifests = kept
	if desc != nil {
		d := *desc
		d.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
		idx.Manifests = append(idx.Manifests, d)
		idx.SchemaVersion, idx.MediaType = 2, ocispec.MediaTypeImageIndex
	}
	return st.WriteIndex(idx)
}

func (t *layoutTarget) tags(ctx context.Context) ([]string, error) {
	// A layout not yet written has no index (push makes both); one whose
	// directory is gone is a remote that is not there.
	if _, err := os.Stat(t.path()); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such directory", t.name)
	}
	idx, err := t.readIndex()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range idx.Manifests {
		if n := m.Annotations[ocispec.AnnotationRefName]; n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}
