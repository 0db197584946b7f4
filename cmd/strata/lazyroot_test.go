package main

import (
	"bytes"
	"testing"
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
	if want := "run"; commandWord([]string{"-C", "dir", "--verbose", "--chdir=x", "-Cy", "run", "--rm"}) != want {
		t.Errorf("commandWord did not find %q", want)
	}
}
