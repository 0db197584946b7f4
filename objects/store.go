package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/atomicfile"
	"golang.org/x/sys/unix"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound       = errors.New("not found")
	ErrDigestMismatch = errors.New("content does not match its digest")
	ErrNotRepository  = errors.New("not a strata repository")
	// ErrNotRegular is a blob that is a symbolic link, a FIFO or a
	// device: a repository handed over as a tar may hold one, and
	// reading it would read another file, wait forever or never end.
	ErrNotRegular = errors.New("not a regular file")
)

// blobOpenFlags open a blob without following a symbolic link, and a
// FIFO without waiting for a writer (it then reads as empty).
const blobOpenFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK

// readRegular reads the regular file at path whole (openBlobFile), or
// its first limit bytes when limit is not negative.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := openBlobFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	return io.ReadAll(r)
}

// openBlobFile opens the blob file at path, refusing anything but a
// regular file.
func openBlobFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, blobOpenFlags, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err != nil {
		return nil, err
	}
	return regularOnly(f, path)
}

// regularOnly is f if it is a regular file; else it closes f, and the
// error names path.
func regularOnly(f *os.File, path string) (*os.File, error) {
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = ErrNotRegular
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

// openBlob opens blob d as openBlobFile does, in the blob directory of
// a confined store (OpenLayout).
func (s *Store) openBlob(d digest.Digest) (*os.File, error) {
	if s.in == nil {
		return openBlobFile(s.BlobPath(d))
	}
	f, err := OpenIn(s.in.blobs.FD, s.in.blobs.Name, d.Encoded(), blobOpenFlags)
	if errors.Is(err, ErrLinkInLayout) {
		return nil, &fs.PathError{Op: "open", Path: s.BlobPath(d), Err: ErrNotRegular}
	}
	if err != nil {
		return nil, err
	}
	return regularOnly(f, s.BlobPath(d))
}

// Store is a content-addressed blob store laid out as an OCI image layout.
type Store struct {
	root string

	// blobDir is an O_PATH descriptor of blobs/sha256, opened at the
	// first read of a blob (sha256Dir) and closed when the Store is
	// collected: a blob opened relative to it skips looking up every
	// directory above, 3 to 11% of log --oneline's time. -1 if it could
	// not be opened; reads then go by path.
	blobDirOnce sync.Once
	blobDir     int

	// summaries is the summary cache (summaries.go).
	summaries summaryCache

	// in: the directories of a layout another party may hold, opened by
	// OpenLayout; nil for a repository's store.
	in *confined

	// NoSyncIndex leaves index.json unflushed when it is rewritten (git's
	// default core.fsync for refs, which it copies); blobs are always
	// flushed.
	NoSyncIndex bool
}

func (s *Store) sha256Dir() int {
	if s.in != nil {
		return s.in.blobs.FD
	}
	s.blobDirOnce.Do(func() {
		s.blobDir = -1
		fd, err := unix.Open(filepath.Join(s.root, "blobs", "sha256"), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		s.blobDir = fd
		runtime.AddCleanup(s, func(fd int) { unix.Close(fd) }, fd)
	})
	return s.blobDir
}

// Init creates an empty store in dir (normally a project's .strata).
// It is an error if dir already holds a store.
func Init(dir string) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, ocispec.ImageLayoutFile)); err == nil {
		return nil, fmt.Errorf("%s: repository already exists", dir)
	}
	for _, d := range []string{"blobs/sha256", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	s := &Store{root: dir}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := atomicfile.Write(s.TempDir(), filepath.Join(dir, ocispec.ImageLayoutFile), layout, 0o644); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the store in dir.
func Open(dir string) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, ocispec.ImageLayoutFile)); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	return &Store{root: dir}, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// TempDir is where staged files live; it is on the store's filesystem so
// that rename into place is atomic.
func (s *Store) TempDir() string { return filepath.Join(s.root, "tmp") }

// BlobPath is where the blob d is kept. It does not say whether it exists.
func (s *Store) BlobPath(d digest.Digest) string {
	return filepath.Join(s.root, "blobs", d.Algorithm().String(), d.Encoded())
}

// Has reports whether the blob d is present.
func (s *Store) Has(d digest.Digest) bool {
	if validate(d) != nil {
		return false
	}
	if s.in != nil {
		_, err := s.in.statBlob(d)
		return err == nil
	}
	_, err := os.Stat(s.BlobPath(d))
	return err == nil
}

// Reuse reports whether blob d is present and, if it is, refreshes its
// mtime. gc keeps unreachable blobs younger than its grace period, so a
// blob that a command deduplicates against, and is about to reference from
// a new commit, cannot be collected before that commit's ref moves. Every
// writer that skips a blob because it is present asks Reuse, not Has.
func (s *Store) Reuse(d digest.Digest) bool {
	if validate(d) != nil {
		return false
	}
	if s.in != nil {
		// A link is not a blob: the writer replaces it.
		if !s.Has(d) {
			return false
		}
		unix.UtimesNanoAt(s.in.blobs.FD, d.Encoded(), nil, unix.AT_SYMLINK_NOFOLLOW)
		return true
	}
	now := time.Now()
	err := os.Chtimes(s.BlobPath(d), now, now)
	if err == nil {
		return true
	}
	// Not the owner (a shared layout): present, but gc's grace is not ours
	// to extend.
	return !errors.Is(err, fs.ErrNotExist) && s.Has(d)
}

