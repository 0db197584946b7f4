package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testport"
	"github.com/strata-sh/strata/repo"
)

// freePort returns a TCP port of 127.0.0.1 nothing listens on, that no
// other test (nor the kernel, for a ":0" listener or a connect) is handed
// until this one ends (internal/testport).
func freePort(t *testing.T) int {
	t.Helper()
	return testport.For(t, 1)
}

// startService runs 'strata run -d' and removes the run (rm -f) when the
// test ends, however it ends.
func startService(t *testing.T, dir string, args ...string) string {
	t.Helper()
	name := strings.TrimSpace(mustStrata(t, dir, append([]string{"run", "-d"}, args...)...))
	t.Cleanup(func() { strataCmd(dir, "rm", "-f", name).Run() })
	return name
}

func svcState1(t *testing.T, dir, name string) svcState {
	t.Helper()
	var st svcState
	b, err := os.ReadFile(filepath.Join(dir, ".strata", "services", name, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// eventually polls cond (a wait for something to happen, not a timing
// assertion) and fails after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool, show ...func() any) {
	t.Helper()
	for deadline := time.Now().Add(40 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			if len(show) > 0 {
				t.Fatalf("gave up waiting: %s: %v", what, show[0]())
			}
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

// leftovers lists what of a run is still on the machine: mounts under the
// repository, cgroups and processes of the container id.
func leftovers(dir, id string) []string {
	var out []string
	b, _ := os.ReadFile("/proc/mounts")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, filepath.Join(dir, ".strata")) {
			out = append(out, "mount: "+line)
		}
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/strata-*-" + id)
	more, _ := filepath.Glob("/sys/fs/cgroup/unified/strata-*-" + id)
	for _, c := range append(cgs, more...) {
		out = append(out, "cgroup: "+c)
	}
	// The supervisor and the watchdog work in the repository; the
	// container's processes are in its cgroup (checked above).
	procs, _ := filepath.Glob("/proc/[0-9]*/cwd")
	for _, p := range procs {
		if cwd, _ := os.Readlink(p); cwd == dir || strings.HasPrefix(cwd, dir+"/") {
			cl, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
			out = append(out, "process: "+p+" "+strings.ReplaceAll(string(cl), "\x00", " "))
		}
	}
	sort.Strings(out)
	return out
}

// TestServiceHTTPD: a busybox httpd as a detached run answers HTTP, logs
// its output, runs its TERM trap on stop (the exit code proves it), and
// after rm nothing of it is left.
func TestServiceHTTPD(t *testing.T) {
	dir := busyboxRepo(t)
	port := strconv.Itoa(freePort(t))
	script := `trap 'echo bye; exit 3' TERM
mkdir -p /www; echo hello from httpd > /www/index.html
echo started; httpd -f -p 80 -h /www & wait`
	began := time.Now()
	name := startService(t, dir, "--name", "web", "-p", "127.0.0.1:"+port+":80", "--rev", "main", "--", "sh", "-c", script)
	if name != "web" {
		t.Fatalf("run -d printed %q, want the name", name)
	}
	var body string
	eventually(t, "httpd answers", func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == 200
	})
	t.Logf("run -d to first HTTP response: %v", time.Since(began))
	if body != "hello from httpd\n" {
		t.Fatalf("body %q", body)
	}
	if out := mustStrata(t, dir, "ps"); !strings.Contains(out, "web") || !strings.Contains(out, "Up ") {
		t.Fatalf("ps:\n%s", out)
	}
	if out := mustStrata(t, dir, "logs", "web"); out != "started\n" {
		t.Fatalf("logs: %q", out)
	}
	st := svcState1(t, dir, "web")
	if rss := supervisorRSS(st.SupPid); rss > 0 {
		t.Logf("supervisor RSS: %d kB", rss)
	}
	mustStrata(t, dir, "stop", "web")
	if out := mustStrata(t, dir, "wait", "web"); out != "3\n" {
		t.Fatalf("wait after stop: %q, want the TERM trap's 3", out)
	}
	if out := mustStrata(t, dir, "logs", "web"); out != "started\nbye\n" {
		t.Fatalf("logs after stop: %q", out)
	}
	if out := mustStrata(t, dir, "ps", "-a"); !strings.Contains(out, "Exited (3)") {
		t.Fatalf("ps -a:\n%s", out)
	}
	mustStrata(t, dir, "rm", "web")
	cid := containerIDFor(t, dir, "web")
	var left []string
	eventually(t, "nothing left after rm", func() bool {
		left = leftovers(dir, cid)
		return len(left) == 0
	}, func() any { return left })
	if _, err := os.Stat(filepath.Join(dir, ".strata", "services", "web")); !os.IsNotExist(err) {
		t.Fatalf("run directory left: %v", err)
	}
	if out, err := strataCmd(dir, "logs", "web").CombinedOutput(); err == nil || !strings.Contains(string(out), `no run named "web"`) {
		t.Fatalf("logs after rm: %v %s", err, out)
	}
}

func containerIDFor(t *testing.T, dir, name string) string {
	t.Helper()
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return containerID(r, name)
}

func supervisorRSS(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestServiceStopEscalates: a run that ignores SIGTERM is killed after -t 1.
func TestServiceStopEscalates(t *testing.T) {
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "stubborn", "--rev", "main", "--", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
	mustStrata(t, dir, "stop", "-t", "1", "stubborn")
	if out := mustStrata(t, dir, "wait", "stubborn"); out != "137\n" {
		t.Fatalf("wait: %q, want 137 (SIGKILL)", out)
	}
}

// TestServiceRestartOnFailure: on-failure:3 restarts exactly three times.
func TestServiceRestartOnFailure(t *testing.T) {
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "flaky", "--restart", "on-failure:3", "--rev", "main", "--", "sh", "-c", "echo try; exit 5")
	if out := mustStrata(t, dir, "wait", "flaky"); out != "5\n" {
		t.Fatalf("wait: %q", out)
	}
	if out := mustStrata(t, dir, "logs", "flaky"); out != strings.Repeat("try\n", 4) {
		t.Fatalf("logs: %q, want one try and three restarts", out)
	}
	if st := svcState1(t, dir, "flaky"); st.Restarts != 3 {
		t.Fatalf("restarts %d", st.Restarts)
	}
}

// TestServiceSupervisorKilled: SIGKILL of the supervisor takes the
// container with it, leaves nothing behind, and ps reports it exited.
func TestServiceSupervisorKilled(t *testing.T) {
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "victim", "--rev", "main", "--", "sh", "-c", "echo x > /changed; exec sleep 1000")
	st := svcState1(t, dir, "victim")
	if err := syscall.Kill(st.SupPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cid := containerIDFor(t, dir, "victim")
	eventually(t, "container gone", func() bool { return syscall.Kill(st.Pid, 0) != nil })
	if st.Pid == 0 {
		t.Fatal("no container pid recorded")
	}
	var left []string
	eventually(t, "nothing left after the supervisor's death", func() bool {
		left = leftovers(dir, cid)
		return len(left) == 0
	}, func() any { return left })
	if out := mustStrata(t, dir, "ps", "-a"); !strings.Contains(out, "Exited (137)") {
		t.Fatalf("ps -a:\n%s", out)
	}
	if out := mustStrata(t, dir, "ps"); strings.Contains(out, "victim") {
		t.Fatalf("ps lists a dead run:\n%s", out)
	}
}

// TestServiceErrors: each gets one line and exit 1; nothing half-started.
// A run that cannot start (its command missing, its port taken) leaves
// neither its directory nor its work tree (upper and work included).
func TestServiceErrors(t *testing.T) {
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "one", "--rev", "main", "--", "sleep", "1000")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := fmt.Sprintf("127.0.0.1:%d:80", busy.Addr().(*net.TCPAddr).Port)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "-d", "--name", "one", "--rev", "main", "--", "true"}, 125, `strata: run: the name "one" is already in use (strata rm one)`},
		{[]string{"stop", "nosuch"}, 1, `strata: stop: no run named "nosuch"`},
		{[]string{"rm", "one"}, 1, "strata: rm: one is running; stop it first or use rm -f"},
		{[]string{"run", "-d", "--name", "bad", "--rev", "main", "--", "no-such-command"}, 127, "strata: "},
		{[]string{"run", "-d", "--name", "busy", "-p", taken, "--rev", "main", "--", "true"}, 125, "strata: "},
	} {
		out, err := strataCmd(dir, c.args...).CombinedOutput()
		code := 0
		if err != nil {
			code = err.(interface{ ExitCode() int }).ExitCode()
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if code != c.code || len(lines) != 1 || !strings.HasPrefix(lines[0], c.msg) {
			t.Errorf("strata %s: exit %d, %q; want %d, %q", strings.Join(c.args, " "), code, out, c.code, c.msg)
		}
	}
	for _, name := range []string{"bad", "busy"} {
		for _, left := range []string{filepath.Join("services", name), filepath.Join("worktrees", "svc-"+name)} {
			if _, err := os.Stat(filepath.Join(dir, ".strata", left)); !os.IsNotExist(err) {
				t.Errorf("a failed start left .strata/%s: %v", left, err)
			}
		}
	}
}

