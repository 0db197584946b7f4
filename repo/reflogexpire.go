package repo

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/refs"
)

// Defaults of git: entries that the ref's tip no longer reaches expire
// after 30 days, the others after 90.
const (
	DefaultReflogExpire            = "90.days.ago"
	DefaultReflogExpireUnreachable = "30.days.ago"
)

// ReflogExpiry says which reflog entries go: those older than Reachable
// (when the ref's tip reaches their commit) or Unreachable (otherwise,
// and always for a deleted ref). A zero time expires nothing.
type ReflogExpiry struct {
	Reachable, Unreachable time.Time
}

// ReflogExpiryFromConfig reads gc.reflogExpire and
// gc.reflogExpireUnreachable, with git's defaults.
func (r *Repo) ReflogExpiryFromConfig(now time.Time) (ReflogExpiry, error) {
	var e ReflogExpiry
	for _, c := range []struct {
		key, def string
		to       *time.Time
	}{
		{"gc.reflogExpire", DefaultReflogExpire, &e.Reachable},
		{"gc.reflogExpireUnreachable", DefaultReflogExpireUnreachable, &e.Unreachable},
	} {
		v, ok := r.Config.Get(c.key)
		if !ok {
			v = c.def
		}
		t, err := ParseExpiry(v, now)
		if err != nil {
			return e, fmt.Errorf("config %s: %w", c.key, err)
		}
		*c.to = t
	}
	return e, nil
}

var (
	agoRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\d+)[. ]?(second|minute|hour|day|week|month|year)s?(?:[. ]ago)?$`)
	})
	units  = map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "year": 365 * 24 * time.Hour}
	layout = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"}
)

// ParseExpiry reads an expiry time the way git's reflog and gc options are
// usually written: "now" (or "all"), "never" (or "false"), "N.days.ago",
// "N days ago", "N days" (units second to year, a month is 30 days), an
// RFC 3339 time or a date (UTC), or git's words as log --since reads
// them (yesterday, last monday; gitdate.Words). The zero time means
// never.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "now", "all":
		return now, nil
	case "never", "false":
		return time.Time{}, nil
	}
	if m := agoRE().FindStringSubmatch(v); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil {
			return now.Add(-time.Duration(n) * units[m[2]]), nil
		}
	}
	for _, l := range layout {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	// git's other words, as log --since reads them.
	t, err := gitdate.Words(v, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: not a time: %w (now, never, 90.days.ago, 30 days, yesterday, last monday, 2024-05-01T00:00:00Z)", s, err)
	}
	return t, nil
}

// parseReflogDate reads the DATE of REF@{DATE} as ParseExpiry does, but
// a time at all: never is none.
func parseReflogDate(s string) (time.Time, error) {
	t, err := ParseExpiry(s, time.Now())
	if err == nil && t.IsZero() {
		err = fmt.Errorf("%q: not a time", s)
	}
	return t, err
}

// ExpireReflogs removes the expired entries of the named reflogs (all
// when names is nil) and returns how many went. The commits only they
// mentioned are then no longer kept by gc.
func (r *Repo) ExpireReflogs(names []string, e ReflogExpiry) (int, error) {
	if names == nil {
		var err error
		if names, err = r.Refs.LogNames(); err != nil {
			return 0, err
		}
	}
	total := 0
	for _, name := range names {
		n, err := r.Refs.RewriteLog(name, func(all []refs.LogEntry) []refs.LogEntry {
			reach := r.reachFromTip(name)
			var kept []refs.LogEntry
			for _, le := range all {
				cutoff := e.Unreachable
				// A stash entry is never reachable from the latest one:
				// as in git, each lives for the reachable time.
				if le.New != "" && (name == refs.Stash || reach(le.New)) {
					cutoff = e.Reachable
				}
				if cutoff.IsZero() || le.When.After(cutoff) {
					kept = append(kept, le)
				}
			}
			return kept
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// reachFromTip returns whether a commit is the tip of ref name or one of
// its ancestors, walking the history once and only if asked.
func (r *Repo) reachFromTip(name string) func(digest.Digest) bool {
	var seen map[digest.Digest]bool
	return func(d digest.Digest) bool {
		if seen == nil {
			seen = map[digest.Digest]bool{}
			var tip digest.Digest
			if name == refs.HEAD {
				if h, err := r.Refs.ReadHead(); err == nil {
					tip = h.Commit
				}
			} else {
				tip, _ = r.Refs.Read(name)
			}
			if tip != "" {
				// A missing commit ends its line of the walk (shallow):
				// what we saw is what reaches.
				_ = walkAncestors(r.Objects, tip, func(d digest.Digest) bool { seen[d] = true; return true })
			}
		}
		return seen[d]
	}
}
