package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/tree"
)

func init() { register("blame", newBlameCommand) }

// blameJSON is one line of blame in JSON.
type blameJSON struct {
	Path      string    `json:"path"`
	PathBytes []byte    `json:"path_bytes,omitempty"` // a name that is not UTF-8 (changeJSON)
	Commit    string    `json:"commit"`
	Short     string    `json:"short"`
	Author    string    `json:"author"`
	Date      time.Time `json:"date"`
	Message   string    `json:"message"`
}

func newBlameCommand(g *globals) *cobra.Command {
	var rev, format string
	cmd := &cobra.Command{
		Use:   "blame [--rev REV] [--format json] PATH...",
		Short: "Show the commit that last changed each path",
		Long: `For each PATH, show the newest commit in REV's history (default HEAD)
that added, changed or deleted it, read from the layers' file indexes.
Through a merge it goes as git blame does: where the merge has the same
entry at PATH as one of its parents, the change came from that side and
only that parent is followed (a change made on a merged branch names
that branch's commit); a merge that matches neither parent changed the
path itself.

  strata blame /etc/motd /etc/passwd
  cd rootfs/etc && strata blame motd     # paths are where you stand: /etc/motd

A PATH not in REV is an error, named after the others are shown.
  strata blame --format json /etc/motd   # [{"path","commit","short","author","date","message"}]

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("blame: name at least one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			head, err := w.Resolve(rev)
			if err != nil {
				return fmt.Errorf("blame: %w", err)
			}
			paths, err := imagePaths(g, r, args)
			if err != nil {
				return fmt.Errorf("blame: %w", err)
			}
			h := tree.NewHistory(r.Objects)
			out := []blameJSON{}
			var bad []string
			for _, p := range paths {
				// A path that is not in REV is named at the end; the
				// others still print.
				if ok, err := pathExists(h, head, p); err != nil {
					return fmt.Errorf("blame: %w", err)
				} else if !ok {
					bad = append(bad, p)
					continue
				}
				if e, err := h.Lookup(head.Layers(), p); err == nil && e == nil && tree.IsGlob(p) {
					return usagef("blame: %s: blame takes paths, not patterns", p)
				}
				c, err := h.BlamePath(head, p)
				if err != nil {
					return fmt.Errorf("blame: %w", err)
				}
				out = append(out, blameJSON{Path: p, PathBytes: rawBytes(p), Commit: c.ID.String(), Short: shortID(c.ID), Author: c.Author(),
					Date: c.Date(), Message: firstLine(c.Message())})
			}
			if format == "json" {
				if err := writeJSON(g.stdout, out); err != nil {
					return err
				}
			} else {
				for _, b := range out {
					fmt.Fprintf(g.stdout, "%s (%s %s) %s  %s\n", b.Short, pathquote.Text(b.Author), b.Date.UTC().Format("2006-01-02"), pathquote.Quote(b.Path), pathquote.Text(b.Message))
				}
			}
			if len(bad) > 0 {
				return fmt.Errorf("%w in %s", missingPaths(bad), shortID(head.ID))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rev, "rev", "HEAD", "blame as of `REV`")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
