package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"

	"github.com/spf13/cobra"
)

func init() { register("fsck", newFsckCommand) }

func newFsckCommand(g *globals) *cobra.Command {
	var format string
	var repair bool
	cmd := withFormat(&cobra.Command{
		Use:   "fsck",
		Short: "Verify every blob, ref and snapshot",
		Long: `Rehash every blob in the store, and check that every branch, tag,
HEAD and reflog entry (gc keeps what they name) points at a complete
commit with a complete history: a damaged entry is named REF@{N}, and a
reflog line that is not an entry is named too. Check that each layer's
tar has the diff id its commits claim (a layer verified before, by a
checkout, a diff or an earlier fsck, is not read again). Check each
layer's file index (the cache diff, show, log -- PATH and blame read)
against the layer: an index that still has the checksum recorded when it
was written is only hashed; any other is derived again from the layer
(once: then its checksum is recorded). Compare every snapshot (the
unpacked layers checkouts mount) with its layer's file index, file by
file. A broken ref (its file holds no commit id) is reported, with the
command that deletes it, and the rest checked.

--repair fixes what can be rebuilt: it rewrites index.json (what OCI tools
read) from the refs, rebuilds each layer's file index that does not match
its layer, and removes each snapshot that differs from its layers, unless
an overlay has it as a lower; the next checkout builds it again. It
refuses to start while another strata command writes to the repository.

  strata fsck --format json
      # {"blobs","commits","refs","snapshots" (how many were checked),
      #  "problems":[{"object","problem"}], "strays" (files in the blob
      #  store not named as blobs: warned about, as git's "bad sha1
      #  file", not problems), "warnings":[{"object","problem"}] (no
      #  damage: a summary journal entry an interrupted commit cut
      #  short, a gzip twin record push would not take: cut, or naming
      #  another layer's gzip blob), "repaired" (with --repair)}

Exit status: 0 when clean (or all repaired), 1 when anything is damaged.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if repair {
				release, ok, err := r.ExcludeWriters()
				if err != nil {
					return fmt.Errorf("fsck --repair: %w", err)
				}
				if !ok {
					return fmt.Errorf("fsck --repair: %w: run it once that ends", repo.ErrWritersActive)
				}
				defer release()
			}
			res, err := fsck(cmd.Context(), r)
			if err != nil {
				return fmt.Errorf("fsck: %w", err)
			}
			if repair {
				res.repair(cmd.Context(), r)
			}
			if format == "json" {
				if err := writeJSON(g.stdout, res); err != nil {
					return err
				}
			} else {
				for _, p := range res.Problems {
					fmt.Fprintln(g.stdout, p)
				}
				for _, p := range res.Strays {
					fmt.Fprintf(g.stderr, "strata: warning: .strata/%s: not a blob (its name is not a sha256 digest); nothing reads it\n", pathquote.Name(p))
				}
				for _, p := range res.Warnings {
					fmt.Fprintf(g.stderr, "strata: warning: %s\n", p)
				}
				for _, p := range res.Repaired {
					fmt.Fprintln(g.stdout, "repaired", p)
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
	cmd.Flags().BoolVar(&repair, "repair", false, "rewrite index.json from the refs, rebuild damaged layer indexes, remove snapshots that differ from their layers")
	return cmd
}

// fsckResult is what fsck checked and found: the store and history
// (repo.Fsck), and the snapshot cache against its layers.
type fsckResult struct {
	repo.FsckResult
	Snapshots int            `json:"snapshots"`
	Repaired  []repo.Problem `json:"repaired,omitempty"` // with --repair: what it fixed
	badSnaps  []string       // the snapshots that differ, in order
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
		res.Snapshots, diffs, snapErr = snapshot.NewSnapshots(r.Objects).Verify(ctx, applyLayer)
	}()
	var err error
	res.FsckResult, err = r.Fsck(ctx)
	<-done
	if err == nil {
		err = snapErr
	}
	res.addSnapshotDiffs(diffs)
	if err == nil {
		// A work tree whose state does not read: 'worktree list' leaves
		// it out and gc removes nothing while it is there.
		var bad map[string]error
		if bad, err = worktree.Unreadable(r); err == nil {
			dirs := slices.Sorted(maps.Keys(bad))
			for _, d := range dirs {
				res.Problems = append(res.Problems, repo.Problem{Object: d, What: bad[d].Error() + "; gc removes nothing until it reads"})
			}
		}
	}
	return res, err
}

// addSnapshotDiffs records the differences Snapshots.Verify found.
func (res *fsckResult) addSnapshotDiffs(diffs []snapshot.Difference) {
	for _, d := range diffs {
		if len(res.badSnaps) == 0 || res.badSnaps[len(res.badSnaps)-1] != d.ID {
			res.badSnaps = append(res.badSnaps, d.ID)
		}
		what := d.What
		if d.Path != "" {
			what = pathquote.Quote(d.Path) + ": " + what
		}
		res.Problems = append(res.Problems, repo.Problem{Object: snapshotObject(d.ID), What: what})
	}
}

func snapshotObject(id string) string { return "snapshot " + id }

// applyLayer is how a flattened snapshot's layers add up: tree's rule.
func applyLayer(t map[string]*layer.Entry, entries []layer.Entry) { tree.Tree(t).Apply(entries) }

// repair fixes what fsck found that can be rebuilt, and leaves in
// Problems only what remains.
func (res *fsckResult) repair(ctx context.Context, r *repo.Repo) {
	fixed := map[string]bool{}
	for _, l := range res.BadIndexes {
		obj := repo.LayerIndexObject(l.Desc.Digest)
		if err := r.Objects.RebuildLayerIndex(l); err != nil {
			res.Problems = append(res.Problems, repo.Problem{Object: obj, What: "not rebuilt: " + err.Error()})
			continue
		}
		fixed[obj] = true
		res.Repaired = append(res.Repaired, repo.Problem{Object: obj, What: "rebuilt from the layer"})
	}
	if len(fixed) > 0 && len(res.badSnaps) > 0 {
		// The snapshots were compared with the damaged indexes: compare
		// them again, so that only a snapshot that differs goes.
		_, diffs, err := snapshot.NewSnapshots(r.Objects).Verify(ctx, applyLayer)
		if err == nil {
			kept := res.Problems[:0]
			for _, p := range res.Problems {
				if !strings.HasPrefix(p.Object, snapshotObject("")) {
					kept = append(kept, p)
				}
			}
			res.Problems, res.badSnaps = kept, nil
			res.addSnapshotDiffs(diffs)
		}
	}
	layoutStale := slices.ContainsFunc(res.Problems, func(p repo.Problem) bool { return p.Object == repo.LayoutIndexObject })
	if layoutStale {
		obj := repo.LayoutIndexObject
		if err := r.SyncLayoutIndex(); err != nil {
			res.Problems = append(res.Problems, repo.Problem{Object: obj, What: "not rewritten: " + err.Error()})
		} else {
			fixed[obj] = true
			res.Repaired = append(res.Repaired, repo.Problem{Object: obj, What: "rewritten from the refs"})
		}
	}
	snaps := snapshot.NewSnapshots(r.Objects)
	for _, id := range res.badSnaps {
		obj := snapshotObject(id)
		if err := snaps.Remove(id); err != nil {
			what := "not removed: " + err.Error()
			if errors.Is(err, snapshot.ErrMounted) {
				what += "; unmount it (strata umount, or stop the run), then run fsck --repair again"
			}
			res.Problems = append(res.Problems, repo.Problem{Object: obj, What: what})
			continue
		}
		fixed[obj] = true
		res.Repaired = append(res.Repaired, repo.Problem{Object: obj, What: "removed; the next checkout builds it again"})
	}
	kept := res.Problems[:0]
	for _, p := range res.Problems {
		if !fixed[p.Object] {
			kept = append(kept, p)
		}
	}
	res.Problems = kept
}

// withFormat adds --format text|json to cmd.
func withFormat(cmd *cobra.Command, format *string) *cobra.Command {
	cmd.Flags().StringVar(format, "format", "text", "output format: text or json")
	return cmd
}
