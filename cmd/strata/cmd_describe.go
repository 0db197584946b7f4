package main

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func init() { register("describe", newDescribeCommand) }

type describeOptions struct {
	tags, always, long, exact bool
	contains                  bool // name-rev's tag~N: a tag that holds the commit
	abbrev                    int
	dirty                     string // --dirty[=MARK]; "" without it
	match, exclude            []string
}

// describe names a commit after the nearest tag, as git describe does:
// what CI jobs write into a version string.
func newDescribeCommand(g *globals) *cobra.Command {
	var o describeOptions
	cmd := &cobra.Command{
		Use:   "describe [--tags] [--always] [--dirty[=MARK]] [--long] [--abbrev N] [--match PATTERN] [--contains] [REV...]",
		Short: "Name a commit after the nearest tag: v1.2-3-g0a1b2c3d4e5f",
		Long: `Name each REV (default HEAD) after the nearest tag it holds, as git
describe does: the tag alone when REV is tagged, else TAG-N-gID, where N
is the number of commits REV has that the tag's commit does not and ID
REV's short id. Of the tagged ancestors met first walking back from REV
(ten at most, git's --candidates), the nearest wins.

strata's tags are all plain names of commits (git's lightweight tags),
so --tags changes nothing: every tag counts, as with git's --tags.

  --always          a commit no tag describes is named by its short id
  --dirty[=MARK]    append -dirty (or MARK) when the work tree has changes
                    (with no REV only)
  --long            TAG-0-gID even when REV is tagged
  --abbrev N        N digits of the id (default 12, more if needed to name
                    one commit); 0 prints the tag alone
  --exact-match     only a tag of REV itself; else an error
  --match PATTERN   only tags whose name matches (a shell glob; several:
                    any); --exclude PATTERN leaves tags out
  --contains        name REV after a tag that holds it, as git's (its
                    name-rev): TAG~N is N first parents down from TAG,
                    ^2 a merge's second parent; the oldest such tag
                    wins, then the shortest path

  strata describe --tags --always --dirty   # v1.2-3-g0a1b2c3d4e5f-dirty
  strata describe --contains --always HEAD  # the first release that holds it: v1.3~2

Exit status: 0 on success, 1 when no tag describes a REV, 2 on usage
errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.abbrev < 0 {
				return usagef("describe: --abbrev %d: give a number of digits", o.abbrev)
			}
			if o.long && o.abbrev == 0 {
				// git: "options '--long' and '--abbrev=0' cannot be used together"
				return usagef("describe: --long and --abbrev 0 do not go together (--long prints the id, --abbrev 0 none)")
			}
			for _, p := range append(append([]string{}, o.match...), o.exclude...) {
				if _, err := path.Match(p, ""); err != nil {
					return usagef("describe: bad pattern %q: %v", p, err)
				}
			}
			if o.contains && (cmd.Flags().Changed("dirty") || o.long || o.exact) {
				return usagef("--contains names a commit after a tag that holds it: no --dirty, --long or --exact-match")
			}
			if cmd.Flags().Changed("dirty") && len(args) > 0 {
				return usagef("describe: --dirty describes the work tree: give no REV")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{"HEAD"}
			}
			if o.contains {
				return describeContains(g, r, args, o)
			}
			tags, err := describeTags(r, o)
			if err != nil {
				return err
			}
			for _, rev := range args {
				c, err := r.Resolve(rev)
				if err != nil {
					return fmt.Errorf("describe: %w", err)
				}
				name, err := describeOne(r, c.ID, rev, tags, o)
				if err != nil {
					return err
				}
				if o.dirty != "" {
					if name, err = markDirty(cmd.Context(), g, name, o.dirty); err != nil {
						return err
					}
				}
				fmt.Fprintln(g.stdout, name)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.tags, "tags", false, "use every tag (all of strata's are, as git's lightweight tags)")
	f.BoolVar(&o.always, "always", false, "name a commit no tag describes by its short id")
	f.StringVar(&o.dirty, "dirty", "", "append `MARK` (default -dirty) when the work tree has changes")
	f.Lookup("dirty").NoOptDefVal = "-dirty"
	f.BoolVar(&o.long, "long", false, "TAG-0-gID even for a tagged commit")
	f.IntVar(&o.abbrev, "abbrev", 12, "`N` digits of the id; 0: the tag alone")
	f.BoolVar(&o.exact, "exact-match", false, "only a tag of the commit itself")
	f.BoolVar(&o.contains, "contains", false, "name the commit after a tag that holds it: TAG~N, as git's (name-rev)")
	f.StringArrayVar(&o.match, "match", nil, "only tags matching `PATTERN` (several: any)")
	f.StringArrayVar(&o.exclude, "exclude", nil, "leave out tags matching `PATTERN`")
	return cmd
}

// describeTags maps commits to the tags --match and --exclude keep, the
// highest version first where one commit has several.
func describeTags(r *repo.Repo, o describeOptions) (map[digest.Digest][]string, error) {
	all, err := r.Refs.List(refs.Tags)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	tags := map[digest.Digest][]string{}
	for _, ref := range all {
		name := ref.Short()
		if !matchesAny(o.match, name) || len(o.exclude) > 0 && matchesAny(o.exclude, name) {
			continue
		}
		tags[ref.Target] = append(tags[ref.Target], name)
	}
	for _, names := range tags {
		sort.Slice(names, func(i, j int) bool { return versionCompare(names[i], names[j]) > 0 })
	}
	return tags, nil
}

// describeOne is describe's name for commit id (rev as the user gave it).
func describeOne(r *repo.Repo, id digest.Digest, rev string, tags map[digest.Digest][]string, o describeOptions) (string, error) {
	abbrev := func() (string, error) {
		return uniqueAbbrev(r.Objects, id, max(o.abbrev, 1))
	}
	if o.exact {
		if names := tags[id]; len(names) > 0 {
			return pathquote.Name(names[0]), nil
		}
		return "", fmt.Errorf("describe: no tag exactly matches %s", pathquote.Text(rev))
	}
	d, ok, err := r.Describe(id, tags)
	if err != nil {
		return "", fmt.Errorf("describe: %w", err)
	}
	if !ok {
		if o.always {
			return abbrev()
		}
		return "", fmt.Errorf("describe: no tag describes %s (%s); --always names it by its id", pathquote.Text(rev), shortID(id))
	}
	tag := pathquote.Name(d.Tag)
	if o.abbrev == 0 || d.Distance == 0 && !o.long {
		return tag, nil
	}
	a, err := abbrev()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d-g%s", tag, d.Distance, a), nil
}

// describeContains prints describe --contains's name of each rev, as
// git's: the path from the oldest tag that holds it (containsNames).
func describeContains(g *globals, r *repo.Repo, revs []string, o describeOptions) error {
	ids := make([]digest.Digest, len(revs))
	for i, rev := range revs {
		c, err := r.Resolve(rev)
		if err != nil {
			return err
		}
		ids[i] = c.ID
	}
	names, err := containsNames(r, o, ids)
	if err != nil {
		return err
	}
	for i, id := range ids {
		switch n := names[id]; {
		case n != nil:
			fmt.Fprintln(g.stdout, pathquote.Name(n.String()))
		case o.always:
			a, err := uniqueAbbrev(r.Objects, id, max(o.abbrev, 1))
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, a)
		default:
			return fmt.Errorf("no tag contains %s (%s); --always names it by its id", pathquote.Text(revs[i]), shortID(id))
		}
	}
	return nil
}

// markDirty appends mark when the work tree has uncommitted changes.
func markDirty(ctx context.Context, g *globals, name, mark string) (string, error) {
	_, w, err := openWorktree(g, "")
	if err != nil {
		return "", err
	}
	if _, ok, err := w.State(); err != nil || !ok {
		return name, err // never checked out: nothing uncommitted
	}
	cs, err := w.Status(ctx)
	if err != nil {
		return "", fmt.Errorf("describe --dirty: %w", err)
	}
	if len(cs) > 0 {
		name += pathquote.Text(strings.TrimSpace(mark))
	}
	return name, nil
}
