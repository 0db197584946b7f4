package worktree

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/merge"
	"github.com/strata-sh/strata/merge/textmerge"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

// outcome is a 3-way merge of theirs into ours over base, decided from
// the file indexes, with the content of text files both sides changed
// merged line by line.
type outcome struct {
	base, ours, theirs *objects.Commit
	tours              tree.Tree
	res                *merge.Result
	content            map[string][]byte // text merges and conflict-marked files
	conflicts          []Conflict        // paths still conflicting
	config             ocispec.ImageConfig
	configConflicts    []merge.ConfigConflict
}

// Conflict is one conflicting path, as status lists it.
type Conflict struct {
	Path   string     `json:"path"`
	Kind   merge.Kind `json:"kind"`
	Detail string     `json:"detail,omitempty"`
	Marked bool       `json:"marked,omitempty"` // conflict markers are in the work tree's file
	// Left: what the work tree held at the stop, for a conflict without
	// markers (nil: marked, or stopped by an older strata).
	Left *Stamp `json:"left,omitempty"`
}

// labels name the two sides in conflict markers.
type labels struct{ ours, base, theirs string }

// threeWay merges theirs into ours over base (nil: the empty tree).
func (w *Worktree) threeWay(ctx context.Context, base, ours, theirs *objects.Commit, lb labels) (*outcome, error) {
	in, scoped, err := w.scopedInput(base, ours, theirs)
	if err != nil {
		return nil, err
	}
	whole := func() error {
		if in.Base, err = w.trees.Of(base); err != nil {
			return err
		}
		if in.Ours, err = w.trees.Of(ours); err != nil {
			return err
		}
		in.Theirs, err = w.trees.Of(theirs)
		return err
	}
	opaque := func() error {
		if base == nil {
			return nil
		}
		if in.OursOpaque, err = merge.OpaqueSince(w.layerIndex, base, ours, in.Base); err != nil {
			return err
		}
		in.TheirsOpaque, err = merge.OpaqueSince(w.layerIndex, base, theirs, in.Base)
		return err
	}
	if !scoped {
		if err := whole(); err != nil {
			return nil, err
		}
	}
	if err := opaque(); err != nil {
		return nil, err
	}
	if scoped && len(in.OursOpaque)+len(in.TheirsOpaque) > 0 {
		// Whether a directory made opaque lost anything is decided from
		// everything base had below it, which the scope leaves out.
		if err := whole(); err != nil {
			return nil, err
		}
		if err := opaque(); err != nil {
			return nil, err
		}
	}
	o := &outcome{base: base, ours: ours, theirs: theirs, tours: in.Ours, res: merge.Classify(in), content: map[string][]byte{}}
	if err := w.mergeTexts(ctx, o, lb); err != nil {
		return nil, err
	}
	o.config, o.configConflicts = merge.MergeConfig(configOf(base), configOf(ours), configOf(theirs))
	return o, nil
}

// configOf is c's image config; nil (the empty tree) has none.
func configOf(c *objects.Commit) ocispec.ImageConfig {
	if c == nil {
		return ocispec.ImageConfig{}
	}
	return c.Config.Config
}