// staticInit builds the small init statically (go test binaries are
// dynamic, and strata exec runs the init inside the container, where the
// host's loader is not) and makes strata processes of this test use it.
func staticInit(t *testing.T) {
	t.Helper()
	bin := os.Getenv("STRATA_TEST_INIT_BINARY")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "strata-init")
		build := exec.Command("go", "build", "-tags", "strata_init", "-o", bin, "../../exec/cmd/strata-init")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build strata-init: %v\n%s", err, out)
		}
	}
	t.Setenv("STRATA_TEST_INIT_BINARY", bin)
}

// TestServiceExec: exec joins a running run (its processes, its cgroup,
// the same capabilities, seccomp and no_new_privs) and refuses a stopped one.
func TestServiceExec(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	port := strconv.Itoa(freePort(t))
	startService(t, dir, "--name", "web", "--rev", "main", "--", "sh", "-c", "mkdir -p /www; httpd -f -p "+port+" -h /www & wait")
	eventually(t, "httpd runs", func() bool {
		out, _ := strataCmd(dir, "exec", "web", "ps").CombinedOutput()
		return strings.Contains(string(out), "httpd -f -p "+port)
	})
	out := mustStrata(t, dir, "exec", "web", "ps")
	if !strings.Contains(out, "    1 root     sh -c") {
		t.Fatalf("exec ps does not list the run's pid 1:\n%s", out)
	}
	st := svcState1(t, dir, "web")
	want := statusFields(t, "/proc/"+strconv.Itoa(st.Pid)+"/status")
	got := mustStrata(t, dir, "exec", "web", "cat", "/proc/self/status")
	for _, k := range []string{"CapEff", "CapBnd", "CapPrm", "NoNewPrivs", "Seccomp"} {
		if !strings.Contains(got, k+":\t"+want[k]+"\n") {
			t.Errorf("%s: joined process has not %q\n%s", k, want[k], got)
		}
	}
	if want["Seccomp"] != "2" || want["NoNewPrivs"] != "1" {
		t.Fatalf("the run itself is not confined: %v", want)
	}
	// Same cgroup as the run's pid 1.
	cg, _ := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/cgroup")
	if !strings.Contains(string(cg), containerIDFor(t, dir, "web")) {
		t.Fatalf("run's cgroup: %s", cg)
	}
	if got := mustStrata(t, dir, "exec", "web", "cat", "/proc/self/cgroup"); !strings.Contains(got, "devices:/\n") {
		t.Fatalf("joined process is not at the root of the run's cgroup namespace:\n%s", got)
	}
	// A relative command is found from -w, as docker exec finds it.
	if got := mustStrata(t, dir, "exec", "-w", "/bin", "web", "./echo", "rel"); got != "rel\n" {
		t.Errorf("exec -w /bin web ./echo rel: %q", got)
	}
	cmd := strataCmd(dir, "exec", "web", "sh", "-c", "exit 4")
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 4 {
		t.Fatalf("exit code %v, want the command's 4", err)
	}
	mustStrata(t, dir, "stop", "-t", "1", "web")
	outb, err := strataCmd(dir, "exec", "web", "true").CombinedOutput()
	if err == nil || err.(*exec.ExitError).ExitCode() != 1 || string(outb) != "strata: exec: web is not running\n" {
		t.Fatalf("exec into a stopped run: %v %q", err, outb)
	}
}

