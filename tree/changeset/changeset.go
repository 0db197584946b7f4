package changeset

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// Set is what turns a tree (ours) into another (result): the paths that
// differ, each written from the layer that holds its entry, whole
// (header, xattrs and content), or with content of its own (a text
// merge, conflict markers).
type Set struct {
	ours, result tree.Tree
	Paths        []string          // paths whose entry differs, sorted
	content      map[string][]byte // paths whose content is given here; metadata from result
	stacks       [][]objects.Layer // where result's entries come from, each bottom first
}

// New compares ours with result. content gives the bytes of paths whose
// content no layer holds; stacks are the layers result's entries come
// from, each bottom first.
func New(ours, result tree.Tree, content map[string][]byte, stacks ...[]objects.Layer) *Set {
	cs := &Set{ours: ours, result: result, content: content, stacks: stacks}
	for p, e := range result {
		if o := ours[p]; o == nil || !sameExact(o, e) || content[p] != nil {
			cs.Paths = append(cs.Paths, p)
		}
	}
	for p := range ours {
		if result[p] == nil {
			cs.Paths = append(cs.Paths, p)
		}
	}
	sort.Strings(cs.Paths)
	cs.Paths = dedup(cs.Paths)
	return cs
}

// WithParents adds to the set every directory above a path it writes
// that result has, changed or not. A layer that names a file but not its
// directory gets the directory made with a default mode and owner when
// it is unpacked, and in an overlay mount that directory hides the
// lower's (a 1777 /tmp would show as 0755): a layer that replaces others
// must name what they named.
func (cs *Set) WithParents() {
	have := make(map[string]bool, len(cs.Paths))
	for _, p := range cs.Paths {
		have[p] = true
	}
	var add []string
	for _, p := range cs.Paths {
		for d := path.Dir(p); d != "/" && !have[d]; d = path.Dir(d) {
			have[d] = true
			if e := cs.result[d]; e != nil && e.Type == layer.TypeDir {
				add = append(add, d)
			}
		}
	}
	if len(add) == 0 {
		return
	}
	cs.Paths = append(cs.Paths, add...)
	sort.Strings(cs.Paths)
}

func dedup(s []string) []string {
	out := s[:0]
	for i, p := range s {
		if i == 0 || p != s[i-1] {
			out = append(out, p)
		}
	}
	return out
}

// sameExact is SameEntry with mtimes: the entry a layer must hold.
func sameExact(a, b *layer.Entry) bool {
	return tree.SameEntry(a, b) && a.Type == b.Type && a.ModTime.Equal(b.ModTime) && a.Link == b.Link
}

// withMode is a copy of e with mode m.
func withMode(e *layer.Entry, m uint32) *layer.Entry {
	c := *e
	c.Mode = m
	return &c
}

// captured is one entry read from a layer: its header and content.
type captured struct {
	hdr   *tar.Header
	layer string // the digest of the layer it was read from
	data  []byte
	file  *os.File  // content spooled to disk when large
	src   *captured // a hardlink's target as the link was made (a layer may give it again later)
}

