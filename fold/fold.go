package fold

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

const (
	// MaxLayers is the most layers a commit gets: the deepest image
	// podman and docker run (their overlay drivers refuse more, "max
	// depth exceeded"; measured with podman 4.3).
	MaxLayers = 128
	// Fanout is how many layers one fold replaces.
	Fanout = 16
)

// createdByPrefix starts the created_by of a fold's history entry; the
// weight follows.
const createdByPrefix = "strata fold "

// Prepare folds nc's parent's layers when nc would otherwise have more
// than MaxLayers: it writes fold layers to store, as many as it takes,
// and sets nc.Base and nc.History to the parent's with the runs
// replaced. It reports whether it folded. A history that does not pair
// with its layers (an image some tool wrote, or one edited by hand) is
// paired first (paired). trees reads the trees below and above each run.
func Prepare(ctx context.Context, store *objects.Store, trees *tree.Trees, nc *objects.NewCommit) (bool, error) {
	p := nc.Parent
	if p == nil || nc.Base != nil || nc.History != nil {
		return false, nil
	}
	layers, history := p.Layers(), p.Config.History
	folded := false
	for len(layers)+len(nc.Layers) > MaxLayers && len(layers) >= Fanout {
		at, ok := pair(history, len(layers))
		if !ok {
			slog.Debug("fold: the history does not pair with the layers; paired first", "commit", p.ID)
			history = paired(history, len(layers))
			at, _ = pair(history, len(layers))
		}
		var err error
		if layers, history, err = once(ctx, store, trees, layers, history, at); err != nil {
			return false, err
		}
		folded = true
	}
	if folded {
		nc.Base, nc.History = layers, history
	}
	return folded, nil
}

// once folds one run of layers, whose history entries are at at, and
// returns the layers and history that result. The fold may be a layer
// the chain already lists (runs that cancel out all fold into the empty
// layer): the mount keeps a repeated layer's topmost occurrence only
// (snapshot.PlanSnapshots), as overlayfs refuses a lower twice, and
// podman and docker run such images.
func once(ctx context.Context, store *objects.Store, trees *tree.Trees, layers []objects.Layer, history []ocispec.History, at []int) ([]objects.Layer, []ocispec.History, error) {
	weights := make([]int64, len(layers))
	for i := range layers {
		weights[i] = weight(history[at[i]])
	}
	s, ok := choose(weights)
	if !ok {
		return nil, nil, errors.New("fold: no run to fold")
	}
	l, err := write(ctx, store, trees, layers, s)
	if err != nil {
		return nil, nil, fmt.Errorf("fold layers %d to %d: %w", s.from+1, s.to, err)
	}
	out, h := folded(layers, history, at, weights, s, l)
	return out, h, nil
}

// folded returns layers and history with the run s replaced by l.
func folded(layers []objects.Layer, history []ocispec.History, at []int, weights []int64, s span, l objects.Layer) ([]objects.Layer, []ocispec.History) {
	w := sum(weights[s.from:s.to])
	slog.Debug("fold: folded", "from", s.from, "to", s.to, "weight", w, "layer", l.Desc.Digest)
	out := append(append(append([]objects.Layer(nil), layers[:s.from]...), l), layers[s.to:]...)
	return out, foldHistory(history, at, s, w)
}

// write stores the layer that turns the tree of layers[:s.from] into the
// tree of layers[:s.to]. Both trees are held only where the run can
// change them (regionOf): a path the run neither names nor hides is the
// same in both, and a whole tree of a million files cost seconds a fold.
func write(ctx context.Context, store *objects.Store, trees *tree.Trees, layers []objects.Layer, s span) (objects.Layer, error) {
	run := make([][]layer.Entry, 0, s.to-s.from)
	for _, l := range layers[s.from:s.to] {
		entries, err := store.LayerIndex(l)
		if err != nil {
			return objects.Layer{}, err
		}
		run = append(run, entries)
	}
	below, err := trees.OfLayersWithin(layers[:s.from], regionOf(run).keep)
	if err != nil {
		return objects.Layer{}, err
	}
	above := maps.Clone(below)
	for _, entries := range run {
		above.Apply(entries)
	}
	cs := changeset.New(below, above, nil, layers[s.from:s.to], layers[:s.from])
	cs.WithParents()
	return cs.AddLayer(ctx, store)
}

// pair returns, for each of n layers, the index of its history entry:
// OCI pairs the entries not marked empty_layer with the layers, in order.
func pair(h []ocispec.History, n int) ([]int, bool) {
	at := make([]int, 0, n)
	for i, e := range h {
		if !e.EmptyLayer {
			at = append(at, i)
		}
	}
	return at, len(at) == n
}

// paired is h made to pair with n layers, for an image whose history
// does not (a tool that writes none, or fewer entries than layers, or
// more): each layer it names no entry for gets one, below its entries,
// which are taken to name the top layers; entries past n, the oldest
// first, are marked empty_layer. Only what a fold writes changes.
func paired(h []ocispec.History, n int) []ocispec.History {
	k := 0
	for _, e := range h {
		if !e.EmptyLayer {
			k++
		}
	}
	out := make([]ocispec.History, 0, len(h)+max(n-k, 0))
	for ; k < n; k++ {
		out = append(out, ocispec.History{CreatedBy: unnamedLayer})
	}
	for _, e := range h {
		if !e.EmptyLayer && k > n {
			e.EmptyLayer = true
			k--
		}
		out = append(out, e)
	}
	return out
}

// unnamedLayer is the created_by of the entry paired gives a layer its
// image's history names no entry for.
const unnamedLayer = "strata: a layer the image's history named no entry for"

// weight is how many unfolded layers the layer of history entry e
// stands for: N for a fold ("strata fold N"), else 1.
func weight(e ocispec.History) int64 {
	s, ok := strings.CutPrefix(e.CreatedBy, createdByPrefix)
	if !ok {
		return 1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > 1<<40 {
		return 1
	}
	return n
}

// foldHistory is h with the entries of the run s (those of its layers,
// and the empty ones between them) replaced by the fold's one entry.
func foldHistory(h []ocispec.History, at []int, s span, w int64) []ocispec.History {
	first, end := at[s.from], len(h)
	if s.to < len(at) {
		end = at[s.to]
	}
	last := h[at[s.to-1]]
	e := ocispec.History{
		Created:   last.Created,
		CreatedBy: createdByPrefix + strconv.FormatInt(w, 10),
		Comment:   fmt.Sprintf("%d layers folded into one", w),
	}
	out := make([]ocispec.History, 0, len(h)-(end-first)+1)
	out = append(out, h[:first]...)
	out = append(out, e)
	return append(out, h[end:]...)
}

func sum(w []int64) int64 {
	var n int64
	for _, x := range w {
		n += x
	}
	return n
}
