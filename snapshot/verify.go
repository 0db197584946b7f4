package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// Difference is one way a snapshot differs from the layers it was built
// from.
type Difference struct {
	ID   string // the snapshot's directory name
	Path string // the file ("/etc/a"), as the layer names it; "" for the snapshot
	What string // "owner 65534:65534, the layer says 0:0"
}

// maxDifferences is how many differences Verify names for one snapshot;
// a snapshot built wrong usually differs in every file.
const maxDifferences = 8

// ApplyFunc adds one layer's index on top of the tree t, its whiteouts
// and opaque directories hiding what lies below (tree.Tree.Apply: trees
// are that package's, and a snapshotter knows layers, not trees).
type ApplyFunc func(t map[string]*layer.Entry, entries []layer.Entry)

// Verify compares every snapshot with the file indexes of its layers, as
// a commit of it would see it: type, mode (a symlink's aside), owner,
// size, content and xattr digests, link targets, device numbers and
// mtimes (whole seconds). Gc
// removes a snapshot with its layer; nothing else checks that the cache
// still holds what the layer does. A flattened snapshot is compared with
// its layers applied by apply. A snapshot whose layers have no stored
// index is not checked (every build writes one). It returns how many
// snapshots it checked, on every core.
func (s *Snapshots) Verify(ctx context.Context, apply ApplyFunc) (int, []Difference, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("verify snapshots: %w", err)
	}
	var ids []string
	for _, e := range entries {
		// Trees' cached indexes live beside the snapshots (tree.Trees);
		// builds stage in .tmp-* and new.tmp-* (stagedir.Make).
		if e.IsDir() && !strings.HasPrefix(e.Name(), tmpPrefix) && !strings.HasPrefix(e.Name(), "new"+tmpPrefix) {
			ids = append(ids, e.Name())
		}
	}
	var (
		mu      sync.Mutex
		checked int
		diffs   []Difference
		first   error
		next    = make(chan string)
		wg      sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), max(len(ids), 1)) {
		wg.Go(func() {
			for id := range next {
				ok, d, err := s.verifyOne(ctx, id, apply)
				mu.Lock()
				if ok {
					checked++
				}
				diffs = append(diffs, d...)
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].ID < diffs[j].ID })
	return checked, diffs, first
}

// verifyOne checks snapshot id; ok false says it was not checked.
func (s *Snapshots) verifyOne(ctx context.Context, id string, apply ApplyFunc) (ok bool, diffs []Difference, err error) {
	dir := filepath.Join(s.dir, id)
	var meta snapshotMeta
	if id != emptyID {
		b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
		if err != nil {
			return false, []Difference{{ID: id, What: fmt.Sprintf("unreadable: %v", err)}}, nil
		}
		if err := json.Unmarshal(b, &meta); err != nil || len(meta.Layers) == 0 {
			return false, []Difference{{ID: id, What: "meta.json names no layers"}}, nil
		}
	}
	flat := strings.HasPrefix(id, "chain-")
	want, ok, err := s.expected(meta.Layers, id, flat, apply)
	if err != nil || !ok {
		return false, nil, err
	}
	found := &comparison{want: want, dirs: ancestors(want)}
	if err := found.walk(ctx, filepath.Join(dir, "fs"), !flat); err != nil {
		return true, []Difference{{ID: id, What: err.Error()}}, nil
	}
	var missing []Difference
	for _, e := range want {
		switch {
		case e.Path == "/" || found.seen[e]:
		case e.Type == layer.TypeOpaque:
			missing = append(missing, Difference{Path: e.Path, What: "not opaque, the layer says it is"})
		default:
			missing = append(missing, Difference{Path: e.Path, What: "missing, the layer has it"})
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].Path < missing[j].Path })
	for _, m := range missing {
		found.add(m.Path, m.What)
	}
	if found.count == 0 {
		return true, nil, nil
	}
	for _, d := range found.first {
		d.ID = id
		diffs = append(diffs, d)
	}
	shown := ""
	if found.count > len(found.first) {
		shown = fmt.Sprintf(" (the first %d shown)", len(found.first))
	}
	diffs = append(diffs, Difference{ID: id, What: fmt.Sprintf("differs from its layers in %d %s%s; "+
		"a snapshot is a cache: 'strata fsck --repair' removes it once no work tree is mounted on it, and the next checkout builds it again",
		found.count, plural(found.count, "place", "places"), shown)})
	return true, diffs, nil
}

