package benchsmoke

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
)

// TestBenchScripts runs scripts/bench.sh with BENCH_SMOKE=1: each bench
// one round on a busybox tree, the Go benchmarks once on small inputs,
// the report and its chart written here. It checks that every bench ran
// to its end and read numbers where it reads figures, not how fast
// anything is.
func TestBenchScripts(t *testing.T) {
	top := projectTop(t, "the benches mount filesystems and run containers")
	dir := t.TempDir()
	strata := buildStrata(t, top, dir)
	tree := smallTree(t, dir)
	out, svg := filepath.Join(dir, "benchmarks.md"), filepath.Join(dir, "bench.svg")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := scriptCommand(ctx, top, "bench.sh", strata)
	cmd.Env = append(os.Environ(), "BENCH_SMOKE=1", "STRATA_BENCH_TREE="+tree, "BENCH_OUT="+out, "BENCH_SVG="+svg)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	err := cmd.Run()
	b, rerr := os.ReadFile(out) // written whether or not a bench failed
	report := string(b)
	if err != nil {
		t.Fatalf("BENCH_SMOKE=1 scripts/bench.sh: %v\n%s\nits report:\n%s", err, log.String(), report)
	}
	if rerr != nil {
		t.Fatalf("%v\n%s", rerr, log.String())
	}
	checkReport(t, top, report)
	if s, err := os.ReadFile(svg); err != nil || !bytes.Contains(s, []byte("<rect x=")) {
		t.Errorf("the chart has no bars (%v):\n%s", err, s)
	}
	if t.Failed() {
		t.Logf("bench.sh said:\n%s\nits report:\n%s", log.String(), report)
		return
	}
	// What each took (go test -v), for whoever keeps make test short.
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.HasPrefix(l, "bench/") && strings.HasSuffix(l, " s") {
			t.Log(l)
		}
	}
}

// checkReport: a section from each executable bench/*.sh, none failed,
// and a row of the goals table for each goal (the rows come from the
// chart figures the benches append, strata's against a peer's).
func checkReport(t *testing.T, top, report string) {
	t.Helper()
	scripts, err := filepath.Glob(filepath.Join(top, "bench", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		if fi, err := os.Stat(s); err != nil || fi.Mode()&0o111 == 0 {
			continue
		}
		name := "bench/" + filepath.Base(s)
		if !strings.Contains(report, "<!-- "+name+" -->") {
			t.Errorf("the report has no section of %s", name)
		}
		if strings.Contains(report, "_"+name+" failed in this run") {
			t.Errorf("%s failed", name)
		}
	}
	for _, goal := range []string{
		"start to exit of /bin/true", "start to exit of /bin/true, network none",
		"exec of /bin/true into a running container", "import (create the layer)",
		"cold checkout", "cold checkout, 100,000 small files", "COPY of usr/share (build)",
		"run -d to first HTTP response", "push", "clone", "commit of 100,000 new files",
	} {
		if !strings.Contains(report, "\n| "+goal+" | ") {
			t.Errorf("the goals table has no row %q", goal)
		}
	}
	if !strings.Contains(report, "| BenchmarkBisectRun64 | ") {
		t.Errorf("the Go benchmarks table has no BenchmarkBisectRun64")
	}
	// What a tool prints goes to the report only when a bench means it:
	// a digest on a line of its own is a command's output let through.
	if d := regexp.MustCompile(`(?m)^sha256:[0-9a-f]{64}$`).FindString(report); d != "" {
		t.Errorf("the report has a bare digest line (a tool's output let through): %s", d)
	}
}

// buildStrata builds the two binaries as make build does (the front and
// projectTop is the repository's top directory; the scripts need root
// (why says for what).
func projectTop(t *testing.T, why string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root: " + why)
	}
	top, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// scriptCommand runs scripts/NAME from top, stopped as a group by
// SIGTERM when ctx ends: the scripts' traps unmount and remove what they
// made.
func scriptCommand(ctx context.Context, top, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(top, "scripts", name), args...)
	cmd.Dir = top
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	return cmd
}

// strata-full beside it) into dir, and returns the front's path.
func buildStrata(t *testing.T, top, dir string) string {
	t.Helper()
	strata := filepath.Join(dir, "strata")
	for _, args := range [][]string{
		{"build", "-o", filepath.Join(dir, "strata-full"), "./cmd/strata"},
		{"build", "-tags", "strata_front", "-o", strata, "./cmd/strata"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = top
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return strata
}

// smallTree is the benches' tree: a busybox root with a small usr/share
// (bench/build.sh copies it), marked complete as scripts/bench-tree.sh
// marks the Debian tree it makes.
func smallTree(t *testing.T, dir string) string {
	t.Helper()
	tree := filepath.Join(dir, "tree")
	if err := testrootfs.BuildBusybox(tree); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"usr/share/doc/busybox/README", "usr/share/misc/magic", ".complete"} {
		p := filepath.Join(tree, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}
