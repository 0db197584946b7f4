package main

import (
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
)

// Completion of names from the repository: cobra calls these through its
// hidden __complete command, which the scripts of "strata completion
// SHELL" run as the user presses TAB.

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// refNames lists the names under the prefixes, short ("main", "v1",
// "origin/main"), that start with what the user typed.
func refNames(g *globals, toComplete string, prefixes ...string) []string {
	r, err := g.openRepo()
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range prefixes {
		list, err := r.Refs.List(p)
		if err != nil {
			continue
		}
		for _, ref := range list {
			if n := ref.Short(); strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
	}
	return out
}

// completeRevs offers HEAD, branches, tags and remote-tracking branches;
// after "A.." or "A..." (a range, as log and diff take), the same for
// its other end, as git's completion does.
func completeRevs(g *globals) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		head, word := "", toComplete
		if i := strings.LastIndex(toComplete, ".."); i >= 0 {
			head, word = toComplete[:i+2], toComplete[i+2:]
			if strings.HasPrefix(word, ".") {
				head, word = head+".", word[1:]
			}
		}
		out := refNames(g, word, refs.Heads, refs.Tags, refs.Remotes)
		if strings.HasPrefix("HEAD", word) {
			out = append(out, "HEAD")
		}
		for i := range out {
			out[i] = head + out[i]
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRefs offers the names under prefixes only (branch -d: branches).
func completeRefs(g *globals, prefixes ...string) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return refNames(g, toComplete, prefixes...), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRemoteThenRefs offers remotes for the first argument, then
// local branches and tags (push, fetch, pull).
func completeRemoteThenRefs(g *globals) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return refNames(g, toComplete, refs.Heads, refs.Tags), cobra.ShellCompDirectiveNoFileComp
		}
		return remoteNames(g, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// remoteNames reads the [remote "NAME"] sections with a url, as
// remote.List does, from the config alone: this file is also in the front
// build, which leaves the registry client out (front.go).
func remoteNames(g *globals, toComplete string) []string {
	r, err := g.openRepo()
	if err != nil {
		return nil
	}
	var out []string
	for _, name := range r.Config.Subsections("remote") {
		if _, ok := r.Config.Get("remote." + name + ".url"); ok && strings.HasPrefix(name, toComplete) {
			out = append(out, name)
		}
	}
	return out
}

// runNames lists the detached runs whose names start with what the user
// typed (stop, logs, exec and the other verbs that take a run's NAME).
func runNames(g *globals) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		r, err := g.openRepo()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		runs, _ := listSvcs(r)
		var out []string
		for _, s := range runs {
			if strings.HasPrefix(s.st.Name, toComplete) && !slices.Contains(args, s.st.Name) {
				out = append(out, s.st.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// firstOnly completes the first argument with f and nothing after it.
func firstOnly(f completeFunc) completeFunc {
	return func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(cmd, args, tc)
	}
}

// dashTyped reports whether the command line being completed has a "--"
// before the word under completion: paths follow it. cmd.ArgsLenAtDash
// cannot tell, since cobra parses the line once with a "--" appended
// and pflag keeps that position.
func dashTyped() bool {
	i := slices.Index(os.Args, cobra.ShellCompRequestCmd)
	return i >= 0 && len(os.Args) > i+1 && slices.Contains(os.Args[i+1:len(os.Args)-1], "--")
}

// revsThenPaths offers revisions, and the shell's files after "--".
func revsThenPaths(revs completeFunc) completeFunc {
	return func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
		if dashTyped() {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return revs(cmd, args, tc)
	}
}

// addCompletions sets each command's completion of its arguments and of
// its revision flags; commands that take paths keep file completion.
func addCompletions(g *globals, root *cobra.Command) {
	revs := completeRevs(g)
	remotes := func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
		return remoteNames(g, tc), cobra.ShellCompDirectiveNoFileComp
	}
	for _, c := range root.Commands() {
		switch c.Name() {
		case "checkout", "log", "show", "diff":
			c.ValidArgsFunction = revsThenPaths(revs)
		case "switch", "reset", "export", "merge", "rebase", "cherry-pick", "revert", "rev-parse", "describe":
			c.ValidArgsFunction = revs
		case "stop", "kill", "rm", "start", "restart", "wait", "pause", "unpause", "stats":
			c.ValidArgsFunction = runNames(g)
		case "inspect":
			c.ValidArgsFunction = completeInspect(runNames(g), completeRefs(g, refs.Heads, refs.Tags, refs.Remotes))
			_ = c.RegisterFlagCompletionFunc("type", cobra.FixedCompletions(inspectTypes, cobra.ShellCompDirectiveNoFileComp))
		case "logs", "exec", "top", "port", "rename", "attach":
			c.ValidArgsFunction = firstOnly(runNames(g)) // exec: then the command, in the run; top: ps options; rename: a new name
		case "branch":
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
				if d, _ := cmd.Flags().GetBool("delete"); d {
					return completeRefs(g, refs.Heads)(cmd, args, tc)
				}
				if m, _ := cmd.Flags().GetBool("move"); m || len(args) == 1 {
					return revs(cmd, args, tc)
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
		case "tag":
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
				if d, _ := cmd.Flags().GetBool("delete"); d {
					return completeRefs(g, refs.Tags)(cmd, args, tc)
				}
				if len(args) == 1 {
					return revs(cmd, args, tc)
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
		case "push", "fetch", "pull":
			c.ValidArgsFunction = completeRemoteThenRefs(g)
		case "reflog":
			c.ValidArgsFunction = revs
			if show, _, err := c.Find([]string{"show"}); err == nil && show != c {
				show.ValidArgsFunction = firstOnly(revs)
			}
		case "remote":
			for _, sub := range c.Commands() {
				switch sub.Name() {
				case "remove", "rename", "set-url":
					sub.ValidArgsFunction = firstOnly(remotes)
				}
			}
		case "worktree":
			if add, _, err := c.Find([]string{"add"}); err == nil && add != c {
				add.ValidArgsFunction = func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
					if len(args) == 0 {
						return nil, cobra.ShellCompDirectiveDefault // PATH
					}
					return revs(cmd, args, tc)
				}
			}
		case "generate":
			if sd, _, err := c.Find([]string{"systemd"}); err == nil && sd != c {
				sd.ValidArgsFunction = firstOnly(runNames(g))
			}
		}
		if c.Flags().Lookup("rev") != nil {
			_ = c.RegisterFlagCompletionFunc("rev", revs)
		}
		for _, name := range []string{"onto", "source", "contains", "merged", "no-merged", "points-at"} {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, revs)
			}
		}
		if c.Name() == "commit" && c.Flags().Lookup("from") != nil {
			_ = c.RegisterFlagCompletionFunc("from", runNames(g))
		}
	}
}
