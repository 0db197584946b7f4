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
// arguments, empty ones included, and the marker set to the process's
// own mark, which the script works out from /proc as well), and returns
// for a front command or when the process is already marked. The
// variable a user has set, to anything else, is no mark: push is
// handed over all the same, with the variable set to the mark.
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
	script := "#!/bin/sh\nprintf '[%s]\\n' \"$0\" \"$@\"\n" +
		"[ \"$" + HandedOverVar + "\" = \"$$:$(cut -d' ' -f22 /proc/$$/stat)\" ] && echo marked\n"
	if err := os.WriteFile(full, []byte(script), 0o755); err != nil {
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
	want := "[" + full + "]\n[-C]\n[d]\n[push]\n[]\n[a b]\nmarked\n"
	if out, code := run("", "-C", "d", "push", "", "a b"); code != 0 || out != want {
		t.Errorf("push: exit %d, printed\n%s\nwant\n%s", code, out, want)
	}
	if out, code := run("", "status"); code != 3 || out != "" {
		t.Errorf("status: exit %d, %q; want it left to main (exit 3)", code, out)
	}
	mark, ok := Mark()
	if !ok {
		t.Fatal("Mark: /proc/self/stat tells no start time")
	}
	want = "[" + full + "]\n[push]\nmarked\n"
	for _, v := range []string{"1", "", mark} { // a user's, and another process's mark (this test's)
		if out, code := run(HandedOverVar+"="+v, "push"); code != 0 || out != want {
			t.Errorf("push with %s=%s set by a user: exit %d, printed\n%s\nwant\n%s", HandedOverVar, v, code, out, want)
		}
	}
	// The process marked: the shell's own mark, kept through exec env and
	// exec strata, as the front's is through its exec of strata-full.
	sh := exec.Command("/bin/sh", "-c", `exec env "$0=$$:$(cut -d' ' -f22 /proc/$$/stat)" "$1" push`, HandedOverVar, front)
	sh.Env = append(os.Environ(), "HANDOVER_TEST_EARLY=1")
	if out, err := sh.CombinedOutput(); !isExit(err, 3) || len(out) != 0 {
		t.Errorf("push, already handed over: %v, %q; want it left to main (exit 3)", err, out)
	}
	// A helper re-executed (argv "strata-join" alone: no command, which
	// a command line would hand over for the command list).
	if out, code := run(ReexecVar + "=joinfd"); code != 3 || out != "" {
		t.Errorf("a re-executed helper: exit %d, %q; want it left to main (exit 3)", code, out)
	}
}

func isExit(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

// TestStatStart finds the start time after the command name, which may
// hold spaces and parentheses.
func TestStatStart(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20 21\n"
	for stat, want := range map[string]string{
		"7 (strata)" + tail:      "424242",
		"7 (a) b (c ) d)" + tail: "424242",
		"7 (strata) S 1 2":       "",
		"no parenthesis":         "",
	} {
		if got, ok := statStart([]byte(stat)); got != want || ok != (want != "") {
			t.Errorf("statStart(%q) = %q, %v; want %q", stat, got, ok, want)
		}
	}
}

// TestEnv: the mark replaces a setting the environment held (getenv
// finds the first of two), and leaves the rest in order.
func TestEnv(t *testing.T) {
	got := Env([]string{"A=1", HandedOverVar + "=1", "B=" + HandedOverVar + "=2", HandedOverVar + "X=3"}, "7:8")
	want := []string{"A=1", "B=" + HandedOverVar + "=2", HandedOverVar + "X=3", HandedOverVar + "=7:8"}
	if !slices.Equal(got, want) {
		t.Errorf("Env = %q, want %q", got, want)
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
