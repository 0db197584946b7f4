package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/strata-sh/strata/cmd/strata/internal/handover"
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

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	// A panic is a bug in strata; the user still gets one line, not a
	// stack trace (STRATA_TRACEBACK=1 shows it).
	defer func() {
		if v := recover(); v != nil {
			if os.Getenv("STRATA_TRACEBACK") == "1" {
				panic(v)
			}
			fmt.Fprintf(stderr, "strata: internal error: %v (please report it; STRATA_TRACEBACK=1 shows where)\n", v)
			code = exitError
		}
	}()
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr, argv: args}
	defer func() {
		if g.startDir != "" {
			os.Chdir(g.startDir) // -C: a caller in this process (tests) gets its directory back
		}
	}()
	word := handover.CommandWord(args)
	if i := handover.CommandIndex(args); i >= 0 && args[i] == "" {
		// cobra drops empty arguments: strata '' push would push.
		return exitCode(usageError{errors.New(`unknown command "" (see 'strata --help')`)}, stderr)
	}
	// Help, completion, the version flag and unknown words are not
	// registered commands: the front hands them over (they must list
	// every command) before building a tree it would not use.
	if _, ok := commands[word]; !ok && handOver != nil {
		return handOver(args, stderr)
	}
	root := newRootCommand(g, word)
	if err := emptySubcommand(root, args); err != nil {
		return exitCode(err, stderr)
	}
	root.SetArgs(gitShorthands(root, word, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signalContext()
	defer stop()
	cmd, err := root.ExecuteContextC(ctx)
	for _, r := range g.held {
		r.ReleaseWrites()
	}
	return exitCode(interrupted(ctx, nameCommand(cmd, err)), stderr)
}

// signalContext is cancelled by SIGINT or SIGTERM, with the signal as its
// cause; later signals are caught too, as signal.NotifyContext does,
// until stop.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel(signalCause{sig.(syscall.Signal)})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

type signalCause struct{ sig syscall.Signal }

func (c signalCause) Error() string { return c.sig.String() }

// interrupted turns the error of a command stopped by a signal into
// "...: interrupted", exiting 128 plus the signal's number as a shell
// reports a process the signal ended (130 for Ctrl-C). What decides is
// the signal, not the error's text: net/http reports the context's cause
// ("interrupt"), other code "context canceled", and both may come with
// a request's URL. A command that returns its own exit code (run: the
// container's) keeps it.
func interrupted(ctx context.Context, err error) error {
	var cause signalCause
	var ec exitCodeError
	if err == nil || errors.As(err, &ec) || !errors.As(context.Cause(ctx), &cause) {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, "interrupted") { // the command's own words, else
		msg = interruptedPrefix(err) + "interrupted"
	}
	return exitCodeError{code: 128 + int(cause.sig), err: errors.New(msg)}
}

// interruptedPrefix is what strata's own wrappers of err said before the
// error the interruption caused ("push origin main: "): the text each
// fmt.Errorf("...: %w") put in front of the error it wraps, down to an
// error from below (a request's, a context's) or one that wraps nothing.
// What a wrapper put after it (a hint) is dropped with it.
func interruptedPrefix(err error) string {
	var b strings.Builder
	for {
		inner := errors.Unwrap(err)
		if inner == nil || isRequestError(err) {
			break
		}
		msg, in := err.Error(), inner.Error()
		i := strings.Index(msg, in)
		if i < 0 {
			break
		}
		b.WriteString(msg[:i])
		if isRequestError(inner) {
			break
		}
		err = inner
	}
	p := b.String()
	if p != "" && !strings.HasSuffix(p, ": ") {
		p = strings.TrimRight(p, " :") + ": "
	}
	return p
}

// isRequestError reports errors a command gets from below strata's own
// code when a signal stops it: a request's (its URL may carry an upload's
// state token) or a context's.
func isRequestError(err error) bool {
	switch err.(type) {
	case *url.Error, signalCause:
		return true
	}
	return err == context.Canceled
}

// newRootCommand builds the command tree: with only naming a registered
// command, the root holds that one command alone (help, completion and
// cobra's suggestions, which list or search every command, are asked
// for with other words); else every command.
func newRootCommand(g *globals, only string) *cobra.Command {
	root := &cobra.Command{
		Use:   "strata",
		Short: "git for container environments",
		Long: `strata keeps root filesystems as git keeps source: import or pull one,
check it out as a real directory, change it, commit, branch, diff, push it
to an OCI registry, and run any revision confined.

Exit status: 0 on success, 1 on errors, 2 on usage errors; 130 or 143
when stopped by SIGINT or SIGTERM.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if g.verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level})))
			worktree.LockWaitNotice = func(holder string) {
				fmt.Fprintf(g.stderr, "strata: %s: waiting for the work tree, which %s holds (Ctrl-C stops waiting)\n", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), holder)
			}
			if err := checkSupervisorDir(); err != nil {
				return err
			}
			if g.chdir != "" {
				var pe *fs.PathError
				// -C is global, as git -C DIR, wherever it stands; where it
				// stands after the command, the user may mean git's -C of
				// that command.
				after := chdirAfterCommand(g.argv)
				switch fi, err := os.Stat(g.chdir); {
				case errors.Is(err, fs.ErrNotExist) && after && gitDashC(cmd) != "":
					return usagef("-C %s: no such directory %s", g.chdir, gitDashC(cmd))
				case errors.Is(err, fs.ErrNotExist):
					return usagef("-C %s: no such directory", g.chdir)
				case errors.As(err, &pe):
					return usagef("-C %s: %w", g.chdir, pe.Err)
				case err != nil:
					return usagef("-C %s: %w", g.chdir, err)
				case !fi.IsDir():
					return usagef("-C %s: not a directory", g.chdir)
				}
				// As git -C: every relative path (import's source,
				// export -o, a build context) is DIR's. g.chdir stays,
				// made absolute, for the commands that join it.
				abs, err := filepath.Abs(g.chdir)
				if err != nil {
					return err
				}
				if g.startDir, err = os.Getwd(); err != nil {
					return err
				}
				if err := os.Chdir(abs); err != nil {
					return fmt.Errorf("-C %s: %w", g.chdir, err)
				}
				g.chdir = abs
			}
			return nil
		},
	}
	root.PersistentFlags().VarP(chdirFlag{&g.chdir}, "chdir", "C", "run as if strata was started in `DIR` (several: each from the one before, as git's)")
	root.PersistentFlags().BoolVar(&g.verbose, "verbose", false, "print diagnostics on stderr")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if hint := gitDashC(c); hint != "" && strings.HasSuffix(err.Error(), "flag needs an argument: 'C' in -C") {
			// log -C, diff -C: git's, with no DIR after it.
			return usageError{fmt.Errorf("%w %s", err, hint)}
		}
		return usageError{cleanFlagError(err)}
	})
	root.CompletionOptions.HiddenDefaultCmd = false
	// --version as git: the same line as "strata version".
	root.Version = versionLine()
	root.SetVersionTemplate("{{.Version}}\n")

	if c, ok := commands[only]; ok {
		// Building the other commands and cobra's completion command
		// took a tenth of strata run's own time before the container.
		root.AddCommand(c(g))
		root.CompletionOptions.DisableDefaultCmd = true
		return root
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		root.AddCommand(commands[name](g))
	}
	addCompletions(g, root)
	strictHelpAndCompletion(root)
	return root
}

// strictHelpAndCompletion makes cobra's help and completion commands
// refuse what they do not know as a usage error (exit 2), on one line:
// "help nosuch" printed "Unknown help topic" and the whole usage, and
// "completion nosuch" the completion help, both with exit 0.
func strictHelpAndCompletion(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			show := c.Run
			c.Run = nil
			c.RunE = func(c *cobra.Command, args []string) error {
				if _, _, err := c.Root().Find(args); err != nil {
					return usagef("help: %s", oneLineUnknown(err.Error()))
				}
				show(c, args)
				return nil
			}
		case "completion":
			c.Args = noSubcommand
			c.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
			for _, shell := range c.Commands() {
				if args := shell.Args; args != nil {
					// cobra's NoArgs: an extra word is a usage error too.
					shell.Args = func(cmd *cobra.Command, a []string) error {
						if err := args(cmd, a); err != nil {
							return usageError{err}
						}
						return nil
					}
				}
			}
		}
	}
}

// handOver, set in the front build (front.go), runs args in the full
// build instead; it returns only on failure. Nil in the full build.
var handOver func(args []string, stderr io.Writer) int

// commands holds the constructors that command files register in init,
// by the name of the command each builds, so that adding a command
// touches one file and a command line builds only what it runs.
var commands = map[string]func(*globals) *cobra.Command{}

func register(name string, c func(*globals) *cobra.Command) {
	if _, dup := commands[name]; dup {
		panic("strata: command " + name + " registered twice")
	}
	commands[name] = c
}

// otherVerbs says what strata does instead of a git or docker command it
// has not, for the user who types it out of habit.
var otherVerbs = map[string]string{
	"add":       "strata has no index: 'strata commit' records every change in the work tree",
	"images":    "every commit is an image: 'strata branch' and 'strata tag' list them, 'strata log' their history",
	"rmi":       "'strata branch -D' and 'strata tag -d' delete images; 'strata gc --prune=now --expire=now' frees their blobs at once",
	"history":   "every commit is a layer: 'strata log' is the image's history",
	"save":      "'strata export REV -o FILE' writes what docker load reads",
	"load":      "'strata import docker-archive:FILE' reads what docker save writes",
	"cat-file":  "'strata show REV:PATH' prints a file as REV has it",
	"ls-files":  "'strata ls-tree -r --name-only HEAD' lists the files of the checked-out revision; 'strata status' what changed",
	"image":     "every commit is an image: 'strata branch' and 'strata tag' list them, 'strata log' their history",
	"container": "runs are managed by 'strata run -d', 'strata ps', 'strata stop', 'strata rm'",
	"mv":        "the work tree is a directory: move files in rootfs, then 'strata commit' records it",
	"clean":     "'strata reset --hard' drops the work tree's uncommitted changes, new files too",
}

// oneLineUnknown makes cobra's unknown-command error, which suggests
// names on lines of their own, one line.
func oneLineUnknown(msg string) string {
	head, rest, _ := strings.Cut(msg, "\n")
	head = strings.TrimSuffix(head, ` for "strata"`)
	if name, ok := strings.CutPrefix(head, "unknown command "); ok {
		if uq, err := strconv.Unquote(name); err == nil && otherVerbs[uq] != "" {
			return head + ": " + otherVerbs[uq] + " (see 'strata --help')"
		}
	}
	var names []string
	if _, list, ok := strings.Cut(rest, "Did you mean this?"); ok {
		for _, l := range strings.Split(list, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				names = append(names, strconv.Quote(l))
			}
		}
	}
	if len(names) > 0 {
		head += "; did you mean " + strings.Join(names, " or ") + "?"
	}
	return head + " (see 'strata --help')"
}

// numberParse is what pflag leaves of strconv's errors in a flag's.
var numberParse = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`strconv\.Parse\w+: parsing "[^"]*": (invalid syntax|value out of range)`)
})

