package exec

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
)

const specEnv = "STRATA_EXEC_TEST_SPEC"

// specRunnerMain runs the JSON Spec in specEnv (stdio: this process's) and
// prints "code=N err=E" last: the test binary as an unprivileged strata.
func specRunnerMain() {
	js := os.Getenv(specEnv)
	if js == "" {
		return
	}
	var spec Spec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		fmt.Println("bad spec:", err)
		os.Exit(2)
	}
	spec.Stdout, spec.Stderr = os.Stdout, os.Stdout
	code, err := Run(context.Background(), spec)
	fmt.Printf("code=%d err=%v\n", code, err)
	os.Exit(0)
}

// runAsUser runs spec through a copy of this test binary as uid/gid 1000.
func runAsUser(t *testing.T, dir string, spec Spec) string {
	t.Helper()
	js, _ := json.Marshal(spec)
	cmd := osexec.Command(filepath.Join(dir, "exec.test"))
	cmd.Env = []string{specEnv + "=" + string(js), "PATH=/usr/bin:/bin", "TMPDIR=" + filepath.Join(dir, "tmp")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("runner: %v: %s", err, out)
	}
	return string(out)
}

// rootlessDir holds a world-readable busybox root, a copy of this binary
// and a temp dir owned by uid 1000.
func rootlessDir(t *testing.T) string {
	dir := t.TempDir()
	for p := dir; p != "/"; p = filepath.Dir(p) {
		if p == os.TempDir() {
			break
		}
		os.Chmod(p, 0o755)
	}
	if err := testrootfs.BuildBusybox(filepath.Join(dir, "rootfs")); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	if err := testrootfs.CopyExecutable(self, filepath.Join(dir, "exec.test")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "tmp"), 0o700)
	os.Chown(filepath.Join(dir, "tmp"), 1000, 1000)
	return dir
}

func TestRootless(t *testing.T) {
	dir := rootlessDir(t)
	root := filepath.Join(dir, "rootfs")
	out := runAsUser(t, dir, Spec{Root: root, Network: NetworkNone, Hostname: "rl",
		Args: []string{"sh", "-c", `id -u; cat /proc/self/uid_map | tr -s ' '; hostname; echo $$; ls /sys/class/net; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t'; mount -t tmpfs none /tmp 2>/dev/null || echo mount-denied`}})
	want := "0\n 0 1000 1\nrl\n1\nlo\nCapEff:00000000a80425fb\nNoNewPrivs:1\nSeccomp:2\nmount-denied\ncode=0 err=<nil>\n"
	if out != want {
		t.Fatalf("rootless run:\n%s\nwant:\n%s", out, want)
	}
	// Host network: /sys is the host's, bound read-only.
	out = runAsUser(t, dir, Spec{Root: root, Args: []string{"sh", "-c", "ls /sys/class/net | grep -c . ; touch /sys/x 2>/dev/null || echo ro"}})
	if !strings.HasSuffix(out, "ro\ncode=0 err=<nil>\n") || strings.HasPrefix(out, "1\n") {
		t.Fatalf("rootless host network: %q", out)
	}
	// What rootless cannot do fails with one line that says why.
	out = runAsUser(t, dir, Spec{Root: root, User: "1000", Args: []string{"true"}})
	if !strings.HasPrefix(out, "code=125 err=start container: rootless: user \"1000\"") || strings.Count(out, "\n") != 1 {
		t.Errorf("rootless user 1000: %q", out)
	}
	// On v1, and on v2 where the top of the hierarchy belongs to root
	// (make test-vm), uid 1000 has no cgroup to put limits in.
	out = runAsUser(t, dir, Spec{Root: root, Resources: Resources{PidsLimit: 10}, Args: []string{"true"}})
	if !strings.HasPrefix(out, "code=125 err=start container: rootless: resource limits need a cgroup v2 subtree") {
		t.Errorf("rootless limits: %q", out)
	}
}

// startAsUser starts spec as uid 1000 (a rootless container) in the
// background, as runAsUser does, and returns the pid of the process that
// runs it; it is killed when the test ends.
func startAsUser(t *testing.T, dir string, spec Spec) int {
	t.Helper()
	js, _ := json.Marshal(spec)
	cmd := osexec.Command(filepath.Join(dir, "exec.test"))
	cmd.Env = []string{specEnv + "=" + string(js), "PATH=/usr/bin:/bin", "TMPDIR=" + filepath.Join(dir, "tmp")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}
