package refs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// ErrUnknownRevision and ErrAmbiguous are returned by Resolve.
var (
	ErrUnknownRevision = errors.New("unknown revision")
	ErrAmbiguous       = errors.New("ambiguous revision")
)

// Commits is the slice of the object store that revision syntax needs.
type Commits interface {
	// Parent returns the parent of commit d, or "" for a root commit.
	Parent(d digest.Digest) (digest.Digest, error)
	// CommitsWithPrefix returns the commits whose hex digest starts with prefix.
	CommitsWithPrefix(prefix string) ([]digest.Digest, error)
}

// MinPrefix is the shortest commit id prefix Resolve accepts.
const MinPrefix = 4

// Resolve turns a revision into a commit digest. It accepts HEAD (or @),
// ORIG_HEAD, FETCH_HEAD (its first line's commit), branch, tag and remote-tracking names, names below refs/
// (tags/v1, heads/main, remotes/origin/main), full refs/... names, full
// ids (sha256:... or 64 hex digits, which always mean the commit), unique
// hex prefixes of at least MinPrefix digits (one that is also a ref's name
// is ambiguous), and any of these followed by ~N, ~, ^ and ^N suffixes
// (^2: a merge's second parent), ^{commit} or ^{} (no-ops: a revision
// is a commit) and ^{/TEXT} (the youngest commit it reaches whose
// message matches TEXT, as :/TEXT);
// BRANCH@{upstream} and @{u} (current.go); and :/TEXT, the youngest
// commit whose message matches TEXT.
func (s *Store) Resolve(rev string, objs Commits) (digest.Digest, error) {
	if rev == "" { // "log ^", "rev-parse ''": quoted, not ": unknown revision"
		return "", fmt.Errorf(`"": %w`, ErrUnknownRevision)
	}
	if strings.HasPrefix(rev, ":/") {
		// The rest is all pattern: git reads no suffix after it.
		return s.resolveMessage(rev, objs)
	}
	base, steps, err := splitSuffix(rev)
	if err != nil {
		return "", err
	}
	d, err := s.resolveBase(base, objs)
	if err != nil {
		return "", err
	}
	ancestors := 0 // first parents taken, for the error past the root
	for _, st := range steps {
		if st.search != "" {
			if d, err = searchFrom(rev, st.search, d, objs); err != nil {
				return "", err
			}
			ancestors = 0
			continue
		}
		nth, i := st.parent, ancestors
		ancestors++
		p, err := nthParent(objs, d, nth)
		if err != nil {
			return "", fmt.Errorf("%s: %w", rev, err)
		}
		if p == "" && nth == 1 {
			return "", fmt.Errorf("%s: %w: history has only %d ancestors", rev, ErrUnknownRevision, i)
		}
		if p == "" {
			return "", fmt.Errorf("%s: %w: %s has no parent %d", rev, ErrUnknownRevision, d.Encoded()[:12], nth)
		}
		d = p
	}
	return d, nil
}

// withParents is a Commits that knows a merge's second parent (the
// objects store does).
type withParents interface {
	Parents(d digest.Digest) ([]digest.Digest, error)
}

// nthParent is commit d's parent number nth (1 the first), "" if it has
// none such.
func nthParent(objs Commits, d digest.Digest, nth int) (digest.Digest, error) {
	if nth == 1 {
		return objs.Parent(d)
	}
	wp, ok := objs.(withParents)
	if !ok {
		return "", fmt.Errorf("%w: commits have one parent here", ErrUnknownRevision)
	}
	ps, err := wp.Parents(d)
	if err != nil || nth > len(ps) {
		return "", err
	}
	return ps[nth-1], nil
}

// step is one move of a revision's suffix: to parent number parent (1
// the first), or with search to the youngest commit reachable whose
// message matches it (^{/TEXT}).
type step struct {
	parent int
	search string
}