// TestServiceExecUserEnvWorkdir: exec takes the run's user and
// environment unless -u and -e say otherwise, -w sets the directory, and
// a directory that is not there fails with 125 in one line (exec's help).
func TestServiceExecUserEnvWorkdir(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "app", "-u", "1000:1000", "-e", "FOO=run", "-w", "/etc", "--rev", "main", "--", "sleep", "1000")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"app", "sh", "-c", "id -u; id -g; echo $FOO; pwd"}, "1000\n1000\nrun\n/etc\n"},
		{[]string{"-u", "0", "app", "id", "-u"}, "0\n"},
		{[]string{"-e", "FOO=exec", "-e", "BAR=1", "app", "sh", "-c", "echo $FOO $BAR"}, "exec 1\n"},
		{[]string{"-w", "/tmp", "app", "pwd"}, "/tmp\n"},
	} {
		if got := mustStrata(t, dir, append([]string{"exec"}, tc.args...)...); got != tc.want {
			t.Errorf("exec %q: %q, want %q", tc.args, got, tc.want)
		}
	}
	out, err := strataCmd(dir, "exec", "-w", "/nonexistent", "app", "true").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 125 || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "/nonexistent") {
		t.Fatalf("exec -w /nonexistent: %v %q, want 125 and one line naming the directory", err, out)
	}
}

