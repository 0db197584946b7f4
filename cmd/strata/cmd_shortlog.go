package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
)

func init() { register("shortlog", newShortlogCommand) }

// shortlogJSON is one author of shortlog in JSON.
type shortlogJSON struct {
	Author   string   `json:"author"`
	Email    string   `json:"email,omitempty"`
	Count    int      `json:"count"`
	Subjects []string `json:"subjects,omitempty"`
}

// shortlogOptions are shortlog's flags.
type shortlogOptions struct {
	summary, numbered, email, noMerges bool
	pseudo                             []pseudoRev
	format                             string
}

func newShortlogCommand(g *globals) *cobra.Command {
	var o shortlogOptions
	cmd := &cobra.Command{
		Use:   "shortlog [-s] [-n] [-e] [--format json] [REV-RANGE...]",
		Short: "Summarize history by author, as git shortlog",
		Long: `Group the commits the revisions reach (default HEAD; ranges, --all and
the like as log takes them) by author, as git shortlog does: each
author with the number of commits, then their subjects, oldest first.

  strata shortlog v1..main     # what each author did since v1
  strata shortlog -s -n --all  # commits by author, most first
  strata shortlog --format json   # [{"author","email","count","subjects"}]
                                  # ("email" with -e; "subjects" without -s)

Authors sort by name (-n: by number of commits, most first); -e names
them with their email, and groups by both. Merges count as commits, as
in git (--no-merges leaves them out).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			if err := checkPseudoRevs(o.pseudo); err != nil {
				return err
			}
			if cmd.ArgsLenAtDash() >= 0 {
				return usagef("PATHs are not taken: shortlog [REV-RANGE...]")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			return runShortlog(g.stdout, r, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.summary, "summary", "s", false, "print each author's number of commits alone")
	f.BoolVarP(&o.numbered, "numbered", "n", false, "sort authors by their number of commits, most first")
	f.BoolVarP(&o.email, "email", "e", false, "show each author's email")
	f.BoolVar(&o.noMerges, "no-merges", false, "leave merges out")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	addPseudoRevFlags(f, &o.pseudo)
	return cmd
}

// runShortlog walks the history and prints its authors.
func runShortlog(out io.Writer, r *repo.Repo, revs []string, o shortlogOptions) error {
	tips, only, _, err := logTips(r, revs, o.pseudo)
	if err != nil {
		return err
	}
	type author struct {
		name, email string
		subjects    []string // newest first, as the walk meets them
	}
	byKey := map[string]*author{}
	w := newLogWalk(r, tips, only, false, false, nil, nil, nil, nil)
	defer w.close()
	for d, n := w.next(); d != ""; d, n = w.next() {
		if n.err != nil {
			return fmt.Errorf("commit %s: %w", shortID(d), n.err)
		}
		if n.hidden || o.noMerges && n.sum.MergeParent != "" {
			continue
		}
		name, email := splitAuthor(n.sum.Author)
		key := name
		if o.email {
			key = name + "\x00" + email
		}
		a := byKey[key]
		if a == nil {
			a = &author{name: name, email: email}
			byKey[key] = a
		}
		subject, _ := splitMessage(n.sum.Message)
		a.subjects = append(a.subjects, subject)
	}
	authors := make([]*author, 0, len(byKey))
	for _, a := range byKey {
		slices.Reverse(a.subjects) // oldest first, as git
		authors = append(authors, a)
	}
	slices.SortFunc(authors, func(a, b *author) int {
		if o.numbered && len(a.subjects) != len(b.subjects) {
			return len(b.subjects) - len(a.subjects)
		}
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.email, b.email))
	})
	if o.format == "json" {
		list := make([]shortlogJSON, 0, len(authors))
		for _, a := range authors {
			j := shortlogJSON{Author: a.name, Count: len(a.subjects)}
			if o.email {
				j.Email = a.email
			}
			if !o.summary {
				j.Subjects = a.subjects
			}
			list = append(list, j)
		}
		return writeJSON(out, list)
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	for _, a := range authors {
		name := pathquote.Text(a.name)
		if o.email {
			name += " <" + pathquote.Text(a.email) + ">"
		}
		if o.summary {
			fmt.Fprintf(bw, "%6d\t%s\n", len(a.subjects), name)
			continue
		}
		fmt.Fprintf(bw, "%s (%d):\n", name, len(a.subjects))
		for _, s := range a.subjects {
			fmt.Fprintf(bw, "      %s\n", pathquote.Text(s))
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}
