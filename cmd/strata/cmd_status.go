package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/merge"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("status", newStatusCommand) }

// entryJSON is a file as status, diff and blame show it in JSON.
type entryJSON struct {
	Type   string `json:"type"` // file, dir, symlink, hardlink, char, block, fifo
	Mode   string `json:"mode"` // octal permission bits, "0644"
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Size   int64  `json:"size,omitempty"`
	Digest string `json:"digest,omitempty"` // blake3 of the content, when known
	Link   string `json:"link,omitempty"`
	// LinkBytes is a link target that is not valid UTF-8, byte for byte
	// (base64): Link has U+FFFD for its invalid bytes.
	LinkBytes []byte `json:"link_bytes,omitempty"`
}

// changeJSON is one changed path in JSON.
type changeJSON struct {
	Status string `json:"status"` // A, M, D, T, or R and C (diff, show)
	Path   string `json:"path"`
	// PathBytes is a name that is not valid UTF-8, byte for byte (base64):
	// JSON strings are UTF-8, and Path has U+FFFD for its invalid bytes.
	PathBytes []byte     `json:"path_bytes,omitempty"`
	Old       *entryJSON `json:"old,omitempty"`
	New       *entryJSON `json:"new,omitempty"`
	// OldPath and Score: a rename's or copy's source, and how similar
	// it is (a percentage, git's similarity index).
	OldPath      string `json:"old_path,omitempty"`
	OldPathBytes []byte `json:"old_path_bytes,omitempty"`
	Score        *int   `json:"score,omitempty"`
	// Added, Removed and Binary: with diff --numstat, the lines the
	// change adds and removes, or that its content is binary.
	Added   *int `json:"added,omitempty"`
	Removed *int `json:"removed,omitempty"`
	Binary  bool `json:"binary,omitempty"`
}

// rawBytes is s when it is not valid UTF-8, which a JSON string cannot
// hold (encoding/json writes U+FFFD for each invalid byte); nil otherwise.
func rawBytes(s string) []byte {
	if utf8.ValidString(s) {
		return nil
	}
	return []byte(s)
}

var typeNames = map[layer.EntryType]string{
	layer.TypeFile: "file", layer.TypeDir: "dir", layer.TypeSymlink: "symlink", layer.TypeHardlink: "hardlink",
	layer.TypeChar: "char", layer.TypeBlock: "block", layer.TypeFIFO: "fifo",
}

func toEntryJSON(e *layer.Entry) *entryJSON {
	if e == nil {
		return nil
	}
	return &entryJSON{Type: typeNames[e.Type], Mode: fmt.Sprintf("%04o", e.Mode), UID: e.UID, GID: e.GID,
		Size: e.Size, Digest: e.Digest, Link: e.Link, LinkBytes: rawBytes(e.Link)}
}

func toChangesJSON(cs []tree.Change) []changeJSON {
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		j := changeJSON{Status: c.Kind.String(), Path: c.Path, PathBytes: rawBytes(c.Path), Old: toEntryJSON(c.Old), New: toEntryJSON(c.New)}
		if c.Kind.Paired() {
			score := tree.Percent(c.Score)
			j.OldPath, j.OldPathBytes, j.Score = c.OldPath, rawBytes(c.OldPath), &score
		}
		out = append(out, j)
	}
	return out
}

type statusOptions struct {
	short bool
	// porcelain: git's porcelain v1 lines, "XY PATH".
	porcelain bool
	// nul: git's -z, each record ended by NUL and its path as it is.
	nul    bool
	branch bool
	format string
	track  *tracking // where the branch stands against its upstream, or nil
	// shows is the commit the work tree shows when HEAD has moved off it
	// (another work tree's operation on the same branch): its changes are
	// listed against that commit, not HEAD's.
	shows digest.Digest
	// config names the fields of a config reset --soft staged that
	// differ from the commit's ("Cmd", "Env"); none when none is staged.
	config []string
	paths  bool // PATHs were given: the config, no path, is not shown
	// unmerged: the files a checkout -m left in conflict, outside any
	// operation (worktree.State.Unmerged).
	unmerged []worktree.Conflict
}

