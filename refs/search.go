package refs

import (
	"container/heap"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// searchable is a Commits that reads messages and dates (the objects
// store is one): :/TEXT searches them.
type searchable interface {
	// CommitInfo returns a commit's message, date and the parents the
	// store has (a shallow history's missing ones left out).
	CommitInfo(d digest.Digest) (message string, date time.Time, parents []digest.Digest, err error)
}

// resolveMessage is git's ":/TEXT": the youngest commit reachable from
// any ref or HEAD whose message matches the regular expression TEXT.
func (s *Store) resolveMessage(rev string, objs Commits) (digest.Digest, error) {
	match, info, err := messageMatcher(rev, strings.TrimPrefix(rev, ":/"), objs)
	if err != nil {
		return "", err
	}
	starts, err := s.searchStarts()
	if err != nil {
		return "", err
	}
	return searchNewestFirst(rev, info, starts, match)
}

// messageMatcher compiles TEXT of ":/TEXT" and "REV^{/TEXT}" (rev, the
// whole revision, names it in errors): "!-TEXT" matches the messages
// that do not match TEXT, "!!TEXT" matches "!TEXT"; any other "!" is
// reserved, as in git.
func messageMatcher(rev, pattern string, objs Commits) (func(string) bool, searchable, error) {
	negate := false
	switch {
	case strings.HasPrefix(pattern, "!-"):
		pattern, negate = pattern[2:], true
	case strings.HasPrefix(pattern, "!!"):
		pattern = pattern[1:]
	case strings.HasPrefix(pattern, "!"):
		return nil, nil, fmt.Errorf("%s: %w: :/! is reserved (:/!-TEXT: not matching; :/!!TEXT: a leading !)", rev, ErrUnknownRevision)
	}
	if pattern == "" {
		return nil, nil, fmt.Errorf("%s: %w: empty pattern", rev, ErrUnknownRevision)
	}
	// POSIX extended, as git compiles it: . matches a newline too.
	re, err := regexp.Compile("(?s)" + pattern)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			err = errors.New(string(se.Code))
		}
		return nil, nil, fmt.Errorf("%s: %w: bad regular expression: %w", rev, ErrUnknownRevision, err)
	}
	info, ok := objs.(searchable)
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w: commit messages cannot be read here", rev, ErrUnknownRevision)
	}
	return func(msg string) bool { return re.MatchString(msg) != negate }, info, nil
}

// searchFrom is git's REV^{/TEXT}: the youngest commit reachable from d
// (d itself included) whose message matches TEXT.
func searchFrom(rev, pattern string, d digest.Digest, objs Commits) (digest.Digest, error) {
	match, info, err := messageMatcher(rev, pattern, objs)
	if err != nil {
		return "", err
	}
	return searchNewestFirst(rev, info, []digest.Digest{d}, match)
}

// searchStarts are every ref's commit and HEAD's.
func (s *Store) searchStarts() ([]digest.Digest, error) {
	all, err := s.List("refs/")
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	if h, err := s.Current(); err == nil && h.Commit != "" {
		out = append(out, h.Commit)
	}
	for _, r := range all {
		out = append(out, r.Target)
	}
	return out, nil
}

// searchNewestFirst walks the history from starts, newest commit first
// (as git's pop_most_recent_commit), and returns the first whose message
// match accepts.
func searchNewestFirst(rev string, info searchable, starts []digest.Digest, match func(string) bool) (digest.Digest, error) {
	var q byDate
	seen := map[digest.Digest]bool{}
	push := func(d digest.Digest) error {
		if seen[d] {
			return nil
		}
		seen[d] = true
		msg, date, parents, err := info.CommitInfo(d)
		if err != nil {
			return fmt.Errorf("%s: commit %s: %w", rev, d.Encoded()[:12], err)
		}
		heap.Push(&q, dated{d, date, msg, parents, len(seen)})
		return nil
	}
	for _, d := range starts {
		if err := push(d); err != nil {
			return "", err
		}
	}
	for q.Len() > 0 {
		c := heap.Pop(&q).(dated)
		if match(c.msg) {
			return c.id, nil
		}
		for _, p := range c.parents {
			if err := push(p); err != nil {
				return "", err
			}
		}
	}
	return "", fmt.Errorf("%s: %w: no commit's message matches", rev, ErrUnknownRevision)
}

type dated struct {
	id      digest.Digest
	date    time.Time
	msg     string
	parents []digest.Digest
	seq     int
}

// byDate is a heap of commits, the newest on top (the first found
// among equals).
type byDate []dated

func (q byDate) Len() int { return len(q) }
func (q byDate) Less(i, j int) bool {
	if !q[i].date.Equal(q[j].date) {
		return q[i].date.After(q[j].date)
	}
	return q[i].seq < q[j].seq
}
func (q byDate) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *byDate) Push(x any)   { *q = append(*q, x.(dated)) }
func (q *byDate) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
