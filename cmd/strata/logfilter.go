package main

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"time"

	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/objects"
)

// logFilterFlags are log's flags that choose commits by their content,
// as git's: --grep, --author, --since, --until.
type logFilterFlags struct {
	grep, author []string
	ignoreCase   bool // -i: both patterns ignore case
	fixed        bool // -F: patterns are text, not regular expressions
	extended     bool // -E: accepted, as patterns are always extended
	allMatch     bool // --all-match: every --grep pattern must match
	invertGrep   bool // --invert-grep: no --grep pattern may match
	since, until string
}

// logFilter is what logFilterFlags choose, compiled once.
type logFilter struct {
	grep, author         []*regexp.Regexp
	allMatch, invertGrep bool
	since, until         time.Time // zero: no bound
}

// compile reads the flags; a bad pattern or date is a usage error.
func (f logFilterFlags) compile(now time.Time) (logFilter, error) {
	lf := logFilter{allMatch: f.allMatch, invertGrep: f.invertGrep}
	var err error
	if lf.grep, err = f.patterns("--grep", f.grep); err != nil {
		return lf, err
	}
	if lf.author, err = f.patterns("--author", f.author); err != nil {
		return lf, err
	}
	for _, b := range []struct {
		flag, val string
		to        *time.Time
	}{{"--since", f.since, &lf.since}, {"--until", f.until, &lf.until}} {
		if b.val == "" {
			continue
		}
		if *b.to, err = gitdate.Parse(b.val, now, time.Local); err != nil {
			return lf, usagef("log %s: %w", b.flag, err)
		}
	}
	return lf, nil
}

// patterns compiles exprs as git's grep reads them with -E: a line of
// the text may match (^ and $ are a line's ends).
func (f logFilterFlags) patterns(flag string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		src := e
		if f.fixed {
			src = regexp.QuoteMeta(e)
		}
		prefix := "(?m)"
		if f.ignoreCase {
			prefix = "(?mi)"
		}
		re, err := regexp.Compile(prefix + src)
		if err != nil {
			return nil, usagef("log %s %q: bad regular expression: %w", flag, e, unwrapSyntax(err))
		}
		out = append(out, re)
	}
	return out, nil
}

// unwrapSyntax drops regexp's own "error parsing regexp: " prefix, which
// would repeat what the message says.
func unwrapSyntax(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		return errors.New(string(se.Code))
	}
	return err
}

// keep reports whether a commit passes the filter: as git, one --grep
// pattern (every one with --all-match; none with --invert-grep, which
// leaves --author alone, as git's since 2.35) and one --author pattern
// must match (patterns of one flag are alternatives), and the date lies
// within --since and --until, to the second.
func (lf logFilter) keep(s objects.Summary) bool {
	return lf.grepKeeps(s.Message) && matchAny(lf.author, s.Author) && !lf.tooOld(s) &&
		(lf.until.IsZero() || s.Date.Unix() <= lf.until.Unix())
}

func (lf logFilter) grepKeeps(msg string) bool {
	switch {
	case len(lf.grep) == 0:
		return true
	case lf.invertGrep:
		return !matchAny(lf.grep, msg)
	case lf.allMatch:
		for _, re := range lf.grep {
			if !re.MatchString(msg) {
				return false
			}
		}
		return true
	}
	return matchAny(lf.grep, msg)
}

// tooOld reports whether s is older than --since: git then stops
// following its parents, as older history cannot be shown.
func (lf logFilter) tooOld(s objects.Summary) bool {
	return !lf.since.IsZero() && s.Date.Unix() < lf.since.Unix()
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return len(res) == 0
}
