package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/strata-sh/strata/internal/kernellog"
)

// TestCommitFromRunningService: commit --from of a running --rev run
// freezes it, commits what it wrote as a child of its revision, thaws it,
// and the service goes on serving from the same tree, its pid unchanged,
// without its upper ever being mounted a second time.
func TestCommitFromRunningService(t *testing.T) {
	dir := busyboxRepo(t)
	inUse := kernellog.Watch(t, kernellog.InUse)
	// Checked last, after rm -f has stopped and removed the run.
	t.Cleanup(func() {
		if got := inUse(); got != 0 {
			t.Errorf("the kernel logged %d 'upperdir is in-use' lines", got)
		}
	})
	port := strconv.Itoa(freePort(t))
	startService(t, dir, "--name", "web", "-p", "127.0.0.1:"+port+":80", "--rev", "main", "--", "sh", "-c",
		"mkdir -p /www; echo page one > /www/index.html; httpd -f -p 80 -h /www & wait")
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
}
