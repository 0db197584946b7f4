package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/repo"
)

// TestServiceAcrossCommits: a busybox httpd started by `strata run` in the
// checkout serves the same page across 10 commits. A client in the same
// container fetches the page whenever the test asks (a file /goN), and
// writes what it got to /gotN; every commit takes those files in.
func TestServiceAcrossCommits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (overlay mounts, namespaces): run the tests as root")
	}
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	if err := testrootfs.BuildBusybox(rootfs); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "www", "index.html"), []byte("the page\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "env")
	if _, err := repo.Init(dir, "main"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountUnder(dir) })
	mustStrata(t, dir, "import", rootfs, "-m", "base")
	mustStrata(t, dir, "checkout", "main")
	const rounds = 10
	script := fmt.Sprintf(`/bin/busybox httpd -p 127.0.0.1:8080 -h /www || exit 1
i=0
while [ $i -le %d ]; do
	if [ -e /go$i ]; then
		/bin/busybox wget -q -O /got$i http://127.0.0.1:8080/index.html 2>/err$i
		touch /done$i
		i=$((i+1))
	fi
	/bin/busybox usleep 10000
done
exec /bin/busybox sleep 60`, rounds)
	run := strataCmd(dir, "run", "--", "/bin/sh", "-c", script)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	root := filepath.Join(dir, "rootfs")
	for i := 0; i <= rounds; i++ {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("go%d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(root, fmt.Sprintf("done%d", i))); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the container never answered", i)
			}
		}
		got, _ := os.ReadFile(filepath.Join(root, fmt.Sprintf("got%d", i)))
		if string(got) != "the page\n" {
			errs, _ := os.ReadFile(filepath.Join(root, fmt.Sprintf("err%d", i)))
			t.Fatalf("round %d: httpd served %q (%s)", i, got, errs)
		}
		if i == rounds {
			break
		}
		out := mustStrata(t, dir, "commit", "-m", fmt.Sprint("round ", i))
		if !strings.Contains(out, "changed") {
			t.Fatalf("round %d: commit said %q", i, out)
		}
		// The commit took this round's files in.
		st := mustStrata(t, dir, "status", "--short")
		if strings.Contains(st, fmt.Sprintf("got%d", i)) {
			t.Fatalf("round %d: status after commit shows %q", i, st)
		}
	}
	// Refused while the service runs, naming it.
	if out, err := strataCmd(dir, "checkout", "--detach", "HEAD~3").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "a container is running in the work tree") {
		t.Fatalf("checkout while httpd runs: %v %s", err, out)
	}
	show := mustStrata(t, dir, "diff", "HEAD~9", "HEAD", "--name-status")
	for i := 1; i < rounds; i++ {
		if !strings.Contains(show, fmt.Sprintf("/got%d\n", i)) {
			t.Fatalf("got%d never committed:\n%s", i, show)
		}
	}
}
