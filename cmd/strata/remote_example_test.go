//go:build !strata_front

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testregistry"
)

// remoteExampleHosts are the places docs/remote.md's example names and
// what stands for them here; a line naming a host not among them (a
// public registry) needs the network and is not run.
var remoteExampleHosts = []string{"registry.example.com", "/mnt/team/envs", "10.0.0.5:5000"}

// TestRemoteExample runs every line of the fenced block of
// docs/remote.md's "By example", in order, as a user would type it in a
// repository with a branch main, a branch dev and a tag v1: against a
// real registry standing for registry.example.com and a directory for
// /mnt/team/envs. Each line must succeed, so that the example cannot
// show a command that fails when it is followed.
func TestRemoteExample(t *testing.T) {
	lines := remoteExampleLines(t, filepath.Join("..", "..", "docs", "remote.md"))
	work := t.TempDir()
	t.Cleanup(func() { unmountUnder(work) })
	reg := testregistry.Start(t)
	dir := busyboxRepo(t)
	env := append(strataOnPath(t, work), "HOME="+work, "TOKEN=secret", "SOURCE_DATE_EPOCH=1700000000")
	if out, err := docShell(dir, env, "strata branch dev && strata tag v1"); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	stand := strings.NewReplacer("registry.example.com", reg.Host, "/mnt/team/envs", filepath.Join(work, "envs"))
	ran := 0
	for _, l := range lines {
		if !namesOnly(l.cmd, remoteExampleHosts) {
			continue // a public registry: the network
		}
		out, err := docShell(dir, env, stand.Replace(l.cmd))
		ran++
		if err != nil {
			t.Errorf("docs/remote.md:%d: %s\n%v\n%s", l.n, l.cmd, err, out)
		} else if len(l.out) > 0 && strings.TrimSpace(out) != stand.Replace(l.out[0]) {
			t.Errorf("docs/remote.md:%d: %s: printed %q, the example shows %q", l.n, l.cmd, out, l.out[0])
		}
	}
	if ran < 25 {
		t.Fatalf("only %d lines of the example ran: the parser lost it", ran)
	}
}

// strataOnPath returns the test's environment with a strata command on
// PATH (in dir/bin) that runs this test binary's main, for docs' lines
// run by sh.
func strataOnPath(t *testing.T, dir string) []string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nSTRATA_TEST_MAIN=1 exec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(bin, "strata"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
}

// docShell runs a doc's command line with sh in dir, with a hang guard.
func docShell(dir string, env []string, line string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-ec", line)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// namesOnly is whether every host or directory that cmd names, as a
// registry repository or a path, is one of known.
func namesOnly(cmd string, known []string) bool {
	for _, w := range strings.Fields(cmd) {
		host, _, _ := strings.Cut(w, "/")
		if strings.Contains(host, ".") && strings.Contains(w, "/") && !strings.HasPrefix(w, ".") && !strings.HasPrefix(w, "'") {
			found := false
			for _, k := range known {
				found = found || strings.HasPrefix(w, k)
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// remoteExampleLines returns the command lines of the first fenced block
// under "## By example": a comment of one word is the output shown.
func remoteExampleLines(t *testing.T, path string) []guideLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []guideLine
	section, fenced := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		switch {
		case strings.HasPrefix(s, "## "):
			section = s == "## By example"
		case section && strings.HasPrefix(s, "```"):
			if fenced {
				return out
			}
			fenced = true
		case section && fenced && strings.TrimSpace(s) != "":
			cmd, comment, _ := strings.Cut(s, "  #")
			l := guideLine{n: n, cmd: strings.TrimSpace(cmd)}
			if shown := strings.TrimSpace(comment); shown != "" && !strings.Contains(shown, " ") {
				l.out = []string{shown} // a comment of one word: what the line prints
			}
			out = append(out, l)
		}
	}
	t.Fatalf("%s: no fenced block under ## By example", path)
	return nil
}
