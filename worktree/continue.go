package worktree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
)

// ContinueOptions finish a stopped step.
type ContinueOptions struct {
	Op string // the command's operation; "" accepts any (commit)
	// Config edits the step's merged config (commit --change resolves
	// config conflicts); Message replaces the step's message if set.
	Config  func(*ocispec.ImageConfig) error
	Message string
	// Mtime, if set, rewrites the resolved step's layer mtimes, as
	// CommitOptions.Mtime.
	Mtime func(time.Time) time.Time
	// KeepMarkers concludes the step even though a file it marked still
	// has lines that look like conflict markers (they are content), or a
	// conflict without markers is still as the stop left it (its side in
	// the work tree is the resolution).
	KeepMarkers bool
	Force       bool // as MergeOptions.Force
}

// current opens the operation in progress, checking it is op.
func (w *Worktree) current(op string) (*Sequence, error) {
	s, ok, err := w.Sequence()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: nothing to continue or abort", ErrNoOperation)
	}
	if op != "" && s.Op != op {
		return nil, &InProgressError{Op: s.Op}
	}
	return s, nil
}

// goingOn is current for what carries an operation on (--continue,
// --skip, a commit concluding a step): after an interrupted --abort the
// work tree no longer holds the step, and concluding it would record
// the merge or pick without its changes.
func (w *Worktree) goingOn(op string) (*Sequence, error) {
	s, err := w.current(op)
	if err == nil && s.Aborting {
		return nil, fmt.Errorf("a %s --abort was interrupted: 'strata %s --abort' finishes it", s.Op, s.Op)
	}
	return s, err
}

// Continue commits the resolved step (what the work tree now holds on top
// of the step's base) and goes on with the operation; after a killed
// command it just resumes.
func (w *Worktree) Continue(ctx context.Context, o ContinueOptions) (*Outcome, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := w.goingOn(o.Op)
	if err != nil {
		return nil, err
	}
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, err
	}
	// The step is committed from the view, and the operation ends by
	// mounting a fresh upper: a write after that commit's scan would go
	// with the old one. Refused while in use, and read-only until done.
	thaw, err := w.guardSwap(o.Force)
	if err != nil {
		return nil, err
	}
	defer thaw()
	if s.Stopped && s.Applied {
		if st.Commit != s.Head {
			return nil, w.movedOff(s, st)
		}
		if !o.KeepMarkers {
			if err := w.checkResolved(s); err != nil {
				return nil, err
			}
		}
		if len(s.ConfigConflicts) > 0 && o.Config == nil {
			return nil, &ConfigConflictError{Op: s.Op, Conflicts: s.ConfigConflicts}
		}
		if st, err = w.commitResolved(ctx, s, st, o); err != nil {
			return nil, err
		}
	}
	return w.run(ctx, s, st)
}

// movedOff refuses to conclude a stopped step that the work tree no longer
// shows (a checkout --force moved it): what it holds is not the step's
// resolution. Only --quit or --abort gets out; it says which applies.
func (w *Worktree) movedOff(s *Sequence, st State) error {
	msg := fmt.Sprintf("the work tree moved off the stopped %s (it is at %s, the %s stopped on %s); 'strata %s --quit' forgets the %s and keeps the work tree as it is",
		s.Op, short(st.Commit), s.Op, short(s.Head), s.Op, s.Op)
	if h, err := w.Head(); err == nil && (h.Commit == s.OrigHead || h.Commit == s.Head) {
		msg += fmt.Sprintf(", 'strata %s --abort' goes back to where it started", s.Op)
	}
	return errors.New(msg)
}

// checkResolved refuses to go on while a conflict looks unresolved in
// the work tree: markers left (checkMarkers), or a conflict without
// markers still as the stop left it (checkUntouched).
func (w *Worktree) checkResolved(s *Sequence) error {
	root, err := layer.OpenDir(w.target)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := checkMarkers(root, s); err != nil {
		return err
	}
	return checkUntouched(root, s)
}

