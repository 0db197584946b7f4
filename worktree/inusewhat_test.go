package worktree

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestUsersSayWhatTheyHold: each user of the tree is named with what
// /proc says it holds there, so that the in-use error tells which file
// to close: a file open for writing before one open for reading, its
// working directory, a mapping of a program run from the tree.
func TestUsersSayWhatTheyHold(t *testing.T) {
	_, _, w := checkedOutBase(t)
	sleep, err := exec.LookPath("sleep")
	must(t, err)
	prog, err := os.ReadFile(sleep)
	must(t, err)
	must(t, os.WriteFile(w.Target()+"/sleep", prog, 0o755))
	start := func(cmd *exec.Cmd) int {
		if cmd.Dir == "" {
			cmd.Dir = "/"
		}
		must(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd.Process.Pid
	}
	in, err := os.Open(w.Target() + "/etc/passwd")
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(w.Target()+"/app.log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	must(t, err)
	defer out.Close()
	reader := exec.Command(sleep, "60")
	reader.Stdin = in
	writer := exec.Command(sleep, "60")
	writer.Stdin, writer.Stdout = in, out // writing wins over reading
	inside := exec.Command(sleep, "60")
	inside.Dir = w.Target() + "/etc"
	want := map[int]string{
		start(reader): "reading /etc/passwd",
		start(writer): "writing /app.log",
		start(inside): "in /etc",
	}
	mapper := start(exec.Command(w.Target()+"/sleep", "60"))
	want[mapper] = "mapping /sleep"
	in.Close()
	out.Close()
	for i := 0; i < 200; i++ { // the mapping appears once the exec is done
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", mapper)); strings.Contains(string(b), w.Target()) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ps, err := w.Users()
	must(t, err)
	if len(ps) != len(want) {
		t.Fatalf("Users = %+v; want %d", ps, len(want))
	}
	for _, p := range ps {
		if p.Holds != want[p.PID] {
			t.Errorf("process %d (%s) holds %q; want %q", p.PID, p.Comm, p.Holds, want[p.PID])
		}
	}
	err = w.refuseUsers()
	if err == nil || !strings.Contains(err.Error(), " (sleep, writing /app.log)") {
		t.Errorf("the in-use error does not name the file written: %v", err)
	}
}
