//go:build !strata_front

package main

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/worktree"
)

// pullSpecs are the refspecs of pull REMOTE A B ... (git's pull of
// several branches), each read as pull's BRANCH; a DST that is the
// current branch is the branch pull moves, as pullWhat has it.
func pullSpecs(branch string, args []string) ([]refs.Refspec, error) {
	var out []refs.Refspec
	for _, a := range args {
		rs, err := pullRefspec(a)
		if err != nil {
			return nil, err
		}
		if rs.Dst == refs.Heads+branch {
			rs.Dst = ""
		}
		out = append(out, rs)
	}
	return out, nil
}

// pullHeads brings the branch up to date with several fetched heads, as
// git's pull REMOTE A B: no fast-forward to several ("Cannot
// fast-forward to multiple branches", --ff-only), no rebase onto them
// ("Cannot rebase onto multiple branches"), and, heads the branch
// lacks, the divergent branches' refusal unless merging; a merge is
// merge FETCH_HEAD's (git's octopus, within two parents).
func pullHeads(ctx context.Context, g *globals, up *worktree.BranchUpdate, fs []fetched, mode string, ffOnly, unrelated bool) error {
	var ids []digest.Digest
	for _, f := range fs {
		if f.merge {
			ids = append(ids, f.id)
		}
	}
	upToDate, err := up.UpToDateWith(ids)
	switch {
	case err != nil:
		return err
	case ffOnly:
		return worktree.ErrFFMany
	case mode == worktree.PullRebase:
		return worktree.ErrRebaseMany
	case upToDate:
		if !g.quiet {
			fmt.Fprintln(g.stdout, "Already up to date.")
		}
		return nil
	case mode == "":
		return fmt.Errorf("need to specify how to reconcile divergent branches (a pull of several branches is no fast-forward): pull with --merge (or set pull.rebase to false)")
	}
	out, err := up.MergeFetched(ctx, unrelated)
	if err == nil && out.Seq != nil && len(out.Seq.Heads) > 0 {
		fmt.Fprintf(g.stdout, "Fast-forwarding to: %s\nTrying simple merge with %s\n", out.Seq.Heads[0], out.Seq.Heads[1])
		if out.Conflicts != nil {
			fmt.Fprintln(g.stdout, "Simple merge did not work, trying automatic merge.")
		}
	}
	return report(g, worktree.PullMerge, out, err)
}
