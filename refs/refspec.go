package refs

import (
	"errors"
	"fmt"
	"strings"
)

// Refspec is git's fetch refspec, [+]SRC[:DST], mapped onto strata's
// model: SRC is a remote tag (a registry has tags only, so git's
// refs/heads/X and refs/tags/X both name the remote tag X), DST a local
// ref. Either may hold one '*', and then both do: a glob that maps every
// remote tag it matches.
type Refspec struct {
	// Force: a '+' before it; DST may move to a commit that does not
	// descend from the one it names.
	Force bool
	// Src is the remote tag, or a pattern of them ("*": every tag).
	Src string
	// Dst is the local ref's full name, or a pattern of them; "" when
	// the fetched commit goes to no ref of its own (SRC or SRC:). A
	// pattern's DST is kept as written when it is not a full refs/ name
	// (Funny).
	Dst string
	// Raw is the refspec as written, for messages.
	Raw string
	// SrcTag: SRC was written refs/tags/...: git's tags, not its
	// branches. A fetch takes the remote tag all the same; the upstream
	// of a branch is never mapped through it (Tracking).
	SrcTag bool
	// SrcHead: SRC was written refs/heads/...: git's branches. A
	// negative one keeps only branches out of a push (ExcludedRef).
	SrcHead bool
	// Negative: git's ^SRC, which maps nothing and keeps the tags it
	// matches out of a fetch (or push) that other refspecs make
	// (Excluded). It has no DST and no '+'.
	Negative bool
}

// ErrBadRefspec: a refspec git would refuse, or one strata cannot map
// (a source that no registry has, a destination outside its refs).
var ErrBadRefspec = errors.New("invalid refspec")

// DefaultFetch is git's default fetch refspec of remote name, the one
// remote add and clone write as remote.NAME.fetch: every remote tag to
// refs/remotes/NAME/TAG, forced (a remote-tracking ref follows the
// remote wherever it goes).
func DefaultFetch(name string) string {
	return "+" + Heads + "*:" + Remotes + name + "/*"
}

