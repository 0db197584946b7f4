package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/textgrep"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
	"golang.org/x/sys/unix"
)

func init() { register("grep", newGrepCommand) }

// exitNoMatch is grep's status when no line matched, as git grep's and
// grep(1)'s; errors are 2, as grep(1)'s, so that a failure is never
// taken for "not found".
const exitNoMatch = 1

// grepJSON is one record of grep --format json.
type grepJSON struct {
	Rev       string `json:"rev,omitempty"`
	Path      string `json:"path"`
	PathBytes []byte `json:"path_bytes,omitempty"` // a name that is not UTF-8 (changeJSON)
	Line      int    `json:"line,omitempty"`
	Text      string `json:"text,omitempty"`
	Count     int    `json:"count,omitempty"`
	Binary    bool   `json:"binary,omitempty"`
	Context   bool   `json:"context,omitempty"` // a line of -A, -B or --context context
	// Function: a match's function line (-p), git's "=" line.
	Function bool `json:"function,omitempty"`
}

// grepOptions are grep's flags, past the patterns.
type grepOptions struct {
	lineNumbers, filesOnly, filesWithout, count, quiet, text, noBinary, invert bool
	// onlyMatching prints each match alone (-o); git ignores it with -v.
	// parts finds them: the patterns without -w (word), which is checked
	// around each (textgrep.OnlyMatching).
	onlyMatching, word bool
	// showFunction: git's -p, each match's function line (funcLines);
	// funcBody: git's -W, each match's function as context.
	showFunction, funcBody bool
	parts                  *regexp.Regexp
	before, after, max     int // -B, -A (--context sets both: the last given wins), -m
	format                 string
}

// lines reports whether the lines that match are printed.
func (o grepOptions) lines() bool {
	return !o.quiet && !o.filesOnly && !o.filesWithout && !o.count
}

// context reports whether lines of context are printed (not with -o,
// see onlyContext, unless -v, which git's -o leaves whole lines).
func (o grepOptions) context() bool {
	return o.lines() && (o.before > 0 || o.after > 0 || o.funcBody) && (!o.onlyMatching || o.invert)
}

// onlyContext reports whether -o is given context, -A, -B, -C or -W
// (not -v, which prints whole lines, nor JSON): git then prints no line
// of context, only the "--" lines that its context makes (grep_only.go).
func (o grepOptions) onlyContext() bool {
	return o.lines() && (o.before > 0 || o.after > 0 || o.funcBody) && o.onlyMatching && !o.invert && o.format != "json"
}

// funcLines reports whether each match's function line is printed (-p;
// not with -o, unless -v, as git's prints none).
func (o grepOptions) funcLines() bool {
	return o.showFunction && o.lines() && (!o.onlyMatching || o.invert)
}

// gaps reports whether "--" separates groups of lines and files.
func (o grepOptions) gaps() bool { return (o.context() || o.onlyContext()) && o.format != "json" }