// checkMarkers refuses to go on while a file the merge marked still holds
// a conflict marker line in the work tree root.
func checkMarkers(root *layer.Dir, s *Sequence) error {
	if left := markersLeft(root, s.Conflicts); len(left) > 0 {
		return fmt.Errorf("%w in %s: edit them, then 'strata %s --continue' (--force if those lines are meant to be there)", ErrConflictLeft, strings.Join(left, ", "), s.Op)
	}
	return nil
}

// markersLeft returns the paths (quoted) of the marked conflicts whose
// file still holds a conflict marker line in the work tree root.
func markersLeft(root *layer.Dir, conflicts []Conflict) []string {
	var left []string
	for _, c := range conflicts {
		if !c.Marked {
			continue
		}
		d, err := root.OpenBeneath(strings.TrimPrefix(path.Dir(c.Path), "/"))
		if err != nil {
			continue // gone: resolved by deletion
		}
		b, err := d.ReadSmallFile(path.Base(c.Path), 64<<20)
		d.Close()
		if err != nil {
			continue
		}
		if hasMarkers(b) {
			left = append(left, pathquote.Quote(c.Path))
		}
	}
	return left
}

// ErrConfigConflictLeft: a stopped step's config conflicts are not resolved.
var ErrConfigConflictLeft = errors.New("config conflicts left")

// ConfigConflictError refuses to go on past unresolved config conflicts,
// which would otherwise keep ours silently. commit --change resolves them.
type ConfigConflictError struct {
	Op        string
	Conflicts []string
}

func (e *ConfigConflictError) Error() string {
	return fmt.Sprintf("%s: %s; resolve them with 'strata commit -m MSG --change INSTR...' (e.g. --change 'ENV KEY=VALUE'; settings it does not name keep HEAD's value), or 'strata %s --abort'",
		ErrConfigConflictLeft, strings.Join(e.Conflicts, "; "), e.Op)
}

func (e *ConfigConflictError) Unwrap() error { return ErrConfigConflictLeft }

func hasMarkers(b []byte) bool {
	return (bytes.HasPrefix(b, []byte("<<<<<<< ")) || bytes.Contains(b, []byte("\n<<<<<<< "))) &&
		(bytes.HasPrefix(b, []byte(">>>>>>> ")) || bytes.Contains(b, []byte("\n>>>>>>> ")))
}

// commitResolved commits the work tree's changes as the stopped step,
// without moving HEAD; the mount stays (stacked on the new commit).
func (w *Worktree) commitResolved(ctx context.Context, s *Sequence, st State, o ContinueOptions) (State, error) {
	id := s.Theirs
	if len(s.Todo) > 0 {
		id = s.Todo[0]
	}
	_, meta, err := w.step(ctx, s, id)
	if err != nil {
		return st, err
	}
	parent, err := w.commit(s.Head)
	if err != nil {
		return st, err
	}
	scanned := time.Now()
	res, err := w.scan(ctx, st)
	if err != nil {
		return st, err
	}
	if parent.ID != st.Commit {
		scanned = time.Time{} // the scan compared the upper with another tree
	}
	cfg := parent.Config.Config
	if s.Config != nil {
		cfg = cloneConfig(*s.Config)
	}
	if o.Config != nil {
		if err := o.Config(&cfg); err != nil {
			return st, err
		}
	}
	if o.Message != "" {
		meta.message = o.Message
		if s.Op == OpMerge {
			s.Message = o.Message
		}
	}
	nc := objects.NewCommit{Parent: parent, Author: meta.author, Date: meta.date, Message: meta.message,
		MergeParent: meta.mergeParent, CreatedBy: meta.createdBy, Config: &cfg}
	if len(res.changes) == 0 && meta.mergeParent == "" && configEqual(parent.Config.Config, cfg) {
		w.advance(s, id, nil, false) // resolved to nothing: the commit drops out
		return st, w.saveSeq(s)
	}
	if len(res.changes) > 0 {
		write := w.writeLayer
		if st.Stacked {
			write = w.writeStackedLayer
		}
		l, err := write(ctx, parent, res, o.Mtime)
		if err != nil {
			return st, err
		}
		nc.Layers = []objects.Layer{l}
	}
	if _, err := fold.Prepare(ctx, w.Repo.Objects, w.trees, &nc); err != nil {
		return st, err
	}
	c, err := w.Repo.Objects.WriteCommit(nc)
	if err != nil {
		return st, err
	}
	if s.Op == OpMerge {
		s.Head, s.Written, s.Theirs = c.ID, s.Written+len(nc.Layers), ""
		s.Stopped, s.Applied, s.Conflicts, s.ConfigConflicts, s.Config = false, false, nil, nil, nil
	} else {
		w.advance(s, id, c, false)
	}
	if err := w.saveSeq(s); err != nil {
		return st, err
	}
	st.stack(c.ID, scanned)
	return st, w.writeState(st)
}

