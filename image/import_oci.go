package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sys/unix"
)

// SplitPathTag splits PATH[:REF] as skopeo splits oci:PATH:REF and
// docker-archive:PATH:REF: the path ends at the first ':', so that REF
// may hold '/' and ':' (feature/x, localhost/foo:bar). A path that holds
// a ':' itself is found when it exists: the whole string first, then the
// shortest existing prefix that ends before a ':'.
func SplitPathTag(s string) (string, string) {
	if _, err := os.Lstat(s); err == nil {
		return s, ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] != ':' || i == 0 {
			continue
		}
		if _, err := os.Lstat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	if p, ref, ok := strings.Cut(s, ":"); ok && p != "" {
		return p, ref
	}
	return s, ""
}

// readOCILayout opens the image TAG of an OCI layout directory (the only
// image if no tag is given), checking index, manifest and config against
// their digests.
func readOCILayout(src string) (*image, error) {
	dir, tag := SplitPathTag(src)
	if fi, err := os.Stat(dir); err == nil && fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: a file, not an OCI layout directory: an OCI layout in a tar is oci-archive:%s", dir, src)
	}
	// The directory is opened once, where its path leads, and every name
	// in it beneath it with no symbolic link followed: a layout a
	// container holds may plant index.json -> /etc/shadow, or a blob as a
	// link to a host file.
	fd, dirErr := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	open := func(name string) (io.ReadCloser, error) {
		if dirErr != nil {
			return nil, &fs.PathError{Op: "open", Path: filepath.Join(dir, name), Err: dirErr}
		}
		f, err := objects.OpenIn(fd, dir, name, unix.O_RDONLY|unix.O_NONBLOCK)
		if err != nil {
			return nil, err
		}
		return Regular(f)
	}
	closeDir := func() error {
		if fd >= 0 {
			return unix.Close(fd)
		}
		return nil
	}
	img, err := readLayout("oci:", dir, tag, open, closeDir)
	if err != nil {
		closeDir()
	}
	return img, err
}

// readOCIArchive opens the image TAG of an OCI layout in a tar file, as
// skopeo's oci-archive: and 'export --format oci' write it.
func readOCIArchive(src string) (*image, error) {
	p, tag := SplitPathTag(src)
	a, err := openArchive(p)
	if err != nil {
		return nil, err
	}
	img, err := readLayout("oci-archive:", p, tag, a.open, a.Close)
	if err != nil {
		a.Close()
		return nil, err
	}
	return img, nil
}

// readLayout reads the image TAG of the OCI layout at dir (a directory or
// an archive, named so in errors, with the prefix that names it as an
// import source), whose files open opens by their names in the layout
// ("index.json", "blobs/sha256/HEX"); a missing one is fs.ErrNotExist.
// The image's close calls closeAll.
func readLayout(prefix, dir, tag string, open func(name string) (io.ReadCloser, error), closeAll func() error) (*image, error) {
	readFile := func(name string, limit int64) ([]byte, error) {
		f, err := open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readCapped(f, limit, name)
	}
	if b, err := readFile(ocispec.ImageLayoutFile, maxLayoutFileSize); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not an OCI image layout (no oci-layout file)", dir)
	} else if err != nil {
		return nil, err
	} else if err := checkLayoutVersion(b); err != nil {
		return nil, err
	}
	b, err := readFile(ocispec.ImageIndexFile, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w: %v", ErrBadImage, err)
	}
	if tag == "" && len(idx.Manifests) != 1 {
		return nil, fmt.Errorf("%s holds %d images: name one with %s%s:TAG", dir, len(idx.Manifests), prefix, dir)
	}
	i, err := pickRefName(idx.Manifests, tag)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	desc := &idx.Manifests[i]
	// readBlob reads a manifest or config whole: at most limit bytes, and
	// exactly as many as its descriptor says.
	readBlob := func(d ocispec.Descriptor, what string, limit int64) ([]byte, error) {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w: %v", what, ErrBadImage, err)
		}
		if err := CheckDescSize(d, what, limit); err != nil {
			return nil, err
		}
		f, err := open(blobName(d.Digest))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: blob missing: %w", what, d.Digest, ErrBadImage)
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(ExactSize(f, d.Size))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, d.Digest, err)
		}
		if digest.FromBytes(b) != d.Digest {
			return nil, fmt.Errorf("%s %s: content does not match its digest: %w", what, d.Digest, ErrBadImage)
		}
		return b, nil
	}
	raw, err := readBlob(*desc, "manifest", MaxManifestSize)
	if err != nil {
		return nil, err
	}
	if IsIndex(desc.MediaType) || IsIndex(SniffMediaType(raw)) {
		var sub ocispec.Index
		if err := json.Unmarshal(raw, &sub); err != nil {
			return nil, fmt.Errorf("index %s: %w: %v", desc.Digest, ErrBadImage, err)
		}
		m, err := PickPlatform(&sub)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		desc = &m
		if raw, err = readBlob(*desc, "manifest", MaxManifestSize); err != nil {
			return nil, err
		}
	}
	in, err := Normalize(raw, *desc)
	if err != nil {
		return nil, err
	}
	cfgRaw, err := readBlob(in.Manifest.Config, "config", MaxConfigSize)
	if err != nil {
		return nil, err
	}
	img := &image{manifestDigest: desc.Digest, layers: in.Manifest.Layers, close: closeAll}
	if err := json.Unmarshal(cfgRaw, &img.config); err != nil {
		return nil, fmt.Errorf("config %s: %w: %v", in.Manifest.Config.Digest, ErrBadImage, err)
	}
	img.dropped = droppedFields(cfgRaw)
	img.open = func(i int) (io.ReadCloser, error) {
		d := img.layers[i].Digest
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
		}
		f, err := open(blobName(d))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("blob missing: %w", ErrBadImage)
		}
		if err != nil {
			return nil, err
		}
		return ExactSizeCloser(f, img.layers[i].Size), nil
	}
	return img, nil
}

// pickRefName finds the manifest whose ref name is tag ("" with one
// manifest: that one). Failing that, a tag with no '/' or ':' picks the
// image whose ref name is NAME:tag, as pickTag does in a docker archive:
// export --format oci names its image <project>:<REV>, so that the REV
// alone finds it again. A tag that fits two images is refused, naming
// both.
func pickRefName(ms []ocispec.Descriptor, tag string) (int, error) {
	if tag == "" {
		return 0, nil
	}
	var byTag []int
	var names []string
	for i, m := range ms {
		n := m.Annotations[ocispec.AnnotationRefName]
		if n == tag {
			return i, nil
		}
		if !strings.ContainsAny(tag, "/:") && strings.HasSuffix(n, ":"+tag) {
			byTag, names = append(byTag, i), append(names, n)
		}
	}
	switch len(byTag) {
	case 0:
		return -1, fmt.Errorf("tag %s: %w", tag, errNoImage)
	case 1:
		return byTag[0], nil
	}
	return -1, fmt.Errorf("%s names %d images, %s: give the whole name", tag, len(byTag), strings.Join(names, ", "))
}
