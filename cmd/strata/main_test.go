package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"

	"golang.org/x/sys/unix"

	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	strataexec "github.com/strata-sh/strata/exec"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/strata-sh/strata/internal/testport"
	"github.com/strata-sh/strata/internal/testrootfs"
)

func TestMain(m *testing.M) {
	strataexec.Reexec() // the container init of 'strata run' is this binary
	// Tests that must kill strata at some instant run this binary as it.
	if os.Getenv("STRATA_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	// Inside a container: swap two paths for ever (escape_run_test.go).
	if pair := os.Getenv("STRATA_TEST_SWAPPER"); pair != "" {
		swapForever(pair)
	}
	testscript.Main(m, map[string]func(){
		"strata": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the CLI stories in testdata/script, each a txtar file
// read as a user guide: commands as a user types them, and what they print.
func TestScripts(t *testing.T) {
	// testscript removes its go-test-script* root only once every story
	// in the directory has run: each -run 'TestScripts/NAME$' left one,
	// empty, in /tmp. It makes that root under $GOTMPDIR: a directory
	// this test removes whatever ran. Its name is lower case: the stories'
	// $WORK is under it, and a registry repository's path may hold no
	// capital (remote_scheme.txtar's oci:$WORK/shared), which
	// t.TempDir's, named after the test, has.
	root, err := os.MkdirTemp("", "strata-scripts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	t.Setenv("GOTMPDIR", root)
	testscript.Run(t, scriptParams(filepath.Join("testdata", "script")))
}

// scriptParams are the stories' settings, for the stories in dir.
func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		// [selinux]: the kernel has SELinux on (-v's z and Z differ).
		// [tun]: the host has /dev/net/tun (run --device's stories).
		Condition: func(cond string) (bool, error) {
			if cond == "selinux" {
				_, err := os.Stat("/sys/fs/selinux/enforce")
				return err == nil, nil
			}
			if cond == "tun" {
				_, err := os.Stat("/dev/net/tun")
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(e *testscript.Env) error {
			// A story that fails midway must not leave its checkouts
			// mounted: unmount whatever is still mounted under its work dir.
			e.Defer(func() { unmountUnder(e.WorkDir) })
			// Nor its detached runs (defers run last first: before the unmount).
			e.Defer(func() { killSupervisorsUnder(e.WorkDir) })
			// Nor a command it started in the background ("sh -c 'strata
			// ... &'") that a failed step left waiting, at a test hook say:
			// it would finish its switch after the unmount.
			e.Defer(func() { killProcessesIn(e.WorkDir) })
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("SOURCE_DATE_EPOCH", "1700000000")
			// Stories type control characters as ${NL} and ${CR}.
			e.Setenv("NL", "\n")
			e.Setenv("CR", "\r")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fixcommit": fixCommit,
			"registry":  startRegistry,
			"fakemerge": fakeMerge,
			// exits CODE PROG ARGS...: run PROG and check its exit status;
			// stdout and stderr are kept for the next stdout/stderr check.
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exits CODE PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if got != want {
					ts.Fatalf("%s exited %d, want %d", args[1], got, want)
				}
			},
			// capture VAR REGEXP: set VAR to REGEXP's first submatch in the
			// last command's stdout (a commit id to check later output by).
			"capture": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 || neg {
					ts.Fatalf("usage: capture VAR REGEXP")
				}
				m := regexp.MustCompile("(?m)" + args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
				if len(m) < 2 {
					ts.Fatalf("no match for %q in stdout", args[1])
				}
				ts.Setenv(args[0], m[1])
			},
			// cmpids A B: the first commit "id" in two JSON outputs is the same
			// (A and B are files, or stdout).
			"cmpids": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: cmpids A B")
				}
				a, b := firstID(ts.ReadFile(args[0])), firstID(ts.ReadFile(args[1]))
				if a == "" || b == "" {
					ts.Fatalf("no id in %s or %s", args[0], args[1])
				}
				if (a == b) == neg {
					ts.Fatalf("ids %s and %s: equal=%v", a, b, a == b)
				}
			},
			// cgroupsgone ARGS...: run strata ARGS and check that no cgroup
			// of that strata process (strata-<pid>-*, in a v1 hierarchy or
			// the v2 one) is left. Other tests may run containers
			// meanwhile, so only this run's count. ! cgroupsgone: strata
			// ARGS must fail (a refusal), and leave no cgroup either.
			"cgroupsgone": func(ts *testscript.TestScript, neg bool, args []string) {
				cmd := strataCmd(ts.MkAbs("."), args...)
				cmd.Env = append(cmd.Env, "HOME="+ts.Getenv("HOME"))
				out, err := cmd.CombinedOutput()
				ts.Logf("%s", out)
				if (err != nil) != neg {
					ts.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				var left []string
				for _, pattern := range []string{"/sys/fs/cgroup/*/strata-%d-*", "/sys/fs/cgroup/strata-%d-*"} {
					m, _ := filepath.Glob(fmt.Sprintf(pattern, cmd.Process.Pid))
					left = append(left, m...)
				}
				if len(left) > 0 {
					ts.Fatalf("cgroups left after the run: %v", left)
				}
			},
			// freeport VAR [NEXT]: a TCP port of 127.0.0.1 that nothing
			// listens on and no other test is handed until this story
			// ends (internal/testport); with NEXT, NEXT is the port after
			// it, the story's too (a range of two, for -p FIRST-NEXT:80).
			"freeport": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 && len(args) != 2 {
					ts.Fatalf("usage: freeport VAR [NEXT]")
				}
				port, release, err := testport.Reserve(len(args))
				ts.Check(err)
				ts.Defer(release)
				ts.Setenv(args[0], strconv.Itoa(port))
				if len(args) == 2 {
					ts.Setenv(args[1], strconv.Itoa(port+1))
				}
			},
			// busybox DIR: a busybox root filesystem for import.
			"busybox": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: busybox DIR")
				}
				ts.Check(testrootfs.BuildBusybox(ts.MkAbs(args[0])))
			},
		},
	}
}

var idPattern = regexp.MustCompile(`"id": "(sha256:[0-9a-f]{64})"`)

func firstID(s string) string {
	m := idPattern.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return
	}
	var targets []string
	for _, m := range mounts {
		if strings.HasPrefix(m.Mountpoint, dir+"/") {
			targets = append(targets, m.Mountpoint)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(targets)))
	for _, t := range targets {
		unix.Unmount(t, unix.MNT_DETACH)
	}
}

// killProcessesIn SIGKILLs every process whose working directory is dir
// or below it: what a story started in the background and left running.
func killProcessesIn(dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink(p + "/cwd"); err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// killSupervisorsUnder SIGKILLs the supervisors of runs a story left up;
// their containers die with them (parent-death signals), and the kernel
// removes their network links with their namespaces.
func killSupervisorsUnder(dir string) {
	pids, _ := filepath.Glob(filepath.Join(dir, "*", ".strata", "services", "*", "supervisor.pid"))
	more, _ := filepath.Glob(filepath.Join(dir, ".strata", "services", "*", "supervisor.pid"))
	for _, f := range append(pids, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			continue
		}
		// Only if it still is that run's strata (pids are reused).
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if strings.HasPrefix(cwd, dir) {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}