// mergeTexts runs the line-level merge (or the user's merge driver) on
// the files both sides changed only in content; a clean merge resolves
// the path, a conflicted one leaves markers for the work tree. Binary
// files stay conflicted with ours' content, as in git.
func (w *Worktree) mergeTexts(ctx context.Context, o *outcome, lb labels) error {
	want := map[string][3]*layer.Entry{}
	for _, p := range o.res.Paths {
		if p.Side == merge.Conflict && p.Text && !tooBigToMerge(p.Base, p.Ours, p.Theirs) {
			want[p.Path] = [3]*layer.Entry{p.Base, p.Ours, p.Theirs}
		}
	}
	var contents [3]map[string][]byte
	if len(want) > 0 {
		h := w.cache().hist
		for i, c := range []*objects.Commit{o.base, o.ours, o.theirs} {
			m := map[string]*layer.Entry{}
			for p, es := range want {
				if es[i] != nil {
					m[p] = es[i]
				}
			}
			var err error
			if contents[i], err = h.ReadContents(c.Layers(), m); err != nil {
				return err
			}
		}
	}
	drivers, err := w.mergeDrivers()
	if err != nil {
		return err
	}
	opts, err := w.textMergeOptions(lb)
	if err != nil {
		return err
	}
	for i := range o.res.Paths {
		p := &o.res.Paths[i]
		if p.Side != merge.Conflict {
			continue
		}
		c := Conflict{Path: p.Path, Kind: p.Kind, Detail: p.Detail}
		if _, ok := want[p.Path]; ok {
			b, ob, tb := contents[0][p.Path], contents[1][p.Path], contents[2][p.Path]
			if p.Base == nil {
				b = []byte{} // both added it: merged over an empty base, as git does
			}
			if ob != nil && tb != nil && b != nil {
				merged, n, handled, err := w.runDriver(ctx, drivers, p.Path, b, ob, tb)
				if err != nil {
					return err
				}
				// git's test only: tree.IsBinary also takes a text of
				// many lines for binary, which git merges line by line.
				if !handled && !textmerge.IsBinary(b) && !textmerge.IsBinary(ob) && !textmerge.IsBinary(tb) {
					r := textmerge.Merge(b, ob, tb, opts)
					merged, n, handled = r.Content, r.Conflicts, true
				}
				if handled && n == 0 {
					p.Side = merge.Both // resolved
					if e := p.TextResolved(); e != p.Ours {
						// And theirs' chmod.
						p.Side, p.Result, o.res.Merged[p.Path] = merge.Merged, e, e
					}
					o.res.Conflicts--
					if !bytes.Equal(merged, ob) {
						o.content[p.Path] = merged
					}
					continue
				}
				if handled {
					o.content[p.Path] = merged
					c.Marked = true
				}
			}
		}
		o.conflicts = append(o.conflicts, c)
	}
	return nil
}

// textMergeOptions are the options of a text merge labelled lb, as
// git's merge (ort): the histogram diff, and conflicts apart stay apart
// (merge-file's level joins those only lines without letters or digits
// separate); the markers in git's merge.conflictStyle: merge (the
// default), diff3, zdiff3.
func (w *Worktree) textMergeOptions(lb labels) (textmerge.Options, error) {
	opts := textmerge.Options{Ours: lb.ours, Base: lb.base, Theirs: lb.theirs, Histogram: true, NoAlnumJoin: true}
	switch style, _ := w.Repo.Config.Get("merge.conflictStyle"); strings.ToLower(style) {
	case "diff3":
		opts.Diff3 = true
	case "zdiff3":
		opts.ZDiff3 = true
	case "", "merge":
	default:
		return opts, fmt.Errorf("config merge.conflictStyle is %q: want merge, diff3 or zdiff3", style)
	}
	return opts, nil
}

// maxTextMerge is git's MAX_XDIFF_SIZE: a bigger file is not read and
// merged line by line (three versions in memory, and a diff of each
// pair) but left conflicted with ours' content, as git leaves it.
var maxTextMerge int64 = 1023 << 20

func tooBigToMerge(es ...*layer.Entry) bool {
	for _, e := range es {
		if e != nil && e.Size > maxTextMerge {
			return true
		}
	}
	return false
}

// clean reports whether the merge needs no help.
func (o *outcome) clean() bool { return len(o.conflicts) == 0 && len(o.configConflicts) == 0 }

// changeSet is what the merge result changes on top of ours.
func (o *outcome) changeSet() *changeset.Set {
	return changeset.New(o.tours, o.res.Merged, o.content, o.ours.Layers(), o.theirs.Layers())
}

