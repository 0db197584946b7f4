package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// globals are the flags every command takes.
type globals struct {
	chdir string
	// startDir is where the process stood before -C changed into chdir.
	startDir string
	verbose  bool
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	argv     []string // the command line, for a detached run's supervisor
	// quiet: -q on a command that reports through report (merge, rebase,
	// cherry-pick, revert): success says nothing.
	quiet bool
	// held: repositories whose writers lock this command holds, released
	// when it returns (tests run commands in one process).
	held []*repo.Repo
}

// holdWrites takes r's writers lock for the rest of the command.
func (g *globals) holdWrites(r *repo.Repo) error {
	if err := r.HoldWrites(); err != nil {
		return err
	}
	g.held = append(g.held, r)
	return nil
}

// releaseWrites ends holdWrites before the command returns.
func (g *globals) releaseWrites(r *repo.Repo) {
	for i, h := range g.held {
		if h == r {
			r.ReleaseWrites()
			g.held = append(g.held[:i], g.held[i+1:]...)
			return
		}
	}
}

// openRepo finds the repository from -C or the working directory. Inside
// a second work tree, HEAD in revisions is that work tree's own.
func (g *globals) openRepo() (*repo.Repo, error) {
	start := g.chdir
	if start == "" {
		start = "."
	}
	abs, err := filepath.Abs(start)
	if err != nil {
		return nil, err
	}
	r, err := repo.Find(abs)
	// The overlay's upper names the project of a second work tree. Only
	// a repository with second work trees needs mountinfo read, so that
	// every other command (strata run among them) starts without it.
	var project, name string
	linked := false
	if errors.Is(err, repo.ErrNoRepository) || err == nil && hasLinkedWorktrees(r) {
		project, name, linked = worktree.FindByMount(abs)
	}
	if errors.Is(err, repo.ErrNoRepository) && linked {
		r, err = repo.Open(project)
	}
	if err != nil {
		return nil, err
	}
	if linked && samePath(project, r.Dir) {
		w, err := worktree.Named(r, name)
		if err != nil {
			return nil, err
		}
		w.Link()
	}
	if writingCommands[handover.CommandWord(g.argv)] {
		if err := g.holdWrites(r); err != nil {
			return nil, err
		}
	}
	if r.BadConfig != nil && handover.CommandWord(g.argv) != "config" {
		return nil, r.BadConfig
	}
	if err := applyQuotePath(r); err != nil && handover.CommandWord(g.argv) != "config" {
		return nil, err
	}
	g.warnBrokenRefs(r)
	for _, w := range r.FsyncUnknown {
		// git's warnings, and as git the rest of the value still counts
		// (up to a lone "-", which ends it: ParseFsync).
		if w == "-" {
			fmt.Fprintln(g.stderr, "strata: warning: invalid value for variable core.fsync")
			continue
		}
		fmt.Fprintf(g.stderr, "strata: warning: ignoring unknown core.fsync component '%s'\n", escapeControls(w))
	}
	return r, nil
}

// applyQuotePath has listings and errors print names as core.quotePath
// says (git's default: on). run resets it for each command line.
func applyQuotePath(r *repo.Repo) error {
	on, set, err := r.Config.Bool("core.quotePath")
	if err != nil {
		return err
	}
	pathquote.SetQuotePath(on || !set)
	return nil
}

// warnBrokenRefs has the commands that list refs (log's decorations,
// branch, tag, du) say on stderr which broken ref they leave out, once
// each, as git's "warning: ignoring broken ref".
func (g *globals) warnBrokenRefs(r *repo.Repo) {
	r.Refs.OnBroken = func(b refs.BrokenRef) {
		why := strings.TrimPrefix(b.Err.Error(), "ref "+b.Name+": ")
		fmt.Fprintf(g.stderr, "strata: warning: ignoring broken ref %s: %s\n", escapeControls(b.Name), escapeControls(why))
	}
}

// writingCommands stage files in .strata/tmp or write blobs before a ref
// reaches them: each holds the repository's writers lock while it runs
// (repo.HoldWrites), so that gc --prune=now refuses rather than remove
// that work. run, run -d and bisect run hold it while they mount their
// tree (and run --commit to the end): see cmd_run.go.
var writingCommands = map[string]bool{
	"import": true, "commit": true, "build": true, "fetch": true, "pull": true,
	"merge": true, "rebase": true, "cherry-pick": true, "revert": true,
	"reset": true, "export": true, "push": true, "checkout": true, "switch": true, "worktree": true, "restore": true,
}

// writingCommandList names writingCommands for gc's help, sorted, in
// indented lines of at most 74 columns.
func writingCommandList() string {
	var b strings.Builder
	line := " "
	for _, n := range slices.Sorted(maps.Keys(writingCommands)) {
		if len(line)+len(n)+2 > 74 {
			b.WriteString(line + "\n")
			line = " "
		}
		line += " " + n + ","
	}
	b.WriteString(line)
	return b.String()
}

// hasLinkedWorktrees reports whether r has any second work tree (or
// throwaway run tree) registered under .strata/worktrees.
func hasLinkedWorktrees(r *repo.Repo) bool {
	f, err := os.Open(filepath.Join(r.Root, "worktrees"))
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}

// samePath reports whether a and b name one directory.
func samePath(a, b string) bool {
	return filepath.Clean(a) == filepath.Clean(b) || realPath(a) == realPath(b)
}

// userDir is where the user started strata, before -C: a strata started
// again with the same arguments (a run's supervisor, a commit inside one)
// must start there for its own -C DIR, relative or not, to land here.
func (g *globals) userDir() (string, error) {
	if g.startDir != "" {
		return g.startDir, nil
	}
	return os.Getwd()
}
