package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func init() { register("tag", newTagCommand) }

func newTagCommand(g *globals) *cobra.Command {
	var del, force, list bool
	var format string
	var filter refFilter
	var annotated annotatedTagFlags
	cmd := &cobra.Command{
		Use:   "tag [NAME [REV] | -d NAME... | -l [PATTERN...]]",
		Short: "List, create or delete tags",
		Long: `With no arguments, list tags.
  strata tag v1 main     tag main's commit as v1 (default REV: HEAD)
  strata tag -d v1       delete v1
  strata tag -l 'v1.*'   the tags matching a pattern
  strata tag --contains main~3   the tags whose commit holds main~3 (default HEAD)
  strata tag --merged main   the tags main holds (--no-merged: the others)
  strata tag --points-at HEAD   the tags at HEAD's commit
  strata tag --sort -version:refname   newest version first (v1.10 after v1.9)
  strata tag -n          each tag with its commit's subject (-n3, as git's: three lines)
  strata tag --format json   [{"name","ref","commit","short","subject"}]
  strata tag --format '%(refname:short) %(creatordate:short)'   a template

Tags are git's lightweight tags: a name for a commit. git's annotated
and signed tags (-a, -m, -F, -s, -u) are refused, exit 2: their message
would need a tag object, and a registry tag names only a manifest (see
docs/format.md, "Tags"). The commit's own message is what tag -n shows.

` + refTemplateHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := annotated.refuse(cmd); err != nil {
				return err
			}
			if _, err := checkRefFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if filter.lines < 0 {
				return usagef("tag -n=%d: give a count of lines", filter.lines)
			}
			if filter.lines > 0 && del {
				return usagef("tag -n: lists; it does not go with -d")
			}
			if filter.lines > 0 && len(args) > 0 && !list {
				// git's tag -n PATTERN lists, as -l does.
				list = true
			}
			if filter.active() {
				if del || force {
					return usagef("tag: --contains, --merged, --no-merged and --points-at only list")
				}
				args, list = filter.takeArgs(args), true
			}
			switch {
			case list && (del || force):
				// Checked first: -l -d deleted the tags it was to list.
				return usagef("tag --list: -d and -f do not list")
			case del:
				if len(args) == 0 {
					return usagef("tag -d: name the tag to delete")
				}
				return deleteTags(g, r, args)
			case list || len(args) == 0:
				return listRefsMatching(g, r, args, filter, refs.Tags, format)
			case len(args) <= 2:
				rev := "HEAD"
				if len(args) == 2 {
					rev = args[1]
				}
				return createRef(r, refs.Tags, args[0], rev, force, "tag: "+rev)
			}
			return usagef("tag: too many arguments")
		},
	}
	cmd.Flags().BoolVarP(&del, "delete", "d", false, "delete tags")
	cmd.Flags().IntVarP(&filter.lines, "n", "n", 0, "list each tag with the first `N` lines of its commit's message (-n: one)")
	cmd.Flags().Lookup("n").NoOptDefVal = "1"
	cmd.Flags().BoolVarP(&force, "force", "f", false, "move an existing tag")
	cmd.Flags().BoolVarP(&list, "list", "l", false, "list the tags matching the `PATTERN`s given (shell globs)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or a `TEMPLATE` of %(FIELD)s")
	filter.addFlags(cmd.Flags())
	annotated.add(cmd)
	return cmd
}

// annotatedTagFlags are git's tag flags that make a tag object (an
// annotated or signed tag). strata has none to make: a registry tag
// names a manifest, and a message written into the tagged manifest
// would change its digest, the commit's id. They are taken only to be
// refused with that reason, not cobra's "unknown flag".
type annotatedTagFlags struct {
	annotate, sign bool
	message, file  string
	key            string
}

func (a *annotatedTagFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&a.annotate, "annotate", "a", false, "git's annotated tag: refused (strata tags are lightweight)")
	f.StringVarP(&a.message, "message", "m", "", "git's tag message: refused (strata tags are lightweight)")
	f.StringVarP(&a.file, "file", "F", "", "git's tag message from a file: refused (strata tags are lightweight)")
	f.BoolVarP(&a.sign, "sign", "s", false, "git's signed tag: refused (strata tags are lightweight)")
	f.StringVarP(&a.key, "local-user", "u", "", "git's signed tag: refused (strata tags are lightweight)")
}

// refuse is the usage error for the first of them given, naming it by
// its short flag (-m) and saying why.
func (a *annotatedTagFlags) refuse(cmd *cobra.Command) error {
	for _, name := range []string{"annotate", "message", "file", "sign", "local-user"} {
		if f := cmd.Flags().Lookup(name); f.Changed {
			return usagef("tag %s: annotated and signed tags are not supported: their message would need a tag object, and a registry tag names only a manifest (in the commit's own manifest it would change the commit's id); 'strata tag NAME [REV]' makes a lightweight tag", "-"+f.Shorthand)
		}
	}
	return nil
}

// deleteTags deletes the tags named, as git's tag -d: a name that is no
// tag does not stop the others from going, and is reported after them.
func deleteTags(g *globals, r *repo.Repo, names []string) error {
	var missing []string
	for _, name := range names {
		d, err := r.Refs.Read(refs.Tags + name)
		if errors.Is(err, refs.ErrBroken) {
			// Nothing else removes it: it goes, whatever it holds.
			if err := r.Refs.Delete(refs.Tags+name, refs.Any, "tag: deleted"); err != nil {
				return fmt.Errorf("tag -d %s: %w", name, err)
			}
			fmt.Fprintf(g.stdout, "Deleted broken tag '%s'\n", name)
			continue
		}
		if err != nil {
			missing = append(missing, name)
			continue
		}
		if err := r.Refs.Delete(refs.Tags+name, d, "tag: deleted"); err != nil {
			return fmt.Errorf("tag -d %s: %w", name, err)
		}
		fmt.Fprintf(g.stdout, "Deleted tag '%s' (was %s)\n", name, shortID(d))
	}
	if len(missing) > 0 {
		return fmt.Errorf("tag -d %s: no such tag", strings.Join(missing, ", "))
	}
	return nil
}
