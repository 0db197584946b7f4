//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("clone", newCloneCommand) }

func newCloneCommand(g *globals) *cobra.Command {
	var o transferFlags
	var noCheckout bool
	cmd := &cobra.Command{
		Use:   "clone [--no-checkout] SRC [DIR]",
		Short: "Make a repository from a remote image and check it out",
		Long: `Clone SRC, a registry repository or layout directory with an optional
:TAG, into DIR (default: the repository's last name component): init,
add remote origin, fetch TAG (every tag if none) with its history, create
the branch TAG (or main, or latest) at it and check it out at DIR/rootfs.

  strata clone 127.0.0.1:5000/team/env:main myenv
  strata clone docker.io/library/debian:bookworm deb
  strata clone /mnt/team/envs:main env

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			url, _, err := remote.SplitRef(src)
			if err != nil {
				return usagef("clone: %v", err)
			}
			dir := path.Base(strings.TrimSuffix(url, "/"))
			if len(args) == 2 {
				dir = args[1]
			}
			p := newProgress(g.stderr, o.quiet, "receive")

			r, res, err := remote.Clone(cmd.Context(), src, dir, remote.Options{Insecure: o.insecure, Progress: p.sink()})
			p.finish()
			if err != nil {
				return fmt.Errorf("clone %s: %w", src, err)
			}
			if res.Cleared {
				fmt.Fprintf(g.stderr, "strata: clone: %s held what a killed clone left; it was removed\n", dir)
			}
			warnSkipped(g, "clone", url, res.Fetch)
			if !o.quiet {
				fmt.Fprintf(g.stderr, "Cloned %s into %s: branch %s at %s (%s)\n", src, dir, res.Branch, shortID(res.Commit), plural(res.Fetch.Commits, "commit"))
			}
			if noCheckout {
				return nil
			}
			if _, err := worktree.Main(r).Checkout(cmd.Context(), worktree.CheckoutOptions{Rev: res.Branch}); err != nil {
				if errors.Is(err, objects.ErrDigestMismatch) {
					// Fetch checks blobs, not diff ids: a checkout
					// again would fail again.
					return fmt.Errorf("clone %s: checkout: %w (the cloned image is damaged: a layer is not what its commit says; 'strata fsck' in %s names the commits)", src, err, dir)
				}
				return fmt.Errorf("clone %s: checkout: %w (the repository is complete; run 'strata checkout %s' in %s)", src, err, res.Branch, dir)
			}
			return nil
		},
	}
	o.add(cmd)
	cmd.Flags().BoolVar(&noCheckout, "no-checkout", false, "do not mount the work tree")
	return cmd
}