// TestServiceLogRotates: a run that writes without end cannot fill the
// host's disk with its log: beyond logMaxSize the log moves to log.1, one
// generation is kept, and logs prints the newest lines.
func TestServiceLogRotates(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	line := strings.Repeat("a", 200)
	// 100,000 lines of 201 bytes: 20 MB, 23.7 MB as records.
	startService(t, dir, "--name", "chatty", "--rev", "main", "--", "sh", "-c", "yes "+line+" | head -n 100000; echo done")
	mustStrata(t, dir, "wait", "chatty")
	logDir := filepath.Join(dir, ".strata", "services", "chatty")
	const record = 300 // the longest record written: a time, a stream, a line
	for name, min := range map[string]int64{"log": 0, "log.1": logMaxSize} {
		st, err := os.Stat(filepath.Join(logDir, name))
		if err != nil || st.Size() < min || st.Size() > logMaxSize+record {
			t.Fatalf("%s: %v, size outside %d..%d", name, err, min, logMaxSize+record)
		}
	}
	if _, err := os.Stat(filepath.Join(logDir, "log.2")); err == nil {
		t.Fatal("a second old generation, log.2, is kept")
	}
	if out := mustStrata(t, dir, "logs", "--tail", "2", "chatty"); out != line+"\ndone\n" {
		t.Fatalf("logs --tail 2: %q", out)
	}
}

func statusFields(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":\t"); ok {
			m[k] = v
		}
	}
	return m
}

// TestInitVariableOnlyInTests: strata itself (not a test binary) ignores
// STRATA_TEST_INIT_BINARY, which would otherwise let a variable in root's
// environment choose the init that confines every container.
func TestInitVariableOnlyInTests(t *testing.T) {
	dir := busyboxRepo(t)
	bin := filepath.Join(t.TempDir(), "strata")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build strata: %v\n%s", err, out)
	}
	run := exec.Command(bin, "-C", dir, "run", "--rev", "main", "--", "/bin/echo", "confined")
	run.Env = append(os.Environ(), "STRATA_TEST_INIT_BINARY="+filepath.Join(t.TempDir(), "planted"))
	out, err := run.CombinedOutput()
	if err != nil || string(out) != "confined\n" {
		t.Fatalf("strata run with STRATA_TEST_INIT_BINARY set = %v, %q; want the variable ignored", err, out)
	}
}
