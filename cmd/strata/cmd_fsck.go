package main

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"

	"github.com/spf13/cobra"
)

func init() { register("fsck", newFsckCommand) }

func newFsckCommand(g *globals) *cobra.Command {
	var format string
	return withFormat(&cobra.Command{
		Use:   "fsck",
		Short: "Verify every blob, ref and snapshot",
		Long: `Rehash every blob in the store, and check that every branch, tag and
HEAD points at a complete commit with a complete history. Compare every
snapshot (the unpacked layers checkouts mount) with its layer's file
index, file by file.
Exit status: 0 when clean, 1 when anything is damaged.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			res, err := fsck(cmd.Context(), r)
			if err != nil {
				return fmt.Errorf("fsck: %w", err)
			}
			if format == "json" {
				if err := writeJSON(g.stdout, res); err != nil {
					return err
				}
			} else {
				for _, p := range res.Problems {
					fmt.Fprintln(g.stdout, p)
				}
				fmt.Fprintf(g.stdout, "checked %s, %s, %s, %s: %s\n",
					plural(res.Blobs, "blob"), plural(res.Refs, "ref"), plural(res.Commits, "commit"),
					plural(res.Snapshots, "snapshot"), plural(len(res.Problems), "problem"))
			}
			if len(res.Problems) > 0 {
				return exitCodeError{code: exitError, err: fmt.Errorf("fsck: %s found", plural(len(res.Problems), "problem"))}
			}
			return nil
		},
	}, &format)
}

// fsckResult is what fsck checked and found: the store and history
// (repo.Fsck), and the snapshot cache against its layers.
type fsckResult struct {
	repo.FsckResult
	Snapshots int `json:"snapshots"`
}

// fsck checks the store and history while the snapshots are compared
// with their layers: both read every byte of what they check.
func fsck(ctx context.Context, r *repo.Repo) (fsckResult, error) {
	var (
		res     fsckResult
		diffs   []snapshot.Difference
		snapErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		res.Snapshots, diffs, snapErr = snapshot.NewSnapshots(r.Objects).Verify(ctx)
	}()
	var err error
	res.FsckResult, err = r.Fsck(ctx)
	<-done
	if err == nil {
		err = snapErr
	}
	for _, d := range diffs {
		res.Problems = append(res.Problems, repo.Problem{Object: "snapshot " + d.ID, What: d.What})
	}
	return res, err
}

// withFormat adds --format text|json to cmd.
func withFormat(cmd *cobra.Command, format *string) *cobra.Command {
	cmd.Flags().StringVar(format, "format", "text", "output format: text or json")
	return cmd
}