func newStatusCommand(g *globals) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status [--short [--branch]] [--format json] [--] [PATH...]",
		Short: "Show what changed in the work tree",
		Long: `Show the paths changed in the work tree since the commit it is based on:
A added, M modified (content, mode, owner, xattrs or link target), D deleted,
T type changed. With PATHs (as diff takes them; a pattern such as
'*.conf' matches across directories, as git's pathspecs), only the
changes at or below them. Excluded paths (.strata/info/exclude, /.strataignore) and
files copied up without a change are not shown. A work tree that was
unmounted is mounted again first. A file moved is D at its old path and A
at its new one, as git's status shows a move it was not told of (a
deletion, an untracked file): status reads no file's content. diff shows
it as a rename ("R /old -> /new").

  strata status --short           # "M /etc/motd", one per line ("U /path" for a conflict,
                                  # "U config: Env MODE: ..." for a config conflict,
                                  # "M config: Cmd, Env" for a staged config)
  strata status --porcelain       # git's porcelain v1: "M  /etc/motd", "A  /new", "UU /path";
                                  # every change is in the X column (strata commits them all)
  strata status --format json     # {"branch","head","clean","changes":[{"status","path","old","new"}],"config",
                                  #  "operation","conflicts","upstream","gone","ahead","behind"}

A config staged by 'reset --soft' (the old HEAD's, when it differs from
the new HEAD's: the next commit records it, as it records the files) is
listed by the names of the fields that differ, "config: Cmd, Env" ("config"
in JSON, and the work tree is not clean), as "M  config" in --porcelain's
lines (no path starts without /, and a script that reads empty as clean
must see it); not with PATHs.

The paths a checkout -m left in conflict are listed as unmerged (U, UU,
"Unmerged paths:", "conflicts" in JSON) until the next commit.

On a branch whose remote is set (branch.NAME.remote; clone sets it) and
configured, status says how it stands against the remote-tracking branch
its remote branch is fetched to, as git's: up to date, ahead, behind, or
diverged, by how many commits ("## main...origin/main [ahead 1]" with
--short --branch). When that remote-tracking branch does not exist (the
branch was deleted on the remote and pruned, or never fetched), the
upstream is gone ("[gone]"; "gone": true in JSON): 'strata branch
--unset-upstream' forgets it.

During a merge, rebase, cherry-pick or revert, status says which and how
far it got, and lists the conflicting paths (with what each side did) and
the config conflicts. When HEAD moved off the commit the work tree shows
(a commit in another work tree on the same branch), status says so: the
changes it lists are against that commit.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			if o.short && o.format == "json" {
				return usagef("status: --short and --format json are two formats; give one")
			}
			if o.nul && o.format == "json" {
				return usagef("status: -z and --format json are two formats; give one")
			}
			if o.nul && !o.short {
				o.porcelain = true // as git's -z
			}
			if o.porcelain {
				if o.format == "json" {
					return usagef("status: --porcelain and --format json are two formats; give one")
				}
				// git's parse_porcelain takes "1" for "v1".
				if v := cmd.Flags().Lookup("porcelain").Value.String(); v != "v1" && v != "1" {
					return usagef("status: --porcelain=%s: strata writes git's v1 only", v)
				}
				o.short = true
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			paths, err := imagePaths(g, r, args)
			if err != nil {
				return err
			}
			cs, err := w.Status(cmd.Context())
			if err != nil {
				return err
			}
			var missing error // said after what the good paths give, as diff
			if o.paths = len(paths) > 0; o.paths {
				cs = slices.DeleteFunc(cs, func(c tree.Change) bool { return !tree.Under(c.Path, paths) })
				bad, err := diffMissing(cmd.Context(), w, nil, paths, cs)
				if err != nil {
					return err
				}
				missing = missingPaths(bad)
			}
			if err := reportStatus(g, r, w, cs, o); err != nil {
				return err
			}
			return missing
		},
	}
	cmd.Flags().BoolVarP(&o.short, "short", "s", false, "one line per path: status letter and path")
	cmd.Flags().BoolVarP(&o.nul, "null", "z", false, "end each record with NUL and give paths as they are, as git's -z (implies --porcelain unless --short)")
	cmd.Flags().BoolVarP(&o.branch, "branch", "b", false, `with --short, a first line "## BRANCH" ("## HEAD (no branch)" when detached), as git's`)
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	cmd.Flags().Var(newPorcelainFlag(&o.porcelain), "porcelain", "git's porcelain v1 lines, \"XY PATH\", for scripts")
	cmd.Flags().Lookup("porcelain").NoOptDefVal = "v1"
	return cmd
}

