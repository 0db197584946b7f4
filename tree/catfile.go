package tree

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/zeebo/blake3"
)

// ErrContentMismatch: a layer's file does not have the digest its file
// index gives it.
var ErrContentMismatch = errors.New("content does not match the file index")

// WriteFile writes to w the content of the regular file e, the entry a
// stack of layers (bottom first) holds at p, streamed from the topmost
// layer that holds it; nothing is unpacked. The content is checked
// against e's digest before a byte reaches w: held in memory up to
// MaxPatchSize, beyond that in an unlinked temporary file in tmpDir.
func (h *History) WriteFile(layers []objects.Layer, p string, e *layer.Entry, tmpDir string, w io.Writer) error {
	if KindOf(e.Type) != layer.TypeFile {
		return fmt.Errorf("%s: not a regular file", p)
	}
	want := map[string]*layer.Entry{p: e}
	for i := len(layers) - 1; i >= 0; i-- {
		byPath, err := h.entriesAt(layers[i], want)
		if err != nil {
			return err
		}
		le := byPath[p]
		if le == nil {
			continue
		}
		if le.Digest != e.Digest {
			break // whited out or changed above: e is not from these layers
		}
		src := p
		if le.Type == layer.TypeHardlink {
			src = le.Link
		}
		return h.copyLayerFile(layers[i], src, e, tmpDir, w)
	}
	return fmt.Errorf("%s: %w: no layer holds it", p, ErrContentMismatch)
}

// copyLayerFile streams layer l to the regular file at src and writes its
// content to w once it matches e's digest.
func (h *History) copyLayerFile(l objects.Layer, src string, e *layer.Entry, tmpDir string, w io.Writer) error {
	name := short(l.Desc.Digest.Encoded())
	rc, err := h.store.OpenLayer(l.Desc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	mismatch := fmt.Errorf("layer %s: %s: %w: not in the layer", name, src, ErrContentMismatch)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return mismatch
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", name, err)
		}
		if path.Clean("/"+hdr.Name) != src || hdr.Typeflag != tar.TypeReg {
			continue
		}
		// A layer may give src again: the content e names is the one
		// with its digest (the last, or for a hardlink, the one it was
		// made to).
		err = verifiedCopy(tr, hdr.Size, e.Digest, tmpDir, w)
		if !errors.Is(err, ErrContentMismatch) {
			return err
		}
		mismatch = fmt.Errorf("layer %s: %s: %w", name, src, err)
	}
}

// verifiedCopy copies r to w once its content has digest want.
func verifiedCopy(r io.Reader, size int64, want, tmpDir string, w io.Writer) error {
	return holdContent(r, size, tmpDir, func(got string, content io.ReadSeeker) error {
		if got != want {
			return fmt.Errorf("%w: %s, the index says %s", ErrContentMismatch, got, want)
		}
		_, err := io.Copy(w, content)
		return err
	})
}

// holdContent reads r, size bytes, to its end and hands fn its digest
// ("blake3:<hex>") and its content (at its start), held in memory up to
// MaxPatchSize, beyond that in an unlinked temporary file in tmpDir:
// nothing of it is handed on before all of it was read and hashed.
func holdContent(r io.Reader, size int64, tmpDir string, fn func(digest string, content io.ReadSeeker) error) error {
	hash := blake3.New()
	var hold interface {
		io.Writer
		io.Reader
	}
	if size <= MaxPatchSize {
		hold = bytes.NewBuffer(make([]byte, 0, size))
	} else {
		f, err := os.CreateTemp(tmpDir, "show-")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // the open file is all that is needed
		defer f.Close()
		hold = f
	}
	if _, err := io.Copy(io.MultiWriter(hold, hash), r); err != nil {
		return err
	}
	content := io.ReadSeeker(nil)
	switch h := hold.(type) {
	case *os.File:
		content = h
	case *bytes.Buffer:
		content = bytes.NewReader(h.Bytes())
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return fn("blake3:"+hex.EncodeToString(hash.Sum(nil)), content)
}
