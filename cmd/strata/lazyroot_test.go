package main

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

// TestOneCommandTree: a command line that names a command builds only
// that command (newRootCommand's only); its help, its usage errors and
// its name must be what the whole tree gives.
func TestOneCommandTree(t *testing.T) {
	if len(commands) < 40 {
		t.Fatalf("only %d commands registered", len(commands))
	}
	execute := func(only string, args ...string) (string, error) {
		var out bytes.Buffer
		g := &globals{stdout: &out, stderr: &out}
		root := newRootCommand(g, only)
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		_, err := root.ExecuteC()
		return out.String(), err
	}
	for name, build := range commands {
		if got := build(&globals{}).Name(); got != name {
			t.Errorf("command registered as %q is named %q", name, got)
			continue
		}
		for _, args := range [][]string{{name, "--help"}, {name, "--no-such-flag"}} {
			one, oneErr := execute(name, args...)
			all, allErr := execute("", args...)
			if one != all || (oneErr == nil) != (allErr == nil) || oneErr != nil && oneErr.Error() != allErr.Error() {
				t.Errorf("%v: the one-command tree gave %q, %v; the whole tree %q, %v", args, one, oneErr, all, allErr)
			}
		}
	}
	if want := "run"; handover.CommandWord([]string{"-C", "dir", "--verbose", "--chdir=x", "-Cy", "run", "--rm"}) != want {
		t.Errorf("CommandWord did not find %q", want)
	}
}

// TestArgsUsageErrors: a wrong number of arguments is a usage error
// (exit 2) for every command: no bare cobra validator (exit 1) is left.
func TestArgsUsageErrors(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Args == nil {
			return
		}
		for n := range 5 {
			args := make([]string, n)
			for i := range args {
				args[i] = "x"
			}
			var ue usageError
			if err := c.Args(c, args); err != nil && !errors.As(err, &ue) {
				t.Errorf("%s with %d args: %v is not a usage error", c.CommandPath(), n, err)
			}
		}
	}
	walk(newRootCommand(&globals{}, ""))
}

// TestUnknownSubcommand: every command with subcommands calls a word that
// names none of them a usage error (exit 2), never prints its help and
// exits 0 ("generate foo" did).
func TestUnknownSubcommand(t *testing.T) {
	dir := t.TempDir()
	for _, c := range newRootCommand(&globals{}, "").Commands() {
		// reflog's own form takes a ref: "nosuch" is one (git's too).
		if !c.HasAvailableSubCommands() || c.Name() == "help" || c.Name() == "reflog" {
			continue
		}
		out, err := strataCmd(dir, c.Name(), "nosuch").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("strata %s nosuch: %v, want exit 2\n%s", c.Name(), err, out)
		}
	}
}