func newGrepCommand(g *globals) *cobra.Command {
	var o grepOptions
	var m textgrep.Options
	var fixed, extended, basic bool
	cmd := &cobra.Command{
		Use:   "grep [-i] [-n] [-l | -L | -c | -o] [-w] [-v] [-F|-E] [-p] [-W] [-A|-B|--context NUM] [-m NUM] [-e PATTERN]... [PATTERN] [REV...] [-- PATH...]",
		Short: "Print the lines of a revision's files that match a pattern, as git grep",
		Long: `Search the regular files of each REV (default: the checked-out work
tree, as git grep searches the work tree) for lines that match PATTERN,
or any of the -e PATTERNs, and print them as git grep does:

  REV:PATH:LINE   (PATH:LINE for the work tree; -n adds :NUMBER: before LINE)

PATH is from the image root without its leading slash (etc/motd),
wherever you stand. A PATH after -- keeps the files at or below it (a
pattern with *, ? or [...] as in diff); a -- before PATTERN only ends
the flags, as git's (grep -- -v REV -- PATH). A binary file (a NUL byte in its
first 8000 bytes) prints "Binary file REV:PATH matches" (-a: searched as
text; -I: left out). Symlinks, devices and FIFOs are never read, nor
followed: only regular files, each opened beneath the work tree, its
directories from their parents (one swapped for a link meanwhile is
passed over).

Patterns are POSIX basic regular expressions, as git's default (-G):
\( \) \| \+ \? \{ \} are the operators; -E reads them as extended (Go's
RE2 syntax, which has no back-references), -F as plain text. -i ignores
case, -w matches whole words only, -v selects the lines that do not
match. -l prints the names of the files that match, -L of those that
do not, -c the number of matching lines of each, -o each match alone on
a line of its own (with -v, whole lines, as git's), -q nothing. -m NUM
stops each file's search after NUM matching lines. -A NUM, -B NUM and
--context NUM (or -NUM, in a cluster too: -n2; git's -C NUM: -C is
strata's --chdir, wherever it is given) print NUM lines after, before
or around each match (the last given wins for each side: -A3 -1 is one
line after), as git's: REV:PATH-LINE (-n: PATH-NUMBER-LINE), "--"
between groups that do not touch and between files; not with -l, -L
or -c; with -o (not -v), no line of context but the "--" lines git
prints for them; --format json marks them "context": true (with -o and
not -v, it lists no context). -p (--show-function) prints, before each
match, its function line, as git's: the nearest line above it that
starts with a letter, _ or $ (the rule of diff's hunk headers), unless
it was printed already, as REV:PATH=LINE (-n: PATH=NUMBER=LINE; among
-B's lines it takes "=" in place of "-"; "function": true in JSON);
none with -o (unless -v), -l, -L or -c. -W (--function-context)
prints each match's function as context, as git's: from its function
line ("=") and the lines above that one up to an empty line or another
function line (its comment) to the line before the next function line,
less the empty lines just before that one; with no function line above
a match, from the last line printed. Lines back to the last function
line are then held while a file is searched (with no function line, the
lines since the last printed). With -o (not -v), as git's, no line of
the function but the "--" lines git prints for them: one for each line
it shows that does not follow the last printed match (a match that
prints nothing, as of ^$, moves none), the lines after a match shown
again before the next one in its function. A pattern that matches an
empty line matches each empty line, not, as git 2.39's, one more after
a file's last newline.

A revision is read from its layers, each streamed once and never
unpacked; each file is checked against its file index's digest before a
line of it is printed, and what matched is held in .strata/tmp until
the files are printed in path order. Memory holds the revision's file
map (as diff's), one file of up to 8 MiB and a few bytes a matching
file, never the content of the tree.

  strata grep -n PermitRootLogin main -- /etc/ssh
  strata grep -l -e ssl -e tls v1 v2 -- '*.conf'
  strata grep -c -w root            # the checkout: etc/passwd:3
  strata grep -n --context 2 -m 1 Listen main -- /etc/apache2
  strata grep -L -e ssl v1 -- '*.conf'  # the files with no match
  strata grep --format json root main   # [{"rev","path","line","text","context"}]
                                        # (-l, -L: "path"; -c: "count"; -o:
                                        # "text" is the match; a binary
                                        # file: "binary": true; "context":
                                        # true on a line of context; "rev":
                                        # none for the work tree;
                                        # "path_bytes": a name that is not
                                        # UTF-8, base64)

Exit status: 0 when a line matched (-L: when a file was listed), 1 when
none did, 2 on errors and usage errors (as grep(1): a failure is never
taken for "no match").`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			var paths []string
			switch n := cmd.ArgsLenAtDash(); {
			case n == 0 && len(m.Patterns) == 0 && len(args) > 0:
				// As git's: a -- before any pattern only ends the
				// flags (grep -- -v), and a second one the revisions.
				m.Patterns, args = args[:1], args[1:]
				if i := slices.Index(args, "--"); i >= 0 {
					args, paths = args[:i], args[i+1:]
				}
			case n >= 0:
				args, paths = args[:n], args[n:]
			}
			if len(m.Patterns) == 0 {
				if len(args) == 0 {
					return usagef("no pattern given: grep PATTERN [REV...] [-- PATH...]")
				}
				m.Patterns, args = args[:1], args[1:]
			}
			switch {
			case btoi(fixed)+btoi(extended)+btoi(basic) > 1:
				return usagef("-F, -E and -G: give one")
			case fixed:
				m.Kind = textgrep.Fixed
			case extended:
				m.Kind = textgrep.Extended
			}
			if o.filesOnly && o.filesWithout {
				return usagef("-l and -L: give one")
			}
			if o.before < 0 || o.after < 0 {
				return usagef("-A, -B and --context take a number of lines, 0 or more")
			}
			re, err := textgrep.Compile(m)
			if err != nil {
				return usageError{err}
			}
			if o.onlyMatching {
				o.word = m.Word
				if o.parts, err = textgrep.Parts(m); err != nil {
					return usageError{err}
				}
			}
			found, err := runGrep(cmd.Context(), g, re, args, paths, o)
			switch {
			case err != nil:
				return exitCodeError{code: exitUsage, err: err}
			case !found:
				return exitCodeError{code: exitNoMatch}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&m.Patterns, "regexp", "e", nil, "a `PATTERN` to match (several: any of them)")
	f.BoolVarP(&m.IgnoreCase, "ignore-case", "i", false, "ignore case")
	f.BoolVarP(&m.Word, "word-regexp", "w", false, "match whole words only")
	f.BoolVarP(&o.invert, "invert-match", "v", false, "select the lines that do not match")
	f.BoolVarP(&fixed, "fixed-strings", "F", false, "patterns are plain text")
	f.BoolVarP(&extended, "extended-regexp", "E", false, "patterns are extended regular expressions")
	f.BoolVarP(&basic, "basic-regexp", "G", false, "patterns are basic regular expressions (the default)")
	f.BoolVarP(&o.lineNumbers, "line-number", "n", false, "print each line's number")
	f.BoolVarP(&o.filesOnly, "files-with-matches", "l", false, "print the names of the files that match")
	f.BoolVar(&o.filesOnly, "name-only", false, "the same as -l, as in git")
	f.BoolVarP(&o.filesWithout, "files-without-match", "L", false, "print the names of the files that do not match")
	f.BoolVarP(&o.onlyMatching, "only-matching", "o", false, "print only the matching parts of lines, each on a line of its own")
	f.BoolVarP(&o.showFunction, "show-function", "p", false, "print the function line above each match, as git's (PATH=LINE)")
	f.BoolVarP(&o.funcBody, "function-context", "W", false, "print each match's whole function as context, as git's")
	f.IntVarP(&o.after, "after-context", "A", 0, "print `NUM` lines after each match")
	f.IntVarP(&o.before, "before-context", "B", 0, "print `NUM` lines before each match")
	f.Var(contextFlag{&o.before, &o.after}, "context", "print `NUM` lines before and after each match; git's -C, which is strata's --chdir")
	f.IntVarP(&o.max, "max-count", "m", -1, "stop each file's search after `NUM` matching lines (default: no limit)")
	saidDefault(f, "max-count")
	f.BoolVarP(&o.count, "count", "c", false, "print the number of matching lines of each file")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing: the exit status says if a line matched")
	f.BoolVarP(&o.text, "text", "a", false, "search binary files as text")
	f.BoolVarP(&o.noBinary, "I", "I", false, "leave binary files out")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

// runGrep searches each revision of revs (none: the work tree) and
// prints what matched; found says whether a line did.
func runGrep(ctx context.Context, g *globals, re *regexp.Regexp, revs, paths []string, o grepOptions) (found bool, err error) {
	r, w, err := openWorktree(g, "")
	if err != nil {
		return false, err
	}
	if paths, err = imagePaths(g, r, paths); err != nil {
		return false, err
	}
	out := bufio.NewWriterSize(g.stdout, 64<<10)
	p := &grepPrinter{re: re, o: o, w: out}
	if o.format == "json" {
		p.w = &jsonLines{w: out}
	}
	if len(revs) == 0 {
		err = grepWorktree(ctx, w, p, paths)
	}
	for _, rev := range revs {
		if err = grepRev(r, w, p, rev, paths); err != nil {
			break
		}
	}
	if o.format == "json" && err == nil && !o.quiet {
		p.w.(*jsonLines).end()
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return p.found, err
}

// grepWorktree searches the files of the checkout, in path order.
func grepWorktree(ctx context.Context, w *worktree.Worktree, p *grepPrinter, paths []string) error {
	st, err := w.Ensure(ctx)
	if err != nil {
		return err
	}
	root := st.Target
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", root, err)
	}
	defer unix.Close(rootFD)
	files, err := regularFilesBeneath(rootFD, func(q string) bool {
		return tree.Under(q, paths) || above(q, paths)
	})
	if err != nil {
		return err
	}
	files = slices.DeleteFunc(files, func(q string) bool { return !tree.Under(q, paths) })
	slices.Sort(files) // git's order: a directory's files sort as "dir/..."
	for _, q := range files {
		f, err := openBeneath(rootFD, q)
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone since the walk
		}
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		s := p.file("", q)
		_, err = io.Copy(s, f)
		f.Close()
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// regularFilesBeneath lists the regular files of the tree at rootFD
// ("/etc/passwd"), going into the directories enter accepts. Each
// directory is opened from its parent's descriptor, not following a
// link: one a running container swaps for a link meanwhile is passed
// over, never gone through (to this machine's files, whose names a walk
// by path listed). A directory gone meanwhile is passed over too.
func regularFilesBeneath(rootFD int, enter func(q string) bool) ([]string, error) {
	var files []string
	var walk func(parent int, name, q string) error
	walk = func(parent int, name, q string) error {
		fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		// Named by its descriptor: a file system that gives no entry
		// types has ReadDir lstat NAME/ENTRY, which must be this one's.
		d := os.NewFile(uintptr(fd), fmt.Sprintf("/proc/self/fd/%d", fd))
		defer d.Close()
		entries, err := d.ReadDir(-1)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		for _, e := range entries {
			eq := path.Join(q, e.Name())
			switch {
			case e.Type().IsRegular():
				files = append(files, eq)
			case e.IsDir() && enter(eq):
				if err := walk(fd, e.Name(), eq); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return files, walk(rootFD, ".", "/")
}

// above says whether directory q lies above one of paths (to go into).
func above(q string, paths []string) bool {
	for _, p := range paths {
		if tree.IsGlob(p) || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	return false
}

// openBeneath opens the regular file q of the tree at rootFD, refusing
// a symlink anywhere on the way (one swapped in since the walk too) and
// anything that is not a regular file, without waiting on a FIFO.
func openBeneath(rootFD int, q string) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	var err error
	for {
		if fd, err = unix.Openat2(rootFD, strings.TrimPrefix(q, "/"), &how); err != unix.EAGAIN && err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), q)
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("no longer a regular file")
		}
		return nil, err
	}
	return f, nil
}

// grepRev searches the files of revision rev. Its layers give them in
// tar order: what each file printed is held in an unlinked file in
// .strata/tmp, and printed in path order at the end.
func grepRev(r *repo.Repo, w *worktree.Worktree, p *grepPrinter, rev string, paths []string) error {
	c, err := w.Resolve(rev)
	if err != nil {
		return err
	}
	glob := slices.ContainsFunc(paths, tree.IsGlob)
	t, err := tree.NewTrees(r.Objects).Subset(c, func(q string) bool {
		return glob || tree.Under(q, paths) || above(q, paths)
	})
	if err != nil {
		return err
	}
	want := map[string]*layer.Entry{}
	for q, e := range t {
		if tree.KindOf(e.Type) == layer.TypeFile && tree.Under(q, paths) {
			want[q] = e
		}
	}
	tmp := filepath.Join(r.Root, "tmp")
	spool, err := os.CreateTemp(tmp, "grep-")
	if err != nil {
		return err
	}
	os.Remove(spool.Name()) // the open file is all that is needed
	defer spool.Close()
	sw := &countingWriter{w: bufio.NewWriterSize(spool, 64<<10)}
	type span struct{ off, n int64 }
	spans := map[string]span{}
	held := *p
	held.w, held.held = sw, true
	err = tree.NewHistory(r.Objects).CopyFiles(c.Layers(), want, tmp, func(q string) io.WriteCloser {
		start := sw.n
		return closeFunc{held.file(rev, q), func() { spans[q] = span{start, sw.n - start} }}
	})
	if err != nil {
		return err
	}
	p.found = p.found || held.found
	if err := sw.w.(*bufio.Writer).Flush(); err != nil {
		return err
	}
	for _, q := range slices.Sorted(func(yield func(string) bool) {
		for q, s := range spans {
			if s.n > 0 && !yield(q) {
				return
			}
		}
	}) {
		s := spans[q]
		p.fileGap()
		if _, err := io.Copy(p.w, io.NewSectionReader(spool, s.off, s.n)); err != nil {
			return err
		}
	}
	return nil
}