// ErrOwnWork: --abort or --skip would throw away changes the user made
// in the work tree after the operation stopped.
var ErrOwnWork = errors.New("the work tree holds changes made since the operation stopped")

// OwnWorkError lists those changes.
type OwnWorkError struct {
	Op, Action string
	Paths      []string
}

func (e *OwnWorkError) Error() string {
	var quoted []string
	for _, p := range e.Paths {
		if len(quoted) == 5 {
			quoted = append(quoted, fmt.Sprintf("and %d more ('strata status' lists them)", len(e.Paths)-5))
			break
		}
		quoted = append(quoted, pathquote.Quote(p))
	}
	return fmt.Sprintf("changes made since the %s stopped would be lost: %s; copy them elsewhere first, or 'strata %s %s --force' to discard them",
		e.Op, strings.Join(quoted, ", "), e.Op, e.Action)
}

func (e *OwnWorkError) Unwrap() error { return ErrOwnWork }

// checkOwnWork refuses to throw away what the user changed in the work
// tree since the step stopped, beyond the paths the step itself wrote
// (whose edits are the conflict's resolution, dropped as git drops them):
// a file made or changed meanwhile is uncommitted work, which strata
// never discards without --force.
func (w *Worktree) checkOwnWork(ctx context.Context, s *Sequence, st State, action string) error {
	if !s.Stopped || !s.Applied || st.Commit != s.Head || st.Stacked {
		return nil
	}
	id := s.Theirs
	if len(s.Todo) > 0 {
		id = s.Todo[0]
	}
	o, _, err := w.step(ctx, s, id)
	if err != nil {
		return err
	}
	wrote := map[string]bool{}
	for _, p := range conflictedChangeSet(o).Paths {
		wrote[p] = true
	}
	changes, err := w.scanChanges(ctx, st)
	if err != nil {
		return err
	}
	var own []string
	for _, c := range changes {
		if !wrote[c.Path] {
			own = append(own, c.Path)
		}
	}
	if len(own) > 0 {
		return &OwnWorkError{Op: s.Op, Action: action, Paths: own}
	}
	return nil
}

// Skip drops the stopped commit of a rebase, cherry-pick or revert and
// goes on; with discard false, it refuses while the work tree holds
// changes made since the stop, or while anything uses it (guardSwap).
func (w *Worktree) Skip(ctx context.Context, op string, discard bool) (*Outcome, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := w.goingOn(op)
	if err != nil {
		return nil, err
	}
	if s.Op == OpMerge {
		return nil, fmt.Errorf("a merge has no commit to skip: 'strata merge --continue' or --abort")
	}
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, err
	}
	if !s.Stopped || len(s.Todo) == 0 {
		return nil, fmt.Errorf("nothing stopped to skip; 'strata %s --continue'", s.Op)
	}
	// The tree goes back to the new base with a fresh upper: refused
	// while in use, and read-only from before the check for own work.
	thaw, err := w.guardSwap(discard)
	if err != nil {
		return nil, err
	}
	defer thaw()
	if !discard {
		if err := w.checkOwnWork(ctx, s, st, "--skip"); err != nil {
			return nil, err
		}
	}
	w.advance(s, s.Todo[0], nil, false)
	s.Skipped, s.Dropped = append(s.Skipped, s.Dropped[len(s.Dropped)-1]), s.Dropped[:len(s.Dropped)-1]
	if err := w.saveSeq(s); err != nil {
		return nil, err
	}
	// The work tree goes back to the new base so far, without the skipped change.
	c, err := w.commit(s.Head)
	if err != nil {
		return nil, err
	}
	st.Pending = ""
	if st, err = w.switchTo(ctx, st, c, false); err != nil {
		return nil, err
	}
	return w.run(ctx, s, st)
}

