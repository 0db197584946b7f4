package worktree

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

// Sentinel errors callers branch on.
var (
	ErrNotCheckedOut    = errors.New("nothing is checked out here; run 'strata checkout'")
	ErrDirty            = errors.New("uncommitted changes in the work tree")
	ErrNothingToCommit  = errors.New("nothing to commit")
	ErrHeadMoved        = errors.New("HEAD moved since the work tree was checked out; 'strata reset --soft HEAD' keeps these files on top of it")
	ErrTargetBusy       = errors.New("something else is mounted there")
	ErrWorktreeNotFound = errors.New("no such worktree")
)

// MainName is the name of the work tree at <project>/rootfs.
const MainName = ""

// ListedMain is the main work tree's name in listings (worktree list):
// no extra work tree is given it.
const ListedMain = "main"

// Worktree is one checkout: an overlay mount and the directory that holds
// its upper, work and state.
type Worktree struct {
	Repo   *repo.Repo
	Name   string // MainName, or the name of an extra work tree
	Dir    string // .strata/worktree or .strata/worktrees/<name>
	snaps  *snapshot.Snapshots
	trees  *tree.Trees
	target string   // from the state, or the default
	op     *opCache // what merge, rebase and the like read again at each step
	// beforeMount, set by tests, is called with each overlay's upper
	// just before this work tree mounts it (inuseprobe_test.go checks
	// there that no live overlay holds it).
	beforeMount func(upper string)
	// beforeStep, set by tests, is called as a merge, rebase,
	// cherry-pick or revert computes a step: after its start's checks,
	// before anything moves (opfreeze_test.go writes into the view there).
	beforeStep func()
}

// State is what .strata/worktree/state records, so that a work tree that
// disappeared is mounted again on the same commit with the same upper.
type State struct {
	Target string `json:"target"`
	// TargetID is an extra work tree's directory as device:inode, taken
	// before its first mount: it is only mounted there (checkTarget).
	TargetID string        `json:"target_id,omitempty"`
	Commit   digest.Digest `json:"commit,omitempty"` // the commit the work tree is at (status compares with it); "" on an unborn branch
	// Stacked says the mount was made from Base, not from Commit: commits
	// made since do not remount (shells and services inside keep their
	// tree), so the upper holds every change since Base.
	Stacked bool          `json:"stacked,omitempty"`
	Base    digest.Digest `json:"base,omitempty"` // the mount base when Stacked ("" : no layers)
	// Head is an extra work tree's own HEAD: "ref: refs/heads/x" or a
	// commit id. The main work tree uses the repository's HEAD.
	Head string `json:"head,omitempty"`
	// Pending is a commit the work tree is switching to (commit, checkout,
	// reset): once HEAD names it, the next command finishes the switch.
	Pending      digest.Digest `json:"pending,omitempty"`
	PendingKeep  bool          `json:"pending_keep,omitempty"`  // the switch keeps the upper (reset --soft)
	PendingStack bool          `json:"pending_stack,omitempty"` // a commit: the mount stays, Pending is stacked on it
	// PendingCarry: a checkout mounts the same upper over Pending's
	// lowers as it is, carrying the uncommitted changes (planCarry).
	PendingCarry bool `json:"pending_carry,omitempty"`
	// CarryStaged: a checkout mounts Pending with a fresh upper, made of
	// upper.carry (the uncommitted changes alone, copied out of the view
	// by planCarry) and the old upper's excluded paths.
	CarryStaged bool `json:"carry_staged,omitempty"`
	// PendingMerge: the staged carry merged the changes with Pending's
	// files (checkout -m); it names Pending in conflict markers, so that
	// a restage (restageCarry) merges them again.
	PendingMerge string `json:"pending_merge,omitempty"`
	// PendingMergeBase names the commit switched from, the same way.
	PendingMergeBase string `json:"pending_merge_base,omitempty"`
	// PendingUnmerged: the files that merge left with conflict markers;
	// they become Unmerged when the switch is done.
	PendingUnmerged []Conflict `json:"pending_unmerged,omitempty"`
	// Unmerged: the files a checkout -m left with conflict markers, or
	// kept where the new commit deleted them (stamped: Left), as git's
	// unmerged paths: status shows them, a switch is refused and commit
	// refuses while their markers are left, or a kept file is as the
	// switch left it. The next commit ends
	// them; so does a reset --hard or checkout --force, which remount
	// the tree with a fresh upper; a reset that keeps the view keeps them.
	Unmerged []Conflict `json:"unmerged,omitempty"`
	// KeepFrom is the commit a reset --keep or --merge moved from: once
	// the work tree is mounted on Commit, the files that differ between
	// the two are written through the mount (finishKeep), by the next
	// command if this one is killed first.
	KeepFrom digest.Digest `json:"keep_from,omitempty"`
	// MovingTo is where 'worktree move' is renaming the tree's directory
	// to: State finds it at one place or the other (settleMove), and
	// moveSettled says it did, for the next writer to record.
	MovingTo    string `json:"moving_to,omitempty"`
	moveSettled bool
	// Switching is the commit a switch that HEAD does not announce
	// (stash, --abort, --skip, a stopped step's remount) is mounting
	// with upper.next: once that mount is up the old upper is on its way
	// out, so the next command finishes the switch, never undoes it.
	Switching digest.Digest `json:"switching,omitempty"`
	// Settled is the second (Unix time) in which the scan of commit
	// SettledAt began, the commit made on this mount that the upper was
	// last compared with whole. Layers hold mtimes in whole seconds, the
	// upper its own; a file whose mtime falls in its entry's second and
	// whose ctime is earlier than Settled was last changed before that
	// scan, which saw it, so status trusts it unhashed (git's racy-clean
	// rule). A change in the scan's second or later moves the ctime there.
	Settled   int64         `json:"settled,omitempty"`
	SettledAt digest.Digest `json:"settled_at,omitempty"`
	// StagedConfig is the image config the next commit starts from in
	// place of its parent's, as git's index holds what the next commit
	// records: reset --soft stages the old HEAD's, so that a squash keeps
	// it (stagedconfig.go). It counts only while the work tree is at
	// StagedOn: any other move of the work tree drops it, and a switch
	// killed before HEAD moved puts it back on the commit it was on.
	StagedConfig *ocispec.ImageConfig `json:"staged_config,omitempty"`
	StagedOn     digest.Digest        `json:"staged_on,omitempty"`
}

