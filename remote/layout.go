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
//
// A container may hold the layout (in its work tree, or in a directory
// it can write): the directory is opened once (openLayout), and every
// name inside it, blobs/, index.json, each blob, is opened beneath that
// descriptor with no symbolic link followed (objects.OpenIn,
// objects.OpenLayout). A link planted there, or swapped in while the
// command runs, is refused, never followed out of the layout.
type layoutTarget struct {
	name string     // the directory, as messages name it
	mu   sync.Mutex // blobs and manifests are written in parallel
	// dir is a descriptor of the layout directory, -1 while it is not
	// there (store makes it).
	dir int
	// parent, in a work tree, of a layout not there yet: a descriptor
	// opened on the directory where store makes it as base (-1 if none).
	parent int
	base   string
	st     *objects.Store // opened (or created) on first write
}

// openLayout is the layout directory of ep, opened once. One in a work
// tree (treepath.Path) is opened with no symbolic link on its way
// (treepath.OpenDir): a container that swaps a directory on the way for
// a link while the command runs cannot lead it out of the tree. One not
// there yet is made where its path leads when store first writes; in a
// work tree, in its parent, opened so.
func openLayout(ep Endpoint) (*layoutTarget, error) {
	t := &layoutTarget{name: ep.Dir, dir: -1, parent: -1}
	var err error
	if ep.inTree {
		t.dir, err = treepath.OpenDir(unix.AT_FDCWD, ep.Dir)
		if errors.Is(err, fs.ErrNotExist) {
			t.parent, err = treepath.OpenDir(unix.AT_FDCWD, filepath.Dir(ep.Dir))
			t.base = filepath.Base(ep.Dir)
		}
	} else if filepath.Base(ep.Dir) == ".strata" {
		// A repository, its .strata no link (localEndpoint), nor one
		// swapped in since.
		var parent int
		if parent, err = openDir(filepath.Dir(ep.Dir)); err == nil {
			t.dir, err = objects.OpenFDIn(parent, filepath.Dir(ep.Dir), ".strata", unix.O_PATH|unix.O_DIRECTORY)
			unix.Close(parent)
		}
	} else {
		t.dir, err = openDir(ep.Dir)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	f, err := t.open(ocispec.ImageLayoutFile)
	if err == nil {
		err = image.CheckLayoutVersion(f)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return t, nil
}

// openDir opens the directory p, following its path as the user gave it.
func openDir(p string) (int, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, nil
}

func (t *layoutTarget) String() string { return t.name }

// isStrataRepo reports whether the layout is a strata repository, whose
// index.json is derived from its refs and must not be written: its HEAD
// is a regular file. It is looked at beneath the layout's descriptor with
// no link followed: a HEAD a container planted in a layout it holds (a
// link to a host file, a directory) does not make it one.
func (t *layoutTarget) isStrataRepo() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir < 0 {
		return false
	}
	var st unix.Stat_t
	err := unix.Fstatat(t.dir, "HEAD", &st, unix.AT_SYMLINK_NOFOLLOW)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// open opens the regular file rel (slash-separated) in the layout, as
// objects.OpenIn does: fs.ErrNotExist while the layout is not there.
func (t *layoutTarget) open(rel string) (*os.File, error) {
	t.mu.Lock()
	dir := t.dir
	t.mu.Unlock()
	if dir < 0 {
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(t.name, rel), Err: fs.ErrNotExist}
	}
	f, err := objects.OpenIn(dir, t.name, rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return image.Regular(f)
}

// blob is the name of blob d in the layout.
func blob(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

func (t *layoutTarget) has(d digest.Digest) bool {
	f, err := t.open(blob(d))
	if err == nil {
		f.Close()
	}
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
		t.dir, t.parent = fd, -1
	} else if t.dir < 0 {
		if err := os.MkdirAll(t.name, 0o755); err != nil {
			return nil, fmt.Errorf("layout %s: %w", t.name, err)
		}
		fd, err := openDir(t.name)
		if err != nil {
			return nil, fmt.Errorf("layout %s: %w", t.name, err)
		}
		t.dir = fd
	}
	st, err := objects.OpenLayout(t.dir, t.name)
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
	f, err := t.open(blob(d.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, ErrNotFound)
	}
	return f, err
}

func (t *layoutTarget) readIndex() (*ocispec.Index, error) {
	var idx ocispec.Index
	f, err := t.open(ocispec.ImageIndexFile)
	if errors.Is(err, fs.ErrNotExist) {
		return &idx, nil
	}
	var b []byte
	if err == nil {
		b, err = image.ReadCapped(f, image.MaxManifestSize)
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
		f, err := t.open(blob(d))
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", ref, ErrNotFound)
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			return ocispec.Descriptor{}, err
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
	f, err := t.open(blob(desc.Digest))
	var b []byte
	if err == nil {
		b, err = image.ReadCapped(f, image.MaxManifestSize)
	}
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
	// By the descriptor store opened the layout by, named as the user
	// named it.
	lock, err := lockfile.Wait(filepath.Join(treepath.FDPath(t.dir), "index.json.lock"), layoutLockTimeout)
	var pe *fs.PathError
	if errors.Is(err, lockfile.ErrHeld) {
		err = fmt.Errorf("%s: %w", filepath.Join(t.name, "index.json.lock"), lockfile.ErrHeld)
	} else if errors.As(err, &pe) {
		pe.Path = filepath.Join(t.name, "index.json.lock")
	}
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
	t.mu.Lock()
	there := t.dir >= 0
	t.mu.Unlock()
	if !there {
		return nil, fmt.Errorf("%s: %w", t.name, ErrNoDirectory)
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
