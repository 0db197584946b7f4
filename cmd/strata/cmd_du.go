package main

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("du", newDuCommand) }

// duEntry is one holder of content: a branch, tag, remote-tracking
// branch, detached HEAD or work tree.
type duEntry struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Exclusive int64  `json:"exclusive"` // bytes nothing else holds
	Total     int64  `json:"total"`     // bytes it holds, shared or not
	// Uncommitted is a work tree's upper directory, counted in both.
	Uncommitted int64 `json:"uncommitted,omitempty"`
}

func newDuCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "du [--format json]",
		Short: "Show what each branch, tag and work tree holds, exclusively and in total",
		Long: `For each branch, tag, remote-tracking branch, other ref (refs/stash,
refs/bisect/*), detached HEAD and work tree, show the bytes of the blobs
its history reaches and of the snapshots (its layers unpacked for
checkouts, under .strata/snapshots) built from them (TOTAL), and of
those that nothing else reaches (EXCLUSIVE); a work tree adds its
uncommitted changes (its upper directory). EXCLUSIVE is
what deleting it frees, once its reflog entries expire: 'strata branch
-d NAME' then 'strata gc --prune=now --expire=now'.

  strata du --format json   # [{"kind","name","exclusive","total","uncommitted"}]
                            # (bytes; "uncommitted": a work tree's upper;
                            # "kind": branch, tag, remote, ref, HEAD, worktree)

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			out, err := refUsage(r)
			if err != nil {
				return fmt.Errorf("du: %w", err)
			}
			if format == "json" {
				return writeJSON(g.stdout, out)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tNAME\tEXCLUSIVE\tTOTAL")
			for _, e := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Kind, e.Name, humanSize(e.Exclusive), humanSize(e.Total))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// refUsage counts, for each holder, the blobs its commits reach.
func refUsage(r *repo.Repo) ([]duEntry, error) {
	type holder struct {
		e    duEntry
		tip  digest.Digest
		blob map[digest.Digest]bool
	}
	var hs []*holder
	all, err := r.Refs.List("refs/")
	if err != nil {
		return nil, err
	}
	for _, ref := range all {
		kind := "ref" // refs/stash, refs/bisect/*: no branch
		switch {
		case strings.HasPrefix(ref.Name, refs.Heads):
			kind = "branch"
		case strings.HasPrefix(ref.Name, refs.Tags):
			kind = "tag"
		case strings.HasPrefix(ref.Name, refs.Remotes):
			kind = "remote"
		}
		hs = append(hs, &holder{e: duEntry{Kind: kind, Name: ref.Short()}, tip: ref.Target})
	}
	if h, err := r.Refs.ReadHead(); err == nil && h.Detached() && h.Commit != "" {
		hs = append(hs, &holder{e: duEntry{Kind: "HEAD", Name: "HEAD"}, tip: h.Commit})
	}
	wts, err := worktree.List(r)
	if err != nil {
		return nil, err
	}
	for _, w := range wts {
		st, _, err := w.State()
		if err != nil {
			return nil, err
		}
		name := w.Target()
		if rel, err := filepath.Rel(r.Dir, name); err == nil && !filepath.IsAbs(rel) && rel[0] != '.' {
			name = rel
		}
		up := dirSize(filepath.Join(w.Dir, "upper"))
		hs = append(hs, &holder{e: duEntry{Kind: "worktree", Name: name, Uncommitted: up}, tip: st.Commit})
	}
	// Which holders reach each commit; then each commit's manifest is
	// read once, whatever number of holders reach it, and its config not
	// at all: a deep history's manifests and configs list every commit
	// below them, and reading them for each holder made du quadratic
	// many times over (112 s at 2,000 commits and two holders).
	reach := map[digest.Digest][]int{}
	for i, h := range hs {
		h.blob = map[digest.Digest]bool{}
		// Both parents: a merged branch's blobs belong to the merge too.
		err := repo.WalkHistory(r.Objects, []digest.Digest{h.tip}, func(d digest.Digest) bool {
			if !r.Objects.Has(d) {
				return false
			}
			reach[d] = append(reach[d], i)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	sizes := map[digest.Digest]int64{}
	for d, holders := range reach {
		m, err := r.Objects.ReadManifest(d)
		if err != nil {
			return nil, err
		}
		sizes[d], _ = r.Objects.Size(d)
		sizes[m.Config.Digest] = m.Config.Size
		for _, l := range m.Layers {
			sizes[l.Digest] = l.Size
		}
		for _, i := range holders {
			h := hs[i]
			h.blob[d], h.blob[m.Config.Digest] = true, true
			for _, l := range m.Layers {
				h.blob[l.Digest] = true
			}
		}
	}
	owners := map[digest.Digest]int{}
	for _, h := range hs {
		for b := range h.blob {
			owners[b]++
		}
	}
	// A snapshot (layers unpacked for checkouts) lives as long as every
	// layer it was built from: it is held by the holders that hold them
	// all, and freed with the last, as gc removes it.
	snaps, err := snapshot.NewSnapshots(r.Objects).Usage()
	if err != nil {
		return nil, err
	}
	for _, s := range snaps {
		id := digest.Digest("snapshot:" + s.ID) // a key of its own beside blobs
		sizes[id] = s.Size
		for _, h := range hs {
			all := len(s.Layers) > 0
			for _, l := range s.Layers {
				all = all && h.blob[l]
			}
			if all {
				h.blob[id] = true
				owners[id]++
			}
		}
	}
	out := make([]duEntry, 0, len(hs))
	for _, h := range hs {
		for b := range h.blob {
			h.e.Total += sizes[b]
			if owners[b] == 1 {
				h.e.Exclusive += sizes[b]
			}
		}
		h.e.Total += h.e.Uncommitted
		h.e.Exclusive += h.e.Uncommitted
		out = append(out, h.e)
	}
	order := map[string]int{"branch": 0, "tag": 1, "remote": 2, "ref": 3, "HEAD": 4, "worktree": 5}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Kind] < order[out[j].Kind] })
	return out, nil
}

// dirSize is the bytes of the regular files under dir (0 if none).
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
