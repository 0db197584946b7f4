package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/bisect"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// A bisection's state, as git keeps it: files in .strata and refs under
// refs/bisect/ (so that gc keeps the commits they name).
const (
	// bisectStartFile holds where HEAD was: a branch (refs/heads/x) or a
	// commit id. Its presence means a bisection is in progress.
	bisectStartFile = "BISECT_START"
	// bisectHeadFile holds the commit to test when the work tree is not
	// moved (start --no-checkout, or no checkout at all).
	bisectHeadFile = "BISECT_HEAD"
	bisectLogFile  = "BISECT_LOG"
	bisectRefs     = "refs/bisect/"
	bisectBadRef   = bisectRefs + "bad"
)

var errNotBisecting = errors.New("not bisecting; start with 'strata bisect start'")

// bisection is the bisection of a repository; it moves the main work tree.
type bisection struct {
	r *repo.Repo
	w *worktree.Worktree
}

func openBisection(g *globals) (*bisection, error) {
	r, err := g.openRepo()
	if err != nil {
		return nil, err
	}
	main := worktree.Main(r)
	if r.Refs.Linked != nil {
		// Its state and refs are the repository's, and it moves the main
		// work tree: run from a second one, it read that tree's HEAD and
		// checked the candidates out under another user's feet.
		return nil, fmt.Errorf("a bisection checks out in the main work tree (%s), not in this one: run it from there", pathquote.Quote(main.Target()))
	}
	return &bisection{r: r, w: main}, nil
}

func (b *bisection) path(name string) string { return filepath.Join(b.r.Root, name) }

func (b *bisection) started() bool {
	_, err := os.Stat(b.path(bisectStartFile))
	return err == nil
}

// moves says whether the bisection checks each candidate out in the work
// tree (else it records it in BISECT_HEAD).
func (b *bisection) moves() bool {
	_, err := os.Stat(b.path(bisectHeadFile))
	return errors.Is(err, fs.ErrNotExist)
}

func (b *bisection) write(name, content string) error {
	return atomicfile.Write(b.r.Objects.TempDir(), b.path(name), []byte(content), 0o644)
}

func (b *bisection) read(name string) (string, error) {
	data, err := os.ReadFile(b.path(name))
	return strings.TrimSpace(string(data)), err
}

// current is the commit being tested: HEAD when the work tree moves (the
// user may have checked out another one by hand, as in git).
func (b *bisection) current() (digest.Digest, error) {
	if !b.moves() {
		s, err := b.read(bisectHeadFile)
		if err != nil {
			return "", err
		}
		return digest.Parse(s)
	}
	h, err := b.r.Refs.ReadHead()
	if err != nil {
		return "", err
	}
	if h.Commit == "" {
		return "", errors.New("HEAD has no commit")
	}
	return h.Commit, nil
}

// terms reads the refs: the bad commit ("" if not yet known), the good
// and the skipped ones.
func (b *bisection) terms() (bad digest.Digest, good, skip []digest.Digest, err error) {
	all, err := b.r.Refs.List(bisectRefs)
	if err != nil {
		return "", nil, nil, err
	}
	for _, ref := range all {
		switch name := strings.TrimPrefix(ref.Name, bisectRefs); {
		case name == "bad":
			bad = ref.Target
		case strings.HasPrefix(name, "good-"):
			good = append(good, ref.Target)
		case strings.HasPrefix(name, "skip-"):
			skip = append(skip, ref.Target)
		}
	}
	return bad, good, skip, nil
}

// mark records c as term (good, bad or skip) in the refs and the log.
func (b *bisection) mark(term string, c digest.Digest) error {
	name := bisectBadRef
	if term != "bad" {
		name = bisectRefs + term + "-" + c.Encoded()
	}
	if err := b.r.Refs.Update(name, c, refs.Any, "bisect "+term); err != nil {
		return err
	}
	return b.log(fmt.Sprintf("# %s: %s", term, b.describe(c)), "strata bisect "+term+" "+shortID(c))
}

