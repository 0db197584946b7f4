package image

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// archiveFile is where a member of an uncompressed tar lies.
type archiveFile struct {
	off, size int64
	link      string // symlink target, resolved against the member's dir
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Compiled on first use: every strata process, the container init
// included, would otherwise pay for it at start-up.
var hexName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:^|/)([0-9a-f]{64})(?:\.json|\.tar)?$`) })

// tarArchive is an uncompressed tar file read in place: its regular
// members and symlinks, by cleaned name, and where each lies.
type tarArchive struct {
	f     *os.File
	files map[string]archiveFile
}

// openArchive indexes the members of the tar file p. It must be a regular
// file: a FIFO or a device cannot be read at an offset (and opening a FIFO
// with no writer would block).
func openArchive(p string) (*tarArchive, error) {
	f, err := OpenRegular(p)
	if err != nil {
		return nil, err
	}
	a := &tarArchive{f: f, files: map[string]archiveFile{}}
	cr := &countReader{r: f}
	tr := tar.NewReader(cr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w: %v", p, ErrBadImage, err)
		}
		name := path.Clean(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			a.files[name] = archiveFile{off: cr.n, size: hdr.Size}
		case tar.TypeSymlink:
			a.files[name] = archiveFile{link: path.Join(path.Dir(name), hdr.Linkname)}
		}
	}
	return a, nil
}

// lookup finds a regular member by name, following symlinks in the
// archive.
func (a *tarArchive) lookup(name string) (archiveFile, bool) {
	name = path.Clean(name)
	for i := 0; i < 8; i++ {
		af, ok := a.files[name]
		if !ok || af.link == "" {
			return af, ok
		}
		name = af.link
	}
	return archiveFile{}, false
}

func (a *tarArchive) section(af archiveFile) *io.SectionReader {
	return io.NewSectionReader(a.f, af.off, af.size)
}

// open opens a regular member; a missing one is fs.ErrNotExist.
func (a *tarArchive) open(name string) (io.ReadCloser, error) {
	af, ok := a.lookup(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return io.NopCloser(a.section(af)), nil
}

func (a *tarArchive) Close() error { return a.f.Close() }

// readDockerArchive opens the image TAG (the only one if none is given) of
// what 'docker save' writes: manifest.json naming a config and layer tars.
func readDockerArchive(src string) (*image, error) {
	p, tag := SplitPathTag(src)
	a, err := openArchive(p)
	if err != nil {
		return nil, err
	}
	f := a.f
	lookup := a.lookup
	// read reads a JSON member whole, at most limit bytes.
	read := func(name string, limit int64) ([]byte, error) {
		af, ok := lookup(name)
		if !ok {
			return nil, fmt.Errorf("%s: missing from the archive: %w", name, ErrBadImage)
		}
		if af.size > limit {
			return nil, fmt.Errorf("%s: %d bytes, more than %s: %w", name, af.size, CapText(limit), ErrBadImage)
		}
		return io.ReadAll(a.section(af))
	}
	fail := func(err error) (*image, error) {
		f.Close()
		return nil, err
	}
	b, err := read("manifest.json", MaxManifestSize)
	if err != nil {
		return fail(err)
	}
	var entries []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(b, &entries); err != nil {
		return fail(fmt.Errorf("manifest.json: %w: %v", ErrBadImage, err))
	}
	pick := -1
	if tag == "" {
		if len(entries) != 1 {
			return fail(fmt.Errorf("%s holds %d images: name one with docker-archive:%s:NAME:TAG", p, len(entries), p))
		}
		pick = 0
	} else {
		tags := make([][]string, len(entries))
		for i, e := range entries {
			tags[i] = e.RepoTags
		}
		if pick, err = pickTag(tags, tag); err != nil {
			return fail(fmt.Errorf("%s: %w", p, err))
		}
	}
	e := entries[pick]
	cfgRaw, err := read(e.Config, MaxConfigSize)
	if err != nil {
		return fail(err)
	}
	if m := hexName().FindStringSubmatch(e.Config); m != nil && digest.FromBytes(cfgRaw).Encoded() != m[1] {
		return fail(fmt.Errorf("config %s: content does not match its digest: %w", e.Config, ErrBadImage))
	}
	img := &image{close: f.Close}
	if err := json.Unmarshal(cfgRaw, &img.config); err != nil {
		return fail(fmt.Errorf("config %s: %w: %v", e.Config, ErrBadImage, err))
	}
	img.dropped = droppedFields(cfgRaw)
	var sections []archiveFile
	for _, l := range e.Layers {
		af, ok := lookup(l)
		if !ok {
			return fail(fmt.Errorf("layer %s: missing from the archive: %w", l, ErrBadImage))
		}
		sections = append(sections, af)
		var desc = struct{ d digest.Digest }{}
		// Newer archives name layers by digest (blobs/sha256/HEX): check it.
		if m := hexName().FindStringSubmatch(l); m != nil && strings.Contains(l, "blobs/") {
			desc.d = digest.NewDigestFromEncoded(digest.SHA256, m[1])
		}
		if desc.d == "" {
			// Hash it now, so that import knows which blobs it adds.
			h := digest.SHA256.Digester()
			if _, err := io.Copy(h.Hash(), io.NewSectionReader(f, af.off, af.size)); err != nil {
				return fail(err)
			}
			desc.d = h.Digest()
		}
		img.layers = append(img.layers, ociDescriptor(desc.d, af.size))
	}
	img.open = func(i int) (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(f, sections[i].off, sections[i].size)), nil
	}
	return img, nil
}

// pickTag finds the image that ref names among images tagged so (each
// image's RepoTags): by its whole name, as docker names images ("foo" is
// "foo:latest", "docker.io/library/foo" is "foo"), or else by the tag
// alone ("v1" for "env:v1"). A ref that names two images is refused,
// naming both.
func pickTag(tags [][]string, ref string) (int, error) {
	var byName, byTag []int
	var names, tagNames []string
	want := normalName(ref)
	for i, ts := range tags {
		for _, t := range ts {
			switch {
			case normalName(t) == want:
				if len(byName) == 0 || byName[len(byName)-1] != i {
					byName, names = append(byName, i), append(names, t)
				}
			case !strings.ContainsAny(ref, "/:") && strings.HasSuffix(t, ":"+ref):
				if len(byTag) == 0 || byTag[len(byTag)-1] != i {
					byTag, tagNames = append(byTag, i), append(tagNames, t)
				}
			}
		}
	}
	if len(byName) == 0 {
		byName, names = byTag, tagNames
	}
	switch len(byName) {
	case 0:
		return -1, fmt.Errorf("tag %s: %w", ref, errNoImage)
	case 1:
		return byName[0], nil
	}
	return -1, fmt.Errorf("%s names %d images, %s: give the whole name", ref, len(byName), strings.Join(names, ", "))
}

// normalName is an image name as docker compares them: with a tag
// (latest if none), without docker.io's implicit "docker.io/library/".
func normalName(s string) string {
	if lastColon(s) < 0 {
		s += ":latest"
	}
	for _, p := range []string{"docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

func ociDescriptor(d digest.Digest, size int64) ocispec.Descriptor {
	return ocispec.Descriptor{Digest: d, Size: size}
}
