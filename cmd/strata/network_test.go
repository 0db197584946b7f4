package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// pastaFor lists the pasta processes that publish host port port.
func pastaFor(port int) []int {
	var pids []int
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, _ := os.ReadFile(p)
		args := strings.Split(string(b), "\x00")
		if args[0] != "pasta" || !strings.Contains(string(b), fmt.Sprintf("/%d:", port)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// netnsHolders lists the processes in the network namespace ns.
func netnsHolders(ns string) []string {
	var out []string
	links, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	for _, l := range links {
		if v, _ := os.Readlink(l); v == ns {
			out = append(out, l)
		}
	}
	return out
}

// TestServicePrivateSupervisorKilled: a private-network service answers on
// its published port; SIGKILL of its supervisor leaves no pasta, no
// network namespace, no cgroup, mount or process.
func TestServicePrivateSupervisorKilled(t *testing.T) {
	dir := busyboxRepo(t)
	port := freePort(t)
	t.Cleanup(func() { // should the test fail midway
		for _, pid := range pastaFor(port) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	startService(t, dir, "--name", "priv", "--network", "private", "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		"--rev", "main", "--", "sh", "-c", "mkdir -p /www; echo private > /www/index.html; exec httpd -f -p 80 -h /www")
	var body string
	eventually(t, "httpd answers on the published port", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == 200
	})
	if body != "private\n" {
		t.Fatalf("body %q", body)
	}
	st := svcState1(t, dir, "priv")
	if want := fmt.Sprintf("127.0.0.1:%d->80/tcp", port); len(st.Ports) != 1 || st.Ports[0] != want {
		t.Fatalf("ports %q, want %q", st.Ports, want)
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); ns == self {
		t.Fatalf("the service shares the host's network namespace %s", ns)
	}
	if p := pastaFor(port); len(p) != 1 {
		t.Fatalf("pasta processes for port %d: %v, want one", port, p)
	}
	cid := containerIDFor(t, dir, "priv")
	if err := syscall.Kill(st.SupPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pasta gone", func() bool { return len(pastaFor(port)) == 0 }, func() any { return pastaFor(port) })
	eventually(t, "network namespace gone", func() bool { return len(netnsHolders(ns)) == 0 }, func() any { return netnsHolders(ns) })
	var left []string
	eventually(t, "nothing left after the supervisor's death", func() bool {
		left = leftovers(dir, cid)
		return len(left) == 0
	}, func() any { return left })
}
