package worktree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/epoch"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree"
)

// Operations that may stop on a conflict.
const (
	OpMerge      = "merge"
	OpRebase     = "rebase"
	OpCherryPick = "cherry-pick"
	OpRevert     = "revert"
)

// Errors callers branch on.
var (
	ErrInProgress   = errors.New("an operation is in progress")
	ErrNoOperation  = errors.New("no operation in progress")
	ErrConflictLeft = errors.New("conflict markers left")
)

// Sequence is an operation under way: .strata/worktree/sequence, written
// atomically at every step, so that a command killed at any point can be
// continued or aborted. Refs do not move until the operation finishes:
// the commits it makes meanwhile are reachable from this file only.
type Sequence struct {
	Op       string        `json:"op"`
	Branch   string        `json:"branch,omitempty"` // HEAD's branch (full name); "" detached
	OrigHead digest.Digest `json:"orig_head"`        // where HEAD was: --abort returns here
	// Head is the commit built so far: the new base, then each replayed
	// commit; a merge's first parent.
	Head digest.Digest   `json:"head"`
	Todo []digest.Digest `json:"todo,omitempty"` // commits left to apply, the next first
	Done int             `json:"done"`           // commits applied (status: "3/5")
	// Total of commits to apply.
	Total int `json:"total"`
	// Theirs is a merge's other side (what MERGE_HEAD is to git).
	Theirs   digest.Digest `json:"theirs,omitempty"`
	Name     string        `json:"name"`               // what the user named: "security", "3f2a9c..."
	Message  string        `json:"message,omitempty"`  // a merge's message
	Finished bool          `json:"finished,omitempty"` // the ref move has begun
	// Stopped: Todo[0] (or Theirs) conflicted; Applied once the work tree
	// holds its clean changes and conflict markers.
	Stopped         bool                 `json:"stopped,omitempty"`
	Applied         bool                 `json:"applied,omitempty"`
	Conflicts       []Conflict           `json:"conflicts,omitempty"`
	ConfigConflicts []string             `json:"config_conflicts,omitempty"`
	Config          *ocispec.ImageConfig `json:"config,omitempty"` // the stopped step's merged config
	Logs            map[string]int       `json:"logs"`             // reflog lengths at the start, for --abort
	Written         int                  `json:"written"`          // layers written (the rest were reused)
	Reused          int                  `json:"reused"`
	Dropped         []digest.Digest      `json:"dropped,omitempty"` // commits that became empty
	Skipped         []digest.Digest      `json:"skipped,omitempty"` // commits dropped by --skip
	// Merges: merge commits a rebase left out (it linearises).
	Merges int `json:"merges,omitempty"`
	// Mainline: the parent (1 or 2) a merge's cherry-pick or revert is
	// taken against (-m).
	Mainline int `json:"mainline,omitempty"`
	// Heads: an octopus merge's heads, as named (octopus.go): Head
	// starts at the first, a fast-forward, and Theirs is the second.
	Heads []string `json:"heads,omitempty"`
	// Aborting: an --abort has begun (it may have moved HEAD or the work
	// tree already); only --abort (or --quit) may follow.
	Aborting bool `json:"aborting,omitempty"`
}

func (w *Worktree) seqFile() string { return filepath.Join(w.Dir, "sequence") }

// Sequence returns the operation in progress, if any.
func (w *Worktree) Sequence() (*Sequence, bool, error) {
	b, err := os.ReadFile(w.seqFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var s Sequence
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, false, fmt.Errorf("%s: %w (%v); 'strata merge --quit' forgets it", w.seqFile(), ErrBadSequence, err)
	}
	return &s, true, nil
}

// ErrBadSequence: the file of the operation in progress does not read;
// only --quit, which forgets it, gets past it.
var ErrBadSequence = errors.New("the operation in progress is unreadable")

func (w *Worktree) saveSeq(s *Sequence) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(w.Repo.Objects.TempDir(), w.seqFile(), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", w.seqFile(), err)
	}
	return nil
}