// WriteTar writes the change set as a layer tar to out, reading the
// entries it copies from store.
func (cs *Set) WriteTar(ctx context.Context, store *objects.Store, out io.Writer) error {
	got, err := capture(store, cs)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range got {
			if c.file != nil {
				c.file.Close()
			}
		}
	}()
	tw := tar.NewWriter(out)
	// first maps a file, by the name its layer gives it, to the name it
	// was first written whole under here: its other names, before or
	// after it in the order of paths, are written as hardlinks to that.
	first := map[string]written{}
	for _, p := range cs.Paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "/")
		e := cs.result[p]
		if e == nil {
			if d := path.Dir(p); d != "/" && cs.ours[d] != nil && cs.result[d] == nil {
				continue // its directory's whiteout hides it
			}
			if r := cs.result[path.Dir(p)]; r != nil && r.Type != layer.TypeDir {
				continue // replaced by a file, which hides it
			}
			dir, base := path.Split(rel)
			hdr := &tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		c := got[p]
		if c == nil {
			return fmt.Errorf("no layer holds %s", p)
		}
		hdr := *c.hdr
		hdr.Name = rel
		hdr.Mode = hdr.Mode&^0o7777 | int64(e.Mode)
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		var body io.Reader
		switch {
		case cs.content[p] != nil:
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeReg, "", int64(len(cs.content[p]))
			body = strings.NewReader(string(cs.content[p]))
		case hdr.Typeflag == tar.TypeLink && linkable(first, path.Clean("/"+hdr.Linkname), c.src):
			// Another name of the file is written above: a link to it.
			hdr.Linkname, hdr.Size = strings.TrimPrefix(first[path.Clean("/"+hdr.Linkname)].name, "/"), 0
		case hdr.Typeflag == tar.TypeLink:
			// A hardlink's first name may not be in this layer: the
			// file is written whole, from the layer of the link.
			target := path.Clean("/" + hdr.Linkname)
			src := c.src
			if src == nil {
				return fmt.Errorf("no layer holds %s, which %s links to", hdr.Linkname, p)
			}
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeReg, "", src.size()
			body = src.reader()
			if cs.content[p] == nil {
				first[target] = written{p, src}
			}
		case hdr.Typeflag == tar.TypeReg && cs.content[p] == nil && linkable(first, p, c):
			// A name of this file that sorts first was written above.
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, strings.TrimPrefix(first[p].name, "/"), 0
		case hdr.Typeflag == tar.TypeReg:
			body = c.reader()
		}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(&hdr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if body != nil {
			if _, err := io.Copy(tw, body); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		if _, ok := first[p]; !ok && hdr.Typeflag == tar.TypeReg && cs.content[p] == nil {
			first[p] = written{p, c}
		}
	}
	return tw.Close()
}

// written is the name a file was first written whole under, and the
// layer entry it came from.
type written struct {
	name string
	file *captured
}

// linkable reports whether the file target, as entry file gives it, was
// written whole above: then the two names are one file there (one
// inode: mode, owner, mtime, xattrs shared), and a link keeps them so.
// A name a later layer wrote again, even with the same content, is a
// file of its own, and so is one its layer gave again after the link.
func linkable(first map[string]written, target string, file *captured) bool {
	f, ok := first[target]
	return ok && file != nil && f.file == file
}

func (c *captured) size() int64 {
	if c.file != nil {
		st, _ := c.file.Stat()
		return st.Size()
	}
	return int64(len(c.data))
}

func (c *captured) reader() io.Reader {
	if c.file != nil {
		return io.NewSectionReader(c.file, 0, c.size())
	}
	return strings.NewReader(string(c.data))
}

// capture reads, from the layers of cs.stacks, the header and content of
// every path the change set writes: each layer that holds one is
// streamed once, from the top of each stack down.
func capture(store *objects.Store, cs *Set) (map[string]*captured, error) {
	want := map[string]*layer.Entry{}
	for _, p := range cs.Paths {
		if e := cs.result[p]; e != nil {
			want[p] = e
		}
	}
	type job struct{ names map[string]uint8 }
	var order []objects.Layer
	jobs := map[string]*job{}
	for _, stack := range cs.stacks {
		for i := len(stack) - 1; i >= 0 && len(want) > 0; i-- {
			l := stack[i]
			entries, err := store.LayerIndex(l)
			if err != nil {
				return nil, err
			}
			key := l.Desc.Digest.String()
			for k := range entries {
				e := &entries[k]
				// Any mode: a merged entry has one side's content and the
				// other's mode, which writeChangeTar sets.
				wnt := want[e.Path]
				if wnt == nil || !sameExact(wnt, withMode(e, wnt.Mode)) {
					continue
				}
				j := jobs[key]
				if j == nil {
					j = &job{names: map[string]uint8{}}
					jobs[key] = j
					order = append(order, l)
				}
				j.names[e.Path] |= wanted
				if e.Type == layer.TypeHardlink {
					j.names[e.Link] |= linkSource
				}
				delete(want, e.Path)
			}
		}
	}
	for p := range want {
		return nil, fmt.Errorf("no layer holds %s", p)
	}
	out := map[string]*captured{}
	for _, l := range order {
		if err := readLayerEntries(store, l, jobs[l.Desc.Digest.String()].names, out); err != nil {
			for _, c := range out {
				if c.file != nil {
					c.file.Close()
				}
			}
			return nil, err
		}
	}
	return out, nil
}

// What a layer is read for: an entry wanted, or the target of a
// hardlink wanted (its content).
const (
	wanted = 1 << iota
	linkSource
)

// spoolAbove is the size above which captured content goes to a file.
const spoolAbove = 1 << 20

func readLayerEntries(store *objects.Store, l objects.Layer, names map[string]uint8, out map[string]*captured) error {
	short := l.Desc.Digest.Encoded()[:12]
	rc, err := store.OpenLayer(l.Desc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", short, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	// A hardlink to a symlink, device or FIFO is indexed as one of those
	// (layer.Index): its entry is the target's header, at its own name.
	nodes := map[string]*tar.Header{}
	targets := map[string]*captured{} // a link target's last entry so far
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", short, err)
		}
		p := path.Clean("/" + hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			nodes[p] = hdr
		case tar.TypeLink:
			if t := nodes[path.Clean("/"+hdr.Linkname)]; t != nil {
				hdr = t
				nodes[p] = t
			} else {
				delete(nodes, p)
			}
		default:
			delete(nodes, p)
		}
		why := names[p]
		if why == 0 {
			continue
		}
		c := &captured{hdr: hdr, layer: l.Desc.Digest.String()}
		if hdr.Typeflag == tar.TypeLink {
			c.src = targets[path.Clean("/"+hdr.Linkname)]
		}
		if hdr.Typeflag == tar.TypeReg {
			if hdr.Size > spoolAbove {
				f, err := os.CreateTemp(store.TempDir(), "merge-")
				if err != nil {
					return err
				}
				os.Remove(f.Name())
				c.file = f
				if _, err := io.Copy(f, tr); err != nil {
					return fmt.Errorf("layer %s: %s: %w", short, p, err)
				}
			} else if c.data, err = io.ReadAll(tr); err != nil {
				return fmt.Errorf("layer %s: %s: %w", short, p, err)
			}
		}
		if why&wanted != 0 {
			out[p] = c
		}
		if why&linkSource != 0 {
			targets[p] = c
			if why&wanted == 0 {
				// Kept for the caller to close, under a key no path has.
				out[fmt.Sprintf("\x00%s\x00%d", c.layer, len(out))] = c
			}
		}
	}
	// To the end: the blob's digest is checked there.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("layer %s: %w", short, err)
	}
	return nil
}

// AddLayer stores the change set as a layer.
func (cs *Set) AddLayer(ctx context.Context, store *objects.Store) (objects.Layer, error) {
	return store.AddTarLayer(ctx, func(out io.Writer) error { return cs.WriteTar(ctx, store, out) })
}
