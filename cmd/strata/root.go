package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/cmd/strata/internal/handover"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

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
	pathquote.SetQuotePath(true) // git's default, until a repository's config says otherwise
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
			worktree.ThawNotice = func(frozenBy string) {
				fmt.Fprintf(g.stderr, "strata: %s: the work tree was read-only, as '%s' left it when it was killed; it is writable again\n", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), pathquote.Text(frozenBy))
			}
			if err := checkSupervisorDir(); err != nil {
				return err
			}
			return g.enterChdir(cmd)
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