// splitSuffix peels ~N, ~, ^N, ^ and ^{...} off the end of rev and
// returns the steps they take: the number of the parent each goes to (~N
// is N first parents, ^2 a merge's second parent, ^0 none), or a search.
func splitSuffix(rev string) (string, []step, error) {
	var steps []step
	i := strings.IndexAny(rev, "~^")
	if i < 0 {
		return rev, nil, nil
	}
	base, ops := rev[:i], rev[i:]
	for len(ops) > 0 {
		op := ops[0]
		ops = ops[1:]
		if op == '^' && strings.HasPrefix(ops, "{") {
			// git's peeling: ^{commit} and ^{} name the commit itself,
			// which every strata revision already is; ^{/TEXT} searches.
			kind, rest, ok := strings.Cut(ops[1:], "}")
			switch {
			case ok && strings.HasPrefix(kind, "/"):
				steps = append(steps, step{search: kind[1:]})
			case !ok || kind != "" && kind != "commit":
				return "", nil, fmt.Errorf("%s: %w: only ^{commit}, ^{} and ^{/TEXT} peel here (a revision is a commit)", rev, ErrUnknownRevision)
			}
			ops = rest
			continue
		}
		j := 0
		for j < len(ops) && ops[j] >= '0' && ops[j] <= '9' {
			j++
		}
		n := 1
		if j > 0 {
			v, err := strconv.Atoi(ops[:j])
			if err != nil {
				return "", nil, fmt.Errorf("%s: %w", rev, ErrUnknownRevision)
			}
			n = v
		}
		ops = ops[j:]
		switch {
		case op == '~':
			for k := 0; k < n; k++ {
				steps = append(steps, step{parent: 1})
			}
		case op == '^' && n == 0:
		case op == '^' && n <= 2:
			steps = append(steps, step{parent: n})
		case op == '^':
			return "", nil, fmt.Errorf("%s: %w: a commit has at most two parents", rev, ErrUnknownRevision)
		default:
			return "", nil, fmt.Errorf("%s: %w", rev, ErrUnknownRevision)
		}
	}
	if base == "" {
		return "", nil, fmt.Errorf("%q: %w", rev, ErrUnknownRevision)
	}
	return base, steps, nil
}

func (s *Store) resolveBase(name string, objs Commits) (digest.Digest, error) {
	if d, ok, err := s.resolveReflog(name, objs); ok || err != nil {
		return d, err
	}
	if name == HEAD || name == "@" {
		h, err := s.Current()
		if err != nil {
			return "", err
		}
		if h.Broken != nil {
			// git: "your current branch appears to be broken".
			return "", fmt.Errorf("HEAD: %w: the current branch is broken: %w", ErrUnknownRevision, h.Broken)
		}
		if h.Commit == "" {
			return "", fmt.Errorf("HEAD: %w: branch %s has no commits yet ('strata import SOURCE' makes its first)", ErrUnknownRevision, ShortName(h.Branch))
		}
		return h.Commit, nil
	}
	if name == OrigHead {
		return s.currentOrigHead()
	}
	if name == FetchHead {
		return s.resolveFetchHead()
	}
	if strings.HasPrefix(name, "sha256:") {
		d := digest.Digest(name)
		if err := d.Validate(); err != nil {
			return "", fmt.Errorf("%s: %w", name, ErrUnknownRevision)
		}
		return d, nil
	}
	if strings.HasPrefix(name, "refs/") {
		// The full name first; when there is none, git's other rules
		// (branch refs/x is refs/heads/refs/x, which branch lists as
		// refs/x).
		if d, err := s.Read(name); !errors.Is(err, ErrNotFound) {
			return d, err
		}
	}
	var found []Ref
	var broken error
	if len(name) != 64 || !isHex(name) {
		// A full id always means the commit, as in git; CheckName
		// refuses such branch and tag names.
		found, broken = s.lookupRefs(name)
	}
	var ids []digest.Digest
	if len(name) >= MinPrefix && isHex(name) {
		var err error
		if ids, err = objs.CommitsWithPrefix(strings.ToLower(name)); err != nil {
			return "", err
		}
	}
	switch {
	case len(found) == 1 && len(ids) == 0:
		return found[0].Target, nil
	case len(found) == 0 && len(ids) == 1:
		return ids[0], nil
	case len(found)+len(ids) > 1:
		// A ref named like an id prefix (the 12 digits log prints) is
		// ambiguous with the commit: git warns and takes the ref.
		var names []string
		for _, r := range found {
			names = append(names, r.Name)
		}
		for _, d := range ids {
			if len(found) > 0 {
				names = append(names, "commit "+d.Encoded()[:12])
			} else {
				names = append(names, d.Encoded()[:12])
			}
		}
		return "", fmt.Errorf("%s: %w: could be %s", name, ErrAmbiguous, strings.Join(names, ", "))
	}
	if broken != nil {
		return "", fmt.Errorf("%s: %w: %w", name, ErrUnknownRevision, broken)
	}
	return "", fmt.Errorf("%s: %w", name, ErrUnknownRevision)
}