// reportStatus prints status o of the work tree w whose changes are cs:
// where HEAD is, what is under way, how the branch stands against its
// upstream, then the changes.
func reportStatus(g *globals, r *repo.Repo, w *worktree.Worktree, cs []tree.Change, o statusOptions) error {
	h, err := w.Head()
	if err != nil {
		return err
	}
	if h.Broken != nil {
		fmt.Fprintf(g.stderr, "strata: warning: the current branch is broken: %s\n", escapeControls(h.Broken.Error()))
	}
	seq, _, err := w.Sequence()
	if err != nil {
		return err
	}
	// Read once, for what the work tree shows and its staged config.
	st, ok, stErr := w.State()
	if stErr == nil && ok && seq == nil {
		if st.Commit != "" && h.Commit != "" && st.Commit != h.Commit {
			o.shows = st.Commit
		}
		o.unmerged = st.Unmerged
	}
	if o.format == "json" || !o.short || o.branch {
		if o.track, err = trackingOf(r, h.Branch, h.Commit); err != nil {
			return err
		}
	}
	if !o.paths && stErr != nil {
		return stErr
	}
	if !o.paths && ok {
		if _, o.config, err = w.StagedConfigIn(st); err != nil {
			return err
		}
	}
	return printStatus(g.stdout, h, cs, seq, o)
}

// longStatus prints what "strata status" prints, as git's stash apply
// runs git status after it.
func longStatus(ctx context.Context, g *globals, r *repo.Repo, w *worktree.Worktree) error {
	cs, err := w.Status(ctx)
	if err != nil {
		return err
	}
	return reportStatus(g, r, w, cs, statusOptions{format: "text"})
}

// porcelainFlag is --porcelain[=v1]: it records that it was given and
// the version asked for.
type porcelainFlag struct {
	set     *bool
	version string
}

func newPorcelainFlag(set *bool) *porcelainFlag { return &porcelainFlag{set: set, version: "v1"} }
func (f *porcelainFlag) String() string         { return f.version }
func (f *porcelainFlag) Type() string           { return "VERSION" }
func (f *porcelainFlag) Set(v string) error {
	*f.set, f.version = true, v
	return nil
}

// statusJSON is what status --format json prints.
type statusJSON struct {
	Branch  string       `json:"branch,omitempty"`
	Head    string       `json:"head,omitempty"`
	Clean   bool         `json:"clean"`
	Changes []changeJSON `json:"changes"`
	// Config names the fields of the config the next commit records that
	// differ from HEAD's (reset --soft kept the old HEAD's).
	Config    []string `json:"config,omitempty"`
	Operation *opJSON  `json:"operation,omitempty"`
	// Conflicts: a checkout -m's, outside any operation.
	Conflicts []conflictJSON `json:"conflicts,omitempty"`
	*tracking
}

