package worktree

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// shellIn starts a busybox sh whose cwd is dir; run sends it a command
// line and waits until it has run.
func shellIn(t testing.TB, dir string) (run func(cmd string) string) {
	t.Helper()
	sh := exec.Command("busybox", "sh")
	sh.Dir = dir
	stdin, err := sh.StdinPipe()
	must(t, err)
	stdout, err := sh.StdoutPipe()
	must(t, err)
	sh.Stderr = sh.Stdout
	must(t, sh.Start())
	t.Cleanup(func() {
		stdin.Close()
		sh.Process.Kill()
		sh.Wait()
	})
	out := bufio.NewReader(stdout)
	return func(cmd string) string {
		t.Helper()
		if _, err := io.WriteString(stdin, cmd+"; echo '<done>'\n"); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for {
			l, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("shell: %v (output %q)", err, b.String())
			}
			if l == "<done>\n" {
				return b.String()
			}
			b.WriteString(l)
		}
	}
}

// TestShellInsideAcrossCommits: a shell living in rootfs/etc writes a file
// before and after each of 20 commits; every write lands in the tree the
// shell sees and is committed by the next commit.
func TestShellInsideAcrossCommits(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	sh := shellIn(t, filepath.Join(w.Target(), "etc"))
	want := []string{"M /etc/hostname"}
	if out := sh("echo 0 > hostname"); out != "" {
		t.Fatalf("write: %q", out)
	}
	for i := 1; i <= 20; i++ {
		if out := sh(fmt.Sprintf("echo before%d > b%d", i, i)); out != "" {
			t.Fatalf("round %d: write before: %q", i, out)
		}
		want = append(want, fmt.Sprintf("A /etc/b%d", i))
		sort.Slice(want, func(a, b int) bool { return want[a][2:] < want[b][2:] })
		cs, err := w.Status(ctx)
		must(t, err)
		if got := changeLines(cs); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: status before the commit %q, want %q", i, got, want)
		}
		_, n, err := w.Commit(ctx, CommitOptions{Message: fmt.Sprint(i)})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if n != len(want) {
			t.Fatalf("round %d: committed %d changes, want %d", i, n, len(want))
		}
		if out := sh(fmt.Sprintf("echo after%d > a%d && cat b%d a%d && rm -f b%d", i, i, i, i, i-1)); out != fmt.Sprintf("before%d\nafter%d\n", i, i) {
			t.Fatalf("round %d: the shell sees %q", i, out)
		}
		want = []string{fmt.Sprintf("A /etc/a%d", i)}
		if i > 1 {
			want = append(want, fmt.Sprintf("D /etc/b%d", i-1))
		}
		cs, err = w.Status(ctx)
		must(t, err)
		if got := changeLines(cs); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: status %q, want %q", i, got, want)
		}
	}
	c, _, err := w.Commit(ctx, CommitOptions{Message: "last"})
	must(t, err)
	tr, err := w.trees.Of(c)
	must(t, err)
	for i := 1; i <= 20; i++ {
		if tr[fmt.Sprintf("/etc/a%d", i)] == nil || (tr[fmt.Sprintf("/etc/b%d", i)] == nil) != (i < 20) {
			t.Fatalf("commit tree: a%d or b%d wrong", i, i)
		}
	}
	// The shell's cwd is the same directory it started in.
	if out := sh("ls a20 && cat hostname"); out != "a20\n0\n" {
		t.Fatalf("shell after the last commit: %q", out)
	}
	if _, err := os.Stat(filepath.Join(w.Target(), "etc", "a20")); err != nil {
		t.Fatal(err)
	}
}