// lookupRefs returns the refs a short name can mean, git's rules of
// gitrevisions(7) after NAME itself: refs/NAME (so tags/v1, heads/main and
// remotes/origin/main, as branch -a prints it, name those refs),
// refs/heads/NAME, refs/tags/NAME and refs/remotes/NAME ($GIT_DIR/NAME is
// HEAD, ORIG_HEAD or FETCH_HEAD, read before; refs/remotes/NAME/HEAD never exists in
// strata). Where git warns and takes the first, strata refuses more than
// one as ambiguous, so their order only orders that message. broken is
// the first of them that is broken.
func (s *Store) lookupRefs(name string) (found []Ref, broken error) {
	for _, full := range []string{"refs/" + name, Heads + name, Tags + name, Remotes + name} {
		d, err := s.Read(full)
		switch {
		case err == nil:
			found = append(found, Ref{Name: full, Target: d})
		case errors.Is(err, ErrBroken) && broken == nil:
			broken = err
		}
	}
	return found, broken
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// SplitRange splits a revision range "A..B" or "A...B" into its ends,
// an empty end being HEAD; ok is false for a plain revision (ref names
// cannot hold ".."). A search's text is not split: ":/TEXT" takes the
// whole rest, "REV^{/TEXT}" up to its brace (":/a..b" and "HEAD^{/a..b}"
// look for "a..b"; "main^{/fix}..dev" is a range).
func SplitRange(arg string) (a, b string, symmetric, ok bool) {
	i := rangeDots(arg)
	if i < 0 {
		return "", "", false, false
	}
	a, b = arg[:i], arg[i+2:]
	if b, symmetric = strings.CutPrefix(b, "."); a == "" {
		a = HEAD
	}
	if b == "" {
		b = HEAD
	}
	return a, b, symmetric, true
}

// rangeDots is where arg's first ".." outside a search's text is, or -1.
func rangeDots(arg string) int {
	if strings.HasPrefix(arg, ":/") {
		return -1
	}
	for i := 0; i+1 < len(arg); i++ {
		if strings.HasPrefix(arg[i:], "^{/") {
			end := strings.IndexByte(arg[i:], '}')
			if end < 0 {
				return -1
			}
			i += end
			continue
		}
		if arg[i] == '.' && arg[i+1] == '.' {
			return i
		}
	}
	return -1
}

// Parent shorthands of gitrevisions(7), which name several commits.
const (
	ParentsOf     = '@' // X^@: X's parents
	WithoutParent = '!' // X^!: X, not its parents
	SinceParent   = '-' // X^-N: X^N..X (N is 1 if left out)
)

// SplitParentShorthand splits git's X^@, X^! and X^-N off arg: X, which
// of them (ParentsOf, WithoutParent, SinceParent) and N. ok is false for
// any other argument (a ref name holds no '^').
func SplitParentShorthand(arg string) (rev string, kind byte, n int, ok bool) {
	i := strings.LastIndexByte(arg, '^')
	if i <= 0 {
		return "", 0, 0, false
	}
	rev, suffix := arg[:i], arg[i+1:]
	switch {
	case suffix == "@" || suffix == "!":
		return rev, suffix[0], 0, true
	case suffix == "-":
		return rev, SinceParent, 1, true
	case strings.HasPrefix(suffix, "-") && isDigits(suffix[1:]):
		n, err := strconv.Atoi(suffix[1:])
		if err != nil || n < 1 {
			return "", 0, 0, false
		}
		return rev, SinceParent, n, true
	}
	return "", 0, 0, false
}