func printStatus(w io.Writer, h refs.Head, cs []tree.Change, seq *worktree.Sequence, o statusOptions) error {
	if o.format == "json" {
		v := statusJSON{Branch: refs.ShortName(h.Branch), Clean: len(cs) == 0 && len(o.config) == 0, Changes: toChangesJSON(cs),
			Config: o.config, Operation: toOpJSON(seq), Conflicts: toConflictsJSON(o.unmerged), tracking: o.track}
		if h.Commit != "" {
			v.Head = h.Commit.String()
		}
		return writeJSON(w, v)
	}
	if o.short {
		r := records{w: w, nul: o.nul}
		if o.branch {
			name := "HEAD (no branch)"
			if h.Branch != "" {
				name = refs.ShortName(h.Branch)
			}
			if o.track != nil {
				name += o.track.short()
			}
			r.put("## %s", pathquote.Name(name))
		}
		if o.porcelain {
			if len(o.config) > 0 {
				r.put("M  config")
			}
			printPorcelain(r, cs, append(seqConflicts(seq), o.unmerged...))
			return nil
		}
		for _, c := range o.unmerged {
			r.put("U %s", r.path(c.Path))
		}
		if seq != nil {
			for _, c := range seq.Conflicts {
				r.put("U %s", r.path(c.Path))
			}
			// A path starts with /, so "config:" never reads as one.
			for _, c := range seq.ConfigConflicts {
				r.put("U config: %s", oneLine(c))
			}
		}
		if len(o.config) > 0 {
			r.put("M config: %s", strings.Join(o.config, ", "))
		}
		for _, c := range cs {
			r.put("%c %s", c.Kind, r.path(c.Path))
		}
		return nil
	}
	switch {
	case h.Branch != "":
		fmt.Fprintf(w, "On branch %s\n", pathquote.Name(refs.ShortName(h.Branch)))
		if o.track != nil {
			o.track.printLong(w)
		}
	default:
		fmt.Fprintf(w, "HEAD detached at %s\n", shortID(h.Commit))
	}
	if o.shows != "" {
		fmt.Fprintf(w, "HEAD moved to %s, but the work tree shows %s and its changes are against that\n", shortID(h.Commit), shortID(o.shows))
		fmt.Fprintln(w, "  (\"strata reset --soft HEAD\" keeps these files on top of HEAD; \"strata reset --hard\" takes HEAD's)")
	}
	printOperation(w, seq)
	printUnmerged(w, o.unmerged)
	if len(cs) == 0 && len(o.config) == 0 {
		fmt.Fprintln(w, "nothing to commit, work tree clean")
		return nil
	}
	fmt.Fprintln(w, "Changes not committed:")
	if len(o.config) > 0 {
		fmt.Fprintf(w, "  %-12s %s\n", "config:", strings.Join(o.config, ", "))
	}
	words := map[tree.Kind]string{tree.Added: "added:", tree.Modified: "modified:", tree.Deleted: "deleted:", tree.TypeChg: "typechange:"}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-12s %s\n", words[c.Kind], pathquote.Quote(c.Path))
	}
	return nil
}

// printPorcelain writes git's porcelain v1 lines, "XY PATH": a conflict
// has git's unmerged code (conflictXY); every other change is in the X
// column, what git would commit, since a strata commit records every
// change in the work tree. A path in conflict is listed once.
func printPorcelain(r records, cs []tree.Change, conflicts []worktree.Conflict) {
	conflicted := map[string]bool{}
	for _, c := range conflicts {
		conflicted[c.Path] = true
		r.put("%s %s", conflictXY(c.Kind), r.path(c.Path))
	}
	for _, c := range cs {
		if !conflicted[c.Path] {
			r.put("%c  %s", c.Kind, r.path(c.Path))
		}
	}
}

// records writes status's short and porcelain lines: each ends with a
// newline and quotes its path (a space too, as git's), or, with git's
// -z, ends with NUL and gives its path byte for byte.
type records struct {
	w   io.Writer
	nul bool
}

func (r records) put(format string, a ...any) {
	end := "\n"
	if r.nul {
		end = "\x00"
	}
	fmt.Fprintf(r.w, format+end, a...)
}

func (r records) path(p string) string {
	if r.nul {
		return p
	}
	return pathquote.QuoteSpaced(p)
}

// conflictXY is git's porcelain code for a kind of conflict: AA both
// added, DU deleted by us, UD deleted by them (a directory gone on one
// side too, as git sees the files below it), UU the rest.
func conflictXY(k merge.Kind) string {
	switch k {
	case merge.BothAdded:
		return "AA"
	case merge.DeletedByUs, merge.DirGoneByUs:
		return "DU"
	case merge.DeletedByThem, merge.DirGoneByThem:
		return "UD"
	}
	return "UU"
}