// cleanFlagError words a flag's bad number for the user: pflag says
// 'invalid argument "abc" for "-n, --max-count" flag: strconv.ParseInt:
// parsing "abc": invalid syntax'.
func cleanFlagError(err error) error {
	msg := numberParse().ReplaceAllStringFunc(err.Error(), func(m string) string {
		if strings.HasSuffix(m, "value out of range") {
			return "out of range"
		}
		return "not a number"
	})
	return errors.New(msg)
}

// ownDefault marks a flag whose usage says its default in words: its
// value is only a stand-in ("-1" for all, or a run's own setting), which
// --help and the man page must not print as the default.
const ownDefault = "strata-own-default"

// saidDefault marks the int flags named as ownDefault. pflag prints no
// "(default N)" for an int whose DefValue is "0", the zero value.
func saidDefault(fs *pflag.FlagSet, names ...string) {
	for _, name := range names {
		f := fs.Lookup(name)
		f.DefValue = "0"
		_ = fs.SetAnnotation(name, ownDefault, []string{"true"})
	}
}

// exactArgs, minArgs and rangeArgs are cobra's validators with a usage
// error (exit 2; cobra's own exit 1) that shows the command's usage line,
// which names the arguments cobra only counts ("accepts 1 arg(s),
// received 0").
func exactArgs(n int) cobra.PositionalArgs {
	return withUsage(cobra.ExactArgs(n))
}