// changes reports whether the result differs from ours in files.
func (o *outcome) changes() bool {
	if len(o.content) > 0 {
		return true
	}
	for _, p := range o.res.Paths {
		if p.Side == merge.Theirs || p.Side == merge.Merged {
			return true
		}
	}
	return false
}

// reusable returns theirs' own layers (those above base's) when putting
// them on top of ours gives exactly the merge result: then a replayed
// commit keeps its layer blobs. A layer that also carries entries ours
// changed (a directory it merely repeats, say) is not reusable.
func (w *Worktree) reusable(o *outcome) ([]objects.Layer, bool, error) {
	if len(o.content) > 0 {
		return nil, false, nil
	}
	bl, tl := o.base.Layers(), o.theirs.Layers() // base nil: all theirs' layers are its own
	if len(tl) < len(bl) {
		return nil, false, nil
	}
	for i := range bl {
		if bl[i].Desc.Digest != tl[i].Desc.Digest {
			return nil, false, nil
		}
	}
	own := tl[len(bl):]
	if len(own) == 0 {
		return nil, false, nil
	}
	t := make(tree.Tree, len(o.tours))
	for p, e := range o.tours {
		t[p] = e
	}
	for _, l := range own {
		entries, err := w.layerIndex(l)
		if err != nil {
			return nil, false, err
		}
		t.Apply(entries)
	}
	if len(t) != len(o.res.Merged) {
		return nil, false, nil
	}
	for p, e := range t {
		if m := o.res.Merged[p]; m == nil || !tree.SameEntry(m, e) {
			return nil, false, nil
		}
	}
	return own, true, nil
}

// commitOutcome writes the commit of a clean outcome on top of ours:
// theirs' own layers when reusable, else one new layer of the changes
// (none if nothing changes). It returns nil when the commit would change
// nothing, files or config.
func (w *Worktree) commitOutcome(ctx context.Context, o *outcome, meta commitMeta) (*objects.Commit, bool, error) {
	nc := objects.NewCommit{Parent: o.ours, Author: meta.author, Date: meta.date, Message: meta.message,
		MergeParent: meta.mergeParent, CreatedBy: meta.createdBy}
	cfg := o.config
	nc.Config = &cfg
	if !o.changes() && meta.mergeParent == "" && !meta.keepEmpty && configEqual(o.ours.Config.Config, cfg) {
		return nil, false, nil // nothing left to commit
	}
	reused := false
	if meta.reuse && o.changes() {
		own, ok, err := w.reusable(o)
		if err != nil {
			return nil, false, err
		}
		for _, l := range own {
			// overlayfs refuses the same lower twice.
			ok = ok && !inChain(o.ours, l.DiffID)
		}
		if ok {
			nc.Layers, reused = own, true
		}
	}
	if !reused {
		cs := o.changeSet()
		if len(cs.Paths) > 0 {
			l, err := cs.AddLayer(ctx, w.Repo.Objects)
			if err != nil {
				return nil, false, fmt.Errorf("write the merged layer: %w", err)
			}
			nc.Layers = []objects.Layer{l}
		}
	}
	if _, err := fold.Prepare(ctx, w.Repo.Objects, w.trees, &nc); err != nil {
		return nil, false, err
	}
	// Stored later, with the run's other commits (flush).
	c, blobs, err := objects.ComposeCommit(nc)
	if err != nil {
		return nil, false, err
	}
	w.cache().commits[c.ID] = c
	w.cache().blobs = append(w.cache().blobs, blobs...)
	return c, reused, nil
}

// commitMeta is what a new commit of an operation says about itself.
type commitMeta struct {
	author, message, createdBy string
	date                       time.Time
	mergeParent                digest.Digest
	reuse                      bool // a replay: keep theirs' layers when they fit
	keepEmpty                  bool // a replay of a commit that changed nothing: keep it
}

func configEqual(a, b ocispec.ImageConfig) bool {
	return bytes.Equal(mustJSON(a), mustJSON(b))
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
