package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
	strataexec "github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/testregistry"
)

// buildFrontAndFull builds cmd/strata twice into one directory, as make
// build does: strata-full with every command and strata, the front.
func buildFrontAndFull(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, tags := range map[string]string{"strata-full": "", "strata": "strata_front"} {
		build := exec.Command("go", "build", "-tags", tags, "-o", filepath.Join(dir, name), ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

// runBin runs bin with args and returns its combined output and exit code.
func runBin(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	return runBinEnv(t, nil, bin, args...)
}

// runBinEnv is runBin with env added to the test's environment. A run
// longer than a minute is killed (a front exec'ing itself forever).
func runBinEnv(t *testing.T, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000"), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return string(out), 0
}

func binOK(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, code := runBin(t, bin, args...)
	if code != 0 {
		t.Fatalf("strata %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestFrontHandsOver: the front runs its own commands and hands every
// other one to strata-full beside it, so that a user sees one program: a
// push and a clone through the front against the real registry, then a
// run (the front's own) in the clone; help, versions, usage errors and
// failures with the full build's words and exit codes.
func TestFrontHandsOver(t *testing.T) {
	bin := buildFrontAndFull(t)
	front, full := filepath.Join(bin, "strata"), filepath.Join(bin, "strata-full")
	dir := busyboxRepo(t)
	reg := testregistry.Start(t)
	url := reg.Repo("front/env")

	binOK(t, front, "-C", dir, "remote", "add", "origin", url)
	binOK(t, front, "-C", dir, "push", "-q", "origin", "main")
	clone := filepath.Join(t.TempDir(), "clone")
	t.Cleanup(func() { unmountUnder(clone) }) // the run's throwaway tree, should the test fail inside it
	binOK(t, front, "clone", "--no-checkout", url, clone)
	if a, b := binOK(t, front, "-C", dir, "log", "--format", "json"), binOK(t, front, "-C", clone, "log", "--format", "json"); a != b {
		t.Fatalf("the clone's log differs from the pushed one:\n%s\n%s", a, b)
	}
	if out := binOK(t, front, "-C", clone, "run", "--rev", "main", "--", "/bin/echo", "confined"); out != "confined\n" {
		t.Fatalf("run in the clone printed %q", out)
	}

	for _, args := range [][]string{
		{},                          // the command list
		{"help"},                    // the same
		{"--version"},               // cobra's flag
		{"help", "push"},            // a handed-over command's help
		{"push", "--help"},          // the same
		{"run", "--help"},           // the front's own
		{"frobnicate"},              // unknown command: usage error, 2
		{"", "push"},                // an empty word names no command: 2
		{"push", "--frobnicate"},    // a handed-over command's usage error
		{"-C", dir, "push", "nope"}, // no such remote: 1
		{"-C", dir, "status", "--bogus"},
	} {
		fo, fc := runBin(t, front, args...)
		uo, uc := runBin(t, full, args...)
		if fo != uo || fc != uc {
			t.Errorf("strata %s: the front gave exit %d:\n%s\nthe full build exit %d:\n%s", strings.Join(args, " "), fc, fo, uc, uo)
		}
	}

	// The front hands push over before initialising its packages:
	// go-digest's (in both builds) is initialised once, by strata-full.
	// The front's own commands initialise it in the front.
	for args, want := range map[string]int{"push --help": 1, "-C " + dir + " log -n 1": 1, "help": 1} {
		cmd := exec.Command(front, strings.Fields(args)...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("strata %s: %v\n%s", args, err, out)
		}
		if got := strings.Count(string(out), "init github.com/opencontainers/go-digest @"); got != want {
			t.Errorf("strata %s initialised go-digest %d times, want %d (once in strata-full: the front hands over first)", args, got, want)
		}
	}
}

// TestFrontAlone: without strata-full, the front's own commands still
// work and every other one fails with one line and exit 1; a front
// installed as strata-full fails once instead of exec'ing itself forever;
// a link to the front from elsewhere still finds strata-full.
func TestFrontAlone(t *testing.T) {
	bin := buildFrontAndFull(t)
	alone := filepath.Join(t.TempDir(), "strata")
	if err := os.Link(filepath.Join(bin, "strata"), alone); err != nil {
		t.Fatal(err)
	}
	binOK(t, alone, "version")
	out, code := runBin(t, alone, "push")
	want := "strata: cannot run " + filepath.Join(filepath.Dir(alone), "strata-full") + ": no such file or directory"
	if code != 1 || !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Fatalf("push without strata-full: exit %d, %q; want exit 1 and one line starting %q", code, out, want)
	}

	// The guide names the commands the front hands over: exactly those
	// that fail here.
	guide, err := os.ReadFile("../../docs/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	_, para, _ := strings.Cut(string(guide), "to which `strata` hands")
	para, _, _ = strings.Cut(para, "so that")
	var named, handed []string
	for i, part := range strings.Split(para, "`") {
		if i%2 == 1 {
			named = append(named, part)
		}
	}
	for name := range commands {
		if _, code := runBin(t, alone, name, "--help"); code != 0 {
			handed = append(handed, name)
		}
	}
	slices.Sort(named)
	slices.Sort(handed)
	if len(handed) == 0 || !slices.Equal(named, handed) {
		t.Errorf("docs/guide.md says the front hands over %v; it hands over %v", named, handed)
	}
	if handover.ReexecVar != strataexec.ModeVar {
		t.Errorf("handover.ReexecVar is %q, exec.ModeVar %q: the front would hand strata's helpers over", handover.ReexecVar, strataexec.ModeVar)
	}
	// The early hand-over's list is the same: a command it missed would
	// only be slower, one it added would not run in the front.
	for name := range commands {
		if early, ok := handover.Early([]string{name}), slices.Contains(handed, name); early != ok {
			t.Errorf("handover.Early(%q) = %v, but the front alone %s", name, early, map[bool]string{true: "leaves it out", false: "runs it"}[ok])
		}
	}

	if err := os.Link(alone, filepath.Join(filepath.Dir(alone), "strata-full")); err != nil {
		t.Fatal(err)
	}
	out, code = runBin(t, alone, "push")
	if code != 1 || !strings.Contains(out, "is not strata's full build") || strings.Count(out, "\n") != 1 {
		t.Fatalf("push with a front as strata-full: exit %d, %q; want exit 1 and one line", code, out)
	}
	// The mark replaces the variable a user set: the front as strata-full
	// still knows itself (the first setting is the one getenv reads).
	for _, args := range [][]string{{"push"}, {"frobnicate"}} { // handed over early, and by main
		out, code = runBinEnv(t, []string{handover.HandedOverVar + "=1"}, alone, args...)
		if code != 1 || !strings.Contains(out, "is not strata's full build") || strings.Count(out, "\n") != 1 {
			t.Fatalf("%s with a front as strata-full, %s=1 set by the user: exit %d, %q; want exit 1 and one line", args[0], handover.HandedOverVar, code, out)
		}
	}

	link := filepath.Join(t.TempDir(), "strata")
	if err := os.Symlink(filepath.Join(bin, "strata"), link); err != nil {
		t.Fatal(err)
	}
	if out := binOK(t, link, "push", "--help"); !strings.Contains(out, "--compression") {
		t.Fatalf("push --help through a symlink to the front:\n%s", out)
	}
}

// TestFrontMarkNotInherited: the full build the front exec'd does not
// pass the front's mark on, so a program it starts (a credential helper
// here; a merge driver of pull alike) can run strata's handed-over
// commands again. With the mark inherited, the front took strata-full
// for a copy of itself ("is not strata's full build", exit 1). Nor is
// the variable a mark when a user's environment holds it: the front
// took that for its own and refused every handed-over command.
func TestFrontMarkNotInherited(t *testing.T) {
	bin := buildFrontAndFull(t)
	front := filepath.Join(bin, "strata")
	for _, args := range [][]string{{"push", "--help"}, {"frobnicate"}} { // handed over early, and by main
		for _, v := range []string{"1", ""} {
			fo, fc := runBinEnv(t, []string{handover.HandedOverVar + "=" + v}, front, args...)
			uo, uc := runBin(t, filepath.Join(bin, "strata-full"), args...)
			if fo != uo || fc != uc {
				t.Errorf("%s=%s strata %s: the front gave exit %d:\n%s\nthe full build exit %d:\n%s", handover.HandedOverVar, v, strings.Join(args, " "), fc, fo, uc, uo)
			}
		}
	}
	dir := t.TempDir()
	helpers := filepath.Join(dir, "bin")
	if err := os.Mkdir(helpers, 0o755); err != nil {
		t.Fatal(err)
	}
	// The helper runs the front for a handed-over command and says how it went.
	spy := "#!/bin/sh\ncat >/dev/null\n" + front + " remote --help >/dev/null 2>" + filepath.Join(dir, "err") + "; echo $? >" + filepath.Join(dir, "code") + "\n"
	if err := os.WriteFile(filepath.Join(helpers, "docker-credential-spy"), []byte(spy), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"credHelpers":{"example.com":"spy"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(front, "logout", "example.com")
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dir, "PATH="+helpers+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strata logout: %v\n%s", err, out)
	}
	code, _ := os.ReadFile(filepath.Join(dir, "code"))
	errs, _ := os.ReadFile(filepath.Join(dir, "err"))
	if string(code) != "0\n" {
		t.Fatalf("strata remote --help in a credential helper of strata logout: exit %q, %s", code, errs)
	}
}
