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
	remaining := map[string]*layer.Entry{}
	for p, e := range want {
		if KindOf(e.Type) == layer.TypeFile && e.Size <= MaxPatchSize {
			remaining[p] = e
		}
	}
	type job struct {
		want  map[string]bool   // contentKey of each content to capture
		links map[string]string // wanted path -> contentKey of its content
	}
	jobs := map[int]*job{}
	for i := len(layers) - 1; i >= 0 && len(remaining) > 0; i-- {
		byPath, err := h.entriesAt(layers[i], remaining)
		if err != nil {
			return nil, err
		}
		for p, w := range remaining {
			e := byPath[p]
			if e == nil || e.Digest != w.Digest {
				continue
			}
			j := jobs[i]
			if j == nil {
				j = &job{want: map[string]bool{}, links: map[string]string{}}
				jobs[i] = j
			}
			src := p
			if e.Type == layer.TypeHardlink {
				src = e.Link
			}
			k := contentKey(src, e.Digest)
			j.want[k] = true
			j.links[p] = k
			delete(remaining, p)
		}
	}
	out := map[string][]byte{}
	for i, j := range jobs {
		got, err := h.readLayerFiles(layers[i], j.want)
		if err != nil {
			return nil, err
		}
		for p, k := range j.links {
			if b, ok := got[k]; ok {
				out[p] = b
			}
		}
	}
	return out, nil
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

// readLayerFiles streams one layer and keeps the contents want names.
func (h *History) readLayerFiles(l objects.Layer, want map[string]bool) (map[string][]byte, error) {
	names := map[string]bool{}
	for k := range want {
		p, _, _ := strings.Cut(k, "\x00")
		names[p] = true
	}
	rc, err := h.store.OpenLayer(l.Desc)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string][]byte{}
	hash := blake3.New()
	for len(out) < len(want) {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
		}
		p := path.Clean("/" + hdr.Name)
		if !names[p] || hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, MaxPatchSize))
		if err != nil {
			return nil, fmt.Errorf("layer %s: %s: %w", short(l.Desc.Digest.Encoded()), p, err)
		}
		hash.Reset()
		hash.Write(b)
		if k := contentKey(p, "blake3:"+hex.EncodeToString(hash.Sum(nil))); want[k] {
			out[k] = b
		}
	}
	// Read to the end: the blob's digest is checked only there, and
	// nothing unverified is shown.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	return out, nil
}
