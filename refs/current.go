package refs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Linked is a linked work tree's own HEAD, as git keeps one per work
// tree: a command run inside it resolves HEAD, @, HEAD~2, HEAD@{1} and
// @{-1} against it. ReadHead still reads the repository's HEAD.
type Linked struct {
	Head      func() (Head, error) // the work tree's HEAD
	Log       string               // its reflog's name (refs/worktrees/NAME/HEAD)
	OrigHead  string               // its ORIG_HEAD file ("": the repository's)
	FetchHead string               // its FETCH_HEAD file ("": the repository's)
}

// Current is the HEAD that revisions name where the command runs: the
// linked work tree's own, else the repository's.
func (s *Store) Current() (Head, error) {
	if s.Linked != nil {
		return s.Linked.Head()
	}
	return s.ReadHead()
}

// CurrentLog is the name of Current's reflog.
func (s *Store) CurrentLog() string {
	if s.Linked != nil {
		return s.Linked.Log
	}
	return HEAD
}

// resolveReflog resolves REF@{N} (the N-th latest value in REF's reflog,
// reflogOf) and @{-N} (what HEAD was on before the N-th latest checkout:
// previousCheckout). ok is false when name is neither form.
func (s *Store) resolveReflog(name string, objs Commits) (digest.Digest, bool, error) {
	ref, sel, found := strings.Cut(name, "@{")
	if !found || !strings.HasSuffix(sel, "}") {
		return "", false, nil
	}
	sel = strings.TrimSuffix(sel, "}")
	if branch, push, ok := IsUpstream(name); ok {
		d, err := s.upstream(name, branch, push)
		return d, true, err
	}
	if strings.Contains(sel, "@{") {
		// Two selectors, as main@{1}@{u}: git takes none but @{-N}@{u}.
		return "", true, fmt.Errorf("%s: %w", name, ErrUnknownRevision)
	}
	n, err := strconv.Atoi(sel)
	if err != nil || !isDigits(strings.TrimPrefix(sel, "-")) {
		// git reads anything but a number, @{+1} too, as a date.
		return s.resolveReflogDate(name, ref, sel)
	}
	if n < 0 {
		if ref != "" {
			return "", true, fmt.Errorf("%s: %w: @{-N} stands alone", name, ErrUnknownRevision)
		}
		return s.previousCheckout(name, -n)
	}
	entries, err := s.reflogEntries(name, ref)
	if err != nil {
		return "", true, err
	}
	if n >= len(entries) {
		return "", true, fmt.Errorf("%s: %w: the reflog has only %d entries", name, ErrUnknownRevision, len(entries))
	}
	if entries[n].New == "" {
		return "", true, fmt.Errorf("%s: %w: the ref was deleted then", name, ErrUnknownRevision)
	}
	return entries[n].New, true, nil
}

// reflogEntries reads the reflog that REF@{...} (name as typed) reads,
// newest first.
func (s *Store) reflogEntries(name, ref string) ([]LogEntry, error) {
	logName, err := s.reflogOf(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrUnknownRevision)
	}
	return s.Log(logName)
}

// resolveReflogDate is git's REF@{DATE}: the value REF had then, set by
// the youngest reflog entry not after DATE; before the oldest entry, the
// value that entry replaced.
func (s *Store) resolveReflogDate(name, ref, sel string) (digest.Digest, bool, error) {
	if s.ParseDate == nil {
		return "", true, fmt.Errorf("%s: %w: @{...} takes a number", name, ErrUnknownRevision)
	}
	t, err := s.ParseDate(sel)
	if err != nil {
		return "", true, fmt.Errorf("%s: %w: @{...} takes a number or a date: %w", name, ErrUnknownRevision, err)
	}
	entries, err := s.reflogEntries(name, ref)
	if err != nil {
		return "", true, err
	}
	for _, e := range entries { // newest first
		if e.When.After(t) {
			continue
		}
		if e.New == "" {
			return "", true, fmt.Errorf("%s: %w: the ref was deleted then", name, ErrUnknownRevision)
		}
		return e.New, true, nil
	}
	if len(entries) > 0 && entries[len(entries)-1].Old != "" {
		return entries[len(entries)-1].Old, true, nil
	}
	return "", true, fmt.Errorf("%s: %w: the reflog does not go back to then", name, ErrUnknownRevision)
}

// reflogOf is the reflog REF@{N} reads: HEAD's for HEAD and @, the
// current branch's for "" as in git (@{1} is main@{1} on main; HEAD's
// when detached), else the ref's that LogName finds.
func (s *Store) reflogOf(ref string) (string, error) {
	switch ref {
	case HEAD, "@":
		return s.CurrentLog(), nil
	case "":
		h, err := s.Current()
		if err != nil || h.Branch == "" {
			return s.CurrentLog(), err
		}
		return h.Branch, nil
	}
	return s.LogName(ref)
}

// previousCheckout is git's @{-n}: what HEAD was on before its n-th
// latest checkout, as PreviousCheckout reads it. A branch names its tip
// now, as "checkout -" goes back to it, not the commit it was at then.
func (s *Store) previousCheckout(name string, n int) (digest.Digest, bool, error) {
	branch, at, err := s.PreviousCheckout(n)
	switch {
	case err != nil:
		return "", true, fmt.Errorf("%s: %w: %w", name, ErrUnknownRevision, err)
	case branch == "":
		return at, true, nil
	}
	d, err := s.Read(branch)
	if errors.Is(err, ErrNotFound) {
		// git resolves the name it left, which is gone.
		return "", true, fmt.Errorf("%s: %w: branch %s, checked out before, no longer exists", name, ErrUnknownRevision, ShortName(branch))
	}
	return d, true, err
}