func (w *Worktree) dropSeq() error {
	if err := os.Remove(w.seqFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// begin checks that the work tree can take an operation (none under way,
// no uncommitted change) and returns its HEAD. The operation ends by
// mounting a fresh upper (finish, or a stop's applyConflicted): from
// before the check, the tree is refused while in use and read-only
// (guardSwap), so that a write made meanwhile fails rather than go with
// the old upper; force goes ahead while in use, frozen all the same. The
// caller thaws it once done.
func (w *Worktree) begin(ctx context.Context, op string, force bool) (State, refs.Head, func(), error) {
	st, err := w.ready(ctx)
	if err != nil {
		return st, refs.Head{}, nil, err
	}
	thaw, err := w.guardSwap(force)
	if err != nil {
		return st, refs.Head{}, nil, err
	}
	h, changes, err := w.startHead(ctx, st)
	if err == nil && len(changes) > 0 {
		err = uncommitted(op, changes)
	}
	if err == nil {
		// Its commits would not record a staged config (a stash apply,
		// which only writes files, leaves it staged).
		err = w.refuseStaged(st, "a "+op)
	}
	if err != nil {
		thaw()
		return st, h, nil, err
	}
	return st, h, thaw, nil
}

// beginOver is begin for an operation that can go on over uncommitted
// changes, and writes through the view (stash apply): it returns them,
// and freezes nothing.
func (w *Worktree) beginOver(ctx context.Context, op string) (State, refs.Head, []tree.Change, error) {
	st, err := w.ready(ctx)
	if err != nil {
		return st, refs.Head{}, nil, err
	}
	h, changes, err := w.startHead(ctx, st)
	return st, h, changes, err
}

// ready refuses a work tree with an operation under way, and mounts it.
func (w *Worktree) ready(ctx context.Context) (State, error) {
	if s, ok, err := w.Sequence(); err != nil {
		return State{}, err
	} else if ok {
		return State{}, &InProgressError{Op: s.Op}
	}
	return w.ensure(ctx)
}

// startHead returns the work tree's uncommitted changes and its HEAD,
// refusing one an operation cannot start from.
func (w *Worktree) startHead(ctx context.Context, st State) (refs.Head, []tree.Change, error) {
	changes, err := w.scanChanges(ctx, st)
	if err != nil {
		return refs.Head{}, nil, err
	}
	h, err := w.Head()
	if err != nil {
		return h, nil, err
	}
	if h.Broken != nil {
		return h, nil, fmt.Errorf("the current branch is broken: %w", h.Broken)
	}
	if h.Commit == "" {
		return h, nil, errors.New("the branch has no commits yet")
	}
	if h.Commit != st.Commit {
		return h, nil, ErrHeadMoved
	}
	return h, changes, nil
}

// newSeq records the reflog lengths that --abort restores.
func (w *Worktree) newSeq(op string, h refs.Head, name string) (*Sequence, error) {
	s := &Sequence{Op: op, Branch: h.Branch, OrigHead: h.Commit, Head: h.Commit, Name: name, Logs: map[string]int{}}
	for _, n := range w.logNames(h) {
		l, err := w.Repo.Refs.Log(n)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		s.Logs[n] = len(l)
	}
	return s, nil
}

func (w *Worktree) logNames(h refs.Head) []string {
	var out []string
	if w.Name == MainName {
		out = append(out, refs.HEAD)
	} else {
		out = append(out, w.HeadLog())
	}
	if h.Branch != "" {
		out = append(out, h.Branch)
	}
	return out
}

// run applies the sequence's steps until it finishes or stops.
func (w *Worktree) run(ctx context.Context, s *Sequence, st State) (*Outcome, error) {
	for !s.Finished && len(s.Todo) > 0 {
		if s.Stopped {
			return w.stop(ctx, s, st, nil)
		}
		id := s.Todo[0]
		o, meta, err := w.step(ctx, s, id)
		if err != nil {
			return nil, err
		}
		if !o.clean() {
			return w.stop(ctx, s, st, o)
		}
		c, reused, err := w.commitOutcome(ctx, o, meta)
		if err != nil {
			return nil, err
		}
		w.advance(s, id, c, reused)
		// Not saved yet: a run of clean steps is stored at once. Killed
		// here, the operation starts this run over.
		testHook(fmt.Sprintf("%s-step-%d", s.Op, s.Done))
	}
	if s.Op == OpMerge && !s.Finished && s.Theirs != "" && (s.Head == s.OrigHead || len(s.Heads) > 0) {
		if s.Stopped {
			return w.stop(ctx, s, st, nil)
		}
		o, meta, err := w.step(ctx, s, s.Theirs)
		if err != nil {
			return nil, err
		}
		if !o.clean() {
			return w.stop(ctx, s, st, o)
		}
		c, _, err := w.commitOutcome(ctx, o, meta)
		if err != nil {
			return nil, err
		}
		s.Head, s.Written = c.ID, s.Written+newLayers(c, o.ours)
		testHook("merge-step-1")
	}
	return w.finish(ctx, s, st)
}

// advance records a step done; c nil: the commit became empty.
func (w *Worktree) advance(s *Sequence, id digest.Digest, c *objects.Commit, reused bool) {
	s.Todo, s.Done = s.Todo[1:], s.Done+1
	s.Stopped, s.Applied, s.Conflicts, s.ConfigConflicts, s.Config = false, false, nil, nil, nil
	switch {
	case c == nil:
		s.Dropped = append(s.Dropped, id)
	case reused:
		s.Head, s.Reused = c.ID, s.Reused+1
	default:
		// A layer was written if c has more than the commit it is on.
		if prev, err := w.opCommit(s.Head); err == nil && len(c.Manifest.Layers) > len(prev.Manifest.Layers) {
			s.Written++
		}
		s.Head = c.ID
	}
}

// step computes the 3-way merge of one step: commit id replayed (or
// reverted) on top of s.Head, or a merge's other side.
func (w *Worktree) step(ctx context.Context, s *Sequence, id digest.Digest) (*outcome, commitMeta, error) {
	if w.beforeStep != nil {
		w.beforeStep()
	}
	ours, err := w.opCommit(s.Head)
	if err != nil {
		return nil, commitMeta{}, err
	}
	c, err := w.commit(id)
	if err != nil {
		return nil, commitMeta{}, err
	}
	short := id.Encoded()[:12]
	meta := commitMeta{author: c.Author(), date: c.Date(), message: c.Message(), createdBy: "strata " + s.Op}
	var base, theirs *objects.Commit
	// git's labels: the commit and its subject, and its parent.
	label := short + " (" + firstLine(c.Message()) + ")"
	lb := labels{ours: "HEAD", base: "parent of " + label, theirs: label}
	switch s.Op {
	case OpMerge:
		mb, err := w.mergeBase(s.Head, id)
		if err != nil {
			return nil, meta, err
		}
		if base, err = w.commit(mb); err != nil {
			return nil, meta, err
		}
		theirs = c
		lb = labels{ours: "HEAD", base: "merge base", theirs: s.Name}
		if meta.author, err = w.Repo.Identity(); err != nil {
			return nil, meta, err
		}
		meta.message, meta.mergeParent = s.Message, id
		if meta.date, err = epoch.Now(); err != nil {
			return nil, meta, err
		}
	case OpRevert:
		// Undo c: merge c's parent into ours over c.
		if base, err = w.commit(mainlineParent(c, s.Mainline)); err != nil {
			return nil, meta, err
		}
		base, theirs = c, base
		lb = labels{ours: "HEAD", base: label, theirs: "parent of " + label}
		if meta.author, err = w.Repo.Identity(); err != nil {
			return nil, meta, err
		}
		if meta.date, err = epoch.Now(); err != nil {
			return nil, meta, err
		}
		meta.message = fmt.Sprintf("Revert \"%s\"\n\nThis reverts commit %s.", firstLine(c.Message()), id.Encoded())
		if s.Mainline != 0 {
			// As git says it: the side whose changes are undone.
			meta.message = strings.TrimSuffix(meta.message, ".") + ", reversing\nchanges made to " + mainlineParent(c, s.Mainline).Encoded() + "."
		}
	default:
		if err := checkMainline(c, s.Mainline); err != nil {
			return nil, meta, err
		}
		// A root commit's base is nil, the empty tree: all it holds is
		// added, as git applies it.
		if base, err = w.commit(mainlineParent(c, s.Mainline)); err != nil {
			return nil, meta, err
		}
		theirs, meta.reuse = c, true
		// A commit empty from the start stays (as git's --keep-empty); one
		// that became empty on the new base drops out.
		meta.keepEmpty = len(c.Layers()) == len(base.Layers()) && configEqual(configOf(base), c.Config.Config)
	}
	o, err := w.threeWay(ctx, base, ours, theirs, lb)
	if err != nil {
		return nil, meta, err
	}
	return o, meta, nil
}

// stop records a conflicted step and puts it in the work tree: mounted on
// s.Head, with the clean changes applied and conflict markers written.
// o nil: the step was recorded before; recompute it (a killed command).
func (w *Worktree) stop(ctx context.Context, s *Sequence, st State, o *outcome) (*Outcome, error) {
	if o == nil {
		id := s.Theirs
		if len(s.Todo) > 0 {
			id = s.Todo[0]
		}
		var err error
		if o, _, err = w.step(ctx, s, id); err != nil {
			return nil, err
		}
	}
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	if !s.Applied {
		s.Stopped, s.Conflicts, s.ConfigConflicts = true, o.conflicts, nil
		for _, c := range o.configConflicts {
			s.ConfigConflicts = append(s.ConfigConflicts, c.String())
		}
		cfg := o.config
		s.Config = &cfg
		if err := w.saveSeq(s); err != nil {
			return nil, err
		}
		testHook(s.Op + "-stop")
		if err := w.applyConflicted(ctx, st, o); err != nil {
			return nil, err
		}
		if err := w.stampUnmarked(s.Conflicts); err != nil {
			return nil, err
		}
		s.Applied = true
		if err := w.saveSeq(s); err != nil {
			return nil, err
		}
	}
	ce := &ConflictError{Op: s.Op, Paths: s.Conflicts, ConfigConflicts: s.ConfigConflicts}
	if len(s.Todo) > 0 {
		ce.Commit = s.Todo[0]
	}
	return &Outcome{Seq: s, Conflicts: ce}, nil
}

// finish moves HEAD (its branch) from where the operation started to what
// it built, and the work tree with it; then the sequence is gone.
func (w *Worktree) finish(ctx context.Context, s *Sequence, st State) (*Outcome, error) {
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	c, err := w.commit(s.Head)
	if err != nil {
		return nil, err
	}
	if err := w.prepare(ctx, c); err != nil {
		return nil, err
	}
	if !s.Finished {
		s.Finished = true
		if err := w.saveSeq(s); err != nil {
			return nil, err
		}
	}
	testHook(s.Op + "-before-ref")
	h, err := w.Head()
	if err != nil {
		return nil, err
	}
	s.Branch = h.Branch // as it is named now: branch -m may have renamed it since the start
	if h.Commit != s.Head {
		if h.Commit != s.OrigHead {
			// Not ErrHeadMoved: reset --soft does not apply mid-operation.
			// The result is reachable from the sequence only: name it.
			return nil, fmt.Errorf("HEAD moved during the %s: it is at %s, the %s started at %s; its result is %s ('strata branch NAME %s' keeps it), and 'strata %s --quit' ends the %s leaving HEAD where it is",
				s.Op, short(h.Commit), s.Op, short(s.OrigHead), short(s.Head), short(s.Head), s.Op, s.Op)
		}
		st.Pending = s.Head
		if err := w.writeState(st); err != nil {
			return nil, err
		}
		msg := fmt.Sprintf("%s (finish): %s", s.Op, s.Name)
		if err := w.moveHead(&st, s.Head, s.OrigHead, msg); err != nil && !errors.Is(err, refs.ErrMoved) {
			st.Pending = ""
			w.writeState(st)
			return nil, err
		}
		if w.Name != MainName {
			if err := w.writeState(st); err != nil {
				return nil, err
			}
		}
	}
	testHook(s.Op + "-after-ref")
	if st.Commit != s.Head || st.Pending != "" {
		if st, err = w.switchTo(ctx, st, c, false); err != nil {
			return nil, err
		}
	}
	if err := w.dropSeq(); err != nil {
		return nil, err
	}
	out := &Outcome{Seq: s, Head: c}
	if s.Op == OpCherryPick || s.Op == OpRevert {
		// They lie on one line from where HEAD was.
		for id := s.Head; id != s.OrigHead && id != "" && len(out.Made) < s.Total; {
			m, err := w.commit(id)
			if err != nil {
				return nil, err
			}
			out.Made = append(out.Made, m)
			id = m.Parent()
		}
		slices.Reverse(out.Made)
	}
	return out, nil
}

func short(d digest.Digest) string {
	if d == "" {
		return "(none)"
	}
	return d.Encoded()[:12]
}

// newLayers counts c's layers that parent lacks: those a step wrote or
// reused from theirs, and a fold.
func newLayers(c, parent *objects.Commit) int {
	had := map[digest.Digest]bool{}
	for _, l := range parent.Layers() {
		had[l.Desc.Digest] = true
	}
	n := 0
	for _, l := range c.Layers() {
		if !had[l.Desc.Digest] {
			n++
		}
	}
	return n
}
