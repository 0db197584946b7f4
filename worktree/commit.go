package worktree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
)

// CommitOptions describe a commit of the work tree.
type CommitOptions struct {
	Message    string
	AllowEmpty bool      // commit even when nothing changed
	Author     string    // "Name <email>"; "" for the repository's identity
	Date       time.Time // zero: now (the CLI applies --date and SOURCE_DATE_EPOCH)
	// Config edits the image config the commit carries (a copy of the
	// parent's, or of the config reset --soft staged); the CLI passes
	// change.Apply of its --change lines.
	Config func(*ocispec.ImageConfig) error
	// Mtime, if set, rewrites the new layer's mtimes (the CLI clamps them
	// to SOURCE_DATE_EPOCH so that the same changes give the same id).
	Mtime func(time.Time) time.Time
}

// testHook lets tests stop a commit at a named point (see commit_test.go):
// STRATA_TEST_HOOK=<point>:<file> creates file and sleeps there.
func testHook(point string) {
	v := os.Getenv("STRATA_TEST_HOOK")
	p, file, ok := strings.Cut(v, ":")
	if !ok || p != point {
		return
	}
	os.WriteFile(file, []byte(point), 0o644)
	time.Sleep(time.Hour)
}

// Commit turns the upper directory into one new layer on top of the work
// tree's commit, moves HEAD to the new commit and remounts the work tree
// on it with an empty upper. Only the upper is read. A config change
// (Config) alone is a commit; no change at all is ErrNothingToCommit
// unless AllowEmpty. It returns the commit and how many paths changed.
func (w *Worktree) Commit(ctx context.Context, o CommitOptions) (*objects.Commit, int, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, 0, err
	}
	h, err := w.Head()
	if err != nil {
		return nil, 0, err
	}
	if h.Broken != nil {
		return nil, 0, fmt.Errorf("commit: the current branch is broken: %w", h.Broken)
	}
	if h.Commit != st.Commit {
		return nil, 0, fmt.Errorf("commit: %w", ErrHeadMoved)
	}
	if err := w.refuseUnresolved(st); err != nil {
		return nil, 0, err
	}
	w.stampScan() // Compact keeps the mount if the upper changes after this
	t0 := time.Now()
	parent, err := w.commit(st.Commit)
	if err != nil {
		return nil, 0, err
	}
	res, written, err := w.scanWriting(ctx, st, parent, o.Mtime)
	if err != nil {
		return nil, 0, err
	}
	defer written.drop() // on a way out before the layer is taken
	slog.Debug("commit: scanned the work tree", "changes", res.n, "took", time.Since(t0))
	// A config reset --soft staged is a change, as a file is.
	staged, err := w.stagedFor(st)
	if err != nil {
		return nil, 0, err
	}
	if res.n == 0 && o.Config == nil && staged == nil && !o.AllowEmpty {
		if len(st.Unmerged) > 0 {
			// Resolved to HEAD's files (a kept file deleted): nothing
			// is left unmerged either, as after git's add or rm.
			st.Unmerged = nil
			if err := w.writeState(st); err != nil {
				return nil, 0, err
			}
		}
		return nil, 0, ErrNothingToCommit
	}
	nc := objects.NewCommit{Parent: parent, Message: o.Message, Author: o.Author, Date: o.Date,
		OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if nc.Author == "" {
		if nc.Author, err = w.Repo.Identity(); err != nil {
			return nil, 0, err
		}
	}
	if nc.Date.IsZero() {
		nc.Date = time.Now()
	}
	if o.Config != nil || staged != nil {
		cfg := derefConfig(staged)
		if staged == nil && parent != nil {
			cfg = cloneConfig(parent.Config.Config)
		}
		if o.Config != nil {
			if err := o.Config(&cfg); err != nil {
				return nil, 0, err
			}
		}
		nc.Config = &cfg
	}
	if res.n > 0 {
		l, err := w.changesLayer(ctx, st, parent, res, written, o.Mtime)
		if err != nil {
			return nil, 0, err
		}
		slog.Debug("commit: wrote the layer", "took", time.Since(t0))
		nc.Layers = []objects.Layer{l}
	}
	if _, err := fold.Prepare(ctx, w.Repo.Objects, w.trees, &nc); err != nil {
		return nil, 0, fmt.Errorf("commit: %w", err)
	}
	c, err := w.Repo.Objects.WriteCommit(nc)
	if err != nil {
		return nil, 0, fmt.Errorf("commit: %w", err)
	}
	testHook("commit-before-ref")
	// Pending first: if we die after HEAD moves, the next command finishes
	// the switch instead of showing committed changes as uncommitted.
	st.Pending, st.PendingStack = c.ID, true
	if err := w.writeState(st); err != nil {
		return nil, 0, err
	}
	moveErr := w.moveHead(&st, c.ID, st.Commit, "commit: "+firstLine(o.Message))
	if moveErr != nil && !errors.Is(moveErr, refs.ErrMoved) {
		err := moveErr
		st.Pending, st.PendingStack = "", false
		w.writeState(st)
		if errors.Is(err, refs.ErrStale) || errors.Is(err, refs.ErrExists) {
			return nil, 0, fmt.Errorf("commit: %w", ErrHeadMoved)
		}
		return nil, 0, fmt.Errorf("commit: %w", err)
	}
	testHook("commit-after-ref")
	// HEAD moved even when moveErr wraps refs.ErrMoved (a later step such
	// as the index.json rewrite failed): record the commit, then report it.
	// The mount stays: whoever lives in the tree keeps its files.
	st.stack(c.ID, t0)
	if err := w.writeState(st); err != nil {
		return c, res.n, err
	}
	if moveErr != nil {
		return c, res.n, fmt.Errorf("commit: %w", moveErr)
	}
	return c, res.n, nil
}