// settled is Settled when it is about the work tree's commit, else 0.
func (st State) settled() int64 {
	if st.SettledAt == "" || st.SettledAt != st.Commit {
		return 0
	}
	return st.Settled
}

// MountBase is the commit the overlay is mounted from: its lowers.
func (st State) MountBase() digest.Digest {
	if st.Stacked {
		return st.Base
	}
	return st.Commit
}

// stack records that commit id was made on the current mount, which stays,
// from a scan of the whole upper that began at scanned (zero: unknown).
func (st *State) stack(id digest.Digest, scanned time.Time) {
	if !st.Stacked {
		st.Stacked, st.Base = true, st.Commit
	}
	st.Commit, st.Pending, st.PendingKeep, st.PendingStack = id, "", false, false
	st.Unmerged = nil // concluded by the commit
	st.Settled, st.SettledAt = 0, ""
	if !scanned.IsZero() {
		st.Settled, st.SettledAt = scanned.Unix(), id
	}
}

// Main returns the repository's main work tree (<project>/rootfs).
func Main(r *repo.Repo) *Worktree {
	return &Worktree{Repo: r, Name: MainName, Dir: filepath.Join(r.Root, "worktree"),
		snaps: snapshot.NewSnapshots(r.Objects), trees: tree.NewTrees(r.Objects), target: filepath.Join(r.Dir, "rootfs")}
}

// Named returns the extra work tree name, whose target is set by its
// first checkout.
func Named(r *repo.Repo, name string) (*Worktree, error) {
	if name == MainName {
		return Main(r), nil
	}
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("worktree name %q: %w", name, refs.ErrBadName)
	}
	w := &Worktree{Repo: r, Name: name, Dir: filepath.Join(r.Root, "worktrees", name),
		snaps: snapshot.NewSnapshots(r.Objects), trees: tree.NewTrees(r.Objects)}
	// A link planted in a repository handed over would have gc and
	// prune remove, and checkout write, below its target.
	if err := repo.CheckOwnDir(r.Root, "worktrees/"+name); err != nil {
		return nil, err
	}
	if st, ok, _ := w.State(); ok {
		w.target = st.Target
	}
	return w, nil
}