func minArgs(n int) cobra.PositionalArgs {
	return withUsage(cobra.MinimumNArgs(n))
}

func rangeArgs(min, max int) cobra.PositionalArgs {
	return withUsage(cobra.RangeArgs(min, max))
}

func withUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usagef("%v (usage: %s)", err, strings.TrimSuffix(cmd.UseLine(), " [flags]"))
		}
		return nil
	}
}

// nameCommand makes sure an error says which command failed, as in
// "strata: status: nothing is checked out here", without naming it twice.
func nameCommand(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command ") {
		return usageError{errors.New(oneLineUnknown(msg))}
	}
	what := strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()))
	if what == "" {
		return err
	}
	named := func(e error) error {
		if e == nil || strings.HasPrefix(e.Error(), what) || strings.HasPrefix(e.Error(), cmd.Name()+" ") {
			return e
		}
		return fmt.Errorf("%s: %w", what, e)
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		ec.err = named(ec.err)
		return ec
	}
	return named(err)
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

// chdirFlag is -C DIR: as git's, each -C is taken from the one before
// (-C a -C b is a/b), an absolute DIR stands alone, and an empty one
// changes nothing.
type chdirFlag struct{ dir *string }

func (f chdirFlag) String() string {
	if f.dir == nil {
		return ""
	}
	return *f.dir
}

func (f chdirFlag) Type() string { return "string" }

func (f chdirFlag) Set(v string) error {
	switch {
	case v == "":
	case *f.dir == "" || filepath.IsAbs(v):
		*f.dir = v
	default:
		*f.dir = filepath.Join(*f.dir, v)
	}
	return nil
}

// gitDashC says what git's -C of cmd is, where git has one, for a -C
// that follows the command: strata's -C is always -C DIR.
func gitDashC(cmd *cobra.Command) string {
	const strata = "(-C is strata -C DIR, as git -C; "
	switch n := cmd.Name(); n {
	case "switch":
		return strata + "git's switch -C NEW is switch --force-create NEW)"
	case "grep":
		return strata + "git's grep -C NUM is grep --context NUM)"
	case "diff", "show", "log":
		return strata + "git's " + n + " -C is " + n + " --find-copies)"
	}
	return ""
}

// chdirAfterCommand reports whether args (without the program name)
// give -C only after the command word: strata -C DIR log is plainly
// strata's -C, strata log -C DIR may be meant as git's log -C.
func chdirAfterCommand(args []string) bool {
	i := handover.CommandIndex(args)
	if i < 0 {
		return false
	}
	for _, a := range args[:i] {
		if strings.HasPrefix(a, "-C") || a == "--chdir" || strings.HasPrefix(a, "--chdir=") {
			return false
		}
	}
	return true
}