// ParseRefspec reads a fetch refspec as git does. A DST that is not a
// full refs/ name is read as git's fetch reads it (localRef): heads/X,
// tags/X and remotes/X under refs/, else a branch. A pattern's DST is
// not: git's fetch reads it as written, and ignores each ref it maps a
// tag to that is not under refs/ ("Ignoring funny ref 'foo/main'
// locally"): 'refs/heads/*:foo/*' is kept so (Funny), and fetches
// nothing. '*:*' is git's identity map (its '*' SRC matches the full
// name refs/heads/main): the remote tag goes to the branch of its name.
func ParseRefspec(s string) (Refspec, error) {
	bad := func(why string) (Refspec, error) {
		if why == "" {
			return Refspec{}, fmt.Errorf("%w '%s'", ErrBadRefspec, s)
		}
		return Refspec{}, fmt.Errorf("%w '%s': %s", ErrBadRefspec, s, why)
	}
	rs := Refspec{Raw: s}
	body, force := strings.CutPrefix(s, "+")
	rs.Force = force
	body, rs.Negative = strings.CutPrefix(body, "^")
	if rs.Negative && (force || strings.Contains(body, ":")) {
		return bad("") // git's: a negative refspec has no DST and no '+'
	}
	src, dst, hasDst := strings.Cut(body, ":")
	if strings.Contains(dst, ":") {
		return bad("")
	}
	if src == "" {
		if hasDst {
			return bad("name a remote tag before ':' (a registry has no HEAD)")
		}
		return bad("")
	}
	isTag := strings.HasPrefix(src, Tags)
	rs.SrcTag = isTag
	switch {
	case strings.HasPrefix(src, Heads):
		src = strings.TrimPrefix(src, Heads)
		rs.SrcHead = true
	case isTag:
		src = strings.TrimPrefix(src, Tags)
	case strings.HasPrefix(src, "refs/"):
		return bad("a registry has tags only: refs/heads/NAME or refs/tags/NAME, or NAME, names one")
	}
	if src == HEAD { // git's: the remote's HEAD
		return bad("a registry has no HEAD: name a remote tag")
	}
	glob := strings.Count(src, "*")
	if rs.Negative {
		// A ref name, as git checks it: '/' included, though a registry
		// tag never holds one (^refs/heads/tmp/* then keeps nothing out).
		if glob > 1 || CheckName(Heads+strings.Replace(src, "*", "x", 1)) != nil {
			return bad("")
		}
		rs.Src = src
		return rs, nil
	}
	if glob > 1 || strings.Count(dst, "*") > 1 {
		return bad("")
	}
	if glob == 1 && strings.Count(dst, "*") != 1 {
		return bad("") // git: a pattern maps to a pattern
	}
	if glob == 0 && strings.Contains(dst, "*") {
		return bad("")
	}
	if err := CheckRemoteName(strings.Replace(src, "*", "x", 1)); err != nil {
		return bad("")
	}
	rs.Src = src
	if dst == "" {
		return rs, nil
	}
	switch {
	case strings.HasPrefix(dst, Heads), strings.HasPrefix(dst, Tags), strings.HasPrefix(dst, Remotes):
	case strings.HasPrefix(dst, "refs/"):
		return bad("strata keeps refs/heads/, refs/tags/ and refs/remotes/ only")
	case dst == HEAD:
		return bad("")
	case glob == 1 && body != "*:*":
		// Funny: checked as a name under refs/ would be.
		if err := CheckName(Heads + strings.Replace(dst, "*", "x", 1)); err != nil {
			return bad("")
		}
		rs.Dst = dst
		return rs, nil
	default:
		dst = localRef(dst)
	}
	if err := CheckName(strings.Replace(dst, "*", "x", 1)); err != nil {
		return bad("")
	}
	rs.Dst = dst
	return rs, nil
}

// Funny reports whether rs is a pattern whose DST is not a full refs/
// name ('refs/heads/*:foo/*'): git's fetch ignores every ref it maps a
// tag to ("Ignoring funny ref 'foo/main' locally"), and so does strata's;
// Tracking maps nothing through it.
func (rs Refspec) Funny() bool {
	return rs.Glob() && rs.Dst != "" && !strings.HasPrefix(rs.Dst, "refs/")
}

// localRef is the full name of a DST written short, as git's fetch
// reads it (remote.c, get_local_ref): heads/X, tags/X and remotes/X are
// under refs/, anything else is a branch, whatever SRC is.
func localRef(dst string) string {
	for _, p := range []string{Heads, Tags, Remotes} {
		if strings.HasPrefix(dst, strings.TrimPrefix(p, "refs/")) {
			return "refs/" + dst
		}
	}
	return Heads + dst
}

// ParseRefspecs reads each of ss.
func ParseRefspecs(ss []string) ([]Refspec, error) {
	out := make([]Refspec, 0, len(ss))
	for _, s := range ss {
		rs, err := ParseRefspec(s)
		if err != nil {
			return nil, err
		}
		out = append(out, rs)
	}
	return out, nil
}

// Glob reports whether rs is a pattern.
func (rs Refspec) Glob() bool { return strings.Contains(rs.Src, "*") }

// Match reports whether remote tag tag is rs's source, and returns the
// local ref it maps to ("" for none). A negative refspec maps nothing.
func (rs Refspec) Match(tag string) (string, bool) {
	if rs.Negative {
		return "", false
	}
	return rs.match(tag)
}

// Excluded reports whether a negative refspec of specs (git's ^SRC)
// matches remote tag tag, keeping it out of a fetch or a push.
func Excluded(specs []Refspec, tag string) bool {
	for _, rs := range specs {
		if _, ok := rs.match(tag); ok && rs.Negative {
			return true
		}
	}
	return false
}

