package tree

import (
	"archive/tar"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/zeebo/blake3"
)

// MaxPatchSize is the largest file whose content a patch shows.
const MaxPatchSize = 8 << 20

// TooBig reports whether e is a file over MaxPatchSize, whose content
// patches and --stat do not read: they show it as binary.
func TooBig(e *layer.Entry) bool {
	return e != nil && KindOf(e.Type) == layer.TypeFile && e.Size > MaxPatchSize
}

// ReadContents returns the content of the regular files want names (path
// to the entry a tree holds for it) in a stack of layers, bottom first.
// Each layer that holds one of them is streamed once, never unpacked.
// Files larger than MaxPatchSize are left out.
func (h *History) ReadContents(layers []objects.Layer, want map[string]*layer.Entry) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := h.EachContent(layers, want, func(p string, b []byte) { out[p] = b })
	return out, err
}

// EachContent is ReadContents giving each file to each as it is read,
// keeping none.
func (h *History) EachContent(layers []objects.Layer, want map[string]*layer.Entry, each func(p string, b []byte)) error {
	remaining := map[string]*layer.Entry{}
	for p, e := range want {
		if KindOf(e.Type) == layer.TypeFile && e.Size <= MaxPatchSize {
			remaining[p] = e
		}
	}
	// For each layer to read, the wanted paths of each content captured
	// (contentKey).
	jobs := map[int]map[string][]string{}
	for i := len(layers) - 1; i >= 0 && len(remaining) > 0; i-- {
		byPath, err := h.entriesAt(layers[i], remaining)
		if err != nil {
			return err
		}
		for p, w := range remaining {
			e := byPath[p]
			if e == nil || e.Digest != w.Digest {
				continue
			}
			if jobs[i] == nil {
				jobs[i] = map[string][]string{}
			}
			src := p
			if e.Type == layer.TypeHardlink {
				src = e.Link
			}
			k := contentKey(src, e.Digest)
			jobs[i][k] = append(jobs[i][k], p)
			delete(remaining, p)
		}
	}
	for i, paths := range jobs {
		err := h.readLayerFiles(layers[i], paths, func(k string, b []byte) {
			for _, p := range paths[k] {
				each(p, b)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// LayerRead reads the files of a diff for FindRenames from the layers of
// its two sides (nil: the empty tree).
func (h *History) LayerRead(old, new []objects.Layer) ReadFunc {
	return func(o bool, want map[string]*layer.Entry, each func(string, []byte)) error {
		if o {
			return h.EachContent(old, want, each)
		}
		return h.EachContent(new, want, each)
	}
}

// entriesAt returns layer l's entries (whiteouts too, not opaque marks)
// at the paths of want: from the parsed index if h holds it, else read
// line by line, so that the patch of a few files of a million-file layer
// holds the few (issue 15).
func (h *History) entriesAt(l objects.Layer, want map[string]*layer.Entry) (map[string]*layer.Entry, error) {
	if pi := h.indexes[l.Desc.Digest]; pi != nil {
		return pi.byPath, nil
	}
	entries, err := h.store.LayerIndexFunc(l, func(e *layer.Entry) bool {
		return e.Type != layer.TypeOpaque && want[e.Path] != nil
	})
	if err != nil {
		return nil, fmt.Errorf("file index of layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	byPath := make(map[string]*layer.Entry, len(entries))
	for i := range entries {
		byPath[entries[i].Path] = &entries[i]
	}
	return byPath, nil
}

// contentKey names the content a file of a layer has at path p: a layer
// may give p twice, and a hardlink to p names the content p had then.
func contentKey(p, digest string) string { return p + "\x00" + digest }

// readLayerFiles streams one layer and gives each the contents want
// names (by contentKey), each once.
func (h *History) readLayerFiles(l objects.Layer, want map[string][]string, each func(key string, b []byte)) error {
	names := map[string]bool{}
	for k := range want {
		p, _, _ := strings.Cut(k, "\x00")
		names[p] = true
	}
	rc, err := h.store.OpenLayer(l.Desc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := map[string]bool{}
	hash := blake3.New()
	for len(found) < len(want) {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
		}
		p := path.Clean("/" + hdr.Name)
		if !names[p] || hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, MaxPatchSize))
		if err != nil {
			return fmt.Errorf("layer %s: %s: %w", short(l.Desc.Digest.Encoded()), p, err)
		}
		hash.Reset()
		hash.Write(b)
		if k := contentKey(p, "blake3:"+hex.EncodeToString(hash.Sum(nil))); want[k] != nil && !found[k] {
			found[k] = true
			each(k, b)
		}
	}
	// Read to the end: the blob's digest is checked only there, and
	// nothing unverified is shown.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	return nil
}
