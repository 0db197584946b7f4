package tree

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// CopyFiles writes the content of each regular file want names (path to
// the entry a tree of layers, bottom first, holds for it) to the writer
// open gives for its path, then closes that writer, one file after the
// other. Each layer that holds one of them is streamed once, in tar
// order (not in the order of paths), never unpacked; a content is
// checked against its entry's digest before a byte of it is written
// (held in memory up to MaxPatchSize, beyond that in an unlinked
// temporary file in tmpDir), so memory stays bounded whatever the number
// and size of the files. A file no layer holds with its digest is an
// error (ErrContentMismatch).
func (h *History) CopyFiles(layers []objects.Layer, want map[string]*layer.Entry, tmpDir string, open func(p string) io.WriteCloser) error {
	remaining := map[string]*layer.Entry{}
	for p, e := range want {
		if KindOf(e.Type) == layer.TypeFile {
			remaining[p] = e
		}
	}
	// jobs[i]: the contents layer i gives, each to the paths that have it
	// (a hardlink's is its first name's, in the same layer).
	jobs := map[int]map[string][]string{}
	// Each index is read line by line and keeps nothing: the entries of
	// a million-file layer are not held a second time beside want's.
	for i := len(layers) - 1; i >= 0 && len(remaining) > 0; i-- {
		job := map[string][]string{}
		_, err := h.store.LayerIndexFunc(layers[i], func(e *layer.Entry) bool {
			if w := remaining[e.Path]; w != nil && e.Digest == w.Digest && KindOf(e.Type) == layer.TypeFile {
				src := e.Path
				if e.Type == layer.TypeHardlink {
					src = e.Link
				}
				k := contentKey(src, e.Digest)
				job[k] = append(job[k], strings.Clone(e.Path)) // e is the decoder's, reused for the next line
				delete(remaining, e.Path)
			}
			return false
		})
		if err != nil {
			return fmt.Errorf("file index of layer %s: %w", short(layers[i].Desc.Digest.Encoded()), err)
		}
		if len(job) > 0 {
			jobs[i] = job
		}
	}
	for p := range remaining {
		return fmt.Errorf("%s: %w: no layer holds it", p, ErrContentMismatch)
	}
	for i, l := range layers {
		if jobs[i] != nil {
			if err := h.copyLayerFiles(l, jobs[i], tmpDir, open); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyLayerFiles streams layer l and writes the contents job names.
func (h *History) copyLayerFiles(l objects.Layer, job map[string][]string, tmpDir string, open func(string) io.WriteCloser) error {
	name := short(l.Desc.Digest.Encoded())
	srcs := map[string]bool{} // paths in the tar that job wants a content of
	for k := range job {
		p, _, _ := strings.Cut(k, "\x00")
		srcs[p] = true
	}
	rc, err := h.store.OpenLayer(l.Desc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for len(job) > 0 {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", name, err)
		}
		src := path.Clean("/" + hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !srcs[src] {
			continue
		}
		// A layer may give src twice: the content a key names is the
		// one with its digest.
		err = holdContent(tr, hdr.Size, tmpDir, func(digest string, content io.ReadSeeker) error {
			k := contentKey(src, digest)
			paths := job[k]
			delete(job, k)
			for _, p := range paths {
				if _, err := content.Seek(0, io.SeekStart); err != nil {
					return err
				}
				w := open(p)
				_, err := io.Copy(w, content)
				if cerr := w.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("layer %s: %s: %w", name, src, err)
		}
	}
	for k, paths := range job {
		p, _, _ := strings.Cut(k, "\x00")
		return fmt.Errorf("layer %s: %s (%s): %w: not in the layer", name, p, paths[0], ErrContentMismatch)
	}
	// Read to the end: the blob's digest is checked only there.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	return nil
}
