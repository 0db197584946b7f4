package main

import (
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

// completeRevs offers HEAD, branches, tags and remote-tracking branches.
func completeRevs(g *globals) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		out := refNames(g, toComplete, refs.Heads, refs.Tags, refs.Remotes)
		if strings.HasPrefix("HEAD", toComplete) {
			out = append(out, "HEAD")
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

// addCompletions sets each command's completion of its arguments and of
// its revision flags; commands that take paths keep file completion.
func addCompletions(g *globals, root *cobra.Command) {
	revs := completeRevs(g)
	for _, c := range root.Commands() {
		switch c.Name() {
		case "checkout", "switch", "log", "show", "reset", "export", "merge", "rebase", "cherry-pick", "revert":
			c.ValidArgsFunction = revs
		case "diff":
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
				if cmd.ArgsLenAtDash() >= 0 {
					return nil, cobra.ShellCompDirectiveDefault // paths
				}
				return revs(cmd, args, tc)
			}
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
		}
		if c.Flags().Lookup("rev") != nil {
			_ = c.RegisterFlagCompletionFunc("rev", revs)
		}
		if c.Flags().Lookup("onto") != nil {
			_ = c.RegisterFlagCompletionFunc("onto", revs)
		}
	}
}