// PreviousCheckout is what HEAD was on before its n-th latest checkout,
// read from the "checkout: moving from FROM to TO" entries of HEAD's
// reflog (git's @{-n}): branch is the full name of the branch it left, or
// "" when HEAD was detached at commit at.
func (s *Store) PreviousCheckout(n int) (branch string, at digest.Digest, err error) {
	entries, err := s.Log(s.CurrentLog())
	if err != nil {
		return "", "", err
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Message, "checkout: moving from ")
		if !ok {
			continue
		}
		// Ref names hold no spaces.
		from, _, ok := strings.Cut(rest, " to ")
		if !ok {
			continue
		}
		if n--; n > 0 {
			continue
		}
		if e.Old == "" {
			break // HEAD was on an unborn branch
		}
		if isHex(from) && strings.HasPrefix(e.Old.Encoded(), strings.ToLower(from)) {
			return "", e.Old, nil // detached: checkoutMessage's short id
		}
		return Heads + from, e.Old, nil
	}
	return "", "", errNoPrevious
}

var errNoPrevious = errors.New("no earlier checkout in HEAD's reflog")

// upstream is git's BRANCH@{upstream} (@{u}; no BRANCH: HEAD's), or
// with push BRANCH@{push}.
func (s *Store) upstream(name, branch string, push bool) (digest.Digest, error) {
	ref, err := s.tracking(branch, push)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %w", name, ErrUnknownRevision, err)
	}
	return s.Read(ref)
}

// Upstream is the remote-tracking branch that stands for the remote
// branch pull takes branch from (HEAD's branch if "" or HEAD): the ref
// that its remote's fetch refspecs map it to (UpstreamOf), by default
// refs/remotes/REMOTE/BRANCH. It must exist.
func (s *Store) Upstream(branch string) (string, error) { return s.tracking(branch, false) }

// PushTracking is git's BRANCH@{push}: the remote-tracking branch of
// where a push of branch goes, the remote tag of its name on its remote.
// It must exist.
func (s *Store) PushTracking(branch string) (string, error) { return s.tracking(branch, true) }

// Tracked is where a branch's upstream is kept, as UpstreamOf finds it.
type Tracked struct {
	Remote string // the branch's remote
	Ref    string // the remote-tracking ref of its remote branch
	// NoRemote: the remote is not configured; Ref is where the default
	// refspec would keep it.
	NoRemote bool
	// Set: the branch names its remote (git's branch.NAME.remote), so
	// that its upstream is gone, as git says, when Ref does not exist.
	Set bool
}

func (s *Store) tracking(branch string, push bool) (string, error) {
	if branch == "" || branch == HEAD {
		h, err := s.Current()
		if err != nil {
			return "", err
		}
		if h.Branch == "" {
			return "", errors.New("HEAD is detached, on no branch")
		}
		branch = ShortName(h.Branch)
	}
	if n, ok := PriorCheckout(branch); ok {
		// git's @{-N}@{u}: the upstream of the branch @{-N} left.
		prior, _, err := s.PreviousCheckout(n)
		if err != nil {
			return "", err
		}
		if prior == "" {
			return "", errors.New("HEAD was detached then, on no branch")
		}
		branch = ShortName(prior)
	}
	branch = strings.TrimPrefix(branch, Heads)
	if !s.Exists(Heads + branch) {
		return "", fmt.Errorf("no branch %s", branch)
	}
	if s.UpstreamOf == nil {
		return "", fmt.Errorf("no upstream configured for branch %s", branch)
	}
	t, err := s.UpstreamOf(branch, push)
	if err != nil {
		return "", err
	}
	if !s.Exists(t.Ref) {
		if t.NoRemote {
			// git: "no upstream configured for branch 'main'".
			return "", fmt.Errorf("no upstream configured for branch %s (its remote %s is not configured: 'strata remote add %s URL', then 'strata fetch %s')", branch, t.Remote, t.Remote, t.Remote)
		}
		if t.Remote == "." {
			// A branch of this repository (git's branch --track).
			return "", fmt.Errorf("no branch %s, which branch %s tracks", ShortName(t.Ref), branch)
		}
		if t.Set {
			// git's status: "the upstream is gone".
			return "", fmt.Errorf("the upstream %s is gone: no remote-tracking branch ('strata fetch %s' makes it while the remote has the branch)", ShortName(t.Ref), t.Remote)
		}
		return "", fmt.Errorf("no remote-tracking branch %s ('strata fetch %s' makes it)", ShortName(t.Ref), t.Remote)
	}
	return t.Ref, nil
}

// IsUpstream reports whether rev is BRANCH@{upstream}, @{u} or
// BRANCH@{push}, and returns BRANCH ("" for HEAD's; git's @{-N} for the
// branch that checkout left, PriorCheckout); push says which.
func IsUpstream(rev string) (branch string, push, ok bool) {
	i := strings.LastIndex(rev, "@{")
	if i < 0 {
		return "", false, false
	}
	sel, closed := strings.CutSuffix(rev[i+2:], "}")
	if !closed {
		return "", false, false
	}
	branch = rev[:i]
	if strings.Contains(branch, "@{") {
		if _, prior := PriorCheckout(branch); !prior {
			return "", false, false
		}
	}
	switch strings.ToLower(sel) {
	case "u", "upstream":
		return branch, false, true
	case "push":
		return branch, true, true
	}
	return "", false, false
}

// PriorCheckout reads rev as git's @{-N}, N at least 1.
func PriorCheckout(rev string) (int, bool) {
	s, ok := strings.CutPrefix(rev, "@{-")
	if !ok || !strings.HasSuffix(s, "}") || !isDigits(strings.TrimSuffix(s, "}")) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "}"))
	return n, err == nil && n > 0
}

// isDigits reports whether s is one or more decimal digits.
func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
