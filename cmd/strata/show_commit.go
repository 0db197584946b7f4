package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// showJSON is the JSON form of show: the log entry plus config and layers.
type showJSON struct {
	logEntry
	Config showConfig  `json:"config"`
	Layers []showLayer `json:"layers"`
	// Changes: with PATHs, what the commit changed under them.
	Changes []changeJSON `json:"changes,omitempty"`
}

type showConfig struct {
	OS           string   `json:"os,omitempty"`
	Architecture string   `json:"architecture,omitempty"`
	Variant      string   `json:"variant,omitempty"`
	Env          []string `json:"env,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	WorkingDir   string   `json:"working_dir,omitempty"`
	User         string   `json:"user,omitempty"`
	// The rest of what docker image inspect's Config shows of an OCI
	// config, in its shapes: {"80/tcp":{}}, {"/data":{}}.
	ExposedPorts map[string]struct{} `json:"exposed_ports,omitempty"`
	Volumes      map[string]struct{} `json:"volumes,omitempty"`
	Labels       map[string]string   `json:"labels,omitempty"`
	StopSignal   string              `json:"stop_signal,omitempty"`
}

type showLayer struct {
	Digest    string `json:"digest"`
	DiffID    string `json:"diff_id"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// showCommit shows commit c as show's flags ask, first saying it is the
// first shown (later ones are separated as log's entries); JSON is
// returned, not printed. It returns the PATHs the commit has on neither
// side.
func showCommit(ctx context.Context, g *globals, r *repo.Repo, c *objects.Commit, decor, paths []string, o diffOptions, format string, hdr commitHeader, noPatch, first bool, merges mergeDiff, mo diffOptions) (showJSON, []string, error) {
	// c is read and checked: its own summary, not the cache's record,
	// which a repository handed over may have forged.
	out := showJSON{logEntry: toLogEntry(objects.CommitSummary(c), decor), Config: configOf(c), Layers: layersOf(c)}
	if len(out.Parents) > 1 && mo.any() && format != "json" {
		bad, err := showMergeDiff(ctx, g, r, out, c, paths, mo, hdr, first, merges)
		return out, bad, err
	}
	if !o.names() && (o.textViews() || o.numstat) {
		bad, err := showDiff(ctx, g, r, out, c, paths, o, hdr, first)
		return out, bad, err
	}
	var bad []string
	var err error
	if len(paths) > 0 {
		if paths, err = imagePaths(g, r, paths); err != nil {
			return out, nil, fmt.Errorf("show: %w", err)
		}
		if out.Changes, bad, err = showChanges(r, c, paths, o); err != nil {
			return out, nil, fmt.Errorf("show: %w", err)
		}
	}
	switch {
	case format == "json":
	case o.nameStatus || o.nameOnly:
		// As git show --name-status: the commit's header, then
		// its paths, without the config and layers.
		hdr.write(g.stdout, out.logEntry, first)
		switch {
		case len(out.Parents) > 1:
			io.WriteString(g.stdout, mergeSep(hdr))
		case !hdr.oneline() && len(out.Changes) > 0:
			fmt.Fprintln(g.stdout)
		}
		for _, c := range out.Changes {
			switch {
			case o.nameOnly && o.nul:
				fmt.Fprintf(g.stdout, "%s\x00", c.Path)
			case o.nameOnly:
				fmt.Fprintln(g.stdout, pathquote.Quote(c.Path))
			default:
				printNameStatus(g.stdout, c, o.nul)
			}
		}
	case noPatch || hdr.pretty != nil:
		// A git format, or -s, is the header alone, as git
		// show -s: the config and layers are show's own body.
		hdr.write(g.stdout, out.logEntry, first)
	default:
		printShow(g.stdout, out, hdr, first, o.nul)
	}
	return out, bad, nil
}

// showDiff is show --stat and show -p: the header, then diff --stat or
// diff -p of the commit against its first parent, from the file indexes
// and the layers.
func showDiff(ctx context.Context, g *globals, r *repo.Repo, out showJSON, c *objects.Commit, paths []string, o diffOptions, hdr commitHeader, first bool) ([]string, error) {
	ps, err := imagePaths(g, r, paths)
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	d, err := worktree.Main(r).Diff(ctx, worktree.DiffOptions{Revs: []string{c.ID.String()}, Parent: true, Paths: ps, Contents: o.contents(), Renames: o.renames})
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	o.noteRenameLimit(d.RenameLimit)
	var bad []string // a PATH in neither side is an error, as without --stat
	if len(ps) > 0 {
		if _, bad, err = showChanges(r, c, ps, diffOptions{}); err != nil {
			return nil, fmt.Errorf("show: %w", err)
		}
	}
	hdr.write(g.stdout, out.logEntry, first)
	switch {
	case len(out.Parents) > 1:
		io.WriteString(g.stdout, mergeSep(hdr))
	case o.prints(d.Changes) && !hdr.oneline():
		io.WriteString(g.stdout, o.headerSep())
	}
	w := bufio.NewWriterSize(g.stdout, 64<<10)
	if err := printDiff(w, d, o); err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	return bad, w.Flush()
}

func configOf(c *objects.Commit) showConfig {
	cfg := c.Config.Config
	return showConfig{OS: c.Config.OS, Architecture: c.Config.Architecture, Variant: c.Config.Variant, Env: cfg.Env,
		Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, WorkingDir: cfg.WorkingDir, User: cfg.User,
		ExposedPorts: cfg.ExposedPorts, Volumes: cfg.Volumes, Labels: cfg.Labels, StopSignal: cfg.StopSignal}
}

func layersOf(c *objects.Commit) []showLayer {
	out := []showLayer{}
	for _, l := range c.Layers() {
		out = append(out, showLayer{Digest: l.Desc.Digest.String(), DiffID: l.DiffID.String(), MediaType: l.Desc.MediaType, Size: l.Desc.Size})
	}
	return out
}

// oneLine is a config string (Env, Cmd, User) from a pulled image as one
// printable line: controls escaped, newlines too, so that it can neither
// drive the terminal nor forge the lines after it.
func oneLine(s string) string {
	return pathquote.Name(s)
}

func printShow(w io.Writer, s showJSON, hdr commitHeader, first, nul bool) {
	hdr.write(w, s.logEntry, first)
	if s.Parent != "" {
		fmt.Fprintf(w, "\nParent: %s\n", s.Parent[len("sha256:"):][:12])
	} else {
		fmt.Fprintf(w, "\nParent: (root commit)\n")
	}
	c := s.Config
	platform := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		platform += "/" + c.Variant
	}
	fmt.Fprintf(w, "Platform: %s\n", pathquote.Text(platform))
	for _, kv := range [][2]string{
		{"Entrypoint", strings.Join(c.Entrypoint, " ")}, {"Cmd", strings.Join(c.Cmd, " ")},
		{"WorkingDir", c.WorkingDir}, {"User", c.User}, {"StopSignal", c.StopSignal},
		{"ExposedPorts", strings.Join(slices.Sorted(maps.Keys(c.ExposedPorts)), " ")},
		{"Volumes", strings.Join(slices.Sorted(maps.Keys(c.Volumes)), " ")},
	} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%s: %s\n", kv[0], oneLine(kv[1]))
		}
	}
	for _, e := range c.Env {
		fmt.Fprintf(w, "Env: %s\n", oneLine(e))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		fmt.Fprintf(w, "Label: %s\n", oneLine(k+"="+c.Labels[k]))
	}
	var total int64
	fmt.Fprintf(w, "Layers: %d\n", len(s.Layers))
	for _, l := range s.Layers {
		total += l.Size
		fmt.Fprintf(w, "  %s  %10s  %s\n", l.Digest[len("sha256:"):][:12], humanSize(l.Size), l.MediaType)
	}
	fmt.Fprintf(w, "Total: %s\n", humanSize(total))
	if len(s.Changes) > 0 {
		fmt.Fprintln(w)
		for _, c := range s.Changes {
			printNameStatus(w, c, nul)
		}
	}
}

// printNameStatus writes a change as --name-status does: "M\t/path", and
// git's "R087\t/old\t/new" for a rename 87% similar ("C087" a copy);
// with nul (-z), as git's, "M\x00/path\x00", names as they are.
func printNameStatus(w io.Writer, c changeJSON, nul bool) {
	switch {
	case nul && c.Score != nil:
		fmt.Fprintf(w, "%s%03d\x00%s\x00%s\x00", c.Status, *c.Score, c.OldPath, c.Path)
		return
	case nul:
		fmt.Fprintf(w, "%s\x00%s\x00", c.Status, c.Path)
		return
	case c.Score != nil:
		fmt.Fprintf(w, "%s%03d\t%s\t%s\n", c.Status, *c.Score, pathquote.Quote(c.OldPath), pathquote.Quote(c.Path))
		return
	}
	fmt.Fprintf(w, "%s\t%s\n", c.Status, pathquote.Quote(c.Path))
}