// changesLayer is the layer of the changes a scan found: the one written
// while scanning, if any, else written now.
func (w *Worktree) changesLayer(ctx context.Context, st State, parent *objects.Commit, res *statusResult, written *pendingLayer, mtime func(time.Time) time.Time) (objects.Layer, error) {
	if written != nil {
		return written.wait()
	}
	if st.Stacked {
		return w.writeStackedLayer(ctx, parent, res, mtime)
	}
	return w.writeLayer(ctx, parent, res, mtime)
}

// writeLayer writes the upper as one layer: excluded paths and copy-ups
// that changed nothing are left out.
func (w *Worktree) writeLayer(ctx context.Context, parent *objects.Commit, res *statusResult, mtime func(time.Time) time.Time) (objects.Layer, error) {
	return w.writeLayerIf(ctx, parent, res, mtime, nil)
}

// writeLayerIf is writeLayer; keep is AddLayerFromDirIf's.
func (w *Worktree) writeLayerIf(ctx context.Context, parent *objects.Commit, res *statusResult, mtime func(time.Time) time.Time, keep func() error) (objects.Layer, error) {
	lowers, err := w.lowers(ctx, parent.Layers())
	if err != nil {
		return objects.Layer{}, err
	}
	opts := layer.WriteOptions{
		Overlay: true,
		Lowers:  lowers,
		Exclude: func(p string, isDir bool) bool {
			if res.ex.Match(p, isDir) || res.mountpoints[p] {
				return true
			}
			if isDir {
				return false // only files are left out as same
			}
			if res.gate != nil {
				res.gate.wait(p)
				defer res.gate.mu.Unlock()
			}
			return res.same[p]
		},
		Mtime: mtime,
	}
	if res.scanned != nil {
		opts.Scanned = res.scannedEntry
	}
	return w.addLayer(ctx, w.upper(), opts, keep)
}

// addLayer writes dir as a layer. Clamped mtimes can make it
// byte-identical to a layer already in the chain: it is kept so, for the
// same edits give the same commit, and the mount keeps a repeated
// layer's topmost place only (snapshot.PlanSnapshots). keep, if set, is
// AddLayerFromDirIf's.
func (w *Worktree) addLayer(ctx context.Context, dir string, opts layer.WriteOptions, keep func() error) (objects.Layer, error) {
	l, err := w.Repo.Objects.AddLayerFromDirIf(ctx, dir, opts, keep)
	if err != nil {
		return objects.Layer{}, fmt.Errorf("commit: %w", err)
	}
	return l, nil
}

func cloneConfig(c ocispec.ImageConfig) ocispec.ImageConfig {
	var out ocispec.ImageConfig
	b, _ := json.Marshal(c)
	json.Unmarshal(b, &out)
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// inChain reports whether a layer with diffID is among c's layers.
func inChain(c *objects.Commit, diffID digest.Digest) bool {
	for _, l := range c.Layers() {
		if l.DiffID == diffID {
			return true
		}
	}
	return false
}
