package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testmountns"
)

// TestCommitFromRunningService: commit --from of a running --rev run
// freezes it, commits what it wrote as a child of its revision, thaws it,
// and the service goes on serving from the same tree, its pid unchanged,
// without its upper ever being mounted a second time.
func TestCommitFromRunningService(t *testing.T) {
	dir := busyboxRepo(t)
	port := strconv.Itoa(freePort(t))
	startService(t, dir, "--name", "web", "-p", "127.0.0.1:"+port+":80", "--rev", "main", "--", "sh", "-c",
		"mkdir -p /www; echo page one > /www/index.html; httpd -f -p 80 -h /www & wait")
	// Every mount of the run's tree from here on: none, its supervisor's
	// stays the only one.
	mounts := watchOverlayMounts(t, dir, svcState1(t, dir, "web").Tree)
	defer func() {
		if got := mounts(); got != 0 {
			t.Errorf("the run's tree was mounted %d more times while it ran (overlayfs: upperdir is in-use)", got)
		}
	}()
	get := func() string {
		resp, err := http.Get("http://127.0.0.1:" + port + "/")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	eventually(t, "httpd answers", func() bool { return get() == "page one\n" })
	pid := svcState1(t, dir, "web").Pid

	out := mustStrata(t, dir, "commit", "--from", "web", "-m", "web while running")
	m := regexp.MustCompile(`^\[detached HEAD ([0-9a-f]+)\] web while running\n 2 paths changed\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("commit --from web:\n%s", out)
	}
	if got := get(); got != "page one\n" {
		t.Fatalf("after the commit the service answers %q", got)
	}
	st := svcState1(t, dir, "web")
	if st.Pid != pid || syscall.Kill(pid, 0) != nil || st.Status != "running" {
		t.Fatalf("the run did not go on: pid %d -> %d, status %s", pid, st.Pid, st.Status)
	}
	if !strings.HasPrefix(st.Commit, "sha256:"+m[1]) {
		t.Fatalf("the run's commit is %s, want the new %s", st.Commit, m[1])
	}
	show := mustStrata(t, dir, "show", m[1])
	if !strings.Contains(show, "/www/index.html") && !strings.Contains(show, "Parent:") {
		t.Fatalf("show:\n%s", show)
	}
	if got := mustStrata(t, dir, "diff", "--name-status", "main", m[1]); !strings.Contains(got, "/www/index.html") {
		t.Fatalf("diff main %s:\n%s", m[1], got)
	}
	// Not mounted here: the tree lives in the supervisor's namespace only.
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), "svc-web") {
		t.Fatalf("the run's tree is mounted in the caller's namespace:\n%s", b)
	}
	outb, err := strataCmd(dir, "commit", "--from", "web", "-m", "again").CombinedOutput()
	if err == nil || !strings.Contains(string(outb), "nothing to commit") {
		t.Fatalf("a second commit with no change: %v %q", err, outb)
	}
	// The commit inside the supervisor's namespace starts again where the
	// user stood: a relative -C DIR still names the repository there.
	outb, err = strataCmd(filepath.Dir(dir), "-C", filepath.Base(dir), "commit", "--from", "web", "-m", "again").CombinedOutput()
	if err == nil || !strings.Contains(string(outb), "nothing to commit") {
		t.Fatalf("commit --from with a relative -C: %v %q", err, outb)
	}
}

// TestPsThawsWhatAKilledCommitFroze: a commit SIGKILLed while it holds a
// service frozen leaves the cgroup frozen and its freeze lock free. The
// test makes that state directly (the kill cannot be timed into the
// freeze window); the next `strata ps` thaws the service and says so.
func TestPsThawsWhatAKilledCommitFroze(t *testing.T) {
	// With the machine's freeze locks, any strata ps, commit or gc of
	// another test process could thaw it before this one's ps did.
	if !testmountns.Inside(t) {
		return
	}
	testmountns.Tmpfs(t, "/run/strata/freeze")
	dir := busyboxRepo(t)
	port := strconv.Itoa(freePort(t))
	startService(t, dir, "--name", "web", "-p", "127.0.0.1:"+port+":80", "--rev", "main", "--", "sh", "-c",
		"mkdir -p /www; echo up > /www/index.html; httpd -f -p 80 -h /www & wait")
	get := func() string {
		// A frozen server accepts (the kernel does) but never answers.
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://127.0.0.1:" + port + "/")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	eventually(t, "httpd answers", func() bool { return get() == "up\n" })
	state, on, off, id := freezerOf(t, svcState1(t, dir, "web").Pid)
	if err := os.WriteFile(state, []byte(on), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(state, []byte(off), 0) })
	if err := os.MkdirAll("/run/strata/freeze", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/run/strata/freeze/"+id+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := strataCmd(dir, "ps")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "web") {
		t.Fatalf("ps: %v\n%s%s", err, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), "thawed a container that a killed commit left frozen") {
		t.Errorf("ps said nothing of the thaw: %q", stderr.String())
	}
	if get() != "up\n" {
		t.Fatal("the service does not answer after ps")
	}
	if _, err := os.Stat("/run/strata/freeze/" + id + ".lock"); !os.IsNotExist(err) {
		t.Errorf("the freeze lock stays: %v", err)
	}
}

// freezerOf returns the freezer file of the cgroup process pid is in, the
// values that freeze and thaw it, and the container id in its name.
func freezerOf(t *testing.T, pid int) (file, on, off, id string) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var path string
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok && path == "" {
			path, file, on, off = p, "/sys/fs/cgroup"+p+"/cgroup.freeze", "1", "0"
		}
		if _, p, ok := strings.Cut(l, ":freezer:"); ok {
			path, file, on, off = p, "/sys/fs/cgroup/freezer"+p+"/freezer.state", "FROZEN", "THAWED"
			break
		}
	}
	m := regexp.MustCompile(`/strata-[0-9]+-([^/]+)$`).FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("pid %d is in no strata cgroup:\n%s", pid, b)
	}
	return file, on, off, m[1]
}

// TestCommitFromIgnoresAStaleSupervisorPid: commit --from of a running run
// enters the mount namespace of the process that holds the run's lock,
// not of the recorded supervisor_pid. That record names a dead supervisor
// until a new one rewrites it, and its pid may by then be another
// container's process: its mount namespace would hold the "strata" that
// runs there as root. Here the record is pointed at another run's
// container, in whose tree no strata lies at the host's path.
func TestCommitFromIgnoresAStaleSupervisorPid(t *testing.T) {
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "a", "--rev", "main", "--", "sh", "-c", "echo x > /a; exec sleep 1000")
	startService(t, dir, "--name", "decoy", "--rev", "main", "--", "sleep", "1000")
	eventually(t, "both run", func() bool {
		return svcState1(t, dir, "a").Status == "running" && svcState1(t, dir, "decoy").Pid != 0
	})
	st := svcState1(t, dir, "a")
	st.SupPid = svcState1(t, dir, "decoy").Pid
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".strata", "services", "a", "state.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Bounded: the wrong pid made stop wait for ever.
	bounded := func(args ...string) (string, error) {
		cmd := strataCmd(dir, args...)
		cmd.WaitDelay = time.Second // its children may hold the output
		timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := bounded("commit", "--from", "a", "-m", "a's state"); err != nil || !strings.Contains(out, "a's state") {
		t.Fatalf("commit --from a: %v\n%s", err, out)
	}
	// stop finds the container by the lock's holder too.
	if out, err := bounded("stop", "-t", "0", "a"); err != nil {
		t.Fatalf("stop a: %v\n%s", err, out)
	}
}
