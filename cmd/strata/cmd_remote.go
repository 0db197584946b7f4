//go:build !strata_front

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/remote"
)

func init() { register("remote", newRemoteCommand) }

func newRemoteCommand(g *globals) *cobra.Command {
	var format string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "remote [-v] [--format json]",
		Short: "List, add, remove and change remotes",
		Long: `A remote is a named place to push to and fetch from: a registry repository
(registry.example.com/team/env, with no https:// in front: strata picks the
scheme; and no user:password@: strata login stores credentials) or an OCI image layout directory (a path, or file://PATH).
Registries are spoken to over https only, except on loopback (127.0.0.0/8,
::1, localhost) and those added with --insecure (config
remote.NAME.insecure = true), which may use plain HTTP, and whose TLS
certificate is not verified (docker's insecure-registries).

  strata remote                     names
  strata remote -v                  names and URLs, as git: NAME URL (fetch), NAME URL (push)
  strata remote --format json       [{"name","url"}]
  strata remote add origin registry.example.com/team/env
  strata remote add --insecure lab 10.0.0.5:5000/env   plain HTTP, or any certificate
  strata remote add shared /mnt/team/envs
  strata remote set-url origin registry.example.com/team/env2
  strata remote rename origin up    refs/remotes/origin/* become up/*
  strata remote remove origin       also drops refs/remotes/origin/*

A remote's name follows git's rules (those of a ref name component: no
"..", space, "~^:?*[\", not ending in ".lock" or "."; not HEAD), and
has no '/'. rename and remove carry along, or drop, the remote-tracking
refs, their reflogs, the branches' upstream (branch.NAME.remote and
branch.NAME.merge) and the push remotes that name it
(branch.NAME.pushRemote, remote.pushDefault), as git does.

Exit status: 0 on success, 1 on errors, 2 on usage errors and, as
git's, when there is no remote of the NAME given (remove, rename,
set-url, get-url), 3 when add or rename is given a NAME already in use.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			list := remote.List(r.Config)
			if format == "json" {
				if list == nil {
					list = []remote.Remote{}
				}
				return writeJSON(g.stdout, list)
			}
			for _, rem := range list {
				if verbose {
					// git's two lines: a remote has one URL for both.
					fmt.Fprintf(g.stdout, "%s\t%s (fetch)\n%s\t%s (push)\n", rem.Name, rem.URL, rem.Name, rem.URL)
				} else {
					fmt.Fprintln(g.stdout, rem.Name)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show URLs too, as git remote -v does")
	cmd.AddCommand(newRemoteAddCommand(g), newRemoteRemoveCommand(g), newRemoteRenameCommand(g), newRemoteSetURLCommand(g), newRemoteGetURLCommand(g), newRemoteShowCommand(g))
	return cmd
}

func newRemoteAddCommand(g *globals) *cobra.Command {
	var insecure bool
	add := &cobra.Command{
		Use:   "add [--insecure] NAME URL",
		Short: "Add a remote",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := remote.Add(r.Config, remote.Remote{Name: args[0], URL: args[1], Insecure: insecure}); err != nil {
				return remoteExit(fmt.Errorf("remote add %s: %w", args[0], err))
			}
			return nil
		},
	}
	add.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to this registry, and any TLS certificate from it (sets remote.NAME.insecure)")
	return add
}

func newRemoteRemoveCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a remote, its remote-tracking refs and branches' upstream",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := remote.Remove(r, args[0]); err != nil {
				return remoteExit(fmt.Errorf("remote remove %s: %w", args[0], err))
			}
			return nil
		},
	}
}

func newRemoteGetURLCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get-url NAME",
		Short: "Print a remote's URL",
		Long: `Print the URL of remote NAME, as git remote get-url does.

Exit status: 0 on success, 1 on errors, 2 on usage errors and, as
git's, when there is no such remote.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			rem, err := remote.Get(r.Config, args[0])
			if err != nil {
				return remoteExit(err)
			}
			fmt.Fprintln(g.stdout, rem.URL)
			return nil
		},
	}
}

func newRemoteSetURLCommand(g *globals) *cobra.Command {
	var insecure bool
	setURL := &cobra.Command{
		Use:   "set-url [--insecure] NAME URL",
		Short: "Change a remote's URL",
		Long: `Change the URL of remote NAME. A remote marked insecure (plain HTTP
allowed) keeps the mark on the same registry host; moved to another host
or to a directory, it loses it, saying so, unless --insecure is given.

Exit status: 0 on success, 1 on errors, 2 on usage errors and, as
git's, when there is no such remote.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			was, err := remote.SetURL(r.Config, args[0], args[1], insecure)
			if err != nil {
				return remoteExit(fmt.Errorf("remote set-url %s: %w", args[0], err))
			}
			if was != "" {
				fmt.Fprintf(g.stderr, "strata: remote set-url %s: plain HTTP was allowed to %s only: remote.%s.insecure removed (--insecure keeps it)\n", args[0], was, args[0])
			}
			return nil
		},
	}
	setURL.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to this registry, and any TLS certificate from it (sets remote.NAME.insecure)")
	return setURL
}

func newRemoteRenameCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Rename a remote, with its remote-tracking refs and branches' upstream",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := remote.Rename(r, args[0], args[1]); err != nil {
				return remoteExit(fmt.Errorf("remote rename %s %s: %w", args[0], args[1], err))
			}
			return nil
		},
	}
}

// Exit codes of git's remote, which scripts test ("remote add origin URL
// || test $? = 3"): 2 for a NAME no remote has, 3 for one in use.
const (
	exitNoSuchRemote = 2
	exitRemoteExists = 3
)

// remoteExit gives a remote command's error git's exit code: a name git
// would refuse is a usage error (exit 2), as a bad branch or tag name
// is; no such remote and a name in use are git's 2 and 3.
func remoteExit(err error) error {
	switch {
	case errors.Is(err, remote.ErrBadRemoteName):
		return usageError{err}
	case errors.Is(err, remote.ErrNoSuchRemote):
		return exitCodeError{code: exitNoSuchRemote, err: err}
	case errors.Is(err, remote.ErrRemoteExists):
		return exitCodeError{code: exitRemoteExists, err: err}
	}
	return err
}
