package worktree

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

// changeSet is what turns a tree (ours) into another (the merge result):
// the paths that differ, each written from the layer that holds its
// entry, whole (header, xattrs and content), or with content of its own
// (a text merge, conflict markers).
type changeSet struct {
	ours, result tree.Tree
	paths        []string          // paths whose entry differs, sorted
	content      map[string][]byte // paths whose content is given here; metadata from result
	stacks       [][]objects.Layer // where result's entries come from, each bottom first
}

// newChangeSet compares ours with result.
func newChangeSet(ours, result tree.Tree, content map[string][]byte, stacks ...[]objects.Layer) *changeSet {
	cs := &changeSet{ours: ours, result: result, content: content, stacks: stacks}
	for p, e := range result {
		if o := ours[p]; o == nil || !sameExact(o, e) || content[p] != nil {
			cs.paths = append(cs.paths, p)
		}
	}
	for p := range ours {
		if result[p] == nil {
			cs.paths = append(cs.paths, p)
		}
	}
	sort.Strings(cs.paths)
	cs.paths = dedup(cs.paths)
	return cs
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
	hdr  *tar.Header
	data []byte
	file *os.File // content spooled to disk when large
}

// writeTar writes the change set as a layer tar to out.
func (w *Worktree) writeChangeTar(ctx context.Context, out io.Writer, cs *changeSet) error {
	got, err := w.capture(cs)
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
	written := map[string]bool{} // regular files written whole, for later hardlinks to them
	for _, p := range cs.paths {
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
		case hdr.Typeflag == tar.TypeLink && written[path.Clean("/"+hdr.Linkname)] &&
			cs.result[path.Clean("/"+hdr.Linkname)].Digest == e.Digest:
			// Its first name is written above, as it was in theirs: a link.
			hdr.Linkname, hdr.Size = strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/"), 0
		case hdr.Typeflag == tar.TypeLink:
			// A hardlink's first name may not be in this layer: the
			// file is written whole.
			src := got[path.Clean("/"+hdr.Linkname)]
			if src == nil {
				return fmt.Errorf("no layer holds %s, which %s links to", hdr.Linkname, p)
			}
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeReg, "", src.size()
			body = src.reader()
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
		if hdr.Typeflag == tar.TypeReg && cs.content[p] == nil {
			written[p] = true
		}
	}
	return tw.Close()
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
func (w *Worktree) capture(cs *changeSet) (map[string]*captured, error) {
	want := map[string]*layer.Entry{}
	for _, p := range cs.paths {
		if e := cs.result[p]; e != nil {
			want[p] = e
		}
	}
	type job struct{ names map[string]bool }
	var order []objects.Layer
	jobs := map[string]*job{}
	for _, stack := range cs.stacks {
		for i := len(stack) - 1; i >= 0 && len(want) > 0; i-- {
			l := stack[i]
			entries, err := w.Repo.Objects.LayerIndex(l)
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
					j = &job{names: map[string]bool{}}
					jobs[key] = j
					order = append(order, l)
				}
				j.names[e.Path] = true
				if e.Type == layer.TypeHardlink {
					j.names[e.Link] = true
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
		if err := w.readLayerEntries(l, jobs[l.Desc.Digest.String()].names, out); err != nil {
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

// spoolAbove is the size above which captured content goes to a file.
const spoolAbove = 1 << 20

func (w *Worktree) readLayerEntries(l objects.Layer, names map[string]bool, out map[string]*captured) error {
	short := l.Desc.Digest.Encoded()[:12]
	rc, err := w.Repo.Objects.OpenLayer(l.Desc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", short, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", short, err)
		}
		p := path.Clean("/" + hdr.Name)
		if !names[p] {
			continue
		}
		c := &captured{hdr: hdr}
		if hdr.Typeflag == tar.TypeReg {
			if hdr.Size > spoolAbove {
				f, err := os.CreateTemp(w.Repo.Objects.TempDir(), "merge-")
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
		out[p] = c
	}
	// To the end: the blob's digest is checked there.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("layer %s: %w", short, err)
	}
	return nil
}

// addChangeLayer stores the change set as a layer.
func (w *Worktree) addChangeLayer(ctx context.Context, cs *changeSet) (objects.Layer, error) {
	return w.Repo.Objects.AddTarLayer(ctx, func(out io.Writer) error { return w.writeChangeTar(ctx, out, cs) })
}
