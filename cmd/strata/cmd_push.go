//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

func init() { register("push", newPushCommand) }

type pushFlags struct {
	transferFlags
	force, all, tags bool
	delete           bool
	setUpstream      bool
	compression      string
}

func newPushCommand(g *globals) *cobra.Command {
	var o pushFlags
	cmd := &cobra.Command{
		Use:   "push [-u] [--force] [--all] [--tags] [--compression gzip] [REMOTE [REF...]]",
		Short: "Send branches and tags, with their history, to a remote",
		Long: `Push each REF (default: the current branch) to the remote tag of the same
name on REMOTE (default: the current branch's remote, branch.NAME.remote,
else origin), a remote's name or a URL. Only what the remote lacks is
sent: blobs it has are skipped (or mounted from another remote's
repository in the same registry), and every commit of the history it
lacks goes as a manifest pushed by digest, oldest first; the tag moves
last.

A push that is not a fast-forward of the remote tag is refused: fetch
first, or use --force. --compression gzip recompresses zstd layers for
registries and clients that cannot read zstd (the commits sent then have
other ids, so switching a remote tag from one compression to the other
takes --force).

-u (--set-upstream) makes REMOTE, a remote's name, the upstream of each
branch pushed, as clone does for the branch it makes: branch.NAME.remote,
which status, @{u}, and push, fetch and pull without REMOTE then use.

  strata push -u origin main
  strata push --all --tags origin
  strata push 127.0.0.1:5000/team/env main
  strata push --delete origin old-branch   # remove the remote tag and origin/old-branch

A registry deletes a tag's manifest by digest (docker-registry needs
storage.delete.enabled), which would remove every tag naming it: the
deletion is refused when another tag names the same commit or a commit
whose history contains it.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 100),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, rem, remoteArg, args, err := openRemote(g, "push", args)
			if err != nil {
				return err
			}
			if o.delete {
				return pushDelete(cmd, g, r, rem, remoteArg, args, o)
			}
			if o.setUpstream && rem.Name == "" {
				return usagef("push -u: %s is not a remote's name: an upstream is a named remote ('strata remote add NAME %s' first)", remoteArg, remoteArg)
			}
			names, err := pushRefs(r, args, o)
			if errors.Is(err, errNothingToPush) {
				// git push --tags with no tags: nothing to do is no error.
				fmt.Fprintln(g.stdout, "Nothing to push")
				return nil
			}
			if err != nil {
				return fmt.Errorf("push %s: %w", remoteArg, err)
			}
			s, p, err := connect(g, r, rem, o.transferFlags, "send")
			if err != nil {
				return fmt.Errorf("push %s: %w", remoteArg, err)
			}
			// "To" once the remote answered, as git prints it after
			// connecting: not before a registry that cannot be reached.
			toShown := o.quiet
			var failed error
			var pushed []string // the refs the remote now has
			for _, name := range names {
				res, err := s.Push(cmd.Context(), r, name, remote.PushOptions{Force: o.force, Compression: o.compression})
				p.finish()
				if res.Reached && !toShown {
					fmt.Fprintf(g.stdout, "To %s\n", s.Endpoint())
					toShown = true
				}
				short := refs.ShortName(name)
				if err != nil {
					if errors.Is(err, remote.ErrNonFastForward) {
						fmt.Fprintf(g.stdout, " ! [rejected] %s -> %s (non-fast-forward)\n", short, res.Tag)
					}
					failed = fmt.Errorf("push %s %s: %w", remoteArg, short, err)
					continue
				}
				pushed = append(pushed, name)
				if o.quiet {
					continue
				}
				kind := "branch"
				if strings.HasPrefix(name, refs.Tags) {
					kind = "tag"
				}
				line := fmt.Sprintf("%s %s -> %s", refChange(res.Old, res.New, res.Forced, kind), short, res.Tag)
				if res.Forced {
					line += " (forced update)"
				}
				fmt.Fprintln(g.stdout, line)
				if !res.UpToDate {
					fmt.Fprintf(g.stdout, "   %s, %s sent (%s), %d already there\n", plural(res.Commits, "commit"), plural(res.Sent, "blob"), humanSize(res.Bytes), res.Skipped)
					warnLayerLimit(g.stderr, res.New, pushedLayers(r.Objects, res.New))
				}
			}
			if o.setUpstream {
				if err := setUpstreams(g, r, rem.Name, pushed, o.quiet); err != nil {
					return fmt.Errorf("push %s: %w", remoteArg, err)
				}
			}
			return failed
		},
	}
	o.transferFlags.add(cmd)
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "move the remote tag even if it is not a fast-forward")
	cmd.Flags().BoolVar(&o.all, "all", false, "push every branch")
	cmd.Flags().BoolVar(&o.tags, "tags", false, "push every tag")
	cmd.Flags().BoolVarP(&o.setUpstream, "set-upstream", "u", false, "make REMOTE the upstream of each branch pushed (branch.NAME.remote)")
	cmd.Flags().BoolVarP(&o.delete, "delete", "d", false, "delete the named tags from the remote (see docs/remote.md for registries)")
	cmd.Flags().StringVar(&o.compression, "compression", "", "recompress zstd layers: gzip")
	return cmd
}

// setUpstreams is push -u: each branch pushed (tags have no upstream;
// a branch whose push failed gets none, as in git) takes remote as its
// upstream, with git's message.
func setUpstreams(g *globals, r *repo.Repo, remote string, pushed []string, quiet bool) error {
	for _, name := range pushed {
		if !strings.HasPrefix(name, refs.Heads) {
			continue
		}
		branch := refs.ShortName(name)
		if err := r.Config.Set("branch."+branch+".remote", remote); err != nil {
			return fmt.Errorf("set the upstream of %s: %w", branch, err)
		}
		if !quiet {
			fmt.Fprintf(g.stdout, "branch '%s' set up to track '%s/%s'.\n", branch, remote, branch)
		}
	}
	return nil
}

// pushRefs turns the REF arguments into full ref names: a branch, else a
// tag; none means the current branch, or --all / --tags.
func pushRefs(r *repo.Repo, args []string, o pushFlags) ([]string, error) {
	var out []string
	for _, a := range args {
		switch {
		case a == "HEAD":
			// git push origin HEAD: the current branch.
			h, err := r.Refs.Current()
			if err != nil {
				return nil, err
			}
			if h.Branch == "" {
				return nil, errors.New("HEAD is detached: name a branch to push (strata branch NAME first)")
			}
			out = append(out, h.Branch)
		case strings.HasPrefix(a, "refs/") && r.Refs.Exists(a):
			out = append(out, a)
		case r.Refs.Exists(refs.Heads + a):
			out = append(out, refs.Heads+a)
		case r.Refs.Exists(refs.Tags + a):
			out = append(out, refs.Tags+a)
		default:
			return nil, fmt.Errorf("%s: no such branch or tag", a)
		}
	}
	for _, on := range []struct {
		want   bool
		prefix string
	}{{o.all, refs.Heads}, {o.tags, refs.Tags}} {
		if !on.want {
			continue
		}
		list, err := r.Refs.List(on.prefix)
		if err != nil {
			return nil, err
		}
		for _, ref := range list {
			out = append(out, ref.Name)
		}
	}
	if len(out) == 0 && !o.all && !o.tags {
		h, err := r.Refs.Current()
		if err != nil {
			return nil, err
		}
		if h.Branch == "" || h.Commit == "" {
			return nil, errors.New("HEAD is not on a branch with commits: name what to push")
		}
		out = append(out, h.Branch)
	}
	if len(out) == 0 {
		return nil, errNothingToPush
	}
	return out, nil
}
