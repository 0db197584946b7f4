package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func init() { register("rev-parse", newRevParseCommand) }

// rev-parse is the plumbing scripts written for git reach for first:
// which commit a revision names, which branch HEAD is on, where the
// project is.
func newRevParseCommand(g *globals) *cobra.Command {
	var abbrevRef, fullName, verify, quiet, toplevel bool
	var short int // digits of --short[=N]; 0: full ids
	cmd := &cobra.Command{
		Use:   "rev-parse [--short[=N] | --abbrev-ref | --symbolic-full-name] [--verify [-q]] REV... | --show-toplevel",
		Short: "Print the commit each revision names",
		Long: `Print the commit id (sha256:...) of each REV, one a line, in any
revision syntax strata reads (main~2, HEAD^2, v1, main@{1},
main@{2.days.ago}, @{u}, @{push}, ORIG_HEAD, FETCH_HEAD, :/fix for the youngest commit whose
message matches "fix", an id or its prefix). A range prints what git's rev-parse prints: A..B is B then ^A
(the commit it excludes), A...B is B, A and ^BASE for each merge base,
^A is ^A; X^@ is X's parents, X^! is X then ^ each parent, X^-N is X
then ^X^N (N: 1 if left out).

  --short[=N]      the short id instead: 12 digits (N, at least 4), more
                   if needed to name one commit only, as git's
  --abbrev-ref     the ref's short name instead: the branch for HEAD, or
                   HEAD when it is detached; origin/main for main@{u}
                   (where remote.origin.fetch maps it; main@{push}: where
                   a push sends it, as push.default says);
                   the branch checked out before for @{-1}, its
                   upstream for @{-1}@{u}
  --symbolic-full-name  the ref's full name instead: refs/heads/main,
                   refs/tags/v1, refs/remotes/origin/main for @{u};
                   HEAD when it is detached
  --verify         exactly one REV; with -q (--quiet), a REV that names
                   nothing exits 1 saying nothing, as git's (a script's
                   "does this branch exist?")
  --show-toplevel  the project directory (where .strata is)

Exit status: 0 on success, 1 when a REV names nothing, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			names := "" // ids; "short": --abbrev-ref; "full": --symbolic-full-name
			switch {
			case abbrevRef && fullName:
				return usagef("rev-parse: --abbrev-ref and --symbolic-full-name do not go together")
			case abbrevRef:
				names = "short"
			case fullName:
				names = "full"
			}
			if cmd.Flags().Changed("short") {
				short = max(short, refs.MinPrefix) // git's --short=0 too
			}
			switch {
			case toplevel && (len(args) > 0 || short > 0 || names != "" || verify):
				return usagef("rev-parse --show-toplevel: takes no revision")
			case toplevel:
			case len(args) == 0:
				return usagef("rev-parse: name a revision")
			case verify && len(args) != 1:
				return usagef("rev-parse --verify: takes exactly one revision")
			case short > 0 && names != "":
				return usagef("rev-parse: --short and --abbrev-ref (--symbolic-full-name) do not go together")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if toplevel {
				fmt.Fprintln(g.stdout, r.Dir)
				return nil
			}
			var lines []string
			for _, rev := range args {
				if isRange(rev) && (verify || names != "") {
					return fmt.Errorf("rev-parse: %s: needs a single revision, not a range", rev)
				}
				ls, err := revParseRange(r, rev, short, names)
				if verify && quiet && errors.Is(err, refs.ErrUnknownRevision) {
					return exitCodeError{code: exitError}
				}
				if err != nil {
					return fmt.Errorf("rev-parse: %w", err) // err names rev
				}
				lines = append(lines, ls...)
			}
			for _, l := range lines { // all or nothing, as a script wants
				fmt.Fprintln(g.stdout, l)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&short, "short", 0, "print the short id: `N` digits (default 12), or more to be unique")
	cmd.Flags().Lookup("short").NoOptDefVal = strconv.Itoa(shortDigits)
	cmd.Flags().BoolVar(&abbrevRef, "abbrev-ref", false, "print the ref's short name (HEAD: its branch)")
	cmd.Flags().BoolVar(&fullName, "symbolic-full-name", false, "print the ref's full name (HEAD: its branch's, refs/heads/main)")
	cmd.Flags().BoolVar(&verify, "verify", false, "take exactly one revision")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "with --verify: exit 1 without a word when REV names nothing")
	cmd.Flags().BoolVar(&toplevel, "show-toplevel", false, "print the project directory")
	return cmd
}

// shortDigits is how many hex digits strata prints of an id (shortID).
const shortDigits = 12

// revParseRange is rev-parse's output for rev, as git's: "A..B" is B
// then ^A (what it excludes), "A...B" is B, A and ^ each merge base,
// "^A" is ^A, X^@, X^! and X^-N what they include then ^ what they
// exclude (parentShorthand); any other rev is one line (revParse).
func revParseRange(r *repo.Repo, rev string, short int, names string) ([]string, error) {
	id := func(rev, prefix string) (string, error) {
		line, err := revParse(r, rev, short, "")
		return prefix + line, err
	}
	a, b, symmetric, ok := refs.SplitRange(rev)
	switch {
	case ok && !symmetric:
		return ids(id, [][2]string{{b, ""}, {a, "^"}})
	case ok:
		da, err := r.Refs.Resolve(a, r.Objects)
		if err != nil {
			return nil, err
		}
		db, err := r.Refs.Resolve(b, r.Objects)
		if err != nil {
			return nil, err
		}
		bases, err := repo.MergeBases(r.Objects, da, db)
		if err != nil && !errors.Is(err, repo.ErrNoMergeBase) { // unrelated: no base to exclude
			return nil, fmt.Errorf("%s: %w", rev, err)
		}
		revs := [][2]string{{db.String(), ""}, {da.String(), ""}}
		for _, d := range bases {
			revs = append(revs, [2]string{d.String(), "^"})
		}
		return ids(id, revs)
	case strings.HasPrefix(rev, "^"):
		return ids(id, [][2]string{{rev[1:], "^"}})
	}
	if _, _, _, ok := refs.SplitParentShorthand(rev); ok {
		include, exclude, err := parentShorthand(r, rev)
		if err != nil {
			return nil, err
		}
		var revs [][2]string
		for _, d := range include {
			revs = append(revs, [2]string{d.String(), ""})
		}
		for _, d := range exclude {
			revs = append(revs, [2]string{d.String(), "^"})
		}
		return ids(id, revs)
	}
	line, err := revParse(r, rev, short, names)
	return []string{line}, err
}

// isRange reports whether rev names several commits, or excludes some:
// A..B, A...B, ^A, X^@, X^! or X^-N.
func isRange(rev string) bool {
	_, _, _, dots := refs.SplitRange(rev)
	_, _, _, parents := refs.SplitParentShorthand(rev)
	return dots || parents || strings.HasPrefix(rev, "^")
}

// ids prints each {rev, prefix} with id.
func ids(id func(rev, prefix string) (string, error), revs [][2]string) ([]string, error) {
	var out []string
	for _, rp := range revs {
		line, err := id(rp[0], rp[1])
		if err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	return out, nil
}

// revParse is one line of rev-parse's output for rev; short > 0 prints
// at least that many digits of the id.
func revParse(r *repo.Repo, rev string, short int, names string) (string, error) {
	if names != "" {
		full, err := refName(r, rev)
		if names == "short" {
			full = refs.ShortName(full)
		}
		return full, err
	}
	d, err := r.Refs.Resolve(rev, r.Objects)
	if err != nil {
		return "", err
	}
	if short > 0 {
		return uniqueAbbrev(r.Objects, d, short)
	}
	return d.String(), nil
}

// uniqueAbbrev is git's abbreviation of d: its first n hex digits (at
// least refs.MinPrefix, the shortest prefix revisions accept), more
// while other commits share them.
func uniqueAbbrev(objs interface {
	CommitsWithPrefix(string) ([]digest.Digest, error)
}, d digest.Digest, n int) (string, error) {
	hex := d.Encoded()
	for n = max(n, refs.MinPrefix); n < len(hex); n++ {
		ds, err := objs.CommitsWithPrefix(hex[:n])
		if err != nil {
			return "", err
		}
		if len(ds) <= 1 {
			return hex[:n], nil
		}
	}
	return hex, nil
}

// refName is the full name of the ref rev names, as git's
// --symbolic-full-name prints it (--abbrev-ref: its refs.ShortName):
// HEAD's branch (HEAD when detached), ORIG_HEAD and FETCH_HEAD
// themselves, the branch @{-N} left, the
// upstream of X@{u} (X@{push}: where a push of X goes), or the branch, tag or remote-tracking branch rev
// names.
func refName(r *repo.Repo, rev string) (string, error) {
	if branch, push, ok := refs.IsUpstream(rev); ok {
		ref, err := r.Refs.Upstream(branch)
		if push {
			ref, err = r.Refs.PushTracking(branch)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", rev, err)
		}
		return ref, nil
	}
	if n, ok := refs.PriorCheckout(rev); ok {
		// git: the branch @{-N} left; a detached HEAD's commit has no
		// name to print.
		branch, _, err := r.Refs.PreviousCheckout(n)
		if err != nil {
			return "", fmt.Errorf("%s: %w: %w", rev, refs.ErrUnknownRevision, err)
		}
		if branch == "" {
			return "", fmt.Errorf("%s: HEAD was detached then, on no branch", rev)
		}
		return branch, nil
	}
	if rev == refs.OrigHead || rev == refs.FetchHead {
		// git's names them by themselves, once they name a commit.
		if _, err := r.Refs.Resolve(rev, r.Objects); err != nil {
			return "", err
		}
		return rev, nil
	}
	if rev == "HEAD" || rev == "@" {
		head, err := r.Refs.Current()
		if err != nil {
			return "", err
		}
		if head.Branch == "" {
			return "HEAD", nil
		}
		return head.Branch, nil
	}
	for _, prefix := range []string{"", "refs/", refs.Heads, refs.Tags, refs.Remotes} {
		if full := prefix + rev; len(full) > 5 && full[:5] == "refs/" && r.Refs.Exists(full) {
			return full, nil
		}
	}
	return "", fmt.Errorf("%s: not a branch, tag or remote-tracking branch", rev)
}
