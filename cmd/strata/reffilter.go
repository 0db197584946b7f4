package main

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// refFilter is branch's and tag's --contains, --merged, --no-merged and
// --points-at: which refs a listing keeps, as git's; and --sort, their
// order.
type refFilter struct {
	contains, merged, noMerged, pointsAt revFlag
	sort                                 []string // --sort KEY...: how the list is ordered
	// lines: tag -n[=N], the first N lines of each tag's commit message.
	lines int
	// upstreams: branch -vv, each branch's upstream and how it stands.
	upstreams bool
}

// revFlag is a flag whose REV is optional as git's are (its
// LASTARG_DEFAULT): written bare, it takes the word after it, or HEAD
// when it is last. pflag gives a bare flag its default (HEAD) and the
// word to the arguments; at records how many arguments came before it,
// so that takeArgs finds that word.
type revFlag struct {
	rev string // "" unset
	at  int    // len(fs.Args()) when set
	fs  *pflag.FlagSet
}

func (v *revFlag) String() string { return v.rev }
func (v *revFlag) Type() string   { return "string" }
func (v *revFlag) Set(s string) error {
	v.rev, v.at = s, len(v.fs.Args())
	return nil
}

// addFlags registers the filter's flags.
func (f *refFilter) addFlags(fs *pflag.FlagSet) {
	add := func(v *revFlag, name, usage string) {
		v.fs = fs
		fs.Var(v, name, usage)
		fs.Lookup(name).NoOptDefVal = refs.HEAD
	}
	add(&f.contains, "contains", "list only those whose commit holds `REV` (default HEAD)")
	fs.StringArrayVar(&f.sort, "sort", nil, "order the list by `KEY`: refname, version:refname, committerdate (-KEY: reversed; several: the last counts first)")
	add(&f.merged, "merged", "list only those whose commit `REV` holds (default HEAD)")
	add(&f.noMerged, "no-merged", "list only those whose commit `REV` does not hold (default HEAD)")
	add(&f.pointsAt, "points-at", "list only those at `REV`'s commit (default HEAD)")
}

func (f refFilter) active() bool {
	return f.contains.rev != "" || f.merged.rev != "" || f.noMerged.rev != "" || f.pointsAt.rev != ""
}

// takeArgs gives each flag written bare the argument that followed it,
// if any: "branch --merged main" is main's, "branch --list 'f*'
// --merged" HEAD's. ("--merged=HEAD x" reads as "--merged x".)
func (f *refFilter) takeArgs(args []string) []string {
	taken := map[int]bool{}
	for _, v := range []*revFlag{&f.contains, &f.merged, &f.noMerged, &f.pointsAt} {
		if v.rev == refs.HEAD && v.at < len(args) && !taken[v.at] {
			v.rev, taken[v.at] = args[v.at], true
		}
	}
	var rest []string
	for i, a := range args {
		if !taken[i] {
			rest = append(rest, a)
		}
	}
	return rest
}

// keeper resolves the filter's revisions and returns whether a ref is
// kept; nil keeps all.
func (f refFilter) keeper(r *repo.Repo) (func(refs.Ref) (bool, error), error) {
	if !f.active() {
		return nil, nil
	}
	resolve := func(flag, rev string) (digest.Digest, error) {
		if rev == "" {
			return "", nil
		}
		c, err := r.Resolve(rev)
		if err != nil {
			return "", fmt.Errorf("--%s %s: %w", flag, rev, err)
		}
		return c.ID, nil
	}
	contains, err := resolve("contains", f.contains.rev)
	if err != nil {
		return nil, err
	}
	merged, err := resolve("merged", f.merged.rev)
	if err != nil {
		return nil, err
	}
	noMerged, err := resolve("no-merged", f.noMerged.rev)
	if err != nil {
		return nil, err
	}
	pointsAt, err := resolve("points-at", f.pointsAt.rev)
	if err != nil {
		return nil, err
	}
	return func(ref refs.Ref) (bool, error) {
		if pointsAt != "" && ref.Target != pointsAt {
			return false, nil
		}
		for _, c := range []struct {
			anc, desc digest.Digest
			want      bool
		}{{contains, ref.Target, true}, {ref.Target, merged, true}, {ref.Target, noMerged, false}} {
			if c.anc == "" || c.desc == "" {
				continue
			}
			ok, err := repo.IsAncestor(r.Objects, c.anc, c.desc)
			if err != nil || ok != c.want {
				return false, err
			}
		}
		return true, nil
	}, nil
}

// refSortKeys are the --sort keys of branch and tag, as git's: a commit
// has one date, so committerdate, authordate and creatordate (that of a
// lightweight tag: its commit's) are the same.
var refSortKeys = []string{"refname", "version:refname", "v:refname", "committerdate", "authordate", "creatordate"}

// checkSort refuses a --sort key git would not take or strata cannot
// honour, before anything is listed.
func checkSort(keys []string) error {
	for _, k := range keys {
		if !slices.Contains(refSortKeys, strings.TrimPrefix(k, "-")) {
			return usagef("--sort %s: unknown key (use %s; a leading - reverses)", k, strings.Join(refSortKeys, ", "))
		}
	}
	return nil
}

// sortRefs orders list by keys as git's --sort does: the last key is the
// primary one, earlier ones break its ties, and refname breaks the rest.
func sortRefs(r *repo.Repo, list []refs.Ref, keys []string) {
	dates := map[digest.Digest]time.Time{}
	date := func(d digest.Digest) time.Time {
		t, ok := dates[d]
		if !ok {
			if s, err := r.Objects.ReadSummary(d); err == nil {
				t = s.Date
			}
			dates[d] = t
		}
		return t
	}
	for _, k := range keys {
		key := strings.TrimPrefix(k, "-")
		var cmp func(a, b refs.Ref) int
		switch key {
		case "refname":
			cmp = func(a, b refs.Ref) int { return strings.Compare(a.Name, b.Name) }
		case "version:refname", "v:refname":
			cmp = func(a, b refs.Ref) int { return versionCompare(a.Short(), b.Short()) }
		default:
			cmp = func(a, b refs.Ref) int { return date(a.Target).Compare(date(b.Target)) }
		}
		if key != k {
			asc := cmp
			cmp = func(a, b refs.Ref) int { return -asc(a, b) }
		}
		slices.SortStableFunc(list, cmp)
	}
}

// versionCompare compares a and b as git's version:refname does without
// versionsort.suffix: runs of digits as numbers, the rest byte by byte.
func versionCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// digitRun is the length of the run of ASCII digits s starts with.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// matchesAny reports whether name matches one of patterns; no patterns
// match everything.
func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if matchRefName(p, name) {
			return true
		}
	}
	return len(patterns) == 0
}

// matchRefName matches a ref's short name against a shell glob as git's
// branch --list, tag -l and describe --match do (wildmatch without
// WM_PATHNAME): '*', '?' and classes match a '/' too, so 'v*' matches
// v1/x. path.Match stops them at '/'; with '/' put as NUL (which neither
// a ref name nor a command-line pattern holds) on both sides, they pass
// it, and a '/' written in the pattern still matches only a '/'.
func matchRefName(pattern, name string) bool {
	slash := func(s string) string { return strings.ReplaceAll(s, "/", "\x00") }
	ok, _ := path.Match(slash(pattern), slash(name))
	return ok
}