// expected is the tree the snapshot must hold: its layer's index as it
// stands (whiteouts and opaque directories included), or for a flattened
// one its layers applied in order. ok false: it is not checked.
func (s *Snapshots) expected(blobs []digest.Digest, id string, flat bool, apply ApplyFunc) (map[string]*layer.Entry, bool, error) {
	if flat && apply == nil {
		return nil, false, nil
	}
	t := map[string]*layer.Entry{}
	for _, d := range blobs {
		if !s.store.HasLayerIndex(d) {
			return nil, false, nil
		}
		l := objects.Layer{Desc: ocispec.Descriptor{Digest: d}}
		if !flat {
			l.DiffID = digest.NewDigestFromEncoded(digest.SHA256, id)
		}
		entries, err := s.store.LayerIndexFunc(l, func(*layer.Entry) bool { return true })
		if err != nil {
			return nil, false, fmt.Errorf("snapshot %s: %w", short(id), err)
		}
		if !flat {
			holds := map[string]bool{} // directories above an entry so far
			for i := range entries {
				e := &entries[i]
				if e.Type == layer.TypeWhiteout {
					if old := t[key(e)]; old != nil && old.Type != layer.TypeWhiteout || holds[e.Path] {
						// A whiteout of a path its own layer gave: it
						// stays, and a directory hides the lowers.
						if old == nil || old.Type == layer.TypeDir {
							o := opaqueEntry(e.Path)
							t[key(o)] = o
						}
						continue
					}
				} else {
					a := path.Dir(e.Path)
					if e.Type == layer.TypeOpaque {
						a = e.Path // the directory is the layer's too
					}
					for ; a != "/" && !holds[a]; a = path.Dir(a) {
						holds[a] = true
						if old := t[a]; old != nil && old.Type == layer.TypeWhiteout {
							// A directory only implied by a path below
							// it, after its whiteout: made opaque.
							delete(t, a)
							o := opaqueEntry(a)
							t[key(o)] = o
						}
					}
				}
				if e.Type == layer.TypeChar && e.Major == 0 && e.Minor == 0 {
					// The unpack for an overlay lower makes a 0/0
					// device, which overlay's whiteout form is; a walk
					// of the snapshot reads it back as a whiteout.
					*e = layer.Entry{Path: e.Path, Type: layer.TypeWhiteout, ModTime: time.Unix(0, 0).UTC()}
				}
				if old := t[key(e)]; old != nil && old.Type == layer.TypeWhiteout && e.Type == layer.TypeDir {
					// A directory given after its own whiteout: the
					// unpack marks it opaque, hiding the lowers as the
					// whiteout did.
					o := opaqueEntry(e.Path)
					t[key(o)] = o
				}
				t[key(e)] = e
			}
			return t, true, nil
		}
		apply(t, entries)
	}
	return t, true, nil
}

func opaqueEntry(dir string) *layer.Entry {
	return &layer.Entry{Path: dir, Type: layer.TypeOpaque, ModTime: time.Unix(0, 0).UTC()}
}

// key names an entry in the tree a snapshot must hold: an opaque mark
// has its directory's path, and is an entry of its own.
func key(e *layer.Entry) string {
	if e.Type == layer.TypeOpaque {
		return e.Path + "\x00opaque"
	}
	return e.Path
}

// ancestors is every directory above an entry of want: an unpack makes
// those a layer leaves out.
func ancestors(want map[string]*layer.Entry) map[string]bool {
	dirs := map[string]bool{}
	for _, e := range want {
		for a := path.Dir(e.Path); a != "/" && !dirs[a]; a = path.Dir(a) {
			dirs[a] = true
		}
	}
	return dirs
}

