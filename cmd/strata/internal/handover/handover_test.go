package handover

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestCommandWord(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-C", "dir", "--verbose", "--chdir=x", "-Cy", "run", "--rm"}, "run"},
		{[]string{"--chdir", "push", "status"}, "status"}, // push is -C's value
		{[]string{"-C"}, ""},
		{nil, ""},
		{[]string{"--help"}, "--help"},
	} {
		if got := CommandWord(c.args); got != c.want {
			t.Errorf("CommandWord(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestEarly(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"push", "origin"}, true},
		{[]string{"-C", "d", "build", "."}, true},
		{[]string{"-C", "push", "status"}, false}, // push is -C's value
		{[]string{"run", "--", "push"}, false},
		{[]string{"status"}, false},
		{[]string{"frobnicate"}, false}, // main hands it over, with its error if that fails
		{nil, true},                     // the command list
		{[]string{"--verbose"}, true},
		{[]string{"help", "run"}, true},
		{[]string{"completion", "bash"}, true},
		{[]string{"--version"}, true},
		{[]string{"-h"}, true},
	} {
		if got := Early(c.args); got != c.want {
			t.Errorf("Early(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// TestCmdline: the arguments read from /proc are the process's, empty
// ones and spaces included: the test runs itself again with some (the
// test binary ignores what follows its flags), os.Args being the truth.
func TestCmdline(t *testing.T) {
	got, err := cmdline()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, os.Args) {
		t.Fatalf("cmdline() = %q, os.Args = %q", got, os.Args)
	}
	if os.Getenv("HANDOVER_TEST_CHILD") != "" {
		return
	}
	child := exec.Command(os.Args[0], "-test.run=^TestCmdline$", "-test.count=1", "", "a b", "")
	child.Env = append(os.Environ(), "HANDOVER_TEST_CHILD=1")
	if out, err := child.CombinedOutput(); err != nil {
		t.Fatalf("with empty arguments: %v\n%s", err, out)
	}
}

func TestLastSlash(t *testing.T) {
	for s, want := range map[string]int{"/usr/bin/strata": 8, "strata": -1, "/": 0} {
		if got := lastSlash(s); got != want {
			t.Errorf("lastSlash(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestMain lets TestEarlyExec run this binary as a front would start:
// early() first, exit 3 if it returned.
func TestMain(m *testing.M) {
	if os.Getenv("HANDOVER_TEST_EARLY") != "" {
		early()
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// TestEarlyExec: a copy of this binary named strata, with a strata-full
// beside it that prints what it was given, execs it for push (the same
// arguments, empty ones included, and the marker set), and returns for
// a front command or when the marker is already set.
func TestEarlyExec(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	front := filepath.Join(dir, "strata")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(front, data, 0o755); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, FullName)
	if err := os.WriteFile(full, []byte("#!/bin/sh\nprintf '[%s]\\n' \"$0\" \"$@\" \"$"+HandedOverVar+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(env string, args ...string) (string, int) {
		cmd := exec.Command(front, args...)
		cmd.Env = append(os.Environ(), "HANDOVER_TEST_EARLY=1", env)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	want := "[" + full + "]\n[-C]\n[d]\n[push]\n[]\n[a b]\n[1]\n"
	if out, code := run("", "-C", "d", "push", "", "a b"); code != 0 || out != want {
		t.Errorf("push: exit %d, printed\n%s\nwant\n%s", code, out, want)
	}
	if out, code := run("", "status"); code != 3 || out != "" {
		t.Errorf("status: exit %d, %q; want it left to main (exit 3)", code, out)
	}
	if out, code := run(HandedOverVar+"=1", "push"); code != 3 || out != "" {
		t.Errorf("push, already handed over: exit %d, %q; want it left to main (exit 3)", code, out)
	}
	// A helper re-executed (argv "strata-join" alone: no command, which
	// a command line would hand over for the command list).
	if out, code := run(ReexecVar + "=joinfd"); code != 3 || out != "" {
		t.Errorf("a re-executed helper: exit %d, %q; want it left to main (exit 3)", code, out)
	}
}

// TestCommandIndex tells an empty command word from none.
func TestCommandIndex(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{nil, -1},
		{[]string{"-C", "dir"}, -1},
		{[]string{"", "push"}, 0},
		{[]string{"-C", "dir", "", "status"}, 2},
		{[]string{"--verbose", "push"}, 1},
	} {
		if got := CommandIndex(c.args); got != c.want {
			t.Errorf("CommandIndex(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