// Size returns the size of blob d.
func (s *Store) Size(d digest.Digest) (int64, error) {
	if err := validate(d); err != nil {
		return 0, fmt.Errorf("blob %q: %w", d, err)
	}
	if s.in != nil {
		st, err := s.in.statBlob(d)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("blob %s: %w", d, ErrNotFound)
		}
		return st.Size, err
	}
	fi, err := os.Stat(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Open returns a reader of blob d that fails with ErrDigestMismatch at EOF
// if the content is not what its name says.
func (s *Store) Open(d digest.Digest) (io.ReadCloser, error) {
	if err := validate(d); err != nil {
		return nil, fmt.Errorf("blob %q: %w", d, err)
	}
	f, err := s.openBlob(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return NewVerifyingReader(f, d), nil
}

// OpenUnhashed opens the blob d without hashing it again as it is read.
// Only for a reader that checks everything it uses against another
// verified digest in the same pass: a layer's unpack hashes every byte it
// decompresses for the diff id its verified config names, so a blob
// changed on disk fails there, and the blob was verified when it entered
// the store (issue 15: rehashing the compressed bytes was a sixth of a
// checkout's CPU).
func (s *Store) OpenUnhashed(d digest.Digest) (*os.File, error) {
	if err := validate(d); err != nil {
		return nil, fmt.Errorf("blob %q: %w", d, err)
	}
	f, err := s.openBlob(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	return f, err
}

// ReadBlob reads a small blob whole and verifies it.
func (s *Store) ReadBlob(d digest.Digest) ([]byte, error) {
	return s.readVerified(d, nil, true, false)
}

// ReadJSONBlob is ReadBlob of a manifest or config: a blob that does not
// begin as a JSON object (a layer where a commit or config is named) is
// refused after its first bytes, not read whole.
func (s *Store) ReadJSONBlob(d digest.Digest) ([]byte, error) {
	return s.readVerified(d, nil, true, true)
}

// ReadJSON reads blob d and decodes it into v.
func (s *Store) ReadJSON(d digest.Digest, v any) error {
	b, err := s.ReadJSONBlob(d)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("blob %s: bad JSON: %w", d, err)
	}
	return nil
}

// Put stores the content of r. If want is not empty the content must match
// it, or nothing is stored. Put is idempotent.
func (s *Store) Put(ctx context.Context, r io.Reader, want digest.Digest) (ocispec.Descriptor, error) {
	w, err := s.NewWriter()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer w.Abort()
	if _, err := io.Copy(w, ContextReader(ctx, r)); err != nil {
		return ocispec.Descriptor{}, err
	}
	return w.Commit(want)
}

// PutBytes stores b and returns its descriptor with the given media type.
func (s *Store) PutBytes(mediaType string, b []byte) (ocispec.Descriptor, error) {
	d := digest.FromBytes(b)
	if !s.Reuse(d) {
		write := func() error { return atomicfile.Write(s.TempDir(), s.BlobPath(d), b, 0o444) }
		if s.in != nil {
			write = func() error { return atomicfile.WriteAt(s.in.tmp, s.in.blobs, d.Encoded(), b, 0o444) }
		}
		if err := write(); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("write blob %s: %w", d, err)
		}
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}, nil
}

// PutJSON marshals v and stores it.
func (s *Store) PutJSON(mediaType string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return s.PutBytes(mediaType, b)
}

// Delete removes blob d. Removing a missing blob is not an error.
func (s *Store) Delete(d digest.Digest) error {
	if err := validate(d); err != nil {
		return err
	}
	err := os.Remove(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Walk calls fn for every blob in the store, in no particular order.
func (s *Store) Walk(fn func(d digest.Digest, size int64) error) error {
	names, err := s.blobNames()
	if err != nil {
		return err
	}
	for _, n := range names {
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		fi, err := os.Stat(s.BlobPath(d))
		if err != nil {
			continue
		}
		if err := fn(d, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

// blobNames lists the hex names under blobs/sha256.
func (s *Store) blobNames() ([]string, error) {
	f, err := os.Open(filepath.Join(s.root, "blobs", "sha256"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	out := names[:0]
	for _, n := range names {
		if validate(digest.NewDigestFromEncoded(digest.SHA256, n)) == nil {
			out = append(out, n)
		}
	}
	return out, err
}

// StrayNames lists the entries of the blob directory whose names are not
// sha256 digests: nothing in strata reads or removes them (git fsck: "bad
// sha1 file").
func (s *Store) StrayNames() ([]string, error) {
	names, err := os.ReadDir(filepath.Join(s.root, "blobs", "sha256"))
	out := []string{}
	for _, n := range names {
		if validate(digest.NewDigestFromEncoded(digest.SHA256, n.Name())) != nil {
			out = append(out, filepath.Join("blobs", "sha256", n.Name()))
		}
	}
	return out, err
}

// ContextReader reads r until ctx is done, so that a long copy stops when
// the command is interrupted. The one such reader: import, fetch, push and
// export use it.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx == nil || ctx.Done() == nil {
		return r
	}
	return readerFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return r.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// Digests lists the blobs by name, without reading or statting them.
func (s *Store) Digests() ([]digest.Digest, error) {
	names, err := s.blobNames()
	out := make([]digest.Digest, len(names))
	for i, n := range names {
		out[i] = digest.NewDigestFromEncoded(digest.SHA256, n)
	}
	return out, err
}