// ExcludedRef reports whether a negative refspec of specs keeps local
// ref full (a full name) out of a push, as git's matches its negative
// refspecs against the full names of the refs pushed: ^refs/tags/X keeps
// out the tag X, not the branch X, ^refs/heads/* every branch and no tag.
// One written without refs/ (strata's ^X, ^PATTERN) keeps out either.
func ExcludedRef(specs []Refspec, full string) bool {
	short := ShortName(full)
	for _, rs := range specs {
		if !rs.Negative || rs.SrcTag && !strings.HasPrefix(full, Tags) || rs.SrcHead && !strings.HasPrefix(full, Heads) {
			continue
		}
		if _, ok := rs.match(short); ok {
			return true
		}
	}
	return false
}

// match is Match, negative or not.
func (rs Refspec) match(tag string) (string, bool) {
	if !rs.Glob() {
		return rs.Dst, tag == rs.Src
	}
	pre, post, _ := strings.Cut(rs.Src, "*")
	if len(tag) < len(pre)+len(post) || !strings.HasPrefix(tag, pre) || !strings.HasSuffix(tag, post) {
		return "", false
	}
	return strings.Replace(rs.Dst, "*", tag[len(pre):len(tag)-len(post)], 1), true
}

// Tracking is the local ref that a remote's fetch refspecs, specs, map
// its tag to, as git's remote_find_tracking maps a branch's upstream
// (branch.NAME.merge) and push maps what it sent: the destination of the
// first refspec that matches the tag; "" when none does. A refspec with
// no DST maps nothing; one whose SRC is written refs/tags/... maps git's
// tags, not its branches, and is passed over for a branch.
func Tracking(specs []Refspec, tag string, branch bool) string {
	for _, rs := range specs {
		if branch && rs.SrcTag || rs.Funny() {
			continue
		}
		if dst, ok := rs.Match(tag); ok && dst != "" {
			return dst
		}
	}
	return ""
}

// FetchRefspecs parses remote name's remote.NAME.fetch values, vals; a
// remote with none (added before strata wrote the key) maps as git's
// default does (DefaultFetch).
func FetchRefspecs(name string, vals []string) ([]Refspec, error) {
	if len(vals) == 0 {
		vals = []string{DefaultFetch(name)}
	}
	specs, err := ParseRefspecs(vals)
	if err != nil {
		return nil, fmt.Errorf("remote.%s.fetch: %w", name, err)
	}
	return specs, nil
}

// Reverse returns the remote tag that rs maps to local ref ref, if any.
func (rs Refspec) Reverse(ref string) (string, bool) {
	if rs.Negative {
		return "", false
	}
	if !rs.Glob() {
		return rs.Src, rs.Dst != "" && ref == rs.Dst
	}
	pre, post, _ := strings.Cut(rs.Dst, "*")
	if len(ref) < len(pre)+len(post) || !strings.HasPrefix(ref, pre) || !strings.HasSuffix(ref, post) {
		return "", false
	}
	return strings.Replace(rs.Src, "*", ref[len(pre):len(ref)-len(post)], 1), true
}

// CheckRemoteName checks a name a remote lists (a registry tag, a layout's
// ref name) before fetch makes refs/remotes/REMOTE/NAME of it, with the
// refs package's rules (git's check-ref-format, HEAD and @ refused). The
// name must also be one path component: a registry tag never holds '/',
// and "a" beside "a/b" could not both be written.
func CheckRemoteName(n string) error {
	if n == "" || strings.ContainsRune(n, '/') {
		return fmt.Errorf("invalid name %q: empty or contains '/'", n)
	}
	full := Remotes + "r/" + n
	if err := CheckName(full); err != nil {
		// The reason alone, as CheckName (config.go) says it: the
		// made-up remote "r" is not the user's.
		why := strings.TrimPrefix(err.Error(), fmt.Sprintf("%q: %v: ", full, ErrBadName))
		return fmt.Errorf("invalid name %q: %s", n, why)
	}
	return nil
}