// ForPath returns the work tree whose target is dir (the main one for
// <project>/rootfs), or a new extra work tree named after dir's base name.
func ForPath(r *repo.Repo, dir string) (*Worktree, error) {
	abs, err := canonical(dir)
	if err != nil {
		return nil, err
	}
	return ForResolvedPath(r, abs)
}

// ForResolvedPath is ForPath of abs, an absolute path with no symbolic
// link on its way, taken as it is: one a work tree's container could
// swap in would otherwise be followed (a path through a work tree,
// resolved there, is refused as inside it, never followed to the host).
func ForResolvedPath(r *repo.Repo, abs string) (*Worktree, error) {
	if abs == Main(r).target {
		return Main(r), nil
	}
	all, err := List(r)
	if err != nil {
		return nil, err
	}
	for _, w := range all {
		if w.target == abs {
			return w, nil
		}
	}
	base := filepath.Base(abs)
	name := base
	for i := 2; ; i++ {
		// "main" names the main work tree in listings (ListedMain).
		if _, err := os.Lstat(filepath.Join(r.Root, "worktrees", name)); errors.Is(err, fs.ErrNotExist) && name != ListedMain {
			break
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	if !internal(r, abs) {
		if err := checkPlace(r, abs); err != nil {
			return nil, err
		}
	}
	w, err := Named(r, name)
	if err != nil {
		return nil, err
	}
	w.target = abs
	return w, nil
}

// List returns every work tree that has a state.
func List(r *repo.Repo) ([]*Worktree, error) {
	var out []*Worktree
	if _, ok, _ := Main(r).State(); ok {
		out = append(out, Main(r))
	}
	entries, err := os.ReadDir(filepath.Join(r.Root, "worktrees"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list worktrees: %w", err)
	}
	for _, e := range entries {
		w, err := Named(r, e.Name())
		if err != nil {
			continue
		}
		if _, ok, _ := w.State(); ok {
			out = append(out, w)
		}
	}
	return out, nil
}

// Target is where the work tree is mounted.
func (w *Worktree) Target() string { return w.target }

func (w *Worktree) upper() string { return filepath.Join(w.Dir, "upper") }
func (w *Worktree) work() string  { return filepath.Join(w.Dir, "work") }

// carryDir holds the changes a switch carries in a fresh upper
// (State.CarryStaged).
func (w *Worktree) carryDir() string { return filepath.Join(w.Dir, "upper.carry") }

// State reads the work tree's state; ok is false if it was never checked out.
func (w *Worktree) State() (State, bool, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(w.Dir, "state"))
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("%s: bad state: %w", filepath.Join(w.Dir, "state"), err)
	}
	if w.Name == MainName {
		// <project>/rootfs wherever the project is now: a moved or
		// copied project's state, or a hostile one, names another.
		st.Target = filepath.Join(w.Repo.Dir, "rootfs")
	}
	st.settleMove()
	return st, true, nil
}

func (w *Worktree) writeState(st State) error {
	st.dropStaleConfig()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(w.Dir, 0o700); err != nil {
		return err
	}
	write := atomicfile.Write
	if w.Repo.Fsync&repo.FsyncIndex == 0 {
		write = atomicfile.WriteUnsynced
	}
	if err := write(w.Repo.Objects.TempDir(), filepath.Join(w.Dir, "state"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Head is the work tree's HEAD.
func (w *Worktree) Head() (refs.Head, error) {
	if w.Name == MainName {
		return w.Repo.Refs.ReadHead()
	}
	st, _, err := w.State()
	if err != nil {
		return refs.Head{}, err
	}
	if st.Head == "" {
		// Not checked out yet: start from the HEAD of the work tree the
		// command runs in (git worktree add does), unless that is this one.
		if l := w.Repo.Refs.Linked; l != nil && l.Log != w.HeadLog() {
			return w.Repo.Refs.Current()
		}
		return w.Repo.Refs.ReadHead()
	}
	return w.Repo.Refs.ParseHead(st.Head)
}

// setHead points the work tree's HEAD at a branch (full name) or, with
// branch "", at commit id.
func (w *Worktree) setHead(st *State, branch string, id digest.Digest, msg string) error {
	if w.Name != MainName {
		var before digest.Digest
		if h, err := w.Head(); err == nil {
			before = h.Commit
		}
		was := st.Head
		if branch != "" {
			st.Head = "ref: " + branch
		} else {
			st.Head = id.String()
		}
		write := func() error { return w.writeState(*st) }
		if branch != "" {
			// As SetHeadBranchAt for the main work tree: the branch must
			// still be where the switch found it, checked under the refs
			// lock, which a branch -D holds while it looks for work trees
			// that have the branch.
			write = func() error {
				return w.Repo.Refs.Locked(func() error {
					if err := w.Repo.Refs.CheckAt(branch, id); err != nil {
						return err
					}
					return w.writeState(*st)
				})
			}
		}
		if err := write(); err != nil {
			st.Head = was
			return err
		}
		if before == id && (was == "" || was == st.Head) {
			return nil // nothing moved, or a first checkout: nothing to go back to
		}
		return w.appendHeadLog(before, id, msg) // a switch between branches at one commit too, as git
	}
	if branch != "" {
		return w.Repo.Refs.SetHeadBranchAt(branch, id, msg)
	}
	return w.Repo.Refs.SetHeadDetached(id, msg)
}

// moveHead moves the work tree's HEAD (its branch when it has one) from
// old to new by compare-and-swap.
func (w *Worktree) moveHead(st *State, new, old digest.Digest, msg string) error {
	h, err := w.Head()
	if err != nil {
		return err
	}
	if w.Name == MainName {
		if old == "" {
			old = h.Commit // unborn: the branch must not exist yet
		}
		return w.Repo.Refs.UpdateHead(new, old, msg)
	}
	if h.Branch != "" {
		if err := w.Repo.Refs.Update(h.Branch, new, old, msg); err != nil {
			return err
		}
		return w.logHead(old, new, msg)
	}
	if h.Commit != old {
		return fmt.Errorf("HEAD: %w", refs.ErrStale)
	}
	st.Head = new.String()
	return w.logHead(old, new, msg)
}

// origHeadFile is the work tree's own ORIG_HEAD file; "" (the
// repository's) for the main work tree.
func (w *Worktree) origHeadFile() string {
	if w.Name == MainName {
		return ""
	}
	return filepath.Join(w.Dir, refs.OrigHead)
}

// fetchHeadFile is the work tree's own FETCH_HEAD file; "" (the
// repository's) for the main work tree.
func (w *Worktree) fetchHeadFile() string {
	if w.Name == MainName {
		return ""
	}
	return filepath.Join(w.Dir, refs.FetchHead)
}

// setOrigHead records where HEAD is before a reset, merge or rebase
// moves it, as git's ORIG_HEAD ("reset --hard ORIG_HEAD" undoes the
// move); an unborn HEAD records nothing.
func (w *Worktree) setOrigHead(d digest.Digest) error {
	if d == "" {
		return nil
	}
	return w.Repo.Refs.SetOrigHead(w.origHeadFile(), d)
}

// Resolve resolves rev as seen from this work tree: HEAD is its own.
func (w *Worktree) Resolve(rev string) (*objects.Commit, error) {
	if w.Name != MainName && (rev == "HEAD" || rev == "@" || strings.HasPrefix(rev, "HEAD~") || strings.HasPrefix(rev, "HEAD^")) {
		h, err := w.Head()
		if err != nil {
			return nil, err
		}
		if h.Commit == "" {
			return nil, fmt.Errorf("%s: %w: branch has no commits yet", rev, refs.ErrUnknownRevision)
		}
		rev = h.Commit.String() + strings.TrimLeft(rev, "HEAD@")
	}
	return w.Repo.Resolve(rev)
}

// commit reads commit id, nil for "".
func (w *Worktree) commit(id digest.Digest) (*objects.Commit, error) {
	if id == "" {
		return nil, nil
	}
	return w.Repo.Objects.ReadCommit(id)
}

// treesOf gives the file maps of a move's two sides: the commit the work
// tree leaves and the one it goes to.
func (w *Worktree) treesOf(from, to *objects.Commit) (tree.Tree, tree.Tree, error) {
	tfrom, err := w.trees.Of(from)
	if err != nil {
		return nil, nil, err
	}
	tto, err := w.trees.Of(to)
	return tfrom, tto, err
}
