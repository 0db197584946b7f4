package worktree

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/strata-sh/strata/objects"
)

// errLayerUnwanted is a layer written while the scan ran that the commit
// did not take: nothing changed, or the scan or the commit failed.
var errLayerUnwanted = errors.New("layer not wanted")

// pendingLayer is the upper's layer, being written while the scan runs.
type pendingLayer struct {
	decide chan struct{} // closed once the commit took the layer or not
	want   bool
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{} // closed once the writer returned
	l      objects.Layer
	err    error
}

// wait takes the layer: it is stored, and returned once written.
func (p *pendingLayer) wait() (objects.Layer, error) {
	p.once.Do(func() { p.want = true; close(p.decide) })
	<-p.done
	p.cancel()
	return p.l, p.err
}

// drop leaves the layer out of the store, unless wait took it, and
// returns once the writer did. A nil p is nothing to drop.
func (p *pendingLayer) drop() {
	if p == nil {
		return
	}
	p.once.Do(func() { p.cancel(); close(p.decide) })
	<-p.done
}

// scanWriting is scanKeep for a commit: for an unstacked mount, whose
// layer is the upper as it is, the layer is written (pending) while the
// scan runs, from what the scan decides (scanGate). A stacked mount's
// layer is made from the scan's changes, after it: pending is nil, as it
// is when the upper is empty. For the unstacked mount the changes are
// only counted (res.n; res.changes stays empty): the layer needs none.
func (w *Worktree) scanWriting(ctx context.Context, st State, parent *objects.Commit, mtime func(time.Time) time.Time) (res *statusResult, pending *pendingLayer, err error) {
	// A stacked mount's layer is made from the changes alone: the
	// unchanged files need no record (statusResult.same).
	s, res, err := w.newScanner(ctx, st, !st.Stacked, !st.Stacked)
	if err != nil || s == nil {
		return res, nil, err
	}
	if st.Stacked {
		res, err := s.run(w.upper())
		return res, nil, err
	}
	s.countOnly = true // the layer is written from the upper; a commit needs only how many changed
	res.gate = newScanGate()
	wctx, cancel := context.WithCancel(ctx)
	p := &pendingLayer{decide: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	keep := func() error {
		<-p.decide
		if !p.want {
			return errLayerUnwanted
		}
		return nil
	}
	go func() {
		defer close(p.done)
		p.l, p.err = w.writeLayerIf(wctx, parent, res, mtime, keep)
	}()
	_, err = s.run(w.upper())
	res.gate.finish()
	if err != nil {
		p.drop()
		return nil, nil, err
	}
	return res, p, nil
}
