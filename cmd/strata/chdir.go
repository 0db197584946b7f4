package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

// enterChdir changes into -C's directory, if one was given, before the
// command runs, and refuses one that is not a directory as a usage error.
func (g *globals) enterChdir(cmd *cobra.Command) error {
	if g.chdir == "" {
		return nil
	}
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
	return nil
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