// log appends lines to BISECT_LOG.
func (b *bisection) log(lines ...string) error {
	old, err := os.ReadFile(b.path(bisectLogFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return b.write(bisectLogFile, string(old)+strings.Join(lines, "\n")+"\n")
}

// describe is "[id] subject", as git shows a commit it checks out.
func (b *bisection) describe(c digest.Digest) string {
	return fmt.Sprintf("[%s] %s", shortID(c), pathquote.Text(b.subject(c)))
}

func (b *bisection) subject(c digest.Digest) string {
	if s, err := b.r.Objects.ReadSummary(c); err == nil {
		return firstLine(s.Message)
	}
	return ""
}

// clear removes the state: refs (and their reflogs: bisect refs have no
// history, as in git) and files.
func (b *bisection) clear() error {
	// A broken one (a state edited by hand) goes too: left behind, it
	// would stop every gc until removed by hand.
	all, broken, err := b.r.Refs.ListAll(bisectRefs)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(all)+len(broken))
	for _, ref := range all {
		names = append(names, ref.Name)
	}
	for _, ref := range broken {
		names = append(names, ref.Name)
	}
	for _, name := range names {
		if err := b.r.Refs.Delete(name, refs.Any, "bisect reset"); err != nil {
			return err
		}
		if _, err := b.r.Refs.RewriteLog(name, func([]refs.LogEntry) []refs.LogEntry { return nil }); err != nil {
			return err
		}
	}
	// refs.Delete leaves refs/bisect behind (its lock file is still there
	// when it prunes empty directories): removed here if empty.
	os.Remove(filepath.Join(b.r.Root, "refs", "bisect"))
	for _, f := range []string{bisectHeadFile, bisectLogFile, bisectStartFile, bisectAncestorsOKFile} {
		if err := os.Remove(b.path(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// next chooses the next commit to test from the refs. ok is false while
// a bad or every good commit is still unknown.
func (b *bisection) next() (st bisect.Step, ok bool, err error) {
	bad, good, skip, err := b.terms()
	if err != nil || bad == "" || len(good) == 0 {
		return st, false, err
	}
	st, err = bisect.Next(storeGraph{b.r.Objects}, bad, good, skip)
	if errors.Is(err, bisect.ErrBadIsGood) {
		return st, false, fmt.Errorf("the bad commit %s is a good one or an ancestor of one; are good and bad swapped?", shortID(bad))
	}
	return st, err == nil, err
}

// checkAncestry refuses a good commit that descends from bad: the
// bisection would then look for a change in the wrong direction. One on
// another side of a fork is taken: its merge bases with bad are tested
// first (mergeBaseToTest), as git's.
func (b *bisection) checkAncestry(bad digest.Digest, good []digest.Digest) error {
	for _, gd := range good {
		if gd == bad {
			return fmt.Errorf("%s cannot be both good and bad", shortID(gd))
		}
		swapped, err := repo.IsAncestor(b.r.Objects, bad, gd)
		if err != nil {
			return err
		}
		if swapped {
			return fmt.Errorf("good %s is not an ancestor of bad %s; are good and bad swapped?", shortID(gd), shortID(bad))
		}
	}
	return nil
}

// isCandidate says whether c is one of the commits left to test
// between bad and good (false while either is unknown).
func (b *bisection) isCandidate(bad digest.Digest, good []digest.Digest, c digest.Digest) (bool, error) {
	if bad == "" || len(good) == 0 {
		return false, nil
	}
	cands, err := bisect.Candidates(storeGraph{b.r.Objects}, bad, good)
	if errors.Is(err, bisect.ErrBadIsGood) {
		return false, nil
	}
	for _, d := range cands {
		if d == c {
			return true, nil
		}
	}
	return false, err
}

// storeGraph is the history as bisect reads it.
type storeGraph struct{ s *objects.Store }

func (g storeGraph) Parents(d digest.Digest) ([]digest.Digest, error) {
	ps, err := g.s.Parents(d)
	if errors.Is(err, objects.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", d, bisect.ErrMissing)
	}
	return ps, err
}

func (g storeGraph) Date(d digest.Digest) (time.Time, error) {
	s, err := g.s.ReadSummary(d)
	if errors.Is(err, objects.ErrNotFound) {
		return time.Time{}, fmt.Errorf("%s: %w", d, bisect.ErrMissing)
	}
	return s.Date, err
}