// Abort puts back the state before the operation: HEAD and its branch,
// their reflogs, and the work tree (on the old HEAD, no changes). With
// discard false, it refuses while the work tree holds changes made since
// the operation stopped, or while anything uses it (guardSwap).
func (w *Worktree) Abort(ctx context.Context, op string, discard bool) (*objects.Commit, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := w.current(op)
	if err != nil {
		return nil, err
	}
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, err
	}
	// Refused while in use, before HEAD moves back, and read-only from
	// before the check for own work until the old HEAD's mount is up.
	thaw, err := w.guardSwap(discard)
	if err != nil {
		return nil, err
	}
	defer thaw()
	if !discard && !s.Aborting {
		if err := w.checkOwnWork(ctx, s, st, "--abort"); err != nil {
			return nil, err
		}
	}
	orig, err := w.commit(s.OrigHead)
	if err != nil {
		return nil, err
	}
	h, err := w.Head()
	if err != nil {
		return nil, err
	}
	if h.Commit != s.OrigHead && h.Commit != s.Head {
		return nil, fmt.Errorf("HEAD moved during the %s: it is at %s, neither where the %s started nor where it ended; 'strata %s --quit' forgets the %s and leaves everything as it is", s.Op, short(h.Commit), s.Op, s.Op, s.Op)
	}
	// From here on the step is being thrown away: killed, only another
	// --abort may follow (goingOn).
	if !s.Aborting {
		s.Aborting = true
		if err := w.saveSeq(s); err != nil {
			return nil, err
		}
	}
	if h.Commit != s.OrigHead {
		if err := w.moveHead(&st, s.OrigHead, s.Head, s.Op+" (abort)"); err != nil && !errors.Is(err, refs.ErrMoved) {
			return nil, err
		}
	}
	if err := w.restoreLogs(s); err != nil {
		return nil, err
	}
	if up, err := isEmptyDir(w.upper()); err != nil || st.Commit != s.OrigHead || st.Stacked || !up {
		st.Pending = ""
		if _, err := w.switchTo(ctx, st, orig, false); err != nil {
			return nil, err
		}
	}
	if err := w.dropSeq(); err != nil {
		return nil, err
	}
	return orig, nil
}

// restoreLogs cuts the reflogs back to their length at the start.
func (w *Worktree) restoreLogs(s *Sequence) error {
	for name, n := range s.Logs {
		if _, err := w.Repo.Refs.RewriteLog(name, func(all []refs.LogEntry) []refs.LogEntry {
			if len(all) <= n {
				return all
			}
			return all[len(all)-n:] // newest first: keep the n oldest
		}); err != nil {
			return fmt.Errorf("restore reflog %s: %w", name, err)
		}
	}
	return nil
}

// Quit forgets the operation in progress and touches nothing else: HEAD,
// refs and the work tree stay as they are (after the user moved HEAD
// elsewhere, say). The commits it made are left to gc.
func (w *Worktree) Quit(op string) error {
	unlock, err := w.lock(context.Background())
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := w.current(op); err != nil && !errors.Is(err, ErrBadSequence) {
		return err
	}
	return w.dropSeq()
}