// comparison holds what a walk of a snapshot found against want.
type comparison struct {
	want  map[string]*layer.Entry
	dirs  map[string]bool
	seen  map[*layer.Entry]bool // entries of want found
	first []Difference
	count int
}

// add records that the file at path differs; path is cloned, as a
// walked entry's strings view the decoder's buffer.
func (c *comparison) add(path, what string) {
	c.count++
	if len(c.first) < maxDifferences {
		c.first = append(c.first, Difference{Path: strings.Clone(path), What: what})
	}
}

// walk indexes the tree at dir as a commit of it would (overlay says its
// whiteouts and opaque marks are overlay's) and compares each entry.
func (c *comparison) walk(ctx context.Context, dir string, overlay bool) error {
	c.seen = make(map[*layer.Entry]bool, len(c.want))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		// got's strings view the decoder's buffer: none is kept.
		_, err := layer.DecodeIndexFunc(pr, func(got *layer.Entry) bool {
			c.compare(got)
			return false
		})
		pr.CloseWithError(err)
		done <- err
	}()
	_, err := layer.WriteTar(ctx, dir, io.Discard, layer.WriteOptions{Overlay: overlay, Index: pw})
	pw.CloseWithError(err)
	if derr := <-done; err == nil {
		err = derr
	}
	return err
}

func (c *comparison) compare(got *layer.Entry) {
	want := c.want[key(got)]
	if want == nil {
		if got.Type == layer.TypeDir && c.dirs[got.Path] {
			return
		}
		if got.Type == layer.TypeOpaque {
			c.add(got.Path, "opaque, the layer says it is not")
			return
		}
		c.add(got.Path, "not in the layer")
		return
	}
	c.seen[want] = true
	if d := differs(want, got); d != "" {
		c.add(got.Path, d)
	}
}

// differs says how got differs from want, or "".
func differs(want, got *layer.Entry) string {
	file := func(t layer.EntryType) bool { return t == layer.TypeFile || t == layer.TypeHardlink }
	switch {
	case file(want.Type) && file(got.Type):
		// Which name of a hardlinked file comes first is the walk's
		// order, not the layer's: each name carries the file's content.
	case want.Type != got.Type:
		return fmt.Sprintf("type %c, the layer says %c", got.Type, want.Type)
	}
	// A hardlink's entry carries its file's mode and owner, not always
	// its xattrs and mtime.
	both := want.Type == got.Type && want.Type != layer.TypeHardlink
	attrs := want.Type != layer.TypeWhiteout && want.Type != layer.TypeOpaque
	// A tar may give a symlink any mode (Python's tarfile writes 0644);
	// Linux makes every symlink 0777, so no unpack can keep it.
	mode := attrs && want.Type != layer.TypeSymlink
	switch {
	case mode && want.Mode != got.Mode:
		return fmt.Sprintf("mode %04o, the layer says %04o", got.Mode, want.Mode)
	case attrs && (want.UID != got.UID || want.GID != got.GID):
		return fmt.Sprintf("owner %d:%d, the layer says %d:%d", got.UID, got.GID, want.UID, want.GID)
	case want.Size != got.Size && file(want.Type):
		return fmt.Sprintf("size %d, the layer says %d", got.Size, want.Size)
	case want.Digest != got.Digest:
		return "content differs from the layer's"
	case both && want.Xattrs != got.Xattrs:
		return "extended attributes differ from the layer's"
	case want.Type == layer.TypeSymlink && want.Link != got.Link:
		return fmt.Sprintf("links to %q, the layer says %q", got.Link, want.Link)
	case want.Major != got.Major || want.Minor != got.Minor:
		return fmt.Sprintf("device %d:%d, the layer says %d:%d", got.Major, got.Minor, want.Major, want.Minor)
	case both && want.ModTime.Unix() != got.ModTime.Unix():
		return fmt.Sprintf("mtime %s, the layer says %s", got.ModTime.Format("2006-01-02 15:04:05"), want.ModTime.Format("2006-01-02 15:04:05"))
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
